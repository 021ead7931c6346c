import Logging
import OEMSyncCore
import OEMSyncMapping
import OEMSyncSinks

/// One pass of one feed, whatever its kind: takes the feed's lock on the database (two processes
/// never run a feed at once, ``FeedLock``), opens the source of the feed's kind at its stored
/// checkpoint, runs it through the one ``FeedPipeline``, and lets the lock go. What `oemsync sync`
/// and the daemon both call.
public enum FeedRunner {
    public static func run(
        _ feed: FeedSettings, plan: MappingPlan, database: any DealerDatabase, services: SourceServices, logger: Logger,
        control: RunControl = .none
    ) -> FeedReport {
        // One clock for the run: the services' (tests move it), which the sources wait on too.
        let clock = services.clock
        var logger = logger
        logger[metadataKey: LogKey.feed] = .string(feed.name)
        let lock: FeedLock
        let stored: String?
        do {
            switch try database.lockFeed(feed.name) {
            case .acquired(let l):
                lock = l
            case .busy(let holder):
                var report = FeedReport(feed: feed.name)
                let message = "the feed is being synced by \(holder); this run did nothing"
                logger.warning("feed busy", metadata: [LogKey.reason: .string(message)])
                report.error = FeedError(.busy, feed: feed.name, message)
                return report
            }
        } catch {
            var report = FeedReport(feed: feed.name)
            report.error = FeedError(.database, feed: feed.name, error.description)
            return report
        }
        defer { lock.unlock() }
        do {
            stored = try database.checkpoint(feed: feed.name)
        } catch {
            logger.error("feed stopped", metadata: [LogKey.error: .string(error.description)])
            var report = FeedReport(feed: feed.name)
            report.error = FeedError(.database, feed: feed.name, error.description)
            return report
        }
        let source = feed.source.open(
            SourceRun(feed: feed, plan: plan, database: database, services: services, logger: logger, control: control, checkpoint: stored))
        let pipeline = FeedPipeline(feed: feed, plan: plan, database: database, logger: logger, control: control, clock: clock)
        return pipeline.run(source, checkpoint: stored)
    }
}
