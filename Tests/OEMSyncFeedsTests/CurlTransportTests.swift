import Foundation
import OEMSimulator
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncTesting
import Testing

/// The libcurl transport against real servers on loopback: the OEM simulator (HTTP, with its
/// faults) and `openssl s_server` (TLS and mutual TLS).
@Suite("HTTP transport (libcurl)")
struct CurlTransportTests {
    static let basic = ("Authorization", "Basic " + Data("d001:pw-d001".utf8).base64EncodedString())

    func send(_ request: HTTPRequest, _ settings: TransportSettings = TransportSettings()) async throws -> Result<HTTPResponse, TransportError> {
        try await onThread {
            let transport = try CurlTransport(settings: settings)
            do throws(TransportError) { return .success(try transport.send(request)) } catch { return .failure(error) }
        }
    }

    @Test("a GET returns the status, the header fields (lowercased) and the whole body")
    func get() async throws {
        try await withSimulator { oem in
            let r = try await send(HTTPRequest(url: oem.baseURL + "/api/v3/orders?per_page=2", headers: [Self.basic])).get()
            #expect(r.status == 200)
            #expect(r.header("Content-Type") == "application/json;charset=UTF-8")
            #expect(r.header("link")?.contains("rel=\"next\"") == true)
            let text = String(decoding: r.body, as: UTF8.self)
            #expect(text.hasPrefix("{\"data\":[{\"orderNo\":\"SO-00001\""))
            #expect(text.hasSuffix("}}"))
        }
    }

    @Test("a form POST reaches the server with its body; error statuses are responses, not transport errors")
    func post() async throws {
        try await withSimulator { oem in
            let form = HTTPRequest(
                method: "POST", url: oem.baseURL + "/oauth/token",
                headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: Array("grant_type=client_credentials&client_id=dealer-d001&client_secret=s3cret-d001".utf8))
            let ok = try await send(form).get()
            #expect(ok.status == 200)
            #expect(String(decoding: ok.body, as: UTF8.self).contains("\"access_token\":\"sim-1-"))
            var wrong = form
            wrong.body = Array("grant_type=client_credentials&client_id=dealer-d001&client_secret=nope".utf8)
            #expect(try await send(wrong).get().status == 401)
            await oem.setFaults([Fault(.status(503, retryAfter: "7"))])
            let busy = try await send(HTTPRequest(url: oem.baseURL + "/api/v2/orders", headers: [Self.basic])).get()
            #expect(busy.status == 503)
            #expect(busy.header("retry-after") == "7")
        }
    }

    @Test("a connection closed without an answer, or in the middle of the body, is a retryable reset")
    func resets() async throws {
        try await withSimulator(config: { var c = SimulatorConfig(); c.faults = [Fault(.reset), Fault(.truncated, after: 1)]; return c }()) { oem in
            let request = HTTPRequest(url: oem.baseURL + "/api/v2/orders", headers: [Self.basic])
            for _ in 0..<2 {
                guard case .failure(let e) = try await send(request) else {
                    Issue.record("expected a transport error")
                    continue
                }
                #expect(e.kind == .reset, "\(e)")
                #expect(e.isRetryable)
            }
            #expect(try await send(request).get().status == 200)
        }
    }

    @Test("an answer slower than the timeout is a retryable timeout, after the timeout and not the answer")
    func timeout() async throws {
        try await withSimulator(config: { var c = SimulatorConfig(); c.faults = [Fault(.slow(seconds: 5))]; return c }()) { oem in
            let started = ContinuousClock.now
            let result = try await send(
                HTTPRequest(url: oem.baseURL + "/api/v2/orders", headers: [Self.basic]), TransportSettings(timeout: .milliseconds(300)))
            let elapsed = ContinuousClock.now - started
            guard case .failure(let e) = result else {
                Issue.record("expected a timeout")
                return
            }
            #expect(e.kind == .timeout)
            #expect(e.isRetryable)
            #expect(elapsed < .seconds(4))
        }
    }

    @Test("nothing listening is a retryable connection failure")
    func refused() async throws {
        let port = try TLSServer.freePort()
        guard case .failure(let e) = try await send(HTTPRequest(url: "http://127.0.0.1:\(port)/x")) else {
            Issue.record("expected a connection failure")
            return
        }
        #expect(e.kind == .connect)
        #expect(e.isRetryable)
    }

    @Test("a body over max_response_bytes stops the transfer with a permanent error")
    func tooLarge() async throws {
        try await withSimulator { oem in
            let result = try await send(
                HTTPRequest(url: oem.baseURL + "/api/v3/orders?per_page=30", headers: [Self.basic]), TransportSettings(maxResponseBytes: 2000))
            guard case .failure(let e) = result else {
                Issue.record("expected an error")
                return
            }
            #expect(e.kind == .tooLarge)
            #expect(!e.isRetryable)
            #expect(e.message.contains("2000 bytes"))
        }
    }

    @Test("redirects are not followed: a 3xx comes back as it is, and the other host sees nothing")
    func noRedirects() async throws {
        try await withSimulator { other in
            try await withSimulator { oem in
                await oem.setFaults([Fault(.redirect(to: other.baseURL + "/api/v2/orders"))])
                let r = try await send(HTTPRequest(url: oem.baseURL + "/api/v2/orders", headers: [Self.basic])).get()
                #expect(r.status == 302)
                #expect(r.header("location") == other.baseURL + "/api/v2/orders")
                #expect(await other.requests().isEmpty)
            }
        }
    }

    @Test("TLS is verified: an unknown CA fails permanently; the feed's CA bundle makes it pass")
    func privateCA() async throws {
        let server = try TLSServer(files: ["page.json": "{\"items\":[]}"])
        let request = HTTPRequest(url: server.url + "/page.json")
        guard case .failure(let e) = try await send(request) else {
            Issue.record("a self-signed CA was trusted by default")
            return
        }
        #expect(e.kind == .tls)
        #expect(!e.isRetryable)
        guard case .failure(let wrong) = try await send(request, TransportSettings(tls: TLSSettings(caFile: server.otherCAFile))) else {
            Issue.record("a CA that did not sign the server's certificate was accepted")
            return
        }
        #expect(wrong.kind == .tls)
        let ok = try await send(request, TransportSettings(tls: TLSSettings(caFile: server.caFile))).get()
        #expect(ok.status == 200)
        #expect(String(decoding: ok.body, as: UTF8.self).contains("{\"items\":[]}"))
    }

    @Test("mutual TLS: without a client certificate the server refuses; with the feed's certificate and key it answers")
    func mutualTLS() async throws {
        let server = try TLSServer(files: ["page.json": "{\"ok\":true}"], requireClientCertificate: true)
        let request = HTTPRequest(url: server.url + "/page.json")
        let ca = TLSSettings(caFile: server.caFile)
        guard case .failure = try await send(request, TransportSettings(tls: ca)) else {
            Issue.record("the server answered without a client certificate")
            return
        }
        var mtls = ca
        mtls.clientCertificate = server.clientCertificate
        mtls.clientKey = server.clientKey
        let ok = try await send(request, TransportSettings(tls: mtls)).get()
        #expect(ok.status == 200)
        #expect(String(decoding: ok.body, as: UTF8.self).contains("{\"ok\":true}"))
    }
}
