import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncRuntime
import OEMSyncTesting
import Testing

@Suite("Configuration of REST feeds and credentials")
struct RESTConfigurationTests {
    func load(_ yaml: String) throws -> (ConfigurationLoader.Result, String, TemporaryDirectory) {
        let dir = try TemporaryDirectory("config")
        let path = try dir.write("oemsync.yaml", yaml)
        return (ConfigurationLoader().load(path: path), path, dir)
    }

    @Test("a complete REST feed: credentials shared by name, every setting read, secrets left in their files")
    func complete() throws {
        let (result, _, dir) = try load(
            """
            oemsync: 1
            database: {url: "sqlite:dealer.db"}
            credentials:
              acme-api:
                auth:
                  kind: oauth2
                  token_url: https://api.acme.example/oauth/token
                  client_id: dealer-d001
                  client_secret_file: secrets/acme
                  scope: orders.read
                  client_auth: form
                rate_limit: {per_second: 2, burst: 5}
                daily_quota: 5000
                quota_timezone: Asia/Shanghai
            feeds:
              orders:
                mapping: m.yaml
                source:
                  kind: rest
                  url: https://api.acme.example/api/v1/dealers/D001/orders
                  credentials: acme-api
                  query: {status: all}
                  headers: {Accept-Language: zh-CN}
                  record_id: orderNo
                  pagination: {style: page, param: pageNo, first: 1, size_param: pageSize, size: 100}
                  incremental: {param: updatedSince, field: updateTime, format: "yyyy-MM-dd HH:mm:ss", timezone: Asia/Shanghai, overlap: 10m, start: "2025-01-01 00:00:00"}
                  errors: {code: $.code, success: [0, "0"], message: $.msg, retryable: [50001, BUSY]}
                  retry: {max_attempts: 7, base: 250ms, cap: 1m, max_retry_after: 15m}
                  timeout: 45s
                  connect_timeout: 5s
                  max_response_bytes: 1048576
                  tls: {ca_file: certs/acme-ca.pem, client_certificate: certs/d001.pem, client_key: certs/d001.key, client_key_password_env: KEYPW}
                  on_failure: continue
                  max_pages: 500
            """)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let config = try #require(result.configuration)
        let root = (dir.path as NSString).standardizingPath
        let credentials = try #require(config.credentials["acme-api"])
        #expect(credentials.auth == .oauth2(
            tokenURL: "https://api.acme.example/oauth/token", clientID: "dealer-d001", secret: .file(root + "/secrets/acme"), scope: "orders.read",
            secretInForm: true))
        #expect(credentials.rate?.perSecond == 2)
        #expect(credentials.rate?.burst == 5)
        #expect(credentials.dailyQuota == 5000)
        #expect(credentials.quotaZone.identifier == "Asia/Shanghai")
        let rest = try #require(config.feed(named: "orders")?.source as? RESTFeedSettings)
        #expect(rest.credentials == "acme-api")
        #expect(rest.source.query.map(\.name) == ["status"])
        #expect(rest.source.headers.map(\.value) == ["zh-CN"])
        #expect(rest.source.recordID == (try JSONPath(parsing: "orderNo")))
        #expect(rest.source.pagination == .page(param: "pageNo", first: 1, sizeParam: "pageSize", size: 100))
        let inc = try #require(rest.source.incremental)
        #expect(inc.param == "updatedSince")
        #expect(inc.overlap == .seconds(600))
        #expect(inc.start == Timestamp(seconds: 1_735_660_800))  // 2025-01-01 00:00 in Shanghai
        #expect(inc.codec.format(Timestamp(seconds: 1_764_555_300)) == "2025-12-01 10:15:00")
        #expect(rest.source.bodyErrors?.success == ["0"])
        #expect(rest.source.bodyErrors?.retryable == ["50001", "BUSY"])
        #expect(rest.retry == RetryPolicy(maxAttempts: 7, base: .milliseconds(250), cap: .seconds(60), maxRetryAfter: .seconds(900)))
        #expect(rest.transport.timeout == .seconds(45))
        #expect(rest.transport.connectTimeout == .seconds(5))
        #expect(rest.transport.maxResponseBytes == 1_048_576)
        #expect(rest.transport.tls.caFile == root + "/certs/acme-ca.pem")
        #expect(rest.clientKeyPassword == .environment("KEYPW"))
        #expect(rest.onFailure == .continue)
        #expect(rest.source.maxPages == 500)
    }

    @Test("mistakes in REST feeds are reported where they are, with what to do instead")
    func diagnostics() throws {
        let (result, path, _) = try load(
            """
            oemsync: 1
            database: {url: "sqlite:dealer.db"}
            credentials:
              acme-api:
                auth: {kind: oauth2, token_url: "https://oem.example/token", client_id: d001, client_secret: hunter2}
            feeds:
              a:
                mapping: m.yaml
                source:
                  kind: rest
                  url: http://api.acme.example/orders
                  credentials: acme-apj
                  headers: {Authorization: Bearer x}
                  pagination: {style: cursor, path: $.next, size: 10}
                  incremental: {param: since, field: updatedAt, format: "yyyy-DD", overlap: 0s}
                  on_failure: continue
                  retry: {base: 10s, cap: 1s}
              b:
                mapping: m.yaml
                source: {kind: sopa, url: x}
            """)
        #expect(result.configuration == nil)
        let found = result.diagnostics.map { "\($0.location.map { "\($0.line):\($0.column)" } ?? "-") \($0.code) \($0.message)" }
        let expected = [
            "5:83 C113 'client_secret' would put a secret in the config file",
            "5:11 C102 missing the client secret: client_secret_file (a systemd credential) or client_secret_env",
            "11:12 C111 url uses plain http to api.acme.example: credentials and dealer data would cross the network unencrypted",
            "13:16 C113 a 'Authorization' header in the config puts a secret in the file",
            "14:19 C104 give size_param and size together (the page size asked for, and its parameter)",
            "15:61 C104 invalid time format 'yyyy-DD': unknown pattern letter 'D'; did you mean 'd'?",
            "15:81 C104 overlap must be at least 1s: records that share the last change time are fetched again and told apart by their id",
            "15:7 C102 incremental needs record_id: the record's id, which tells apart records with the same change time",
            "16:19 C104 on_failure: continue needs page or offset pagination: with a cursor or a next link, the next page is in the page that failed",
            "17:14 C104 retry cap (1s) is below base (10s)",
            "20:20 C104 invalid source kind 'sopa'",
            "7:3 C110 feed 'a' names credentials 'acme-apj', which the config does not define",
        ]
        #expect(found == expected)
        #expect(result.diagnostics.first { $0.code == "C110" }?.help == "did you mean 'acme-api'?")
        #expect(result.diagnostics.first { $0.message.contains("sopa") }?.help == "did you mean 'soap'?")
        // The secret itself is not echoed by the diagnostic's rendering either.
        let rendered = DiagnosticRenderer(sources: [path: result.redactedText ?? ""]).render(result.diagnostics)
        #expect(rendered.contains("error[C113]"))
        #expect(rendered.contains("client_secret: ***}"), "\(rendered)")
        #expect(rendered.contains("headers: {Authorization: ***}"), "\(rendered)")
        #expect(!rendered.contains("hunter2"))
        #expect(!rendered.contains("Bearer x"))
    }

    @Test("the lower bound is written with the pattern's own fraction digits")
    func fractionDigits() throws {
        let (result, _, _) = try load(
            """
            oemsync: 1
            database: {url: "sqlite:dealer.db"}
            credentials:
              a: {auth: {kind: none}}
            feeds:
              f:
                mapping: m.yaml
                source:
                  kind: rest
                  url: https://oem.example/x
                  credentials: a
                  record_id: id
                  incremental: {param: since, field: t, format: "yyyy-MM-dd HH:mm:ss.SSS", timezone: Asia/Shanghai}
            """)
        let codec = try #require((result.configuration?.feed(named: "f")?.source as? RESTFeedSettings)?.source.incremental?.codec)
        let t = Timestamp(seconds: 1_764_555_300, microseconds: 123_456)
        #expect(codec.format(t) == "2025-12-01 10:15:00.123")
        #expect(codec.parse("2025-12-01 10:15:00.123") == Timestamp(seconds: 1_764_555_300, microseconds: 123_000))
    }

    @Test("plain http is allowed to loopback, IPv6 included, and with allow_http (for the token endpoint too)")
    func plainHTTP() throws {
        for (url, allowed) in [("http://127.0.0.1:8080/x", true), ("http://[::1]:8080/x", true), ("http://localhost/x", true), ("http://10.0.0.5/x", false)] {
            let (result, _, _) = try load(
                """
                oemsync: 1
                database: {url: "sqlite:dealer.db"}
                credentials:
                  a: {auth: {kind: oauth2, token_url: "http://oem.lan/token", allow_http: true, client_id: x, client_secret_env: S}}
                feeds:
                  f: {mapping: m.yaml, source: {kind: rest, url: "\(url)", credentials: a}}
                """)
            #expect(result.diagnostics.contains { $0.code == "C111" } == !allowed, "\(url): \(result.diagnostics)")
        }
    }

    @Test("a secret is read from its file or variable when a sync starts; a missing one names where it was looked for")
    func secrets() throws {
        let dir = try TemporaryDirectory("secret")
        let file = try dir.write("acme", "s3cret\n")
        #expect(try SecretSource.file(file).read("client secret").value == "s3cret")
        #expect(try SecretSource.environment("ACME_SECRET").read("client secret", ["ACME_SECRET": "e"]).value == "e")
        #expect(String(describing: try SecretSource.file(file).read("client secret")) == "***")
        do {
            _ = try SecretSource.file(dir.file("nope")).read("client secret")
            Issue.record("a missing secret file was read")
        } catch {
            #expect(error.description == "cannot read the client secret file '\(dir.file("nope"))'")
        }
        #expect(throws: ConfigurationError.self) { try SecretSource.environment("UNSET_SECRET_X").read("API key", [:]) }
        let empty = try dir.write("empty", "\n")
        #expect(throws: ConfigurationError.self) { try SecretSource.file(empty).read("password") }
    }
}
