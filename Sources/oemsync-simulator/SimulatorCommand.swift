import ArgumentParser
import Foundation
import OEMSimulator

/// `oemsync-simulator`: a local OEM for the demo, the benchmark and onboarding.
@main
struct SimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oemsync-simulator",
        abstract: "A local OEM: OAuth2, paged order and vehicle REST endpoints and a STAR SOAP web service, with faults on demand.",
        discussion: """
            Prints `listening on http://127.0.0.1:PORT` once it accepts connections, then serves until stopped.
            Endpoints: POST /oauth/token; GET /api/v1/dealers/{dealer}/orders (pageNo, pageSize, updatedSince);
            GET /api/v2/orders (cursor, limit, updated_after); GET /api/v3/orders (Link rel=next);
            GET /api/v1/vehicles (offset, limit, modifiedSince);
            POST /soap/star/inventory (STAR GetVehicleInventory, SOAP 1.1 or 1.2: Continuation or PageNumber,
            PageSize, ModifiedSince; answers ShowVehicleInventory with the next Continuation in a p:Paging
            header, p = urn:acme:paging), its WSDL at GET /soap/star/inventory?wsdl.
            Credentials: client dealer-d001 / s3cret-d001, api key key-d001, basic d001 / pw-d001,
            WS-Security user D001 / star-pw-d001 (PasswordText or PasswordDigest; a nonce used twice is refused).
            A fault is KIND[:ARG][xCOUNT][+AFTER][@PATH]: 503x3, 429:2, slow:5, reset+4@/api/v2, truncated,
            invalid-json, body-error:50001, unauthorized; for SOAP soap-fault:client, soap-fault:server,
            app-error:CODE, wrong-namespace, resend, cut-xml, doctype.
            """)

    @Option(help: "The port on 127.0.0.1 (0: any free one).")
    var port: UInt16 = 0

    @Option(help: "A folder with orders.jsonl and vehicles.jsonl (default: fixtures/simulator/acme).")
    var data: String = "fixtures/simulator/acme"

    @Option(help: "Serve this many generated orders instead of the folder's data.")
    var orders: Int?

    @Option(help: "Serve this many generated vehicles (valid VINs) instead of the folder's data; with --orders, generated orders too.")
    var vehicles: Int?

    @Option(help: "The seed of generated orders.")
    var seed: UInt64 = 1

    @Option(name: .customLong("fault"), help: "A fault to inject (repeatable).")
    var faults: [String] = []

    @Option(help: "Tokens stop working after this many data requests.")
    var tokenUses: Int?

    @Option(help: "The lifetime tokens are issued with, in seconds.")
    var tokenLifetime: Int = 3600

    @Option(help: "The OEM's own rate limit, in requests per second (429 past it).")
    var rateLimit: Double?

    @Option(help: "The burst of the OEM's own rate limit.")
    var burst: Int = 10

    @Option(help: "The largest page served.")
    var maxPageSize: Int = 500

    @Option(help: "After this many data requests, the --update orders change (new status and change time): records updated while a client pages.")
    var updateAfter: Int?

    @Option(name: .customLong("update"), help: "An order number that changes after --update-after requests (repeatable).")
    var updates: [String] = []

    func validate() throws {
        if (updateAfter == nil) != updates.isEmpty { throw ValidationError("--update-after and --update go together") }
    }

    func run() async throws {
        var config = SimulatorConfig()
        do {
            config.faults = try faults.map { try Fault(parsing: $0) }
        } catch {
            throw ValidationError("\(error)")
        }
        config.tokenUses = tokenUses
        config.tokenLifetime = tokenLifetime
        config.maxPageSize = maxPageSize
        if let rateLimit { config.rateLimit = (rateLimit, burst) }
        if let updateAfter { config.updateDuringPull = (updateAfter, updates) }
        let simData =
            orders != nil || vehicles != nil
            ? SimulatorData.generated(orders: orders ?? 0, vehicles: vehicles ?? 0, seed: seed) : try SimulatorData.load(directory: data)
        let oem = try await OEMSimulator.start(data: simData, config: config, port: port)
        FileHandle.standardOutput.write(Data("listening on \(oem.baseURL)\n".utf8))
        let stop = AsyncStream<Void> { continuation in
            for sig in [SIGTERM, SIGINT] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig)
                source.setEventHandler { continuation.yield() }
                source.resume()
                Self.sources.append(source)
            }
        }
        for await _ in stop { break }
        await oem.stop()
    }

    nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []
}
