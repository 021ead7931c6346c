import FlyingFox
import FlyingSocks
import Foundation

/// A local OEM over real HTTP on loopback: an OAuth2 token endpoint, paged order and vehicle
/// endpoints, a STAR web service (see `SimulatorSOAP.swift`) in the styles OEM APIs use (page number, cursor, next link, offset), from data in
/// `fixtures/simulator/`, with faults switched on by ``SimulatorConfig/faults``.
///
/// ```swift
/// let oem = try await OEMSimulator.start(data: .load(directory: "fixtures/simulator/acme"))
/// // http://127.0.0.1:\(oem.port)/api/v1/dealers/D001/orders?pageNo=1&pageSize=10
/// await oem.stop()
/// ```
///
/// | endpoint | paging | change filter | notes |
/// | --- | --- | --- | --- |
/// | `POST /oauth/token` | | | client credentials (Basic or form) |
/// | `GET /api/v1/dealers/{dealer}/orders` | `pageNo`, `pageSize` | `updatedSince` (Shanghai local, inclusive) | `{"code":0,"msg":…,"data":{"list":[…]}}` |
/// | `GET /api/v2/orders` | `cursor`, `limit` (keyset) | `updated_after` (ISO, exclusive) | `{"orders":[…],"next_cursor":…}` |
/// | `GET /api/v3/orders` | `Link` header, `links.next` | `updatedSince` (ISO, inclusive) | `{"data":[…],"links":{…}}` |
/// | `GET /api/v1/vehicles` | `offset`, `limit` | `modifiedSince` (epoch ms, inclusive) | `{"total":…,"items":[…]}` |
/// | `POST /soap/star/inventory` | `Continuation` or `PageNumber`, `PageSize` | `ModifiedSince` (ISO) | STAR `ShowVehicleInventory` in SOAP 1.1/1.2, WS-Security; WSDL at `?wsdl` |
///
/// Data endpoints accept a bearer token from `/oauth/token`, an API key (`X-Api-Key` header or
/// `api_key` query parameter), or basic auth.
public final class OEMSimulator: Sendable {
    public let port: Int
    let state: SimulatorState
    private let server: HTTPServer
    private let task: Task<Void, any Error>

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(port: Int, state: SimulatorState, server: HTTPServer, task: Task<Void, any Error>) {
        self.port = port
        self.state = state
        self.server = server
        self.task = task
    }

    /// Starts serving on 127.0.0.1:`port` (0: any free port; see ``port``).
    public static func start(data: SimulatorData, config: SimulatorConfig = SimulatorConfig(), port: UInt16 = 0) async throws -> OEMSimulator {
        let state = SimulatorState(data: data, config: config)
        let address = try sockaddr_in.inet(ip4: "127.0.0.1", port: port)
        let server = HTTPServer(address: address, timeout: 300, pool: NoDelayPool(HTTPServer.defaultPool()), logger: .disabled)
        let origin = OriginBox()
        await server.appendRoute("*") { request in
            let incoming = SimIncoming(
                method: request.method.rawValue, path: request.path,
                query: Dictionary(request.query.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
                headers: Dictionary(request.headers.map { ($0.key.rawValue.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a }),
                body: Array(try await request.bodyData), origin: origin.value)
            return try await Self.wire(await state.handle(incoming))
        }
        let task = Task { try await server.run() }
        try await server.waitUntilListening(timeout: 10)
        guard case .ip4(_, let bound)? = await server.listeningAddress else {
            task.cancel()
            throw SimulatorError(description: "the simulator could not bind a loopback port")
        }
        origin.value = "http://127.0.0.1:\(bound)"
        return OEMSimulator(port: Int(bound), state: state, server: server, task: task)
    }

    /// Stops at once, closing every connection (an OEM going away).
    public func stop() async {
        task.cancel()
        _ = await task.result
    }

    /// Every request answered so far, in order.
    public func requests() async -> [SimRequest] { await state.log }
    /// Requests to data endpoints (not the token endpoint).
    public func dataRequests() async -> [SimRequest] { await state.log.filter { $0.path != "/oauth/token" } }
    public func tokensIssued() async -> Int { await state.tokensIssued }
    /// Requests the OEM's own rate limit refused.
    public func rateLimitViolations() async -> Int { await state.rateLimitViolations }
    public func data() async -> SimulatorData { await state.data }
    public func setFaults(_ faults: [Fault]) async { await state.setFaults(faults) }
    public func configure(_ update: @Sendable @escaping (inout SimulatorConfig) -> Void) async { await state.setConfig(update) }
    public func replaceData(_ data: SimulatorData) async { await state.replaceData(data) }

    static let phrases = [
        200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
        429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
    ]

    /// Turns an answer into what FlyingFox sends.
    static func wire(_ answer: SimAnswer) async throws -> FlyingFox.HTTPResponse {
        func response(_ status: Int, _ headers: [(String, String)], _ body: HTTPBodySequence) -> FlyingFox.HTTPResponse {
            var h = HTTPHeaders()
            for (name, value) in headers { h.addValue(value, for: HTTPHeader(name)) }
            return FlyingFox.HTTPResponse(statusCode: HTTPStatusCode(status, phrase: phrases[status] ?? "Status \(status)"), headers: h, body: body)
        }
        switch answer {
        case .response(let status, let headers, let body):
            return response(status, headers, HTTPBodySequence(data: Data(body)))
        case .delayed(let seconds, let status, let headers, let body):
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            return response(status, headers, HTTPBodySequence(data: Data(body)))
        case .truncated(let status, let headers, let body):
            let half = Array(body.prefix(body.count / 2))
            return response(status, headers, HTTPBodySequence(from: BrokenBody(bytes: half), count: body.count))
        case .reset:
            // FlyingFox asks a WebSocket handler for its frames before writing anything; one that
            // throws makes the server close the connection without a byte of response.
            return FlyingFox.HTTPResponse(webSocket: CloseWithoutAnswer())
        }
    }
}

/// FlyingFox's socket pool, with `TCP_NODELAY` set on every socket it waits for.
///
/// FlyingFox writes a response's header and body in two writes; with Nagle's algorithm on, the body
/// waits for the client's delayed ACK of the header, 40 ms a response on Linux. The listening socket
/// waits here before its first connection, and accepted sockets inherit the option from it.
struct NoDelayPool<Inner: AsyncSocketPool>: AsyncSocketPool {
    let inner: Inner
    init(_ inner: Inner) { self.inner = inner }

    func prepare() async throws { try await inner.prepare() }
    func run() async throws { try await inner.run() }

    func suspendSocket(_ socket: Socket, untilReadyFor events: Socket.Events) async throws {
        var on: Int32 = 1
        _ = setsockopt(socket.file.rawValue, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        try await inner.suspendSocket(socket, untilReadyFor: events)
    }
}

public struct SimulatorError: Error, CustomStringConvertible {
    public var description: String
}

/// The simulator's own origin, known once the port is bound (for absolute `Link` URLs).
final class OriginBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _value = ""
    var value: String {
        get { lock.withLock { _value } }
        set { lock.withLock { _value = newValue } }
    }
}

struct CloseWithoutAnswer: WSHandler {
    struct Closed: Error {}
    func makeFrames(for client: AsyncThrowingStream<WSFrame, any Error>) async throws -> AsyncStream<WSFrame> {
        throw Closed()
    }
}

/// A body that sends its bytes and then fails, so the connection closes short of `Content-Length`.
struct BrokenBody: AsyncBufferedSequence, AsyncBufferedIteratorProtocol {
    typealias Element = UInt8
    struct Cut: Error {}
    let bytes: [UInt8]
    var offset = 0

    func makeAsyncIterator() -> BrokenBody { self }

    mutating func next() async throws -> UInt8? {
        guard offset < bytes.count else { throw Cut() }
        offset += 1
        return bytes[offset - 1]
    }

    mutating func nextBuffer(suggested count: Int) async throws -> [UInt8]? {
        guard offset < bytes.count else { throw Cut() }
        let end = Swift.min(bytes.count, offset + Swift.max(1, count))
        defer { offset = end }
        return Array(bytes[offset..<end])
    }
}
