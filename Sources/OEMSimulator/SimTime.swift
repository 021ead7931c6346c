/// The simulator's clock arithmetic: seconds since 1970 (UTC), and the text forms its APIs use.
/// Asia/Shanghai has no daylight saving, so its local time is UTC+8 all year.
enum SimTime {
    static let shanghaiOffset: Int64 = 8 * 3600

    /// `2025-12-01T02:15:00Z`, `2025-12-01T10:15:00+08:00`, `2025-12-01T02:15:00.5Z` (fraction ignored).
    static func parseISO(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count >= 19, let base = civil(b, 0) else { return nil }
        var i = 19
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
        }
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "Z") { return i + 1 == b.count ? base : nil }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), b.count == i + 6,
            let h = number(b, i + 1, 2), let m = number(b, i + 4, 2)
        else { return nil }
        let offset = Int64(h * 3600 + m * 60)
        return b[i] == UInt8(ascii: "+") ? base - offset : base + offset
    }

    /// `2025-12-01 10:15:00` in Asia/Shanghai.
    static func parseShanghai(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count == 19, let local = civil(b, 0) else { return nil }
        return local - shanghaiOffset
    }

    /// `yyyy-MM-ddTHH:mm:ss` (the separator may be 'T' or ' ') as seconds, read as UTC.
    private static func civil(_ b: [UInt8], _ at: Int) -> Int64? {
        guard let y = number(b, at, 4), b[at + 4] == 45, let mo = number(b, at + 5, 2), b[at + 7] == 45, let d = number(b, at + 8, 2),
            b[at + 10] == UInt8(ascii: "T") || b[at + 10] == UInt8(ascii: " "), let h = number(b, at + 11, 2), b[at + 13] == 58,
            let mi = number(b, at + 14, 2), b[at + 16] == 58, let s = number(b, at + 17, 2)
        else { return nil }
        return days(y, mo, d) * 86_400 + Int64(h * 3600 + mi * 60 + s)
    }

    private static func number(_ b: [UInt8], _ at: Int, _ n: Int) -> Int? {
        guard at + n <= b.count else { return nil }
        var v = 0
        for k in at..<(at + n) {
            guard b[k] >= 48, b[k] <= 57 else { return nil }
            v = v * 10 + Int(b[k] - 48)
        }
        return v
    }

    static func days(_ year: Int, _ month: Int, _ day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return Int64(era * 146_097 + doe - 719_468)
    }

    static func fields(_ t: Int64) -> (y: Int, mo: Int, d: Int, h: Int, mi: Int, s: Int) {
        let days = t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
        let secs = Int(t - days * 86_400)
        let z = Int(days) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d, secs / 3600, secs / 60 % 60, secs % 60)
    }

    private static func pad(_ v: Int, _ n: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, n - s.count)) + s
    }

    /// `2025-12-01T02:15:00Z`
    static func iso(_ t: Int64) -> String {
        let f = fields(t)
        return "\(pad(f.y, 4))-\(pad(f.mo, 2))-\(pad(f.d, 2))T\(pad(f.h, 2)):\(pad(f.mi, 2)):\(pad(f.s, 2))Z"
    }

    /// `2025-12-01T10:15:00+08:00`
    static func isoShanghai(_ t: Int64) -> String {
        let f = fields(t + shanghaiOffset)
        return "\(pad(f.y, 4))-\(pad(f.mo, 2))-\(pad(f.d, 2))T\(pad(f.h, 2)):\(pad(f.mi, 2)):\(pad(f.s, 2))+08:00"
    }

    /// `2025-12-01 10:15:00` (Asia/Shanghai, no zone: the form many Chinese OEM APIs use).
    static func shanghai(_ t: Int64) -> String {
        let f = fields(t + shanghaiOffset)
        return "\(pad(f.y, 4))-\(pad(f.mo, 2))-\(pad(f.d, 2)) \(pad(f.h, 2)):\(pad(f.mi, 2)):\(pad(f.s, 2))"
    }

    /// `2025-12-01`
    static func date(_ t: Int64) -> String {
        let f = fields(t)
        return "\(pad(f.y, 4))-\(pad(f.mo, 2))-\(pad(f.d, 2))"
    }
}
