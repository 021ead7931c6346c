import Foundation
import OEMSyncCore
import OEMSyncSinks

/// `oemsync windows FEED [--days 7]`: when the feed will and won't run, in its own zone: the open
/// and closed periods (with why), and for a cron trigger each run time. From the config alone.
public enum WindowsCommand {
    public struct Period: Sendable, Codable {
        /// Local wall time in the feed's zone, `2026-12-01 02:00`, and the UTC offset then.
        public var start: String
        public var end: String
        public var startUTC: String
        public var endUTC: String
        public var offset: String
        public var open: Bool
        public var reason: String?
    }

    public struct Report: Sendable, Codable {
        public var feed: String
        public var timezone: String
        public var trigger: String
        public var blackout: [String]
        public var allowed: [String]
        public var drainMargin: String
        public var periods: [Period]
        /// Run times (UTC) for a cron trigger, the first ``maxRuns``; empty for an interval.
        public var runs: [String]
        /// Whether more runs follow in the period than are listed.
        public var moreRuns: Bool
    }

    public static let maxRuns = 500

    /// - Parameter from: the first day shown (the feed's local midnight); nil: now.
    public static func run(configPath: String, feed name: String, days: Int, from: CivilDate?, json: Bool, console: Console, now: Timestamp = .now())
        -> Int32
    {
        let loaded = ConfigurationLoader().load(path: configPath)
        if !loaded.diagnostics.isEmpty {
            console.report(loaded.diagnostics, DiagnosticRenderer(sources: loaded.redactedText.map { [configPath: $0] } ?? [:]))
        }
        guard let configuration = loaded.configuration else { return ExitStatus.config }
        guard let feed = configuration.feed(named: name) else {
            console.err("oemsync windows: unknown feed '\(name)' (feeds: \(configuration.feeds.map(\.name).joined(separator: ", ")))\n")
            return ExitStatus.usage
        }
        let report = self.report(feed: feed, days: days, from: from, now: now)
        if json {
            console.out(CommandJSON.encode(report))
        } else {
            console.out(text(report))
        }
        return ExitStatus.ok
    }

    static func report(feed: FeedSettings, days: Int, from: CivilDate?, now: Timestamp) -> Report {
        let schedule = feed.schedule
        let clock = schedule.clock
        // From a date: its local midnight to the local midnight `days` later (23 or 25 hours over a clock change).
        let start = from.map { clock.resolve(WallTime(date: $0, minuteOfDay: 0)).instant } ?? now
        let end = from.map { clock.resolve(WallTime(date: CivilDate(daysSinceEpoch: $0.daysSinceEpoch + days), minuteOfDay: 0)).instant }
            ?? now.adding(.seconds(Int64(days) * 86_400))
        func offset(_ t: Timestamp) -> String {
            let o = clock.offset(at: t.microseconds / 1_000_000)
            return String(format: "%@%02d:%02d", o < 0 ? "-" : "+", abs(o) / 3600, abs(o) % 3600 / 60)
        }
        let periods = schedule.periods(from: start, until: end).map { p in
            Period(
                start: clock.wallTime(p.start).description, end: clock.wallTime(p.end).description, startUTC: p.start.description,
                endUTC: p.end.description, offset: offset(p.start), open: p.closure == nil, reason: p.closure?.description)
        }
        var runs: [String] = []
        var more = false
        if case .cron(let c) = schedule.trigger {
            var at = start.adding(.microseconds(-1))
            while let next = c.next(after: at, in: clock), next < end {
                guard runs.count < Self.maxRuns else {
                    more = true
                    break
                }
                // A run due in a closed period happens when it opens.
                if let open = schedule.nextOpen(from: next), open < end, runs.last != open.description { runs.append(open.description) }
                at = next
            }
        }
        let margin: String
        switch schedule.drainMargin {
        case .auto: margin = "auto (the longest recent batch, 1m to \(FeedSchedule.autoCap.short))"
        case .fixed(let d): margin = d.short
        }
        return Report(
            feed: feed.name, timezone: schedule.zoneName, trigger: schedule.trigger.description, blackout: schedule.blackouts.map(\.source),
            allowed: schedule.allowed.map(\.source), drainMargin: margin, periods: periods, runs: runs, moreRuns: more)
    }

    static func text(_ r: Report) -> String {
        var out = "\(r.feed): \(r.trigger), \(r.timezone)"
        if !r.blackout.isEmpty { out += "; blackout \(r.blackout.joined(separator: ", "))" }
        if !r.allowed.isEmpty { out += "; allowed \(r.allowed.joined(separator: ", "))" }
        if !r.blackout.isEmpty || !r.allowed.isEmpty { out += "; drain margin \(r.drainMargin)" }
        out += "\n\n"
        let rows = r.periods.map { p in
            [p.start, p.end, p.offset, p.open ? "runs" : "closed", p.reason ?? (r.runs.isEmpty ? r.trigger : "cron, below")]
        }
        out += TextTable.render(header: ["from (local)", "until (local)", "utc", "state", "why"], rows: rows)
        if !r.runs.isEmpty {
            let total = r.moreRuns ? "more than \(r.runs.count)" : "\(r.runs.count)"
            out += "\nruns (UTC): " + (r.runs.count > 20 ? r.runs.prefix(20).joined(separator: ", ") + ", … (\(total) in all)" : r.runs.joined(separator: ", ")) + "\n"
        }
        return out
    }
}
