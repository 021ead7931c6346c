import Foundation
import OEMSyncCore
import Testing

@testable import OEMSyncRuntime

/// Schedules and windows are pure values: every instant here is passed in, nothing waits.
@Suite("schedules and windows")
struct ScheduleTests {
    static let berlin = ZoneClock(TimeZone(identifier: "Europe/Berlin")!)
    static let newYork = ZoneClock(TimeZone(identifier: "America/New_York")!)
    static let shanghai = ZoneClock(TimeZone(identifier: "Asia/Shanghai")!)
    static let utc = ZoneClock(TimeZone(identifier: "UTC")!)

    /// `2026-03-29T01:00:00Z` as an instant.
    func t(_ iso: String) -> Timestamp {
        let date = try! Date(iso, strategy: .iso8601)
        return Timestamp(seconds: Int64(date.timeIntervalSince1970))
    }

    func cron(_ s: String) -> CronExpression { try! CronExpression(s) }

    /// The first `n` fire times after `start`.
    func fires(_ c: CronExpression, after start: Timestamp, in clock: ZoneClock, count n: Int) -> [String] {
        var out: [String] = []
        var at = start
        for _ in 0..<n {
            guard let next = c.next(after: at, in: clock) else { break }
            out.append(next.description)
            at = next
        }
        return out
    }

    // MARK: Wall time and daylight saving

    @Test("wall times resolve to one instant, the first of a repeated hour, or the end of a skipped one")
    func resolve() {
        let spring = WallTime(date: CivilDate(year: 2026, month: 3, day: 29)!, minuteOfDay: 150)  // 02:30
        #expect(Self.berlin.resolve(spring) == .skipped(gapEnd: t("2026-03-29T01:00:00Z")))
        let autumn = WallTime(date: CivilDate(year: 2026, month: 10, day: 25)!, minuteOfDay: 150)
        #expect(Self.berlin.resolve(autumn) == .repeated(first: t("2026-10-25T00:30:00Z"), second: t("2026-10-25T01:30:00Z")))
        let plain = WallTime(date: CivilDate(year: 2026, month: 12, day: 1)!, minuteOfDay: 150)
        #expect(Self.berlin.resolve(plain) == .exact(t("2026-12-01T01:30:00Z")))
        #expect(Self.shanghai.resolve(plain) == .exact(t("2026-11-30T18:30:00Z")))
        let nySpring = WallTime(date: CivilDate(year: 2026, month: 3, day: 8)!, minuteOfDay: 130)  // 02:10, skipped
        #expect(Self.newYork.resolve(nySpring) == .skipped(gapEnd: t("2026-03-08T07:00:00Z")))
        #expect(Self.berlin.wallTime(t("2026-10-25T01:30:00Z")).description == "2026-10-25 02:30")
        #expect(Self.berlin.wallTime(t("2026-10-25T01:30:00Z")).weekday == 0)
    }

    // MARK: Cron

    @Test("cron fields: steps, ranges, lists, names, shorthands, and day-of-month OR day-of-week")
    func cronBasics() {
        #expect(fires(cron("*/15 * * * *"), after: t("2026-12-01T10:07:00Z"), in: Self.utc, count: 3)
            == ["2026-12-01T10:15:00Z", "2026-12-01T10:30:00Z", "2026-12-01T10:45:00Z"])
        // Saturday 2026-12-05: the next weekday run is Monday.
        #expect(fires(cron("0 9 * * MON-FRI"), after: t("2026-12-05T12:00:00Z"), in: Self.utc, count: 2)
            == ["2026-12-07T09:00:00Z", "2026-12-08T09:00:00Z"])
        // Both day fields restricted: the 13th or a Friday.
        #expect(fires(cron("0 0 13 * 5"), after: t("2026-11-01T00:00:00Z"), in: Self.utc, count: 3)
            == ["2026-11-06T00:00:00Z", "2026-11-13T00:00:00Z", "2026-11-20T00:00:00Z"])
        #expect(fires(cron("5/20 8-9 * JAN,dec 7"), after: t("2026-12-01T00:00:00Z"), in: Self.utc, count: 4)
            == ["2026-12-06T08:05:00Z", "2026-12-06T08:25:00Z", "2026-12-06T08:45:00Z", "2026-12-06T09:05:00Z"])
        #expect(fires(cron("@daily"), after: t("2026-12-01T00:00:00Z"), in: Self.shanghai, count: 1) == ["2026-12-01T16:00:00Z"])
        #expect(cron("0 0 31 2 *").next(after: t("2026-12-01T00:00:00Z"), in: Self.utc) == nil)
        // Exactly at a fire time: the next one, never the same.
        #expect(cron("0 * * * *").next(after: t("2026-12-01T10:00:00Z"), in: Self.utc) == t("2026-12-01T11:00:00Z"))
    }

    @Test("bad cron expressions name the field and the value", arguments: [
        ("* * * *", "has 4"), ("61 * * * *", "invalid minute '61'"), ("* * * FOO *", "invalid month 'FOO'"),
        ("*/0 * * * *", "invalid step"), ("5-1 * * * *", "runs backwards"), ("* * 0 * *", "invalid day-of-month '0'"),
    ])
    func cronErrors(text: String, fragment: String) {
        #expect(throws: CronExpression.ParseError.self) { try CronExpression(text) }
        do {
            _ = try CronExpression(text)
        } catch {
            #expect(error.description.contains(fragment), "\(error)")
        }
    }

    @Test("Europe/Berlin spring forward: a fire time in the skipped hour runs once, when it ends")
    func berlinSpring() {
        #expect(fires(cron("30 2 * * *"), after: t("2026-03-28T02:00:00Z"), in: Self.berlin, count: 2)
            == ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"])
        // 02:00, 02:15, 02:30, 02:45 do not exist and 03:00 is the skip's end: one run for all five.
        #expect(fires(cron("*/15 * * * *"), after: t("2026-03-29T00:40:00Z"), in: Self.berlin, count: 3)
            == ["2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z"])
    }

    @Test("Europe/Berlin fall back: a fire time in the repeated hour runs once, at its first occurrence")
    func berlinAutumn() {
        #expect(fires(cron("30 2 * * *"), after: t("2026-10-24T02:00:00Z"), in: Self.berlin, count: 2)
            == ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"])
        // The second pass of 02:00-03:00 (01:00Z-02:00Z) has no runs.
        #expect(fires(cron("*/30 * * * *"), after: t("2026-10-24T23:50:00Z"), in: Self.berlin, count: 4)
            == ["2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T02:00:00Z", "2026-10-25T02:30:00Z"])
    }

    @Test("America/New_York: the same rules on its own dates")
    func newYorkTransitions() {
        #expect(fires(cron("30 2 * * *"), after: t("2026-03-07T12:00:00Z"), in: Self.newYork, count: 2)
            == ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"])
        #expect(fires(cron("30 1 * * *"), after: t("2026-10-31T12:00:00Z"), in: Self.newYork, count: 2)
            == ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"])
    }

    // MARK: Windows

    func window(_ s: String) -> TimeWindow { try! TimeWindow(s) }

    @Test("windows: plain, past midnight, by weekday; bad ones say why")
    func windows() throws {
        let schedule = FeedSchedule(zone: Self.shanghai.zone, blackouts: [window("02:00-04:00")])
        #expect(schedule.closure(at: t("2026-11-30T18:30:00Z")) == .blackout(window("02:00-04:00")))  // 02:30 CST
        #expect(schedule.closure(at: t("2026-11-30T20:00:00Z")) == nil)  // 04:00 CST: the end is open
        #expect(schedule.closure(at: t("2026-11-30T17:59:00Z")) == nil)
        #expect(schedule.nextOpen(from: t("2026-11-30T18:00:00Z")) == t("2026-11-30T20:00:00Z"))
        #expect(schedule.nextClose(after: t("2026-11-30T10:00:00Z")) == t("2026-11-30T18:00:00Z"))

        let night = FeedSchedule(zone: Self.shanghai.zone, allowed: [window("22:00-06:00")])
        #expect(night.isOpen(at: t("2026-11-30T15:00:00Z")))  // 23:00
        #expect(night.isOpen(at: t("2026-11-30T21:59:00Z")))  // 05:59
        #expect(night.closure(at: t("2026-11-30T22:00:00Z")) == .outsideAllowed)  // 06:00
        #expect(night.nextOpen(from: t("2026-12-01T04:00:00Z")) == t("2026-12-01T14:00:00Z"))

        // Friday night into Saturday morning; not Friday morning.
        let weekend = window("Fri 22:00-06:00")
        #expect(weekend.contains(WallTime(date: CivilDate(year: 2026, month: 12, day: 5)!, minuteOfDay: 300)))
        #expect(!weekend.contains(WallTime(date: CivilDate(year: 2026, month: 12, day: 4)!, minuteOfDay: 300)))
        #expect(window("Sat,Sun 00:00-24:00").contains(WallTime(date: CivilDate(year: 2026, month: 12, day: 6)!, minuteOfDay: 1439)))
        #expect(window("fri-mon 10:00-11:00").weekdays == [5, 6, 0, 1])

        for (bad, fragment) in [("02:00", "invalid window times"), ("25:00-26:00", "invalid window times"), ("03:00-03:00", "is empty"),
            ("Funday 01:00-02:00", "invalid weekdays"), ("2:00-4:00", "invalid window times")]
        {
            #expect(throws: TimeWindow.ParseError.self) { try TimeWindow(bad) }
            do { _ = try TimeWindow(bad) } catch { #expect(error.description.contains(fragment), "\(bad): \(error)") }
        }
    }

    @Test("Europe/Berlin windows over daylight saving: a skipped hour holds nothing, a repeated one both passes")
    func windowsOverDST() {
        let schedule = FeedSchedule(zone: Self.berlin.zone, blackouts: [window("02:00-03:00")])
        // Spring: 02:00-03:00 does not exist, so the blackout is empty that night.
        let spring = schedule.periods(from: t("2026-03-28T23:00:00Z"), until: t("2026-03-29T03:00:00Z"))
        #expect(spring.allSatisfy { $0.closure == nil })
        // Autumn: both passes of 02:00-03:00 are inside: two hours closed.
        let autumn = schedule.periods(from: t("2026-10-24T23:00:00Z"), until: t("2026-10-25T03:00:00Z"))
        #expect(autumn.map { "\($0.start) \($0.closure == nil ? "open" : "closed")" }
            == ["2026-10-24T23:00:00Z open", "2026-10-25T00:00:00Z closed", "2026-10-25T02:00:00Z open"])
        // A window across the skip closes from 01:30 CET to 03:30 CEST: one hour of real time.
        let across = FeedSchedule(zone: Self.berlin.zone, blackouts: [window("01:30-03:30")])
        #expect(across.periods(from: t("2026-03-29T00:00:00Z"), until: t("2026-03-29T02:00:00Z")).map(\.start.description)
            == ["2026-03-29T00:00:00Z", "2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z"])
    }

    // MARK: Drain margin and next runs

    @Test("no batch starts that cannot finish before a blackout: a fixed margin, or the recent batches")
    func drainMargin() {
        let fixed = FeedSchedule(zone: Self.shanghai.zone, blackouts: [window("02:00-04:00")], drainMargin: .fixed(.seconds(600)))
        #expect(fixed.holdBatch(at: t("2026-11-30T17:49:00Z"), recentBatch: nil) == nil)  // 01:49: ten open minutes left
        let hold = fixed.holdBatch(at: t("2026-11-30T17:51:00Z"), recentBatch: nil)
        #expect(hold == "blackout 02:00-04:00 begins at 2026-12-01 02:00, within the drain margin (10m)")
        #expect(fixed.holdBatch(at: t("2026-11-30T18:10:00Z"), recentBatch: nil) == "blackout 02:00-04:00")

        let auto = FeedSchedule(zone: Self.shanghai.zone, blackouts: [window("02:00-04:00")])
        #expect(auto.holdBatch(at: t("2026-11-30T17:40:00Z"), recentBatch: .seconds(25 * 60)) != nil)
        #expect(auto.holdBatch(at: t("2026-11-30T17:40:00Z"), recentBatch: .seconds(5 * 60)) == nil)
        // Without history the margin is a minute.
        #expect(auto.holdBatch(at: t("2026-11-30T17:58:30Z"), recentBatch: nil) == nil)
        #expect(auto.holdBatch(at: t("2026-11-30T17:59:30Z"), recentBatch: nil) != nil)
        #expect(FeedSchedule().holdBatch(at: t("2026-11-30T17:59:30Z"), recentBatch: .seconds(86_400)) == nil)
    }

    @Test("the next run: due after the last start, overdue runs once now, moved out of closed periods")
    func nextRun() {
        let every = FeedSchedule(trigger: .every(.seconds(900)), zone: Self.shanghai.zone, blackouts: [window("02:00-04:00")])
        let now = t("2026-11-30T17:52:00Z")
        #expect(every.nextRun(lastStart: nil, now: now) == now)
        #expect(every.nextRun(lastStart: t("2026-11-30T17:40:00Z"), now: now) == t("2026-11-30T17:55:00Z"))
        // 02:05 falls in the blackout: 04:00.
        #expect(every.nextRun(lastStart: t("2026-11-30T17:50:00Z"), now: now) == t("2026-11-30T20:00:00Z"))
        #expect(every.nextRun(lastStart: t("2026-11-29T00:00:00Z"), now: now) == now)

        let daily = FeedSchedule(trigger: .cron(cron("30 3 * * *")), zone: Self.shanghai.zone, blackouts: [window("02:00-04:00")])
        #expect(daily.nextRun(lastStart: nil, now: now) == t("2026-11-30T20:00:00Z"))
        #expect(daily.nextRun(lastStart: t("2026-11-28T20:00:00Z"), now: now) == now)  // missed: once, now

        let never = FeedSchedule(zone: Self.shanghai.zone, blackouts: [window("00:00-24:00")], allowed: [window("01:00-02:00")])
        #expect(never.nextRun(lastStart: nil, now: now) == nil)
    }
}
