import Logging
import OEMSyncCore
import OEMSyncMapping
import OEMSyncSinks

/// One pass of one feed, whatever its kind: takes the feed's lock on the database (two processes
/// never run a feed at once, ``FeedLock``), runs the pass of the feed's source kind, and lets the
/// lock go. What `oemsync sync` and the daemon both call.
public enum FeedRunner {
    public static func run(
        _ feed: FeedSettings, plan: MappingPlan, database: any DealerDatabase, services: SourceServices, logger: Logger,
        control: RunControl = .none, clock: any SyncClock = SystemClock()
    ) -> FeedReport {
        let lock: FeedLock
        do {
            switch try database.lockFeed(feed.name) {
            case .acquired(let l):
                lock = l
            case .busy(let holder):
                var report = FeedReport(feed: feed.name)
                let message = "the feed is being synced by \(holder); this run did nothing"
                logger.warning("feed busy", metadata: [LogKey.feed: .string(feed.name), LogKey.reason: .string(message)])
                report.error = FeedError(.busy, feed: feed.name, message)
                return report
            }
        } catch {
            var report = FeedReport(feed: feed.name)
            report.error = FeedError(.database, feed: feed.name, error.description)
            return report
        }
        defer { lock.unlock() }
        switch feed.source {
        case .csvDrop(let drop):
            return CSVDropSync(feed: feed, source: drop, plan: plan, database: database, logger: logger, control: control, clock: clock).run()
        case .rest(let rest):
            return RESTSync(feed: feed, settings: rest, plan: plan, database: database, services: services, logger: logger, control: control).run()
        case .soap(let soap):
            return SOAPSync(feed: feed, settings: soap, plan: plan, database: database, services: services, logger: logger, control: control).run()
        }
    }
}
