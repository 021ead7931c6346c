import OEMSyncCore

/// A date or date-time format, compiled once, parsed without Foundation (the hot path of date columns).
///
/// Pattern letters (a subset of ICU/Java, strict): `yyyy` year; `MM`/`M` month with exactly two /
/// one or two digits; `dd`/`d` day; `HH`/`H` hour 0-23; `mm` minute; `ss` second; `S` a fraction of
/// one to nine digits; `XXX` an offset `+08:00` or `Z`, `XX` `+0800` or `Z`, `X` `+08` or `Z`. Text in
/// single quotes, and every other character (`-`, `/`, `年`, `月`, `日`, `T`, space), must appear literally.
/// Named formats: `iso8601`, `epoch_s`, `epoch_ms`, `excel` (serial days since 1899-12-30).
public struct DatePattern: Sendable, Hashable, CustomStringConvertible {
    enum Token: Sendable, Hashable {
        case year
        case month(exact: Bool)
        case day(exact: Bool)
        case hour(exact: Bool)
        case minute
        case second
        /// A fraction of a second; read with 1 to 9 digits whatever `digits` is, written with `digits`.
        case fraction(digits: Int)
        case offset(colon: Bool, minutes: Bool)
        case literal([UInt8])
    }

    enum Kind: Sendable, Hashable {
        case tokens([Token])
        case iso8601
        case epochSeconds
        case epochMilliseconds
        case excel
    }

    public let text: String
    let kind: Kind

    public var description: String { text }

    public static let iso = DatePattern(text: "iso8601", kind: .iso8601)

    /// The formats tried, in order, when a date column names none.
    public static let defaultDateFormats = ["yyyy-MM-dd", "yyyy/M/d", "yyyy.M.d", "yyyy年M月d日", "yyyyMMdd"]
    /// The formats tried, in order, when a datetime column names none.
    public static let defaultDateTimeFormats = [
        "iso8601", "yyyy-MM-dd HH:mm:ss", "yyyy/M/d H:mm:ss", "yyyy-MM-dd HH:mm", "yyyy/M/d H:mm",
        "yyyy年M月d日 H:mm:ss", "yyyy年M月d日 H:mm",
    ]

    init(text: String, kind: Kind) {
        self.text = text
        self.kind = kind
    }

    /// Compiles `text`; throws a message naming the problem (unknown letter, unclosed quote, no year).
    public init(_ text: String) throws(PatternError) {
        self.text = text
        switch text {
        case "iso8601": kind = .iso8601; return
        case "epoch_s": kind = .epochSeconds; return
        case "epoch_ms": kind = .epochMilliseconds; return
        case "excel": kind = .excel; return
        default: break
        }
        var tokens: [Token] = []
        let chars = Array(text)
        var i = 0
        func appendLiteral(_ s: String) {
            if case .literal(let prev)? = tokens.last {
                tokens[tokens.count - 1] = .literal(prev + Array(s.utf8))
            } else {
                tokens.append(.literal(Array(s.utf8)))
            }
        }
        while i < chars.count {
            let c = chars[i]
            var run = 1
            while i + run < chars.count, chars[i + run] == c { run += 1 }
            switch c {
            case "y":
                guard run == 4 else { throw PatternError("use 'yyyy' for the year (two-digit years are ambiguous)") }
                tokens.append(.year)
            case "M":
                guard run <= 2 else { throw PatternError("'\(String(repeating: "M", count: run))' is not supported; use 'M' or 'MM'") }
                tokens.append(.month(exact: run == 2))
            case "d":
                guard run <= 2 else { throw PatternError("use 'd' or 'dd' for the day") }
                tokens.append(.day(exact: run == 2))
            case "H":
                guard run <= 2 else { throw PatternError("use 'H' or 'HH' for the hour") }
                tokens.append(.hour(exact: run == 2))
            case "m":
                guard run == 2 else { throw PatternError("use 'mm' for minutes") }
                tokens.append(.minute)
            case "s":
                guard run == 2 else { throw PatternError("use 'ss' for seconds") }
                tokens.append(.second)
            case "S":
                guard run <= 9 else { throw PatternError("at most 9 'S' for the fraction of a second") }
                tokens.append(.fraction(digits: run))
            case "X":
                guard run <= 3 else { throw PatternError("use 'X', 'XX' or 'XXX' for the UTC offset") }
                tokens.append(.offset(colon: run == 3, minutes: run >= 2))
            case "'":
                guard let close = chars[(i + 1)...].firstIndex(of: "'") else {
                    throw PatternError("unclosed quote in date format")
                }
                appendLiteral(close == i + 1 ? "'" : String(chars[(i + 1)..<close]))
                i = close + 1
                continue
            default:
                if c.isLetter && c.isASCII {
                    let known: [Character] = ["y", "M", "d", "H", "m", "s", "S", "X"]
                    let other = Character(c.isUppercase ? c.lowercased() : c.uppercased())
                    if known.contains(other) { throw PatternError("unknown pattern letter '\(c)'; did you mean '\(other)'?") }
                    throw PatternError("unknown pattern letter '\(c)' (put literal text in quotes, like 'T')")
                }
                appendLiteral(String(repeating: String(c), count: run))
            }
            i += run
        }
        guard tokens.contains(.year) else { throw PatternError("a date format needs 'yyyy'") }
        guard tokens.contains(where: { if case .month = $0 { return true } else { return false } }),
            tokens.contains(where: { if case .day = $0 { return true } else { return false } })
        else { throw PatternError("a date format needs a month ('M') and a day ('d')") }
        kind = .tokens(tokens)
    }

    public struct PatternError: Error, Sendable, CustomStringConvertible {
        public let description: String
        init(_ d: String) { description = d }
    }

    /// Whether the pattern has a time part (hours) and whether it carries its own UTC offset.
    public var hasTime: Bool {
        switch kind {
        case .tokens(let t): return t.contains { if case .hour = $0 { return true } else { return false } }
        case .iso8601, .epochSeconds, .epochMilliseconds: return true
        case .excel: return false
        }
    }

    /// A parsed date-time: the civil fields plus, when the text had one, its UTC offset in seconds.
    public struct Parsed: Sendable, Hashable {
        public var date: CivilDate
        public var secondOfDay: Int
        public var microsecond: Int
        public var offset: Int?
        /// Set for epoch formats: already an instant.
        public var instant: Timestamp?
    }

    public func parseDate(_ bytes: [UInt8]) -> CivilDate? {
        guard let p = parse(bytes) else { return nil }
        if let instant = p.instant { return CivilDate(daysSinceEpoch: Int(instant.microseconds.floorDiv(86_400_000_000))) }
        return p.date
    }

    public func parse(_ bytes: [UInt8]) -> Parsed? {
        switch kind {
        case .tokens(let tokens): return Self.parse(bytes, tokens)
        case .iso8601: return Self.parseISO(bytes)
        case .epochSeconds, .epochMilliseconds:
            guard let n = Int64(String(decoding: bytes, as: UTF8.self)) else { return nil }
            let micros = kind == .epochSeconds ? n.multipliedReportingOverflow(by: 1_000_000) : n.multipliedReportingOverflow(by: 1_000)
            guard !micros.overflow else { return nil }
            let t = Timestamp(microseconds: micros.partialValue)
            // Years 1 to 9999 only: milliseconds read as seconds would land in year 57889.
            guard (-62_135_596_800_000_000...253_402_300_799_000_000).contains(t.microseconds) else { return nil }
            return Parsed(date: CivilDate(daysSinceEpoch: Int(t.microseconds.floorDiv(86_400_000_000))), secondOfDay: 0, microsecond: 0, offset: 0, instant: t)
        case .excel:
            // Excel serial days; 60 is the fictitious 1900-02-29, so only serials after it are accepted.
            guard let n = Double(String(decoding: bytes, as: UTF8.self)), n > 60, n < 2_958_466 else { return nil }
            let days = Int(n.rounded(.down))
            let date = CivilDate(daysSinceEpoch: days - 25_569)
            let seconds = Int(((n - Double(days)) * 86_400).rounded())
            return Parsed(date: date, secondOfDay: min(seconds, 86_399), microsecond: 0, offset: nil, instant: nil)
        }
    }

    private static func parse(_ b: [UInt8], _ tokens: [Token]) -> Parsed? {
        var i = 0
        var year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, micro = 0
        var offset: Int?
        func digits(min: Int, max: Int) -> Int? {
            var value = 0
            var n = 0
            while n < max, i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                value = value * 10 + Int(b[i] - 0x30)
                i += 1
                n += 1
            }
            return n >= min ? value : nil
        }
        for token in tokens {
            switch token {
            case .year: guard let v = digits(min: 4, max: 4) else { return nil }; year = v
            case .month(let exact): guard let v = digits(min: exact ? 2 : 1, max: 2) else { return nil }; month = v
            case .day(let exact): guard let v = digits(min: exact ? 2 : 1, max: 2) else { return nil }; day = v
            case .hour(let exact): guard let v = digits(min: exact ? 2 : 1, max: 2), v < 24 else { return nil }; hour = v
            case .minute: guard let v = digits(min: 2, max: 2), v < 60 else { return nil }; minute = v
            case .second: guard let v = digits(min: 2, max: 2), v < 60 else { return nil }; second = v
            case .fraction:
                let start = i
                guard let v = digits(min: 1, max: 9) else { return nil }
                var scaled = v
                let count = i - start
                if count < 6 {
                    for _ in count..<6 { scaled *= 10 }
                } else {
                    for _ in 6..<count { scaled /= 10 }
                }
                micro = scaled
            case .offset(let colon, let minutes):
                guard let o = parseOffset(b, &i, colon: colon, minutes: minutes) else { return nil }
                offset = o
            case .literal(let lit):
                guard i + lit.count <= b.count else { return nil }
                for k in 0..<lit.count where b[i + k] != lit[k] { return nil }
                i += lit.count
            }
        }
        guard i == b.count, let date = CivilDate(year: year, month: month, day: day) else { return nil }
        return Parsed(date: date, secondOfDay: hour * 3600 + minute * 60 + second, microsecond: micro, offset: offset, instant: nil)
    }

    /// `Z`, `+08`, `+0800`, `+08:00` (and `-`).
    private static func parseOffset(_ b: [UInt8], _ i: inout Int, colon: Bool, minutes: Bool) -> Int? {
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "Z") { i += 1; return 0 }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") else { return nil }
        let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
        i += 1
        func two() -> Int? {
            guard i + 2 <= b.count, (0x30...0x39).contains(b[i]), (0x30...0x39).contains(b[i + 1]) else { return nil }
            defer { i += 2 }
            return Int(b[i] - 0x30) * 10 + Int(b[i + 1] - 0x30)
        }
        guard let h = two(), h <= 18 else { return nil }
        var m = 0
        if minutes {
            if colon {
                guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
                i += 1
            }
            guard let mm = two(), mm < 60 else { return nil }
            m = mm
        }
        return sign * (h * 3600 + m * 60)
    }

    /// ISO 8601 / RFC 3339: `YYYY-MM-DD`, optionally `T` or space, `HH:MM[:SS[.f]]`, optional `Z` or offset.
    private static func parseISO(_ b: [UInt8]) -> Parsed? {
        var i = 0
        func num(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in 0..<n {
                let c = b[i + k]
                guard c >= 0x30, c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            i += n
            return v
        }
        func expect(_ c: Character) -> Bool {
            guard i < b.count, b[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }
        guard let y = num(4), expect("-"), let mo = num(2), expect("-"), let d = num(2),
            let date = CivilDate(year: y, month: mo, day: d)
        else { return nil }
        if i == b.count { return Parsed(date: date, secondOfDay: 0, microsecond: 0, offset: nil, instant: nil) }
        guard expect("T") || expect(" ") || expect("t"), let h = num(2), h < 24, expect(":"), let mi = num(2), mi < 60 else {
            return nil
        }
        var s = 0
        var micro = 0
        if expect(":") {
            guard let ss = num(2), ss < 60 else { return nil }
            s = ss
            if expect(".") || expect(",") {
                var digits = 0
                var v = 0
                while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                    if digits < 6 { v = v * 10 + Int(b[i] - 0x30) }
                    digits += 1
                    i += 1
                }
                guard digits > 0 else { return nil }
                for _ in min(digits, 6)..<6 { v *= 10 }
                micro = v
            }
        }
        var offset: Int?
        if i < b.count {
            let colon = b.count - i == 6
            guard let o = parseOffset(b, &i, colon: colon, minutes: b.count - i > 3) else { return nil }
            offset = o
        }
        guard i == b.count else { return nil }
        return Parsed(date: date, secondOfDay: h * 3600 + mi * 60 + s, microsecond: micro, offset: offset, instant: nil)
    }
}

extension Int64 {
    func floorDiv(_ d: Int64) -> Int64 {
        let (q, r) = quotientAndRemainder(dividingBy: d)
        return r < 0 ? q - 1 : q
    }
}
