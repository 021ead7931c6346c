/// A typed value of one target column, after mapping.
///
/// Decimals keep their exact canonical text (`-1234.50`) through mapping and are bound to SQL as
/// that text, never through a binary float. (PostgreSQL's numeric stores them exactly; SQLite, which
/// has no decimal type, applies its NUMERIC affinity.)
public enum Value: Sendable, Hashable {
    case null
    case string(String)
    case int(Int64)
    case decimal(String)
    case bool(Bool)
    case date(CivilDate)
    case datetime(Timestamp)

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The canonical text form, as it is bound to SQL and shown by `oemsync map`. `nil` for null.
    public var text: String? {
        switch self {
        case .null: return nil
        case .string(let s): return s
        case .int(let i): return String(i)
        case .decimal(let d): return d
        case .bool(let b): return b ? "true" : "false"
        case .date(let d): return d.description
        case .datetime(let t): return t.description
        }
    }
}

/// A calendar date without a time zone (proleptic Gregorian).
///
/// Stored in four bytes: batches hold millions of them, and a small ``Value`` keeps memory flat.
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    private let y: Int16
    private let m: UInt8
    private let d: UInt8

    public var year: Int { Int(y) }
    public var month: Int { Int(m) }
    public var day: Int { Int(d) }

    /// Returns nil unless the date exists (no 2025-02-30, no month 13). Years 1...9999.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            day >= 1, day <= CivilDate.daysIn(month: month, year: year)
        else { return nil }
        self.y = Int16(year)
        self.m = UInt8(month)
        self.d = UInt8(day)
    }

    public static func isLeap(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (negative before). Howard Hinnant's `days_from_civil`.
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The inverse of ``daysSinceEpoch`` (`civil_from_days`).
    public init(daysSinceEpoch days: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.y = Int16(clamping: yoe + era * 400 + (m <= 2 ? 1 : 0))
        self.m = UInt8(m)
        self.d = UInt8(d)
    }

    public static func < (a: CivilDate, b: CivilDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        var out = ""
        out.reserveCapacity(10)
        appendPadded(&out, year, width: 4)
        out.append("-")
        appendPadded(&out, month, width: 2)
        out.append("-")
        appendPadded(&out, day, width: 2)
        return out
    }
}

/// An instant, in microseconds since 1970-01-01T00:00:00Z.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    public init(seconds: Int64, microseconds: Int64 = 0) {
        self.microseconds = seconds * 1_000_000 + microseconds
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.microseconds < b.microseconds }

    /// ISO 8601 in UTC: `2025-12-02T06:05:00Z`, with `.ffffff` only when there is a fraction.
    public var description: String {
        let (secs, frac) = microseconds.quotientAndRemainder(dividingBy: 1_000_000)
        var seconds = secs
        var micros = frac
        if micros < 0 {
            micros += 1_000_000
            seconds -= 1
        }
        let (days, secOfDay) = seconds.quotientAndRemainder(dividingBy: 86_400)
        var d = Int(days)
        var s = Int(secOfDay)
        if s < 0 {
            s += 86_400
            d -= 1
        }
        let date = CivilDate(daysSinceEpoch: d)
        var out = date.description
        out.append("T")
        appendPadded(&out, s / 3600, width: 2)
        out.append(":")
        appendPadded(&out, s / 60 % 60, width: 2)
        out.append(":")
        appendPadded(&out, s % 60, width: 2)
        if micros != 0 {
            out.append(".")
            appendPadded(&out, Int(micros), width: 6)
        }
        out.append("Z")
        return out
    }
}

@inline(__always)
func appendPadded(_ out: inout String, _ value: Int, width: Int) {
    // Small non-negative numbers (dates and times) without an intermediate String.
    if value >= 0 && width <= 4 && value < 10_000 {
        var digits: (UInt8, UInt8, UInt8, UInt8) = (48, 48, 48, 48)
        digits.0 = UInt8(48 + value / 1000)
        digits.1 = UInt8(48 + value / 100 % 10)
        digits.2 = UInt8(48 + value / 10 % 10)
        digits.3 = UInt8(48 + value % 10)
        withUnsafeBytes(of: &digits) { buf in
            out.append(String(decoding: buf.suffix(max(width, value >= 1000 ? 4 : value >= 100 ? 3 : value >= 10 ? 2 : 1)), as: UTF8.self))
        }
        return
    }
    let digits = String(value)
    if digits.count < width { out.append(String(repeating: "0", count: width - digits.count)) }
    out.append(digits)
}
