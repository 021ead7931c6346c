import Foundation
import OEMSyncCore

/// A wall-clock reading in a time zone, to the minute: what a schedule or a window is written in.
public struct WallTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var date: CivilDate
    /// Minutes since local midnight, 0...1439.
    public var minuteOfDay: Int

    public init(date: CivilDate, minuteOfDay: Int) {
        self.date = date
        self.minuteOfDay = minuteOfDay
    }

    /// 0 = Sunday ... 6 = Saturday, as cron counts.
    public var weekday: Int { ((date.daysSinceEpoch + 4) % 7 + 7) % 7 }
    public var hour: Int { minuteOfDay / 60 }
    public var minute: Int { minuteOfDay % 60 }

    /// Seconds since 1970-01-01 00:00 *local*: the wall time as if the zone were UTC.
    var localSeconds: Int64 { Int64(date.daysSinceEpoch) * 86_400 + Int64(minuteOfDay) * 60 }

    init(localSeconds: Int64) {
        let (days, rest) = localSeconds.quotientAndRemainder(dividingBy: 86_400)
        var d = Int(days)
        var r = Int(rest)
        if r < 0 {
            r += 86_400
            d -= 1
        }
        self.init(date: CivilDate(daysSinceEpoch: d), minuteOfDay: r / 60)
    }

    public static func < (a: WallTime, b: WallTime) -> Bool { a.localSeconds < b.localSeconds }

    /// `2026-03-29 02:30`.
    public var description: String {
        date.description + " " + String(format: "%02d:%02d", hour, minute)
    }
}

/// Converts between instants and wall times in one zone, with defined answers where daylight
/// saving makes wall time skip or repeat.
///
/// - A wall time that does not exist (the hour skipped when clocks go forward) resolves to the
///   instant the skip ends: 02:30 on 2026-03-29 in Europe/Berlin is 03:00 CEST (01:00Z).
/// - A wall time that happens twice (the hour repeated when clocks go back) resolves to its first
///   occurrence; ``Resolution/repeated(first:second:)`` says so, for whoever needs the second.
public struct ZoneClock: Sendable {
    public let zone: TimeZone

    public init(_ zone: TimeZone) { self.zone = zone }

    public enum Resolution: Sendable, Equatable {
        case exact(Timestamp)
        case repeated(first: Timestamp, second: Timestamp)
        /// The wall time falls in a skipped hour; the instant is when the skip ends.
        case skipped(gapEnd: Timestamp)

        /// The instant a schedule uses: the only one, the first, or the end of the skip.
        public var instant: Timestamp {
            switch self {
            case .exact(let t), .repeated(let t, _), .skipped(let t): return t
            }
        }
    }

    /// The zone's offset from UTC at an instant, in seconds.
    public func offset(at seconds: Int64) -> Int64 {
        Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
    }

    /// The wall time at an instant (seconds dropped).
    public func wallTime(_ t: Timestamp) -> WallTime {
        let s = t.microseconds >= 0 ? t.microseconds / 1_000_000 : (t.microseconds - 999_999) / 1_000_000
        return WallTime(localSeconds: s + offset(at: s))
    }

    /// The instant(s) a wall time names.
    public func resolve(_ wall: WallTime) -> Resolution {
        let local = wall.localSeconds
        // The offsets half a day either side cover any single transition near this wall time.
        let before = offset(at: local - 43_200)
        let after = offset(at: local + 43_200)
        var found: [Int64] = []
        for o in Set([before, after]).sorted(by: >) where offset(at: local - o) == o {
            found.append(local - o)
        }
        found.sort()
        if found.count >= 2 { return .repeated(first: Timestamp(seconds: found[0]), second: Timestamp(seconds: found[found.count - 1])) }
        if let t = found.first { return .exact(Timestamp(seconds: t)) }
        // A skipped wall time: the transition lies in (local - after, local - before]; find it.
        var low = local - after
        var high = local - before
        while high - low > 1 {
            let mid = low + (high - low) / 2
            if offset(at: mid) == before { low = mid } else { high = mid }
        }
        return .skipped(gapEnd: Timestamp(seconds: high))
    }
}

extension Timestamp {
    /// This instant moved by a duration.
    public func adding(_ d: Duration) -> Timestamp {
        Timestamp(microseconds: microseconds + Int64((d.seconds * 1_000_000).rounded()))
    }

    /// The start of this instant's minute.
    var minuteFloor: Timestamp {
        let s = microseconds >= 0 ? microseconds / 60_000_000 : (microseconds - 59_999_999) / 60_000_000
        return Timestamp(microseconds: s * 60_000_000)
    }
}
