import Foundation
import OEMSyncCore

/// A daily period of wall time, on some weekdays: `02:00-04:00`, `Mon-Fri 22:00-06:00`, `Sat,Sun 00:00-24:00`.
///
/// An end at or before the start runs past midnight; the weekdays name the day the period starts
/// (`Fri 22:00-06:00` ends on Saturday morning). A window holds every instant whose wall time in
/// the feed's zone lies inside it: in a repeated hour both passes, in a skipped hour nothing (the
/// wall times do not exist).
public struct TimeWindow: Sendable, Hashable, CustomStringConvertible {
    public let source: String
    /// Minutes since midnight: start inclusive, end exclusive (1440 = 24:00).
    public let start: Int
    public let end: Int
    /// 0 = Sunday ... 6 = Saturday.
    public let weekdays: Set<Int>

    public var description: String { source }
    var wraps: Bool { end <= start }

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    public init(_ text: String) throws(ParseError) {
        source = text
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 1 || parts.count == 2 else {
            throw ParseError(description: "a window is HH:MM-HH:MM, optionally after weekdays (Mon-Fri 02:00-04:00), not '\(text)'")
        }
        let range = parts[parts.count - 1]
        let times = range.split(separator: "-", omittingEmptySubsequences: false)
        guard times.count == 2, let s = Self.minutes(times[0], end: false), let e = Self.minutes(times[1], end: true) else {
            throw ParseError(description: "invalid window times '\(range)' in '\(text)': expected HH:MM-HH:MM (00:00 to 24:00)")
        }
        guard s != e else { throw ParseError(description: "the window '\(text)' is empty; a whole day is 00:00-24:00") }
        start = s
        end = e
        if parts.count == 2 {
            weekdays = try Self.days(parts[0], in: text)
        } else {
            weekdays = Set(0...6)
        }
    }

    static func minutes(_ s: Substring, end: Bool) -> Int? {
        let hm = s.split(separator: ":")
        guard hm.count == 2, hm[0].count == 2, hm[1].count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0...59).contains(m) else { return nil }
        if h == 24 && m == 0 && end { return 1440 }
        guard (0...23).contains(h) else { return nil }
        return h * 60 + m
    }

    static func days(_ s: Substring, in text: String) throws(ParseError) -> Set<Int> {
        var out = Set<Int>()
        for item in s.lowercased().split(separator: ",") {
            let ends = item.split(separator: "-")
            guard (1...2).contains(ends.count), let a = dayNames.firstIndex(of: String(ends[0].prefix(3))),
                let b = dayNames.firstIndex(of: String(ends[ends.count - 1].prefix(3)))
            else {
                throw ParseError(description: "invalid weekdays '\(s)' in '\(text)': use Mon, Tue, ... Sun, ranges (Mon-Fri) and lists (Sat,Sun)")
            }
            // Fri-Mon wraps through the weekend.
            var d = a
            while true {
                out.insert(d)
                if d == b { break }
                d = (d + 1) % 7
            }
        }
        return out
    }

    /// Whether the wall time lies inside the window.
    public func contains(_ wall: WallTime) -> Bool {
        let m = wall.minuteOfDay
        if !wraps { return weekdays.contains(wall.weekday) && m >= start && m < end }
        return (weekdays.contains(wall.weekday) && m >= start) || (weekdays.contains((wall.weekday + 6) % 7) && m < end)
    }
}
