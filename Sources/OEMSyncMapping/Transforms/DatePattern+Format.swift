import OEMSyncCore

extension DatePattern {
    /// Writes `instant` in this format, as local time in `zone` (for request parameters such as
    /// `updatedSince=2025-12-01 10:15:00`). `iso8601` is written in UTC with `Z`; epoch formats as numbers.
    public func format(_ instant: Timestamp, zone: ZoneConverter) -> String {
        switch kind {
        case .iso8601: return Self.isoUTC(instant)
        case .epochSeconds: return String(instant.microseconds.floorDiv(1_000_000))
        case .epochMilliseconds: return String(instant.microseconds.floorDiv(1_000))
        case .excel:
            let days = Double(instant.microseconds) / 86_400_000_000 + 25_569
            return String(days)
        case .tokens(let tokens):
            let utcSeconds = instant.microseconds.floorDiv(1_000_000)
            let offset = zone.offset(atUTCSeconds: utcSeconds)
            let local = utcSeconds + offset
            let days = local.floorDiv(86_400)
            let date = CivilDate(daysSinceEpoch: Int(days))
            let secondOfDay = Int(local - days * 86_400)
            let micro = Int(instant.microseconds - utcSeconds * 1_000_000)
            var out = ""
            func pad(_ v: Int, _ width: Int) {
                let s = String(v)
                if s.count < width { out += String(repeating: "0", count: width - s.count) }
                out += s
            }
            for token in tokens {
                switch token {
                case .year: pad(date.year, 4)
                case .month(let exact): pad(date.month, exact ? 2 : 1)
                case .day(let exact): pad(date.day, exact ? 2 : 1)
                case .hour(let exact): pad(secondOfDay / 3600, exact ? 2 : 1)
                case .minute: pad(secondOfDay / 60 % 60, 2)
                case .second: pad(secondOfDay % 60, 2)
                case .fraction(let digits):
                    // Microseconds scaled to the pattern's digits: SSS is milliseconds.
                    var v = micro
                    if digits < 6 {
                        for _ in digits..<6 { v /= 10 }
                    } else {
                        for _ in 6..<digits { v *= 10 }
                    }
                    pad(v, digits)
                case .offset(let colon, let minutes):
                    if offset == 0 {
                        out += "Z"
                    } else {
                        out += offset < 0 ? "-" : "+"
                        let a = Int(abs(offset))
                        pad(a / 3600, 2)
                        if minutes {
                            if colon { out += ":" }
                            pad(a / 60 % 60, 2)
                        }
                    }
                case .literal(let bytes): out += String(decoding: bytes, as: UTF8.self)
                }
            }
            return out
        }
    }

    /// `2025-12-01T02:15:00Z` (with `.ffffff` when there is a fraction).
    static func isoUTC(_ t: Timestamp) -> String { t.description }
}
