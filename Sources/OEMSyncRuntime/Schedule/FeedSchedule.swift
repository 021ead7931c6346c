import Foundation
import OEMSyncCore

/// When a feed runs and when it must not: its trigger (an interval or a cron expression), its zone,
/// its blackout and allowed windows, and the drain margin before a window closes.
///
/// A pure value: every answer is computed from the instants passed in, so it is tested with any
/// clock and no test waits. Window arithmetic is to the minute, in the feed's zone (``ZoneClock``
/// defines daylight saving's skipped and repeated hours).
public struct FeedSchedule: Sendable {
    public enum Trigger: Sendable, Hashable, CustomStringConvertible {
        /// Runs this long after the previous run started (absolute time: daylight saving does not move it).
        case every(Duration)
        case cron(CronExpression)

        public var description: String {
            switch self {
            case .every(let d): return "every \(d.short)"
            case .cron(let c): return "cron \(c.source)"
            }
        }
    }

    /// How long before a window closes no new batch starts.
    public enum DrainMargin: Sendable, Hashable {
        /// The longest of the feed's recent batch durations: at least a minute, at most ``autoCap``.
        case auto
        case fixed(Duration)
    }

    /// Why the feed is closed at an instant.
    public enum Closure: Sendable, Hashable, CustomStringConvertible {
        case blackout(TimeWindow)
        case outsideAllowed

        public var description: String {
            switch self {
            case .blackout(let w): return "blackout \(w.source)"
            case .outsideAllowed: return "outside the allowed windows"
            }
        }
    }

    public var trigger: Trigger
    public var clock: ZoneClock
    public var blackouts: [TimeWindow]
    /// When not empty, the feed runs only inside one of these.
    public var allowed: [TimeWindow]
    public var drainMargin: DrainMargin

    /// How far ahead window searches look: past any weekly pattern.
    public static let horizon = Duration.seconds(8 * 86_400)

    public init(
        trigger: Trigger = .every(.seconds(300)), zone: TimeZone = TimeZone(identifier: "UTC")!, blackouts: [TimeWindow] = [],
        allowed: [TimeWindow] = [], drainMargin: DrainMargin = .auto
    ) {
        self.trigger = trigger
        self.clock = ZoneClock(zone)
        self.blackouts = blackouts
        self.allowed = allowed
        self.drainMargin = drainMargin
    }

    public var zone: TimeZone { clock.zone }
    /// The zone as written (Foundation calls UTC "GMT").
    public var zoneName: String { zone.identifier == "GMT" ? "UTC" : zone.identifier }
    public var hasWindows: Bool { !blackouts.isEmpty || !allowed.isEmpty }

    /// Why the feed may not call its source at `t`; nil when it may.
    public func closure(at t: Timestamp) -> Closure? {
        guard hasWindows else { return nil }
        let wall = clock.wallTime(t)
        if let w = blackouts.first(where: { $0.contains(wall) }) { return .blackout(w) }
        if !allowed.isEmpty, !allowed.contains(where: { $0.contains(wall) }) { return .outsideAllowed }
        return nil
    }

    public func isOpen(at t: Timestamp) -> Bool { closure(at: t) == nil }

    /// The first instant at or after `t` at which the feed is open; nil when it stays closed past the horizon.
    public func nextOpen(from t: Timestamp) -> Timestamp? {
        if isOpen(at: t) { return t }
        var m = t.minuteFloor.adding(.seconds(60))
        let end = t.adding(Self.horizon)
        while m <= end {
            if isOpen(at: m) { return m }
            m = m.adding(.seconds(60))
        }
        return nil
    }

    /// When the open period around `t` ends: the first instant after `t` at which the feed is
    /// closed; nil when that is later than `limit` from `t` (or the feed has no windows).
    public func nextClose(after t: Timestamp, within limit: Duration = horizon) -> Timestamp? {
        guard hasWindows else { return nil }
        var m = t.minuteFloor.adding(.seconds(60))
        let end = t.adding(limit)
        while m <= end {
            if !isOpen(at: m) { return m }
            m = m.adding(.seconds(60))
        }
        return nil
    }

    /// The margin kept before a window closes, given the longest recent batch.
    public func margin(recentBatch: Duration?) -> Duration {
        switch drainMargin {
        case .fixed(let d): return d
        case .auto: return min(Self.autoCap, max(.seconds(60), recentBatch ?? .zero))
        }
    }

    /// The most `auto` keeps: one slow batch must not keep a feed with a short allowed window from
    /// ever starting again. A longer margin is written as a duration.
    public static let autoCap = Duration.seconds(30 * 60)

    /// Why a batch may not start at `now`: the feed is closed, or a window closes before the margin
    /// has passed. Nil when it may start.
    public func holdBatch(at now: Timestamp, recentBatch: Duration?) -> String? {
        if let c = closure(at: now) { return c.description }
        let margin = margin(recentBatch: recentBatch)
        guard let close = nextClose(after: now, within: margin), let c = closure(at: close) else { return nil }
        return "\(c) begins at \(clock.wallTime(close)), within the drain margin (\(margin.short))"
    }

    /// When the feed should run next: the trigger's due time after the last start (now when it is
    /// overdue: one catch-up run, however many were missed), moved to the next open instant when
    /// it falls in a closed period. Nil when no run is possible within the horizon.
    public func nextRun(lastStart: Timestamp?, now: Timestamp) -> Timestamp? {
        var due: Timestamp
        switch trigger {
        case .every(let d):
            due = lastStart.map { $0.adding(d) } ?? now
        case .cron(let c):
            guard let fire = c.next(after: lastStart ?? now, in: clock) else { return nil }
            due = fire
        }
        if due < now { due = now }
        return nextOpen(from: due)
    }

    /// A stretch of time in which the feed is open or closed for the same reason.
    public struct Period: Sendable, Hashable {
        public var start: Timestamp
        public var end: Timestamp
        /// Nil: open.
        public var closure: Closure?
    }

    /// The open and closed periods between two instants, to the minute.
    public func periods(from: Timestamp, until: Timestamp) -> [Period] {
        var out: [Period] = []
        var start = from
        var state = closure(at: from)
        var m = from.minuteFloor.adding(.seconds(60))
        while m < until {
            let s = closure(at: m)
            if s != state {
                out.append(Period(start: start, end: m, closure: state))
                start = m
                state = s
            }
            m = m.adding(.seconds(60))
        }
        out.append(Period(start: start, end: until, closure: state))
        return out
    }
}
