#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OEMSyncTesting
import Testing

/// The built `oemsync` binary, end to end: exit codes, stdout and stderr.
@Suite("oemsync command line")
struct CLITests {
    static let binary: String = {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for dir in [runner.deletingLastPathComponent(), runner.deletingLastPathComponent().deletingLastPathComponent()] {
            let candidate = dir.appendingPathComponent("oemsync").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return Fixture.root + "/.build/debug/oemsync"
    }()

    struct Run {
        var status: Int32
        var out: String
        var err: String
    }

    func run(
        _ arguments: [String], cwd: String = Fixture.root, environment: [String: String] = [:], executable: String = CLITests.binary,
        input: String? = nil
    ) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: cwd)
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "OEMSYNC_CONFIG")
        env.merge(environment) { _, new in new }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        if let input {
            let stdin = Pipe()
            process.standardInput = stdin
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    func expectGolden(_ text: String, _ golden: String) {
        switch GoldenFile.compare(text, with: golden) {
        case .matches: break
        case .recorded: Issue.record("recorded \(golden); run again without OEMSYNC_RECORD")
        case .differs(let expected, let actual): #expect(actual == expected)
        }
    }

    @Test("--help lists the commands and the exit codes")
    func help() throws {
        let r = try run(["--help"])
        #expect(r.status == 0)
        expectGolden(r.out, "cli/help.txt")
        let sync = try run(["sync", "--help"])
        expectGolden(sync.out, "cli/sync-help.txt")
    }

    @Test("check on a broken mapping prints file:line:col diagnostics and exits 78")
    func checkBroken() throws {
        let r = try run(["check", "--dictionary", "Mappings/dictionary", "fixtures/mappings/invalid/M302-unknown-column.yaml"])
        #expect(r.status == 78)
        expectGolden(r.err, "cli/check-M302.stderr.txt")
        #expect(r.out == "oemsync check: 1 mapping, dictionary 2025.12: 1 error\n")
    }

    @Test("check on the shipped mappings passes with exit 0")
    func checkShipped() throws {
        let shipped = try FileManager.default.contentsOfDirectory(atPath: Fixture.repository("Mappings/acme")).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(shipped.count == 7)
        let r = try run(["check"] + shipped.map { "Mappings/acme/" + $0 })
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.isEmpty)
        #expect(r.out == "oemsync check: 7 mappings, dictionary 2025.12: ok\n")
    }

    @Test("check finds the dictionary above a mapping given relative to the working directory")
    func dictionaryDiscovery() throws {
        let r = try run(["check", "stock.v1.yaml"], cwd: Fixture.root + "/Mappings/acme")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out == "oemsync check: 1 mapping, dictionary 2025.12: ok\n")
        let dir = try TemporaryDirectory("cli")
        try dir.write("m.yaml", "oemsync_mapping: 1\n")
        let alone = try run(["check", "m.yaml"], cwd: dir.path)
        #expect(alone.status == 78, "a mapping without a dictionary is still checked, never a crash")
        #expect(alone.err.contains("m.yaml:1:1: error[M102]: missing required key 'name' in a mapping file"))
    }

    @Test("a missing config file is a configuration error (78), with a hint")
    func missingConfig() throws {
        let r = try run(["check", "--config", "/nonexistent/oemsync.yaml"])
        #expect(r.status == 78)
        #expect(r.err.contains("error[C105]: file not found: '/nonexistent/oemsync.yaml'"))
        #expect(r.err.contains("help: pass --config FILE, or set OEMSYNC_CONFIG"))
    }

    @Test("usage errors exit 64")
    func usage() throws {
        let noOnce = try run(["sync", "--all"])
        #expect(noOnce.status == 64)
        #expect(noOnce.err.contains("add --once"))
        #expect(try run(["sync", "--once"]).status == 64)
        #expect(try run(["frobnicate"]).status == 64)
        let nothing = try run(["replay"])
        #expect(nothing.status == 64)
        #expect(nothing.err.contains("choose one: batch ids, --feed F --status S, or --rejects --reason CODE"))
        #expect(try run(["replay", "--feed", "x", "--status", "ok"]).status == 64)
        #expect(try run(["replay", "--rejects"]).status == 64)
        #expect(try run(["batches", "show", "not-a-number"]).status == 64)
        #expect(try run(["checkpoint", "set", "feed-only"]).status == 64)
    }

    @Test("validate vin and phone: arguments or standard input, a table or JSON, exit 0 only when all are valid")
    func validate() throws {
        let good = try run(["validate", "vin", "LSVAB2180E2100011", "wvwzzz3czee140287", "--mode", "auto"])
        #expect(good.status == 0, "a wrong check digit outside the strict markets is a warning: \(good.out)")
        #expect(good.out.contains("LSVAB2180E2100011  valid    LSVAB2180E2100011  China, Asia; model year 2014"), "\(good.out)")
        #expect(good.out.contains("warning  WVWZZZ3CZEE140287  vin.check_digit: expected 7, found Z"))
        let strict = try run(["validate", "vin", "--mode", "strict", "--json"], input: "WVWZZZ3CZEE140287\n\n1HGCM82633AO04352\n")
        #expect(strict.status == 1)
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(strict.out.utf8)) as? [[String: Any]])
        #expect(reports.map { $0["verdict"] as? String } == ["invalid", "invalid"], "blank lines are skipped")
        #expect((reports[1]["message"] as? String)?.hasSuffix("did you mean 1HGCM82633A004352?") == true)
        #expect(try run(["validate", "vin", "--mode", "lenient", "X"]).status == 64)

        let phones = try run(["validate", "phone", "--region", "CN"], input: "+86 138-0013-8000\n021-6555 1234 转 808\n")
        #expect(phones.status == 0, "\(phones.out)")
        #expect(phones.out.contains("+8613800138000") && phones.out.contains("+862165551234;ext=808"))
        let masked = try run(["validate", "phone", "138****8000", "--json"])
        #expect(masked.status == 1)
        #expect(masked.out.contains("\"code\" : \"phone.masked\""), "\(masked.out)")
        #expect(try run(["validate", "phone", "--region", "XX", "1"]).status == 64)
        let uk = try run(["validate", "phone", "--region", "UK", "1"])
        #expect(uk.status == 64 && uk.err.contains("did you mean GB?"), "\(uk.err)")
        // Any region; the JSON names the number's region and type.
        let world = try run(["validate", "phone", "--region", "DE", "--json", "030 1234567", "+44 20 7946 0018"])
        #expect(world.status == 0, "\(world.out)")
        #expect(world.out.contains("\"e164\" : \"+49301234567\"") && world.out.contains("\"region\" : \"GB\""), "\(world.out)")
        #expect(world.out.contains("\"type\" : \"fixed_line\""), "\(world.out)")
        // --types: a 400 number is valid, but not a mobile.
        #expect(try run(["validate", "phone", "400-820-8820"]).status == 0)
        let typed = try run(["validate", "phone", "--types", "mobile", "400-820-8820"])
        #expect(typed.status == 1 && typed.out.contains("phone.type"), "\(typed.out)")
        #expect(try run(["validate", "phone", "--types", "mobil", "1"]).status == 64)
    }

    @Test("the ledger commands on a missing config exit 78, on a database without oemsync's tables 1")
    func ledgerCommandsExit() throws {
        for command in [["status"], ["batches", "list"], ["replay", "1"], ["checkpoint", "show", "f"]] {
            #expect(try run(command + ["--config", "/nonexistent/oemsync.yaml"]).status == 78, "\(command)")
        }
        let dir = try TemporaryDirectory("cli-ledger")
        let config = try dir.write(
            "oemsync.yaml",
            "oemsync: 1\ndatabase: {url: \"sqlite:\(dir.file("empty.db"))\"}\nfeeds:\n  f:\n    mapping: \(Fixture.repository("Mappings/acme/stock.v1.yaml"))\n    source: {kind: csv-drop, directory: drops}\n")
        let status = try run(["status", "--config", config])
        #expect(status.status == 1)
        #expect(status.err.contains("run `oemsync db migrate`"), "\(status.err)")
    }

    @Test("map is a dry run: rows and rejects printed, personal data masked, nothing written")
    func mapDryRun() throws {
        let r = try run(["map", "Mappings/acme/orders.v1.yaml", "--input", "fixtures/feeds/csv/acme/orders-20251203.csv"])
        #expect(r.status == 0, "\(r.err)")
        expectGolden(r.out, "cli/map-orders.txt")
        #expect(!r.out.contains("13800138000"))
        #expect(r.out.contains("+86138****8000"))
        let json = try run(["map", "Mappings/acme/orders.v1.yaml", "--input", "fixtures/feeds/csv/acme/orders-20251203.csv", "--json", "--unmask"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let counts = try #require(object["counts"] as? [String: Int])
        #expect(counts["records_in"] == 7)
        #expect(counts["written"] == 4)
        #expect(counts["rejected"] == 3)
        let rows = try #require(object["rows"] as? [[String: Any]])
        #expect((rows.first?["values"] as? [String: Any])?["customer_phone"] as? String == "+8613800138000")
    }

    @Test("map on a JSON page: records by their place in the payload, rejects with the record's number")
    func mapJSON() throws {
        let r = try run(["map", "Mappings/acme/orders-api.v1.yaml", "--input", "fixtures/feeds/json/acme/orders-page.json"])
        #expect(r.status == 0, "\(r.err)")
        expectGolden(r.out, "cli/map-orders-api.txt")
        #expect(!r.out.contains("13800138016"))
        let broken = try TemporaryDirectory("cli")
        let truncated = try broken.write("page.json", String(try String(contentsOfFile: Fixture.path("feeds/json/acme/orders-page.json"), encoding: .utf8).prefix(900)))
        let bad = try run(["map", "Mappings/acme/orders-api.v1.yaml", "--input", truncated])
        #expect(bad.status == 1)
        #expect(bad.err.contains("invalid JSON at line 4, column 138 (byte 905): unterminated string (truncated?)"))
    }

    @Test("check on a config whose REST feed reads a CSV mapping: 78, at the feed's mapping")
    func checkMappingKind() throws {
        let dir = try TemporaryDirectory("cli")
        try dir.write("secret", "x")
        let config = try dir.write(
            "oemsync.yaml",
            """
            oemsync: 1
            database: {url: "sqlite:dealer.db"}
            dictionary: \(Fixture.repository("Mappings/dictionary"))
            credentials:
              acme: {auth: {kind: basic, user: d001, password_file: secret}}
            feeds:
              orders:
                mapping: \(Fixture.repository("Mappings/acme/orders.v1.yaml"))
                source: {kind: rest, url: "https://oem.example/api/orders", credentials: acme}
            """)
        let r = try run(["check", "--config", config])
        #expect(r.status == 78)
        #expect(r.err.contains("oemsync.yaml:8:14: error[C112]: feed 'orders' is a rest source, but mapping"))
        #expect(r.err.contains("help: a rest feed needs a mapping with source: {format: json}"))
    }

    @Test("--log-format json: every line on stderr is one JSON object, the config's diagnostics with their place")
    func jsonStderr() throws {
        let dir = try TemporaryDirectory("cli")
        let config = try dir.write(
            "oemsync.yaml",
            """
            oemsync: 1
            database: {url: "sqlite:dealer.db", statement_timout: 5s}
            feeds:
              stock:
                mapping: \(Fixture.repository("Mappings/acme/stock.v1.yaml"))
                source: {kind: csv-drop, directory: drops}
            """)
        for command in [["sync", "--all", "--once"], ["run"]] {
            let r = try run(command + ["--config", config, "--log-format", "json"])
            #expect(r.status == 78)
            let lines = r.err.split(separator: "\n")
            #expect(!lines.isEmpty)
            let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(objects.count == lines.count, "every line is JSON: \(r.err)")
            let diagnostic = try #require(objects.first { $0["msg"] as? String == "diagnostic" })
            #expect(diagnostic["code"] as? String == "C101")
            #expect(diagnostic["line"] as? Int == 2)
            #expect((diagnostic["message"] as? String)?.contains("statement_timout") == true)
        }
    }

    @Test("run refuses to start, exit 78, when its metrics address is taken or the database's schema is newer than it knows")
    func runRefuses() throws {
        let dir = try TemporaryDirectory("cli")
        // Something listens on the port already: another daemon, another program.
        let listener = try ListeningSocket()
        let port = listener.port
        func config(metrics: UInt16?) throws -> String {
            try dir.write(
                "oemsync.yaml",
                """
                oemsync: 1
                database: {url: "sqlite:dealer.db"}
                dictionary: \(Fixture.repository("Mappings/dictionary"))
                \(metrics.map { "daemon: {metrics: \"127.0.0.1:\($0)\"}" } ?? "")
                feeds:
                  stock:
                    mapping: \(Fixture.repository("Mappings/acme/stock.v1.yaml"))
                    source: {kind: csv-drop, directory: drops}
                """)
        }
        let taken = try run(["run", "--config", try config(metrics: port)])
        #expect(taken.status == 78)
        #expect(taken.err.contains("daemon.metrics: 127.0.0.1:\(port) is in use"), "\(taken.err)")

        let path = try config(metrics: nil)
        #expect(try run(["db", "migrate", "--config", path]).status == 0)
        let insert = Process()
        insert.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        insert.arguments = [dir.file("dealer.db"), "INSERT INTO oemsync_migrations VALUES ('0099-from-the-future', '2027-01-01T00:00:00Z')"]
        try insert.run()
        insert.waitUntilExit()
        #expect(insert.terminationStatus == 0)
        withExtendedLifetime(listener) {}
        let newer = try run(["run", "--config", path])
        #expect(newer.status == 78)
        #expect(newer.err.contains("0099-from-the-future"), "\(newer.err)")
        let db = try run(["db", "status", "--config", path])
        #expect(db.status == 78 && db.out.contains("0099-from-the-future"))
    }

    @Test("the simulator executable and oemsync sync: a REST feed end to end, as the demo runs it")
    func syncAgainstSimulator() throws {
        let simulator = Process()
        simulator.executableURL = URL(fileURLWithPath: (Self.binary as NSString).deletingLastPathComponent + "/oemsync-simulator")
        simulator.arguments = ["--data", Fixture.path("simulator/acme"), "--fault", "503x2+1"]
        let out = Pipe()
        simulator.standardOutput = out
        try simulator.run()
        defer {
            kill(simulator.processIdentifier, SIGKILL)
            while simulator.isRunning { usleep(5_000) }
        }
        let first = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        let base = try #require(first.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        #expect(first.hasPrefix("listening on http://127.0.0.1:"))
        let dir = try TemporaryDirectory("cli")
        try dir.write("secret", "s3cret-d001\n")
        let config = try dir.write(
            "oemsync.yaml",
            """
            oemsync: 1
            database: {url: "sqlite:dealer.db"}
            dictionary: \(Fixture.repository("Mappings/dictionary"))
            credentials:
              acme-api:
                auth: {kind: oauth2, token_url: "\(base)/oauth/token", client_id: dealer-d001, client_secret_file: secret}
            feeds:
              acme-orders-api:
                mapping: \(Fixture.repository("Mappings/acme/orders-api.v2.yaml"))
                source:
                  kind: rest
                  url: \(base)/api/v2/orders
                  credentials: acme-api
                  record_id: orderNo
                  pagination: {style: cursor, path: $.next_cursor, size_param: limit, size: 10}
                  incremental: {param: updated_after, field: updatedAt, format: iso8601}
                  retry: {base: 10ms, cap: 50ms}
            """)
        #expect(try run(["db", "migrate", "--config", config]).status == 0)
        let sync = try run(["sync", "--all", "--once", "--config", config, "--json"])
        #expect(sync.status == 0, "\(sync.err)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(sync.out.utf8)) as? [String: Any])
        let feed = try #require((report["feeds"] as? [[String: Any]])?.first)
        #expect(feed["records_in"] as? Int == 30)
        #expect(feed["rejected"] as? Int == 5)
        let pull = try #require((feed["files"] as? [[String: Any]])?.first)
        #expect(pull["requests"] as? Int == 5)  // 3 pages; the second one answered 503 twice first
        #expect(pull["retries"] as? Int == 2)
        #expect(sync.err.contains("msg=\"request retried\""))
    }

    @Test("the simulator refuses a fault it does not know, with the forms it takes")
    func simulatorUsage() throws {
        let simulator = (Self.binary as NSString).deletingLastPathComponent + "/oemsync-simulator"
        let r = try run(["--fault", "504x2@/api", "--fault", "explode"], executable: simulator)
        #expect(r.status == 64)
        #expect(r.err.contains("invalid fault 'explode': expected an HTTP status (500, 503, 429...), slow, reset, truncated"))
        let pair = try run(["--update-after", "3"], executable: simulator)
        #expect(pair.status == 64)
        #expect(pair.err.contains("--update-after and --update go together"))
    }

    @Test("sync --all --once loads the drops, prints the figures, and finds nothing new the second time")
    func syncEndToEnd() throws {
        let dir = try TemporaryDirectory("cli")
        try dir.write("drops/acme-stock/stock-20251202.csv", try Fixture.data("feeds/csv/acme/stock-20251202.csv"))
        let config = try dir.write(
            "oemsync.yaml",
            """
            oemsync: 1
            database:
              url: sqlite:dealer.db
            dictionary: \(Fixture.repository("Mappings/dictionary"))
            feeds:
              acme-stock:
                mapping: \(Fixture.repository("Mappings/acme/stock.v1.yaml"))
                source: {kind: csv-drop, directory: drops/acme-stock}
            """)
        let before = try run(["sync", "--all", "--once", "--config", config])
        #expect(before.status == 1)
        #expect(before.err.contains("run `oemsync db migrate`"))
        let migrate = try run(["db", "migrate", "--config", config])
        #expect(migrate.status == 0)
        #expect(migrate.out.contains("applied 0001-oemsync-ledger, 0002-reference-dealer-schema, 0003-http-sources"))
        let first = try run(["sync", "--all", "--once", "--config", config])
        #expect(first.status == 0, "\(first.err)")
        let line = try #require(first.out.split(separator: "\n").first { $0.hasPrefix("acme-stock") })
        #expect(line.split(separator: " ", omittingEmptySubsequences: true).prefix(6) == ["acme-stock", "stock-20251202.csv", "12", "7", "5", "partial"])
        #expect(first.out.hasPrefix("feed        source              records"))
        #expect(first.err.contains("msg=\"file loaded\""))
        let second = try run(["sync", "acme-stock", "--once", "--config", config])
        #expect(second.status == 0)
        #expect(second.out.contains("(no new files)"))
    }
}
