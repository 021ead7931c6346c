import Foundation
import Logging
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncSinks

/// What the REST and SOAP syncs share: the request runner of a feed's credentials, and the end of a pull.
enum HTTPPull {
    /// The runner for one run of a feed: the credentials' authenticator and limiter (the limiter's
    /// day counted from the ledger on first use), a libcurl transport with the feed's TLS, and the
    /// retry policy. Each retry is logged and told to the run's control.
    static func runner(
        credentials: String, retry: RetryPolicy, transport: TransportSettings, clientKeyPassword: SecretSource?, services: SourceServices,
        database: any DealerDatabase, logger: Logger, control: RunControl
    ) throws -> RequestRunner {
        let (authenticator, limiter) = try services.credentials(credentials)
        if limiter.needsLoad, let quota = limiter.quota {
            let day = quota.dayStart(of: services.clock.now())
            limiter.load(usedToday: try database.requestsUsed(credentials: credentials, since: day), dayStart: day)
        }
        var transport = transport
        if let clientKeyPassword { transport.tls.clientKeyPassword = try clientKeyPassword.read("client key passphrase").value }
        return RequestRunner(
            transport: try CurlTransport(settings: transport), authenticator: authenticator, limiter: limiter, breakers: services.breakers,
            policy: retry, clock: services.clock, random: services.random,
            onAttempt: { note in
                control.retried()
                if note.unreachable {
                    logger.warning("OEM unreachable, request retried", metadata: [LogKey.reason: .string(note.description)])
                } else {
                    logger.info("request retried", metadata: [LogKey.reason: .string(note.description)])
                }
            })
    }

    /// The end of a pull: the writer's last commits added up, a hold met before a request or at a
    /// commit (the pull goes on from its checkpoint next run), a database failure, the log line.
    static func finish(
        _ writer: BatchWriter, heldBefore: RunControl.Hold?, pull: FileReport, pullRef: String, report: FeedReport, feed: String, logger: Logger
    ) -> FeedReport {
        var pull = pull
        var report = report
        let (committed, databaseFailure) = writer.finish()
        if report.held == nil, let hold = heldBefore ?? writer.heldAtCommit {
            logger.notice("feed held", metadata: [LogKey.reason: .string(hold.reason)])
            pull.outcome = .parked(reason: hold.reason)
            report.held = hold
        }
        for c in committed { pull.add(c) }
        pull.claimedName = pullRef
        if let databaseFailure {
            pull.outcome = .failed(message: databaseFailure.description)
            report.error = FeedError(.database, feed: feed, databaseFailure.description)
            logger.error("feed stopped", metadata: [LogKey.error: .string(databaseFailure.description)])
        }
        logger.info(
            "pull finished",
            metadata: [
                LogKey.records: .stringConvertible(pull.recordsIn), LogKey.written: .stringConvertible(pull.written),
                LogKey.rejected: .stringConvertible(pull.rejected), LogKey.requests: .stringConvertible(pull.requests),
            ])
        report.files = [pull]
        return report
    }
}
