import OEMSyncCore

/// Turns a column's (transformed, non-empty) text into the typed value of its `type:`.
///
/// Numbers, dates and booleans are folded from full-width first (`２０２５年１２月２日`). Problems carry
/// a `type.*` code and a message that names the expectation, never the value itself.
public struct Coercion: Sendable, Hashable {
    public var type: ColumnType
    public var formats: [DatePattern]
    /// The zone of date-times without an offset; required for `datetime` columns.
    public var zone: ZoneConverter?
    /// Decimal places kept; more non-zero places are a `value.scale` problem (never rounded silently).
    public var scale: Int?
    public var trueValues: Set<String>
    public var falseValues: Set<String>

    public static let defaultTrue: Set<String> = ["true", "t", "yes", "y", "1", "是", "on"]
    public static let defaultFalse: Set<String> = ["false", "f", "no", "n", "0", "否", "off"]

    public init(
        type: ColumnType, formats: [DatePattern] = [], zone: ZoneConverter? = nil, scale: Int? = nil,
        trueValues: Set<String> = Coercion.defaultTrue, falseValues: Set<String> = Coercion.defaultFalse
    ) {
        self.type = type
        self.formats = formats
        self.zone = zone
        self.scale = scale
        self.trueValues = trueValues
        self.falseValues = falseValues
    }

    public func coerce(_ text: String, field: String) -> Result<Value, RecordProblem> {
        func fail(_ code: String, _ message: String) -> Result<Value, RecordProblem> {
            .failure(RecordProblem(code: code, message: message, field: field, rawValue: text))
        }
        switch type {
        case .string:
            return .success(.string(text))
        case .int:
            guard let digits = Self.numberText(text), let v = Int64(digits) else {
                return fail("type.int", "not a whole number")
            }
            return .success(.int(v))
        case .decimal:
            guard let digits = Self.numberText(text) else { return fail("type.decimal", "not a decimal number") }
            switch Self.canonicalDecimal(digits, scale: scale) {
            case .some(.some(let d)): return .success(.decimal(d))
            case .some(.none): return fail("value.scale", "more than \(scale ?? 0) decimal places")
            case .none: return fail("type.decimal", "not a decimal number")
            }
        case .bool:
            let t = HalfWidth.fold(text).lowercased()
            if trueValues.contains(t) { return .success(.bool(true)) }
            if falseValues.contains(t) { return .success(.bool(false)) }
            return fail("type.bool", "not one of the true/false values")
        case .date:
            let bytes = Array(HalfWidth.fold(text).utf8)
            for f in formats {
                if let d = f.parseDate(bytes) { return .success(.date(d)) }
            }
            return fail("type.date", "not a date in the formats \(formats.map(\.text).joined(separator: ", "))")
        case .datetime:
            let bytes = Array(HalfWidth.fold(text).utf8)
            for f in formats {
                guard let p = f.parse(bytes) else { continue }
                if let instant = p.instant { return .success(.datetime(instant)) }
                let local = Int64(p.date.daysSinceEpoch) * 86_400 + Int64(p.secondOfDay)
                let seconds: Int64
                if let offset = p.offset {
                    seconds = local - Int64(offset)
                } else if let zone {
                    seconds = zone.instant(localSeconds: local)
                } else {
                    return fail("type.datetime", "no time zone for a time without an offset")
                }
                return .success(.datetime(Timestamp(seconds: seconds, microseconds: Int64(p.microsecond))))
            }
            return fail("type.datetime", "not a date-time in the formats \(formats.map(\.text).joined(separator: ", "))")
        }
    }

    /// Folds full-width forms, drops surrounding spaces and validates digit grouping (`1,234,567.5`);
    /// returns the number without grouping commas, or nil if it is not a plain decimal number.
    static func numberText(_ raw: String) -> String? {
        var bytes = Array(HalfWidth.fold(raw).utf8)
        while let f = bytes.first, f == 0x20 { bytes.removeFirst() }
        while let l = bytes.last, l == 0x20 { bytes.removeLast() }
        guard !bytes.isEmpty else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            if bytes[0] == UInt8(ascii: "-") { out.append(bytes[0]) }
            i = 1
        }
        var intDigits = 0
        var sinceComma = -1  // digits since the last grouping comma, -1 before any comma
        var sawComma = false
        while i < bytes.count, bytes[i] != UInt8(ascii: ".") {
            let c = bytes[i]
            if c == UInt8(ascii: ",") {
                guard intDigits > 0, intDigits <= 3 || sawComma, sinceComma == -1 || sinceComma == 3 else { return nil }
                if !sawComma && intDigits > 3 { return nil }
                sawComma = true
                sinceComma = 0
            } else if c >= 0x30 && c <= 0x39 {
                out.append(c)
                intDigits += 1
                if sawComma { sinceComma += 1 }
            } else {
                return nil
            }
            i += 1
        }
        if sawComma && sinceComma != 3 { return nil }
        if i < bytes.count {
            out.append(UInt8(ascii: "."))
            i += 1
            var fracDigits = 0
            while i < bytes.count {
                guard bytes[i] >= 0x30 && bytes[i] <= 0x39 else { return nil }
                out.append(bytes[i])
                fracDigits += 1
                i += 1
            }
            if fracDigits == 0 && intDigits == 0 { return nil }
            if fracDigits == 0 { out.removeLast() }
        } else if intDigits == 0 {
            return nil
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Canonical decimal text: no leading zeros, `scale` places when given. The outer optional is
    /// nil for malformed input; the inner one is nil when non-zero digits exceed `scale`.
    static func canonicalDecimal(_ s: String, scale: Int?) -> String?? {
        var negative = false
        var body = Substring(s)
        if body.hasPrefix("-") {
            negative = true
            body = body.dropFirst()
        }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return .none }
        var intPart = String(parts[0].drop(while: { $0 == "0" }))
        if intPart.isEmpty { intPart = "0" }
        var frac = parts.count == 2 ? String(parts[1]) : ""
        if let scale {
            if frac.count > scale {
                let extra = frac.dropFirst(scale)
                guard extra.allSatisfy({ $0 == "0" }) else { return .some(.none) }
                frac = String(frac.prefix(scale))
            } else {
                frac += String(repeating: "0", count: scale - frac.count)
            }
        }
        let isZero = intPart == "0" && frac.allSatisfy { $0 == "0" }
        var out = (negative && !isZero) ? "-" : ""
        out += intPart
        if !frac.isEmpty { out += "." + frac }
        return .some(.some(out))
    }
}
