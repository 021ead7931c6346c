import Foundation
import OEMSyncCore

/// Validates and normalises a VIN (ISO 3779, 49 CFR 565, GB 16735-2019).
///
/// Normalisation: NFKC (full-width to ASCII), uppercase, drop spaces, tabs, `-`, `.` and `_`. Then:
/// 17 characters of `[A-HJ-NPR-Z0-9]` (`vin.length`, `vin.chars`), not a placeholder such as
/// `11111111111111111` (`vin.placeholder`), the check digit at position 9 (`vin.check_digit`), and in
/// strict mode a model-year code at position 10 (`vin.year`). `O`, `I` and `Q` are never fixed
/// silently; when replacing them by `0`, `1`, `0` makes the check digit pass, the message says so.
public struct VINValidator: Sendable, Hashable {
    public enum Mode: String, Sendable, CaseIterable {
        /// The check digit and the year code must be right (North America, China).
        case strict
        /// A wrong check digit is a warning; the VIN is written (Europe and most other markets).
        case advisory
        /// Strict for VINs made for North America (WMI 1-5) or China (L), advisory otherwise.
        case auto
    }

    public var mode: Mode

    public init(mode: Mode) { self.mode = mode }

    public enum Outcome: Sendable, Hashable {
        /// Valid, and the input is already in normal form: the value to write is the input itself.
        /// (Most VINs in a feed; answering without handing the string back saves its reference count
        /// traffic, which was a third of a clean VIN's cost.)
        case validAsWritten
        /// Valid once normalised: the value to write.
        case valid(String)
        /// Written, with a warning (advisory mode).
        case validWithWarning(String, RecordProblem)
        case invalid(RecordProblem)

        /// The value a mapping writes for `raw`: the VIN in normal form; nil when invalid.
        public func written(from raw: String) -> String? {
            switch self {
            case .validAsWritten: return raw
            case .valid(let vin), .validWithWarning(let vin, _): return vin
            case .invalid: return nil
            }
        }
    }

    static let weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
    /// Transliteration value of each byte, -1 for characters never allowed in a VIN (I, O, Q, others).
    static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for d in 0...9 { table[0x30 + d] = Int8(d) }
        let letters = Array("ABCDEFGHJKLMNPRSTUVWXYZ".utf8)
        let vals: [Int8] = [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9]
        for (l, v) in zip(letters, vals) { table[Int(l)] = v }
        return table
    }()
    /// Position-10 model-year codes: letters except I, O, Q, U, Z and the digits 1-9.
    static let yearCodes = Set("ABCDEFGHJKLMNPRSTVWXY123456789".utf8)

    public func validate(_ raw: String, field: String) -> Outcome {
        switch Self.cleanVerdict(raw, mode: mode) {
        case .valid:
            return .validAsWritten
        case .checkDigit(let expected, let found, let strict):
            // The most common bad VIN, answered without normalising it again: only position 9 is wrong.
            let p = RecordProblem(
                code: "vin.check_digit", message: Self.checkDigitMessages[Int(expected) << 7 | Int(found)] ?? "", field: field,
                rawValue: raw)
            return strict ? .invalid(p) : .validWithWarning(raw, p)
        case .other:
            break
        }
        if let normalized = Self.normalizedAndValid(raw, mode: mode) { return .valid(normalized) }
        return validateSlowly(raw, field: field)
    }

    /// What the quick reading of 17 bytes found.
    enum QuickVerdict: Equatable {
        case valid
        /// Legal characters, not a placeholder, and only the check digit (position 9) wrong.
        case checkDigit(expected: UInt8, found: UInt8, strict: Bool)
        /// Anything else: the long way normalises the input and words the problem.
        case other
    }

    /// The common case without a copy or an allocation: 17 bytes that are already upper-case VIN
    /// characters, not a placeholder, with the right check digit (and year code, when strict).
    @inline(__always)
    static func cleanVerdict(_ raw: String, mode: Mode) -> QuickVerdict {
        raw.utf8.withContiguousStorageIfAvailable { quickCheck($0, mode: mode) } ?? .other
    }

    /// An ASCII VIN that is valid once normalised (lower case, spaces, hyphens), normalised on the
    /// stack: only the result is allocated. Nil for anything else.
    static func normalizedAndValid(_ raw: String, mode: Mode) -> String? {
        let utf8 = raw.utf8
        guard utf8.count <= 64 else { return nil }
        return utf8.withContiguousStorageIfAvailable { src -> String? in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { tmp -> String? in
                var n = 0
                for b in src {
                    guard b < 0x80 else { return nil }
                    if let c = normalized(b) {
                        tmp[n] = c
                        n += 1
                    }
                }
                let buf = UnsafeBufferPointer(rebasing: tmp[..<n])
                guard quickCheck(buf, mode: mode) == .valid else { return nil }
                return String(decoding: buf, as: UTF8.self)
            }
        } ?? nil
    }

    /// 17 legal upper-case characters, not all the same, with the right check digit (and year
    /// code, when strict): valid. Only the check digit wrong: which one it should be.
    @inline(__always)
    static func quickCheck(_ buf: UnsafeBufferPointer<UInt8>, mode: Mode) -> QuickVerdict {
        guard buf.count == 17, let p = buf.baseAddress else { return .other }
        let table = valueTable
        let first = p[0]
        // Straight-line code, no loop: the weights are constants and nothing branches per character
        // (measured: a loop over a weight switch spent a third of a clean VIN's time in its jump table).
        // `bad` collects the sign of every value (-1: not a VIN character; non-ASCII: forced negative);
        // `differs`, whether any character is not the first (a placeholder repeats one character).
        var bad: Int8 = 0
        var differs: UInt8 = 0
        @inline(__always) func value(_ i: Int) -> Int {
            let b = p[i]
            differs |= b ^ first
            let v = table[Int(b & 0x7F)]
            bad |= v | Int8(bitPattern: b & 0x80)
            return Int(v)
        }
        var sum = 8 &* value(0) &+ 7 &* value(1) &+ 6 &* value(2) &+ 5 &* value(3)
        sum &+= 4 &* value(4) &+ 3 &* value(5) &+ 2 &* value(6) &+ 10 &* value(7)
        sum &+= 9 &* value(9) &+ 8 &* value(10) &+ 7 &* value(11) &+ 6 &* value(12)
        sum &+= 5 &* value(13) &+ 4 &* value(14) &+ 3 &* value(15) &+ 2 &* value(16)
        _ = value(8)  // the check digit must be a legal character too (an 'O' there is vin.chars)
        guard bad >= 0, differs != 0 else { return .other }
        let r = sum % 11
        let expected = r == 10 ? UInt8(ascii: "X") : UInt8(ascii: "0") &+ UInt8(r)
        let strict = mode == .strict || (mode == .auto && isStrictMarket(first))
        guard p[8] == expected else { return .checkDigit(expected: expected, found: p[8], strict: strict) }
        if strict, !yearCodePointer[Int(p[9])] { return .other }
        return .valid
    }

    /// `yearCodes` as a table indexed by byte.
    static let yearCodeTable: [Bool] = (0..<256).map { yearCodes.contains(UInt8($0)) }

    // The two tables again as pointers that live as long as the process: the hot loop reads them
    // without retaining an array (measured: retain/release was a quarter of a clean VIN's cost).
    // Written once, read-only after: safe to share between threads.
    nonisolated(unsafe) static let valueTable: UnsafePointer<Int8> = {
        let p = UnsafeMutablePointer<Int8>.allocate(capacity: 128)
        p.initialize(from: values, count: 128)
        return UnsafePointer(p)
    }()
    nonisolated(unsafe) static let yearCodePointer: UnsafePointer<Bool> = {
        let p = UnsafeMutablePointer<Bool>.allocate(capacity: 256)
        p.initialize(from: yearCodeTable, count: 256)
        return UnsafePointer(p)
    }()

    // Messages of the two common rejects, made once: a feed with many bad VINs must not pay for
    // formatting each (measured by `make bench-validators`).
    static let lengthMessages: [String] = (0..<64).map { "expected 17 characters, found \($0)" }
    static let checkDigitMessages: [Int: String] = {
        var messages: [Int: String] = [:]
        let legal = Array("0123456789ABCDEFGHJKLMNPRSTUVWXYZ".utf8)
        for e in Array("0123456789X".utf8) {
            for f in legal { messages[Int(e) << 7 | Int(f)] = "expected \(String(UnicodeScalar(e))), found \(String(UnicodeScalar(f)))" }
        }
        return messages
    }()

    func validateSlowly(_ raw: String, field: String) -> Outcome {
        func problem(_ code: String, _ message: String) -> RecordProblem {
            RecordProblem(code: code, message: message, field: field, rawValue: raw)
        }
        let bytes = Self.normalizedBytes(raw)
        // Lower case, spaces, full-width forms: once normalised, most are clean.
        if bytes.withUnsafeBufferPointer({ Self.quickCheck($0, mode: mode) }) == .valid { return .valid(String(decoding: bytes, as: UTF8.self)) }
        guard bytes.count == 17 else {
            // Characters as people count them: bytes, unless one is non-ASCII or CR (CR LF is one character).
            let count = bytes.allSatisfy({ $0 < 0x80 && $0 != 0x0D }) ? bytes.count : String(decoding: bytes, as: UTF8.self).count
            return .invalid(problem("vin.length", count < Self.lengthMessages.count ? Self.lengthMessages[count] : "expected 17 characters, found \(count)"))
        }
        if let bad = bytes.firstIndex(where: { $0 >= 128 || Self.values[Int($0)] < 0 }) {
            let c = bytes[bad] < 128 ? String(UnicodeScalar(bytes[bad])) : "non-ASCII"
            var message = "character '\(c)' at position \(bad + 1) is not allowed in a VIN"
            if let fixed = Self.suggestion(bytes) { message += "; did you mean \(fixed)?" }
            return .invalid(problem("vin.chars", message))
        }
        if bytes.allSatisfy({ $0 == bytes[0] }) {
            return .invalid(problem("vin.placeholder", "one character repeated 17 times is a placeholder, not a VIN"))
        }
        let expected = Self.checkDigit(bytes)
        let strict = mode == .strict || (mode == .auto && Self.isStrictMarket(bytes[0]))
        let vin = String(decoding: bytes, as: UTF8.self)
        if bytes[8] != expected {
            let p = problem("vin.check_digit", Self.checkDigitMessages[Int(expected) << 7 | Int(bytes[8])] ?? "")
            return strict ? .invalid(p) : .validWithWarning(vin, p)
        }
        if strict, !Self.yearCodeTable[Int(bytes[9])] {
            return .invalid(
                problem("vin.year", "'\(String(UnicodeScalar(bytes[9])))' at position 10 is not a model-year code"))
        }
        return .valid(vin)
    }

    /// What a VIN says about itself: the verdict of ``validate(_:field:)`` and, for a well-formed VIN,
    /// what its characters decode to. What `oemsync validate vin` prints.
    public struct Report: Sendable, Hashable, Codable {
        public var raw: String
        public var normalized: String
        /// `valid`, `warning` (written with a warning in advisory mode) or `invalid`.
        public var verdict: String
        public var code: String?
        public var message: String?
        /// Whether position 9 is the check digit the other 16 characters give (nil when not 17 legal characters).
        public var checkDigitOK: Bool?
        public var wmi: String?
        public var region: String?
        public var country: String?
        /// A 9 in position 3: a maker of fewer than 1000 vehicles a year, whose WMI continues in 12-14.
        public var smallManufacturer: Bool?
        /// Every model year position 10 can mean, latest first: 1980 + its place in the code table and
        /// every 30 years on, up to next year (the first one always, even when it is later).
        public var modelYears: [Int]?
        /// The one to take: for North America with a digit in position 7, the 1980-2009 candidate;
        /// otherwise the latest candidate.
        public var modelYear: Int?
    }

    /// Validates `raw` and decodes it. `currentYear` bounds the model-year candidates (next year at most).
    public func inspect(_ raw: String, currentYear: Int) -> Report {
        var report = Report(raw: raw, normalized: Self.normalize(raw), verdict: "valid")
        switch validate(raw, field: "vin") {
        case .valid, .validAsWritten: break
        case .validWithWarning(_, let p):
            report.verdict = "warning"
            (report.code, report.message) = (p.code, p.message)
        case .invalid(let p):
            report.verdict = "invalid"
            (report.code, report.message) = (p.code, p.message)
        }
        let bytes = Self.normalizedBytes(raw)
        guard bytes.count == 17, bytes.allSatisfy({ $0 < 128 && Self.values[Int($0)] >= 0 }) else { return report }
        report.checkDigitOK = Self.checkDigit(bytes) == bytes[8]
        report.wmi = String(decoding: bytes[0..<3], as: UTF8.self)
        report.region = VINRegions.region(bytes[0])
        report.country = VINRegions.country(bytes[0], bytes[1])
        report.smallManufacturer = bytes[2] == UInt8(ascii: "9")
        let years = Self.modelYears(code: bytes[9], notAfter: currentYear + 1)
        report.modelYears = years
        // North America: a digit in position 7 means 1980-2009 (49 CFR 565). A letter there is the
        // 2010-2039 cycle only for light vehicles of model year 2010 on, so it decides nothing: the
        // latest candidate, as everywhere else.
        let firstCycle = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[6])
        if VINRegions.isNorthAmerican(bytes[0]), firstCycle, let old = years.first(where: { $0 < 2010 }) {
            report.modelYear = old
        } else {
            report.modelYear = years.first
        }
        return report
    }

    static let yearCodeOrder = Array("ABCDEFGHJKLMNPRSTVWXY123456789".utf8)

    /// 1980 + the code's place, and every 30 years on, up to `notAfter`; latest first.
    static func modelYears(code: UInt8, notAfter: Int) -> [Int] {
        guard let index = yearCodeOrder.firstIndex(of: code) else { return [] }
        var years: [Int] = []
        var year = 1980 + index
        while year <= notAfter || years.isEmpty {
            years.append(year)
            year += 30
        }
        return years.reversed()
    }

    /// WMI first character 1-5 (North America) or L (China): markets where the check digit is law.
    static func isStrictMarket(_ first: UInt8) -> Bool {
        (UInt8(ascii: "1")...UInt8(ascii: "5")).contains(first) || first == UInt8(ascii: "L")
    }

    static func checkDigit(_ bytes: [UInt8]) -> UInt8 {
        var sum = 0
        for i in 0..<17 { sum += Int(values[Int(bytes[i])]) * weights[i] }
        let r = sum % 11
        return r == 10 ? UInt8(ascii: "X") : UInt8(ascii: "0") + UInt8(r)
    }

    /// O->0, I->1, Q->0 if that leaves only legal characters and the check digit then passes.
    static func suggestion(_ bytes: [UInt8]) -> String? {
        let fixed = bytes.map { b -> UInt8 in
            switch b {
            case UInt8(ascii: "O"), UInt8(ascii: "Q"): return UInt8(ascii: "0")
            case UInt8(ascii: "I"): return UInt8(ascii: "1")
            default: return b
            }
        }
        guard fixed != bytes, fixed.allSatisfy({ $0 < 128 && values[Int($0)] >= 0 }), checkDigit(fixed) == fixed[8]
        else { return nil }
        return String(decoding: fixed, as: UTF8.self)
    }

    /// NFKC (only when needed), uppercase, without separators.
    public static func normalize(_ raw: String) -> String {
        String(decoding: normalizedBytes(raw), as: UTF8.self)
    }

    /// An ASCII byte as the normalised VIN has it: upper case; nil for a separator, which is dropped.
    @inline(__always)
    static func normalized(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x20, 0x09, UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"): return nil
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return b - 32
        default: return b
        }
    }

    static func normalizedBytes(_ raw: String) -> [UInt8] {
        if let ascii = raw.utf8.withContiguousStorageIfAvailable({ buf -> [UInt8]? in
            var out: [UInt8] = []
            out.reserveCapacity(17)
            for b in buf {
                guard b < 0x80 else { return nil }
                if let n = normalized(b) { out.append(n) }
            }
            return out
        }), let ascii {
            return ascii
        }
        // Full-width forms and the ideographic space fold exactly as NFKC folds them, without its
        // cost (they are the usual non-ASCII in OEM files); anything else takes NFKC itself.
        var out: [UInt8] = []
        out.reserveCapacity(17)
        var folded = true
        for u in raw.unicodeScalars {
            switch u.value {
            case 0..<0x80: if let n = normalized(UInt8(u.value)) { out.append(n) }
            case 0xFF01...0xFF5E: if let n = normalized(UInt8(u.value - 0xFEE0)) { out.append(n) }
            case 0x3000: break
            default: folded = false
            }
            if !folded { break }
        }
        if folded { return out }
        out.removeAll(keepingCapacity: true)
        for b in raw.precomposedStringWithCompatibilityMapping.utf8 { if let n = normalized(b) { out.append(n) } }
        return out
    }
}
