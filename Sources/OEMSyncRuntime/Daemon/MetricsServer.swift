import FlyingFox
import FlyingSocks
import Foundation
import Logging
import ServiceLifecycle

/// Serves `/metrics` (Prometheus text format), `/healthz` (the main loop is alive) and `/readyz`
/// (config, mappings and database usable) on a loopback address, as a service of the daemon's group.
///
/// FlyingFox is already the OEM simulator's server: no dependency added for this.
final class MetricsServer: Service, @unchecked Sendable {
    let endpoint: MetricsEndpoint
    let metrics: DaemonMetrics
    let health: @Sendable () -> (live: Bool, ready: Bool)
    let logger: Logger

    init(endpoint: MetricsEndpoint, metrics: DaemonMetrics, logger: Logger, health: @escaping @Sendable () -> (live: Bool, ready: Bool)) {
        self.endpoint = endpoint
        self.metrics = metrics
        self.health = health
        self.logger = logger
    }

    func run() async throws {
        // The server's own logger is off: every request would be an info line in the journal.
        let server: HTTPServer
        do {
            if endpoint.host.contains(":") {
                server = HTTPServer(address: try sockaddr_in6.inet6(ip6: endpoint.host, port: endpoint.port), timeout: 15, logger: .disabled)
            } else {
                server = HTTPServer(address: try sockaddr_in.inet(ip4: endpoint.host, port: endpoint.port), timeout: 15, logger: .disabled)
            }
        } catch {
            logger.error("metrics endpoint unavailable", metadata: [LogKey.address: .string(endpoint.description), LogKey.error: .string("\(error)")])
            return
        }
        let metrics = self.metrics
        let health = self.health
        await server.appendRoute("GET /metrics") { _ in
            HTTPResponse(
                statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: Data(metrics.render().utf8))
        }
        await server.appendRoute("GET /healthz") { _ in
            health().live ? HTTPResponse(statusCode: .ok, body: Data("ok\n".utf8))
                : HTTPResponse(statusCode: .serviceUnavailable, body: Data("the main loop is stalled\n".utf8))
        }
        await server.appendRoute("GET /readyz") { _ in
            health().ready ? HTTPResponse(statusCode: .ok, body: Data("ready\n".utf8))
                : HTTPResponse(statusCode: .serviceUnavailable, body: Data("not ready\n".utf8))
        }
        await server.appendRoute("*") { _ in HTTPResponse(statusCode: .notFound, body: Data("not found: /metrics, /healthz, /readyz\n".utf8)) }
        await withGracefulShutdownHandler {
            let task = Task { try await server.run() }
            do {
                try await server.waitUntilListening(timeout: 10)
                var shown = endpoint.description
                switch await server.listeningAddress {
                case .ip4(let host, port: let port)?: shown = "\(host):\(port)"
                case .ip6(let host, port: let port)?: shown = "[\(host)]:\(port)"
                default: break
                }
                logger.info("metrics listening", metadata: [LogKey.address: .string(shown)])
            } catch {
                logger.error("metrics endpoint unavailable", metadata: [LogKey.address: .string(endpoint.description), LogKey.error: .string("\(error)")])
            }
            _ = await task.result
        } onGracefulShutdown: {
            Task { await server.stop(timeout: 1) }
        }
    }
}
