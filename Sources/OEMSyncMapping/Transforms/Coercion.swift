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
            guard let n = Self.parseNumber(HalfWidth.fold(text)), n.fraction.isEmpty, !n.integer.isEmpty,
                let v = Int64((n.negative ? "-" : "") + String(decoding: n.integer, as: UTF8.self))
            else {
                return fail("type.int", "not a whole number")
            }
            return .success(.int(v))
        case .decimal:
            guard let n = Self.parseNumber(HalfWidth.fold(text)) else { return fail("type.decimal", "not a decimal number") }
            guard let d = Self.canonical(n, scale: scale) else { return fail("value.scale", "more than \(scale ?? 0) decimal places") }
            return .success(.decimal(d))
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

    /// A number's sign, integer digits (without grouping) and fraction digits.
    struct ParsedNumber {
        var negative: Bool
        var integer: [UInt8]
        var fraction: [UInt8]
    }

    /// One pass over the bytes: optional sign, digits with optional `,` grouping in threes, optional
    /// `.` and fraction digits; spaces around are allowed.
    static func parseNumber(_ s: String) -> ParsedNumber? {
        var result = ParsedNumber(negative: false, integer: [], fraction: [])
        var utf8 = Substring(s).utf8[...]
        while utf8.first == 0x20 { utf8 = utf8.dropFirst() }
        while utf8.last == 0x20 { utf8 = utf8.dropLast() }
        guard let first = utf8.first else { return nil }
        if first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            result.negative = first == UInt8(ascii: "-")
            utf8 = utf8.dropFirst()
        }
        var group = -1  // digits since the last comma; -1 before the first comma
        var inFraction = false
        for c in utf8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if inFraction {
                    result.fraction.append(c)
                } else {
                    result.integer.append(c)
                    if group >= 0 { group += 1 }
                }
            case UInt8(ascii: ","):
                guard !inFraction, !result.integer.isEmpty, group == -1 ? result.integer.count <= 3 : group == 3 else { return nil }
                group = 0
            case UInt8(ascii: "."):
                guard !inFraction, group == -1 || group == 3 else { return nil }
                inFraction = true
            default:
                return nil
            }
        }
        guard group == -1 || group == 3 || inFraction else { return nil }
        guard !result.integer.isEmpty || !result.fraction.isEmpty else { return nil }
        return result
    }

    /// Canonical decimal text: no leading zeros, `scale` places when given; nil when non-zero
    /// digits exceed `scale` (never rounded silently).
    static func canonical(_ n: ParsedNumber, scale: Int?) -> String? {
        var integer = n.integer[...]
        while integer.count > 1, integer.first == UInt8(ascii: "0") { integer = integer.dropFirst() }
        if integer.isEmpty { integer = [UInt8(ascii: "0")] }
        var fraction = n.fraction[...]
        var padding = 0
        if let scale {
            if fraction.count > scale {
                guard fraction.dropFirst(scale).allSatisfy({ $0 == UInt8(ascii: "0") }) else { return nil }
                fraction = fraction.prefix(scale)
            } else {
                padding = scale - fraction.count
            }
        }
        let isZero = integer.allSatisfy { $0 == UInt8(ascii: "0") } && fraction.allSatisfy { $0 == UInt8(ascii: "0") }
        var out: [UInt8] = []
        out.reserveCapacity(integer.count + fraction.count + padding + 2)
        if n.negative && !isZero { out.append(UInt8(ascii: "-")) }
        out += integer
        if !fraction.isEmpty || padding > 0 {
            out.append(UInt8(ascii: "."))
            out += fraction
            out += repeatElement(UInt8(ascii: "0"), count: padding)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
