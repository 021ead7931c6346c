import Foundation
import OEMSimulator
import OEMSyncCore
@testable import OEMSyncFeeds
import OEMSyncTesting
import Testing

/// The decisions of the REST source, as pure values: backoff, Retry-After, token bucket, quota
/// days, circuit breaker, checkpoints, links and redaction.
@Suite("REST policies")
struct RESTPolicyTests {
    @Test("backoff ceilings double from base up to cap", arguments: [(1, 500), (2, 1000), (3, 2000), (4, 4000), (7, 30_000), (40, 30_000)])
    func ceilings(failures: Int, milliseconds: Int64) {
        #expect(RetryPolicy().ceiling(afterFailures: failures) == .milliseconds(milliseconds))
    }

    @Test("full jitter scales the ceiling by the random draw; Retry-After replaces it; attempts run out")
    func decisions() {
        let p = RetryPolicy(maxAttempts: 3, base: .milliseconds(200), cap: .seconds(1), maxRetryAfter: .seconds(60))
        #expect(p.decide(afterFailures: 1, retryAfter: nil, random: 0.5) == .retry(after: .milliseconds(100)))
        #expect(p.decide(afterFailures: 2, retryAfter: nil, random: 0.25) == .retry(after: .milliseconds(100)))
        #expect(p.decide(afterFailures: 2, retryAfter: nil, random: 0) == .retry(after: .zero))
        #expect(p.decide(afterFailures: 1, retryAfter: .seconds(7), random: 0.9) == .retry(after: .seconds(7)))
        #expect(p.decide(afterFailures: 3, retryAfter: nil, random: 0.5) == .giveUp)
        #expect(p.decide(afterFailures: 1, retryAfter: .seconds(3600), random: 0.5) == .comeBackLater(.seconds(3600)))
    }

    @Test("Retry-After: seconds, an HTTP date (from now), a past date is now, garbage is ignored")
    func retryAfter() throws {
        let now = Timestamp(seconds: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(RetryAfter.parse("120", now: now) == .seconds(120))
        #expect(RetryAfter.parse(" 0 ", now: now) == .zero)
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:51:37 GMT", now: now) == .seconds(120))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:00:00 GMT", now: now) == .zero)
        #expect(RetryAfter.parse("soon", now: now) == nil)
        #expect(RetryAfter.parse("-5", now: now) == nil)
    }

    @Test("a token bucket lets a burst through, then spaces requests at its rate")
    func bucket() {
        var b = TokenBucket(rate: 4, burst: 2)
        let t0 = Duration.seconds(100)
        #expect(b.reserve(at: t0) == .zero)
        #expect(b.reserve(at: t0) == .zero)
        #expect(b.reserve(at: t0) == .milliseconds(250))
        #expect(b.reserve(at: t0) == .milliseconds(500))  // queued behind the previous one
        // A second later the debt is paid and two more tokens have come in: burst capped at 2.
        #expect(b.reserve(at: t0 + .seconds(1)) == .zero)
    }

    @Test("the daily quota is counted per day in its zone and renews at local midnight")
    func quotaDays() throws {
        let clock = TestClock(now: try #require(Timestamp.iso("2025-12-01T15:59:00Z")))  // 23:59 in Shanghai
        let limiter = RequestLimiter(name: "acme", rate: nil, quota: .init(perDay: 2, zone: TimeZone(identifier: "Asia/Shanghai")!))
        let day = limiter.quota!.dayStart(of: clock.now())
        #expect(day == Timestamp.iso("2025-11-30T16:00:00Z"))
        limiter.load(usedToday: 1, dayStart: day)
        #expect(limiter.acquire(clock: clock) == .wait(.zero))
        #expect(limiter.acquire(clock: clock) == .quotaSpent(renews: Timestamp.iso("2025-12-01T16:00:00Z")!))
        clock.advance(.seconds(60))  // 00:00 in Shanghai: a new quota day
        #expect(limiter.acquire(clock: clock) == .wait(.zero))
        #expect(limiter.remainingToday == 1)
    }

    @Test("a circuit breaker opens after consecutive failures, lets one probe through after the cool-down, closes on its success")
    func breaker() {
        var b = CircuitBreaker(threshold: 3, cooldown: .seconds(30))
        let t = Duration.seconds(10)
        b.failure(at: t)
        b.failure(at: t)
        #expect(b.permit(at: t) == .allowed)
        b.success()
        b.failure(at: t)
        b.failure(at: t)
        b.failure(at: t)
        #expect(b.isOpen)
        #expect(b.permit(at: t + .seconds(29)) == .rejected(retryAt: t + .seconds(30)))
        #expect(b.permit(at: t + .seconds(30)) == .allowed)  // the probe
        #expect(b.permit(at: t + .seconds(30)) != .allowed)  // only one
        b.failure(at: t + .seconds(31))
        #expect(b.permit(at: t + .seconds(60)) == .rejected(retryAt: t + .seconds(61)))
        #expect(b.permit(at: t + .seconds(61)) == .allowed)
        b.success()
        #expect(b.state == .closed(failures: 0))
    }

    @Test("checkpoints round-trip as stable JSON; a foreign checkpoint is an error, never a reset")
    func checkpoints() throws {
        let c = RESTCheckpoint(
            hwm: .init(t: 1_764_555_300_000_000, id: "SO-42"), pull: .init(since: 1_764_555_000_000_000, next: .cursor("abc|1"), pages: 3),
            seen: ["SO-41": 1_764_555_200_000_000])
        #expect(c.json == #"{"hwm":{"id":"SO-42","t":1764555300000000},"kind":"rest","pull":{"next":"cursor:abc|1","pages":3,"repairs":0,"since":1764555000000000},"seen":{"SO-41":1764555200000000}}"#)
        #expect(try RESTCheckpoint.parse(c.json) == c)
        for next in [RESTCheckpoint.Next.first, .page(4), .offset(200), .url("https://oem/api?page=2")] {
            var p = c
            p.pull?.next = next
            #expect(try RESTCheckpoint.parse(p.json) == p)
        }
        #expect(throws: RESTCheckpoint.Unreadable.self) { try RESTCheckpoint.parse(#"{"file":"stock.csv","size":10,"offset":5,"line":2}"#) }
        #expect(throws: RESTCheckpoint.Unreadable.self) { try RESTCheckpoint.parse(#"{"pull":{"next":"page:x","pages":1,"repairs":0}}"#) }
    }

    @Test("Link headers: rel=next among others, quoted or not, several values")
    func links() {
        #expect(RESTSource.linkNext([#"<https://oem/a?page=2>; rel="next", <https://oem/a?page=9>; rel="last""#]) == "https://oem/a?page=2")
        #expect(RESTSource.linkNext(["<https://oem/a?page=1>; rel=prev", "<https://oem/b>; rel=next"]) == "https://oem/b")
        #expect(RESTSource.linkNext([#"<https://oem/a>; rel="prev""#]) == nil)
    }

    @Test("next links resolve against the endpoint: absolute, from the root, relative")
    func resolve() {
        let base = "https://api.oem.example/api/v3/orders?page=1"
        #expect(RESTSource.resolve("/api/v3/orders?page=2", against: base) == "https://api.oem.example/api/v3/orders?page=2")
        #expect(RESTSource.resolve("orders?page=2", against: base) == "https://api.oem.example/api/v3/orders?page=2")
        #expect(RESTSource.resolve("https://cdn.example/x", against: base) == "https://cdn.example/x")
        #expect(RESTSource.resolve("?page=2", against: base) == "https://api.oem.example/api/v3/orders?page=2")
        #expect(RequestRunner.host(of: "https://user:pw@api.oem.example:8443/x?y") == "api.oem.example:8443")
    }

    @Test("URLs shown in the ledger and logs mask credential-like parameters")
    func redaction() {
        #expect(
            RESTSource.redacted("https://oem/api?page=2&api_key=s3cr3t&appKey=k&sign=abc&updatedSince=2025-12-01")
                == "https://oem/api?page=2&api_key=***&appKey=***&sign=***&updatedSince=2025-12-01")
        #expect(RESTSource.redacted("https://oem/api") == "https://oem/api")
        #expect(RESTSource.redacted("https://oem/api?ak=1&page=2", also: ["ak"]) == "https://oem/api?ak=***&page=2")
        // An API key the OEM echoes in its next links is taken out before the link is stored.
        #expect(RESTSource.removing(["ak"], from: "https://oem/api?page=2&ak=s3cr3t&size=5") == "https://oem/api?page=2&size=5")
        #expect(RESTSource.removing(["ak"], from: "https://oem/api?ak=s3cr3t") == "https://oem/api")
    }

    @Test("a half-open breaker's probe that the host answers in any way closes it: a 429 does not leave it stuck")
    func breakerProbeAnswered() async throws {
        var config = SimulatorConfig()
        config.faults = [Fault(.status(503), count: 2), Fault(.status(429), after: 2)]
        try await withSimulator(config: config) { oem in
            let clock = TestClock()
            let breakers = CircuitBreakers(threshold: 2, cooldown: .seconds(30))
            let url = oem.baseURL + "/api/v2/orders?limit=1"
            let fetch: @Sendable () throws -> FetchOutcome<Int> = {
                let runner = RequestRunner(
                    transport: try CurlTransport(), authenticator: Authenticator(method: .basic(user: "d001", password: Secret("pw-d001"))),
                    limiter: nil, breakers: breakers, policy: RetryPolicy(maxAttempts: 1), clock: clock)
                return runner.fetch(HTTPRequest(url: url)) { _ in .accept(1) }.outcome
            }
            for _ in 0..<2 { _ = try await onThread(fetch) }
            #expect(breakers.state(host: RequestRunner.host(of: url)) != .closed(failures: 0))
            guard case .circuitOpen = try await onThread(fetch) else {
                Issue.record("the open breaker let a request through")
                return
            }
            clock.advance(.seconds(30))
            guard case .failure(let message, _) = try await onThread(fetch) else {  // the probe: 429
                Issue.record("expected the probe's 429")
                return
            }
            #expect(message.hasPrefix("HTTP 429"))
            #expect(breakers.state(host: RequestRunner.host(of: url)) == .closed(failures: 0))
            guard case .success(1, _) = try await onThread(fetch) else {
                Issue.record("the breaker stayed shut after its probe was answered")
                return
            }
            #expect(await oem.dataRequests().count == 4)
        }
    }
}

extension Timestamp {
    static func iso(_ text: String) -> Timestamp? {
        let f = ISO8601DateFormatter()
        return f.date(from: text).map { Timestamp(seconds: Int64($0.timeIntervalSince1970)) }
    }
}
