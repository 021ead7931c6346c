import OEMSyncCore
@testable import OEMSyncMapping
import Testing

@Suite("Type coercion")
struct CoercionTests {
    static let dates: [(String, String?)] = [
        ("2025-12-02", "2025-12-02"),
        ("2025/12/2", "2025-12-02"),
        ("2025/12/02", "2025-12-02"),
        ("2025.12.02", "2025-12-02"),
        ("2025年12月2日", "2025-12-02"),
        ("2025年12月02日", "2025-12-02"),
        ("２０２５年１２月２日", "2025-12-02"),
        ("20251202", "2025-12-02"),
        ("2024-02-29", "2024-02-29"),
        ("2025-02-29", nil),
        ("2025-13-01", nil),
        ("2025年2月30日", nil),
        ("12/02/2025", nil),
        ("2025-12-02x", nil),
        ("", nil),
    ]

    @Test("dates in the default formats, including 2025/12/2 and 2025年12月2日", arguments: dates)
    func date(_ input: String, _ expected: String?) {
        let c = Coercion(type: .date, formats: DatePattern.defaultDateFormats.map { try! DatePattern($0) })
        switch c.coerce(input, field: "d") {
        case .success(let v): #expect(v.text == expected)
        case .failure(let p):
            #expect(expected == nil, "\(input): \(p)")
            #expect(p.code == "type.date")
        }
    }

    @Test("datetimes: offsets, zones, epoch milliseconds, fractions")
    func datetime() throws {
        let shanghai = try #require(ZoneConverter(identifier: "Asia/Shanghai"))
        let c = Coercion(type: .datetime, formats: DatePattern.defaultDateTimeFormats.map { try! DatePattern($0) }, zone: shanghai)
        func text(_ s: String) -> String? { try? c.coerce(s, field: "t").get().text }
        #expect(text("2025-12-02 14:05:00") == "2025-12-02T06:05:00Z")
        #expect(text("2025-12-02T14:05:00+08:00") == "2025-12-02T06:05:00Z")
        #expect(text("2025-12-02T06:05:00Z") == "2025-12-02T06:05:00Z")
        #expect(text("2025-12-02T06:05:00.250Z") == "2025-12-02T06:05:00.250000Z")
        #expect(text("2025年12月2日 14:05") == "2025-12-02T06:05:00Z")
        #expect(text("2025-12-02 24:00:00") == nil)
        let epoch = Coercion(type: .datetime, formats: [try DatePattern("epoch_ms")])
        #expect(try epoch.coerce("1764655500000", field: "t").get().text == "2025-12-02T06:05:00Z")
        // Milliseconds read as seconds would be the year 57889: not a date.
        let seconds = Coercion(type: .datetime, formats: [try DatePattern("epoch_s")])
        if case .success(let v) = seconds.coerce("1764655500000", field: "t") { Issue.record("accepted \(v)") }
    }

    @Test("a datetime without offset or zone is a problem, not a guess")
    func datetimeNeedsZone() {
        let c = Coercion(type: .datetime, formats: [try! DatePattern("yyyy-MM-dd HH:mm:ss")])
        guard case .failure(let p) = c.coerce("2025-12-02 14:05:00", field: "t") else {
            Issue.record("a naive time was accepted without a zone")
            return
        }
        #expect(p.code == "type.datetime")
    }

    static let decimals: [(String, Int?, String?)] = [
        ("268000", 2, "268000.00"),
        ("268000.5", 2, "268000.50"),
        ("1,234,567.89", 2, "1234567.89"),
        ("１２３４.５", 2, "1234.50"),
        ("-0.00", 2, "0.00"),
        ("007.10", nil, "7.10"),
        (".5", 2, "0.50"),
        ("12.340", 2, "12.34"),
        ("12.345", 2, nil),  // more places than the scale: never rounded silently
        ("1,23,456", 2, nil),
        ("12a", 2, nil),
        ("1e5", 2, nil),
    ]

    @Test("decimals keep exact text, with the column's scale", arguments: decimals)
    func decimal(_ input: String, _ scale: Int?, _ expected: String?) throws {
        let c = Coercion(type: .decimal, scale: scale)
        switch c.coerce(input, field: "p") {
        case .success(let v): #expect(v == .decimal(expected ?? "<reject>"))
        case .failure(let p):
            #expect(expected == nil, "\(input): \(p)")
            #expect(p.code == (input == "12.345" ? "value.scale" : "type.decimal"))
        }
    }

    @Test("integers and booleans")
    func intAndBool() throws {
        let i = Coercion(type: .int)
        #expect(try i.coerce(" 2025 ", field: "y").get() == .int(2025))
        #expect(try i.coerce("２０２５", field: "y").get() == .int(2025))
        #expect(try i.coerce("-3", field: "y").get() == .int(-3))
        #expect(try i.coerce("-9223372036854775808", field: "y").get() == .int(.min))
        if case .success = i.coerce("20.5", field: "y") { Issue.record("20.5 is not an integer") }
        if case .success = i.coerce("99999999999999999999", field: "y") { Issue.record("overflow accepted") }
        let b = Coercion(type: .bool)
        #expect(try b.coerce("是", field: "b").get() == .bool(true))
        #expect(try b.coerce("N", field: "b").get() == .bool(false))
        if case .success = b.coerce("maybe", field: "b") { Issue.record("maybe is not a boolean") }
    }

    @Test("date formats are compiled strictly")
    func patterns() {
        for bad in ["yy-MM-dd", "yyyy-MMM-dd", "yyyy-MM", "yyyy-MM-dd 'T", "yyyy-MM-dd Q"] {
            #expect(throws: DatePattern.PatternError.self, "\(bad)") { try DatePattern(bad) }
        }
    }
}

@Suite("Time zones and daylight saving")
struct ZoneConverterTests {
    func local(_ y: Int, _ m: Int, _ d: Int, _ h: Int, _ min: Int) -> Int64 {
        Int64(CivilDate(year: y, month: m, day: d)!.daysSinceEpoch) * 86_400 + Int64(h * 3600 + min * 60)
    }

    func utc(_ seconds: Int64) -> String { Timestamp(seconds: seconds).description }

    @Test("Europe/Berlin: the spring gap moves forward, the autumn repeat takes the first occurrence")
    func berlin() throws {
        let berlin = try #require(ZoneConverter(identifier: "Europe/Berlin"))
        #expect(utc(berlin.instant(localSeconds: local(2026, 1, 15, 12, 0))) == "2026-01-15T11:00:00Z")
        #expect(utc(berlin.instant(localSeconds: local(2026, 7, 15, 12, 0))) == "2026-07-15T10:00:00Z")
        // 02:30 does not exist on 2026-03-29: moved forward by the hour, to 03:30 CEST = 01:30Z.
        #expect(utc(berlin.instant(localSeconds: local(2026, 3, 29, 2, 30))) == "2026-03-29T01:30:00Z")
        // 02:30 occurs twice on 2026-10-25: the first (CEST, UTC+2) is taken.
        #expect(utc(berlin.instant(localSeconds: local(2026, 10, 25, 2, 30))) == "2026-10-25T00:30:00Z")
    }

    @Test("America/New_York DST edges; Asia/Shanghai is UTC+8 all year")
    func newYorkAndShanghai() throws {
        let ny = try #require(ZoneConverter(identifier: "America/New_York"))
        #expect(utc(ny.instant(localSeconds: local(2026, 3, 8, 2, 30))) == "2026-03-08T07:30:00Z")
        #expect(utc(ny.instant(localSeconds: local(2026, 11, 1, 1, 30))) == "2026-11-01T05:30:00Z")
        let sh = try #require(ZoneConverter(identifier: "Asia/Shanghai"))
        #expect(utc(sh.instant(localSeconds: local(2026, 7, 1, 8, 0))) == "2026-07-01T00:00:00Z")
        #expect(utc(sh.instant(localSeconds: local(2026, 1, 1, 8, 0))) == "2026-01-01T00:00:00Z")
    }
}
