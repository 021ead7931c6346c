import Foundation
import OEMSyncCore

/// A 5-field cron expression (`minute hour day-of-month month day-of-week`), read in a feed's zone.
///
/// Fields take `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, and lists `a,b`. Months and
/// weekdays take names too (`JAN`, `MON-FRI`); weekday 0 and 7 are Sunday. As in Vixie cron, when
/// both day-of-month and day-of-week are restricted (neither starts with `*`) a day matching either
/// runs. `@hourly`,
/// `@daily`, `@weekly`, `@monthly` and `@yearly` are shorthands.
///
/// Daylight saving (``next(after:in:)``): fire times in a skipped hour run once, when the skip ends;
/// fire times in a repeated hour run once, at their first occurrence.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    public let source: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let domRestricted: Bool
    let dowRestricted: Bool

    public var description: String { source }

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    static let shorthands = ["@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"]
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    public init(_ text: String) throws(ParseError) {
        source = text
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let expanded = Self.shorthands[trimmed.lowercased()] ?? trimmed
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(description: "a cron expression has 5 fields (minute hour day-of-month month day-of-week), '\(text)' has \(fields.count)")
        }
        minutes = try Self.field(fields[0], name: "minute", range: 0...59, names: [])
        hours = try Self.field(fields[1], name: "hour", range: 0...23, names: [])
        daysOfMonth = try Self.field(fields[2], name: "day-of-month", range: 1...31, names: [])
        months = try Self.field(fields[3], name: "month", range: 1...12, names: Self.monthNames, firstName: 1)
        var days = try Self.field(fields[4], name: "day-of-week", range: 0...7, names: Self.dayNames)
        if days.remove(7) != nil { days.insert(0) }
        weekdays = days
        // As Vixie cron: a field that starts with `*` (`*/2` too) does not restrict the day.
        domRestricted = !fields[2].hasPrefix("*") && fields[2] != "?"
        dowRestricted = !fields[4].hasPrefix("*") && fields[4] != "?"
    }

    private static func field(_ text: String, name: String, range: ClosedRange<Int>, names: [String], firstName: Int = 0) throws(ParseError)
        -> Set<Int>
    {
        func number(_ s: Substring) throws(ParseError) -> Int {
            if let n = Int(s), range.contains(n) { return n }
            if let i = names.firstIndex(of: s.uppercased()) { return i + firstName }
            throw ParseError(description: "invalid \(name) '\(s)' in '\(text)' (\(range.lowerBound)-\(range.upperBound)\(names.isEmpty ? "" : " or a name"))")
        }
        var out = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            var spec = part
            var step = 1
            if let slash = part.firstIndex(of: "/") {
                guard let s = Int(part[part.index(after: slash)...]), s > 0 else {
                    throw ParseError(description: "invalid step in \(name) '\(part)' of '\(text)'")
                }
                step = s
                spec = part[..<slash]
            }
            let low: Int
            var high: Int
            if spec == "*" || spec == "?" {
                low = range.lowerBound
                high = range.upperBound
                if name == "day-of-week" { high = 6 }
            } else if let dash = spec.firstIndex(of: "-") {
                low = try number(spec[..<dash])
                high = try number(spec[spec.index(after: dash)...])
                guard low <= high else { throw ParseError(description: "invalid \(name) range '\(spec)' in '\(text)': it runs backwards") }
            } else {
                guard !spec.isEmpty else { throw ParseError(description: "empty \(name) in '\(text)'") }
                low = try number(spec)
                // `5/15` means from 5 to the end, every 15.
                high = part.contains("/") ? range.upperBound : low
            }
            out.formUnion(stride(from: low, through: high, by: step))
        }
        return out
    }

    func matches(day date: CivilDate, weekday: Int) -> Bool {
        guard months.contains(date.month) else { return false }
        let dom = daysOfMonth.contains(date.day)
        let dow = weekdays.contains(weekday)
        switch (domRestricted, dowRestricted) {
        case (true, true): return dom || dow
        case (true, false): return dom
        case (false, true): return dow
        case (false, false): return true
        }
    }

    /// The first fire time strictly after `t`, in `clock`'s zone; nil when none comes within 8 years
    /// (`0 0 31 2 *`).
    public func next(after t: Timestamp, in clock: ZoneClock) -> Timestamp? {
        // Start from the wall time at t; in a repeated hour earlier fire times resolve before t and are passed.
        var wall = clock.wallTime(t)
        wall.minuteOfDay += 1
        if wall.minuteOfDay == 1440 {
            wall = WallTime(date: CivilDate(daysSinceEpoch: wall.date.daysSinceEpoch + 1), minuteOfDay: 0)
        }
        var day = wall.date.daysSinceEpoch
        var minute = wall.minuteOfDay
        let lastDay = day + 8 * 366
        let sortedHours = hours.sorted()
        let sortedMinutes = minutes.sorted()
        while day <= lastDay {
            let date = CivilDate(daysSinceEpoch: day)
            if matches(day: date, weekday: WallTime(date: date, minuteOfDay: 0).weekday) {
                for h in sortedHours where h * 60 + 59 >= minute {
                    for m in sortedMinutes where h * 60 + m >= minute {
                        let instant = clock.resolve(WallTime(date: date, minuteOfDay: h * 60 + m)).instant
                        if instant > t { return instant }
                    }
                }
            }
            day += 1
            minute = 0
        }
        return nil
    }
}
