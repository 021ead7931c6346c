import Foundation
import Logging
import OEMSyncCore
import OEMSyncSinks
import ServiceLifecycle
import UnixSignals

/// `oemsync run`: the daemon, as one `ServiceGroup`: the scheduler (``Daemon``), the metrics
/// endpoint when configured, and the SIGHUP listener. SIGTERM and SIGINT shut it down gracefully:
/// every sync finishes its batch in flight, then the process exits 0.
///
/// The config and every mapping are validated before anything starts (exit 78, so systemd's
/// `RestartPreventExitStatus=78` stops a restart loop); the database is then waited for.
public enum RunCommand {
    public static func run(configPath: String, logger: Logger, console: Console) async -> Int32 {
        let check = try? ReferenceSchema.catalog()
        let load = Project.load(configPath: configPath, catalog: check, catalogIsComplete: false)
        if !load.diagnostics.isEmpty { console.report(load.diagnostics, load.renderer) }
        guard let project = load.project else { return ExitStatus.config }
        if let endpoint = project.configuration.daemon.metrics, let problem = endpoint.bindProblem() {
            console.err("oemsync run: daemon.metrics: \(problem)\n")
            return ExitStatus.config
        }

        let daemon = Daemon(options: .init(configPath: configPath), logger: logger, console: console)
        let scheduler = SchedulerService(daemon: daemon)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: scheduler, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: ReloadSignalService(daemon: daemon), successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore),
        ]
        if let endpoint = project.configuration.daemon.metrics {
            let server = MetricsServer(endpoint: endpoint, metrics: daemon.metrics, logger: logger) { daemon.health }
            services.append(.init(service: server, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        }
        var groupLogger = logger
        groupLogger.logLevel = max(logger.logLevel, .notice)  // the group's own start and stop lines are debug chatter
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: groupLogger))
        do {
            try await group.run()
        } catch {
            logger.error("daemon failed", metadata: [LogKey.error: .string("\(error)")])
            return ExitStatus.failure
        }
        return scheduler.exitStatus
    }
}

/// The scheduler as a service: runs the daemon's main loop; a graceful shutdown asks it to stop.
final class SchedulerService: Service, @unchecked Sendable {
    let daemon: Daemon
    private let lock = NSLock()
    private var status: Int32 = ExitStatus.ok

    init(daemon: Daemon) { self.daemon = daemon }

    var exitStatus: Int32 { lock.withLock { status } }

    func run() async throws {
        let daemon = self.daemon
        let code = await withGracefulShutdownHandler {
            await daemon.run()
        } onGracefulShutdown: {
            daemon.requestStop()
        }
        lock.withLock { status = code }
    }
}

/// SIGHUP: reload config and mappings (``Daemon/requestReload()``).
struct ReloadSignalService: Service {
    let daemon: Daemon

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            daemon.requestReload()
        }
    }
}
