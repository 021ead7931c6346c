import Foundation
import OEMSyncCore
import OEMSyncTesting
import Testing

/// The built binary SIGKILLed at seeded random moments while it loads 200,000 rows, restarted
/// each time: the final database must equal an uninterrupted run's exactly, and no checkpoint or
/// ledger position may ever have gone backwards.
@Suite("Crash and resume: SIGKILL at random moments (SQLite and PostgreSQL)")
struct CrashTests {
    static let files = 4
    static let rowsPerFile = 50_000
    static let kills = 20
    /// The drop files, generated once for every site.
    static let input = (0..<files).map { StockFeed.dirty(first: $0 * rowsPerFile, count: rowsPerFile) }

    /// A drop folder and a config for one database.
    struct Site {
        let dir: TemporaryDirectory
        let db: TestDatabase
        let config: String
        var drop: String { dir.file("drops/stock") }

        init(_ backend: TestDatabase.Backend) throws {
            dir = try TemporaryDirectory("crash")
            db = try TestDatabase(backend)
            let yaml = db.configPrologue + """
                feeds:
                  stock:
                    mapping: \(Fixture.repository("Mappings/acme/stock.v1.yaml"))
                    source: {kind: csv-drop, directory: drops/stock, batch_rows: 5000}

                """
            config = try dir.write("oemsync.yaml", yaml)
            for (f, text) in CrashTests.input.enumerated() { _ = try dir.write("drops/stock/stock-\(f).csv", text) }
        }

        func start() throws -> ChildProcess {
            var env = ProcessInfo.processInfo.environment
            env["OEMSYNC_LOG_LEVEL"] = "warning"
            env.removeValue(forKey: "OEMSYNC_CONFIG")
            return try ChildProcess(CLITests.binary, ["sync", "--all", "--once", "--config", config], environment: env, log: dir.file("runs.log"))
        }

        /// What must be identical: every stock row (provenance aside) and every reject.
        func content() throws -> (rows: [[String]], rejects: [[String]]) {
            let columns: [(String, ColumnType)] = [
                ("dealer_code", .string), ("vin", .string), ("stock_no", .string), ("status", .string), ("model_code", .string),
                ("ext_color_code", .string), ("stock_in_date", .date), ("list_price", .decimal), ("location", .string),
                ("contact_phone", .string),
            ]
            let rows = try db.dump("stock", columns, orderBy: "dealer_code, vin")
            let rejects = try db.query("SELECT source, line, reason, coalesce(field, '') FROM oemsync_rejects ORDER BY source, line, reason")
                .map { $0.map { $0 ?? "∅" } }
            return (rows, rejects)
        }

        /// The checkpoint as an ordered position: (claimed file, byte offset). Claimed names sort by claim time.
        func checkpoint() throws -> (String, Int)? {
            guard let json = try db.query("SELECT position FROM oemsync_checkpoints WHERE feed = 'stock'").first?[0] ?? nil,
                let doc = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
                let file = doc["file"] as? String, let offset = doc["offset"] as? Int
            else { return nil }
            return (file, offset)
        }
    }

    /// SplitMix64: the same kill moments on every run of the test.
    struct Seeded {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func uniform(_ range: ClosedRange<Double>) -> Double {
            range.lowerBound + Double(next() >> 11) / Double(1 << 53) * (range.upperBound - range.lowerBound)
        }
    }

    @Test("200,000 rows, 20 SIGKILLs, restarts: the same rows and rejects as an uninterrupted run", arguments: TestDatabase.backends)
    func killAndResume(_ backend: TestDatabase.Backend) async throws {
        try await onThread { try Self.killAndResume(backend) }
    }

    static func killAndResume(_ backend: TestDatabase.Backend) throws {
        // The reference: one uninterrupted run, which also says how long a whole run takes here.
        let reference = try Site(backend)
        let began = Date()
        let run = try reference.start()
        #expect(run.wait() == 0)
        let whole = Date().timeIntervalSince(began)
        let expected = try reference.content()
        #expect(expected.rows.count > 190_000, "the input loads (\(expected.rows.count) rows)")
        #expect(expected.rejects.count > 2_000)

        // The same input, killed at 20 moments. Each delay is short against a whole run, so the
        // kills land all along the load: claims, batches, commits, archiving.
        let site = try Site(backend)
        let interrupted = try killRepeatedly(
            seed: backend == .sqlite ? 20261201 : 20261202, whole: whole, start: site.start, progress: site.checkpoint, notAfter: (<=),
            doneWhenExited: { status in status == 0 && site.dir.list("drops/stock").filter { $0.hasSuffix(".csv") }.isEmpty })
        #expect(interrupted == kills, "\(interrupted) of \(kills) kills landed while the load ran (whole run: \(whole)s)")
        // And to the end.
        let final = try site.start()
        #expect(final.wait() == 0)

        let got = try site.content()
        #expect(got.rows.count == expected.rows.count)
        #expect(got.rows == expected.rows, "no row lost, none doubled, every value the same")
        #expect(got.rejects == expected.rejects, "no reject lost, none doubled")
        #expect(try site.db.ledgerViolations() == [])
        #expect(site.dir.list("drops/stock/processing").filter { !$0.hasPrefix(".") }.isEmpty)
        #expect(site.dir.list("drops/stock/archive").filter { $0.hasSuffix(".csv") }.count == files)

        // The ledger: per file, batches in commit order cover it without a gap or an overlap.
        let batches = try site.db.query("SELECT source_ref, position_start, position_end FROM oemsync_batches ORDER BY id")
        var byFile: [String: [(Int, Int)]] = [:]
        var order: [String] = []
        for b in batches {
            guard let ref = b[0] else { continue }
            if byFile[ref] == nil { order.append(ref) }
            byFile[ref, default: []].append((byte(b[1]), byte(b[2])))
        }
        #expect(order == order.sorted(), "files committed in claim order, one after the other")
        #expect(order.count == files)
        for (ref, ranges) in byFile {
            for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.1 == b.0, "\(ref): batch ending at byte \(a.1) followed by one starting at \(b.0)") }
            let size = (try? FileManager.default.attributesOfItem(atPath: site.dir.file("drops/stock/archive/\(ref)"))[.size] as? Int) ?? -1
            #expect(ranges.last?.1 == size, "\(ref) loaded to its end")
        }
    }

    /// A REST pull killed the same way: the OEM simulator (its own process) serves generated orders
    /// page by page; the oemsync binary is SIGKILLed at 20 moments and restarted.
    @Test("a REST pull (the simulator generates 20,000 orders), 20 SIGKILLs, restarts: the same orders and pages as an uninterrupted pull", arguments: TestDatabase.backends)
    func restKillAndResume(_ backend: TestDatabase.Backend) async throws {
        try await onThread { try Self.restKillAndResume(backend) }
    }

    static func restKillAndResume(_ backend: TestDatabase.Backend) throws {
        let (oem, url) = try startSimulator(["--orders", "20000"])
        defer {
            oem.kill()
            oem.wait()
        }

        func site() throws -> (dir: TemporaryDirectory, db: TestDatabase, config: String) {
            let dir = try TemporaryDirectory("crash-rest")
            let db = try TestDatabase(backend)
            _ = try dir.write("secret", "s3cret-d001\n")
            let yaml = db.configPrologue + """
                credentials:
                  acme-api:
                    auth: {kind: oauth2, token_url: \(url)/oauth/token, client_id: dealer-d001, client_secret_file: secret}
                feeds:
                  orders:
                    mapping: \(Fixture.repository("Mappings/acme/orders-api.v1.yaml"))
                    source:
                      kind: rest
                      url: \(url)/api/v1/dealers/D001/orders
                      credentials: acme-api
                      record_id: orderNo
                      pagination: {style: page, param: pageNo, size_param: pageSize, size: 250}
                      incremental: {param: updatedSince, field: updateTime, format: "yyyy-MM-dd HH:mm:ss", timezone: Asia/Shanghai, overlap: 10m}
                      errors: {code: $.code, success: [0], message: $.msg, retryable: [50001]}

                """
            return (dir, db, try dir.write("oemsync.yaml", yaml))
        }
        func start(_ config: String, _ dir: TemporaryDirectory) throws -> ChildProcess {
            var env = ProcessInfo.processInfo.environment
            env["OEMSYNC_LOG_LEVEL"] = "warning"
            return try ChildProcess(CLITests.binary, ["sync", "--all", "--once", "--config", config], environment: env, log: dir.file("runs.log"))
        }
        func content(_ db: TestDatabase) throws -> (orders: [[String]], rejects: [[String]], pages: [String]) {
            let orders = try db.dump("sales_orders", [("dealer_code", .string), ("order_no", .string), ("vin", .string), ("status", .string),
                ("total_price", .decimal), ("customer_phone", .string), ("updated_at", .datetime)], orderBy: "dealer_code, order_no")
            let rejects = try db.query("SELECT reason, coalesce(field, ''), raw_record FROM oemsync_rejects ORDER BY raw_record, reason").map { $0.map { $0 ?? "∅" } }
            let pages = try db.query("SELECT position_start FROM oemsync_batches ORDER BY id").map { $0[0] ?? "" }
            return (orders, rejects, pages)
        }
        /// Progress as an ordered value: (high-water mark, pages of the pull in progress; a finished pull counts as all).
        func progress(_ db: TestDatabase) throws -> (Int64, String, Int)? {
            guard let json = try db.query("SELECT position FROM oemsync_checkpoints WHERE feed = 'orders'").first?[0] ?? nil,
                let doc = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            else { return nil }
            let hwm = doc["hwm"] as? [String: Any]
            let pages = (doc["pull"] as? [String: Any])?["pages"] as? Int ?? Int.max
            return ((hwm?["t"] as? NSNumber)?.int64Value ?? -1, hwm?["id"] as? String ?? "", pages)
        }

        let reference = try site()
        let began = Date()
        #expect(try start(reference.config, reference.dir).wait() == 0)
        let whole = Date().timeIntervalSince(began)
        let expected = try content(reference.db)
        #expect(expected.orders.count > 10_000, "the pull loads (\(expected.orders.count) orders of dealer D001)")

        let crashed = try site()
        // A finished pull is the end: a next run would start a new one, from page 1.
        let interrupted = try killRepeatedly(
            seed: backend == .sqlite ? 5 : 6, whole: whole, start: { try start(crashed.config, crashed.dir) }, progress: { try progress(crashed.db) },
            notAfter: (<=), doneWhenExited: { _ in true }, finished: { $0.2 == Int.max })
        #expect(interrupted == kills, "\(interrupted) of \(kills) kills landed while the pull ran (whole run: \(whole)s)")
        #expect(try start(crashed.config, crashed.dir).wait() == 0)
        let got = try content(crashed.db)
        #expect(got.orders == expected.orders, "no order lost, none doubled, every value the same")
        #expect(got.rejects == expected.rejects, "no reject lost, none doubled")
        #expect(got.pages == expected.pages, "every page committed once, in order")
        #expect(try crashed.db.ledgerViolations() == [])
    }

    /// A SOAP pull killed the same way: the simulator's STAR service answers with messages of 500
    /// generated vehicles, each loaded in batches of 100 (a kill mid-message resumes inside it, the
    /// message's BODID telling the records already in); the binary is SIGKILLed at 20 moments.
    @Test("a SOAP pull (20,000 generated vehicles, 500 a message), 20 SIGKILLs, restarts: the same stock and batches as an uninterrupted pull", arguments: TestDatabase.backends)
    func soapKillAndResume(_ backend: TestDatabase.Backend) async throws {
        try await onThread { try Self.soapKillAndResume(backend) }
    }

    static func soapKillAndResume(_ backend: TestDatabase.Backend) throws {
        let (oem, url) = try startSimulator(["--vehicles", "20000"])
        defer {
            oem.kill()
            oem.wait()
        }
        let confirm = "/s:Envelope/s:Body/star:ConfirmBOD/star:ConfirmBODDataArea/star:BOD/star:BODFailureMessage/star:ErrorProcessMessage"

        func site() throws -> (dir: TemporaryDirectory, db: TestDatabase, config: String) {
            let dir = try TemporaryDirectory("crash-soap")
            let db = try TestDatabase(backend)
            _ = try dir.write("star-pw", "star-pw-d001\n")
            let yaml = db.configPrologue + """
                credentials:
                  acme-star:
                    auth: {kind: ws_security, user: D001, password_file: star-pw}
                feeds:
                  inventory:
                    mapping: \(Fixture.repository("Mappings/acme/inventory-soap.v1.yaml"))
                    source:
                      kind: soap
                      url: \(url)/soap/star/inventory
                      credentials: acme-star
                      action: urn:acme:star:GetVehicleInventory
                      namespaces: {s: "http://schemas.xmlsoap.org/soap/envelope/", p: "urn:acme:paging", star: "http://www.starstandard.org/STAR/5"}
                      body: '<star:GetVehicleInventory xmlns:star="http://www.starstandard.org/STAR/5"><star:Continuation>{{continuation}}</star:Continuation><star:PageSize>{{page_size}}</star:PageSize></star:GetVehicleInventory>'
                      pagination: {style: continuation, path: /s:Envelope/s:Header/p:Paging/p:Continuation, size: 500}
                      application_error: {code: \(confirm)/star:ReasonCode, message: \(confirm)/star:Description, retryable: [BUSY]}
                      batch_rows: 100

                """
            return (dir, db, try dir.write("oemsync.yaml", yaml))
        }
        func start(_ config: String, _ dir: TemporaryDirectory) throws -> ChildProcess {
            var env = ProcessInfo.processInfo.environment
            env["OEMSYNC_LOG_LEVEL"] = "warning"
            return try ChildProcess(CLITests.binary, ["sync", "--all", "--once", "--config", config], environment: env, log: dir.file("runs.log"))
        }
        func content(_ db: TestDatabase) throws -> (stock: [[String]], rejects: [[String]], batches: [String]) {
            let stock = try db.dump(
                "stock", [("dealer_code", .string), ("vin", .string), ("stock_no", .string), ("model_code", .string), ("location", .string)],
                orderBy: "vin")
            let rejects = try db.query("SELECT reason, coalesce(field, ''), raw_record FROM oemsync_rejects ORDER BY raw_record, reason").map { $0.map { $0 ?? "∅" } }
            // Positions and sizes. A message resumed after a kill says so in its position (`first page,
            // after 400 records of message …, records 401-500 of 500`, the 400 counted as duplicates):
            // that part names the interrupted pull's message, and is left out.
            let batches = try db.query("SELECT position_start, CAST(records_in AS TEXT) FROM oemsync_batches WHERE records_in > 0 ORDER BY id").map { row in
                var position = row[0] ?? ""
                if let r = position.range(of: #", after [0-9]+ records of message [^,]+"#, options: .regularExpression) { position.removeSubrange(r) }
                return "\(position): \(row[1] ?? "")"
            }
            return (stock, rejects, batches)
        }
        /// Progress as an ordered value: (messages done, records of the message in progress); a finished pull counts as all.
        func progress(_ db: TestDatabase) throws -> (Int, Int)? {
            guard let json = try db.query("SELECT position FROM oemsync_checkpoints WHERE feed = 'inventory'").first?[0] ?? nil,
                let doc = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            else { return nil }
            // A pull under way has a next page or continuation, a message in progress, or its start.
            let inPull = ["page", "continuation", "message", "pullStarted"].contains { doc[$0] != nil }
            if doc["lastPull"] != nil, !inPull { return (Int.max, 0) }
            return (doc["pages"] as? Int ?? 0, (doc["message"] as? [String: Any])?["done"] as? Int ?? 0)
        }

        let reference = try site()
        let began = Date()
        #expect(try start(reference.config, reference.dir).wait() == 0)
        let whole = Date().timeIntervalSince(began)
        let expected = try content(reference.db)
        #expect(expected.stock.count + expected.rejects.count == 20_000, "\(expected.stock.count) vehicles and \(expected.rejects.count) rejects")

        let crashed = try site()
        let interrupted = try killRepeatedly(
            seed: backend == .sqlite ? 7 : 8, whole: whole, start: { try start(crashed.config, crashed.dir) }, progress: { try progress(crashed.db) },
            notAfter: { $0 <= $1 }, doneWhenExited: { _ in true }, finished: { $0.0 == Int.max })
        #expect(interrupted == kills, "\(interrupted) of \(kills) kills landed while the pull ran (whole run: \(whole)s)")
        #expect(try start(crashed.config, crashed.dir).wait() == 0)
        let got = try content(crashed.db)
        #expect(got.stock == expected.stock, "no vehicle lost, none doubled, every value the same")
        #expect(got.rejects == expected.rejects, "no reject lost, none doubled")
        #expect(got.batches == expected.batches, "every batch of every message committed once, in order")
        #expect(try crashed.db.ledgerViolations() == [])
    }

    /// The OEM simulator in a process of its own, and its base URL once it listens.
    static func startSimulator(_ arguments: [String]) throws -> (ChildProcess, String) {
        let logs = try TemporaryDirectory("oem")
        let simulatorPath = (CLITests.binary as NSString).deletingLastPathComponent + "/oemsync-simulator"
        let oem = try ChildProcess(simulatorPath, arguments + ["--port", "0"], environment: ProcessInfo.processInfo.environment, log: logs.file("oem.log"))
        let listening = FileWatch.wait(for: "listening on ", in: logs.file("oem.log"), timeout: .seconds(20))
        let text = (try? String(contentsOfFile: logs.file("oem.log"), encoding: .utf8)) ?? ""
        let base = text.split(separator: "\n").first { $0.hasPrefix("listening on ") }.map { String($0.dropFirst("listening on ".count)) }
        guard listening, let base else {
            oem.kill()
            oem.wait()
            throw POSIXError(.ETIMEDOUT)
        }
        return (oem, base)
    }

    /// Starts the binary and SIGKILLs it after a seeded random delay, short against a whole run
    /// (`whole`), again and again until `kills` kills landed on a live process. After each kill the
    /// stored progress is read: it must never go back. A run that ended before its kill stops the
    /// loop when `doneWhenExited` says the work is done; `finished` says the same of a progress.
    /// Returns the kills that landed.
    static func killRepeatedly<P>(
        seed: UInt64, whole: TimeInterval, start: () throws -> ChildProcess, progress: () throws -> P?,
        notAfter: (P, P) -> Bool, doneWhenExited: (Int32) throws -> Bool, finished: (P) -> Bool = { _ in false }
    ) throws -> Int {
        var random = Seeded(state: seed)
        var interrupted = 0
        var last: P?
        for _ in 0..<(kills * 3) where interrupted < kills {
            let child = try start()
            usleep(UInt32(random.uniform(0.02...(max(0.2, whole / 15))) * 1_000_000))
            if child.hasExited {
                if try doneWhenExited(child.wait()) { break }
                continue
            }
            child.kill()
            #expect(child.wait() == 128 + SIGKILL)
            interrupted += 1
            if let now = try progress() {
                if let before = last { #expect(notAfter(before, now), "the checkpoint went back from \(before) to \(now)") }
                last = now
                if finished(now) { break }
            }
        }
        return interrupted
    }

    /// `line 12 (byte 980)` -> 980.
    static func byte(_ position: String?) -> Int {
        guard let p = position, let r = p.range(of: "(byte ") else { return -1 }
        return Int(p[r.upperBound...].prefix { $0.isNumber }) ?? -1
    }
}

private func <= (a: (String, Int), b: (String, Int)) -> Bool { a.0 < b.0 || (a.0 == b.0 && a.1 <= b.1) }
private func <= (a: (Int64, String, Int), b: (Int64, String, Int)) -> Bool { !((b.0, b.1, b.2) < (a.0, a.1, a.2)) }
