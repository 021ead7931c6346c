import OEMSyncCore

/// What the daemon tells a sync while it runs, and hears back: whether the next batch may start
/// (a blackout is near, the daemon is stopping) and what each committed batch did.
///
/// A held sync stops after the batch in flight, checkpointed, like a REST pull parked on its
/// quota: the next run resumes where it stopped. `oemsync sync --once` runs without one.
public struct RunControl: Sendable {
    /// Why no further batch starts now, and when the feed may go on (nil: the daemon decides).
    public struct Hold: Sendable, Hashable {
        public var reason: String
        public var until: Timestamp?

        public init(reason: String, until: Timestamp? = nil) {
            self.reason = reason
            self.until = until
        }
    }

    /// One committed batch's figures, for metrics and the drain margin.
    public struct Batch: Sendable {
        public var feed: String
        /// From the batch's start to its commit.
        public var duration: Duration
        public var recordsIn: Int
        public var written: Int
        public var rejected: Int
        public var requests: Int
        public var failed: Bool
        /// The newest change time the batch committed (REST), for the lag.
        public var position: String
    }

    /// Asked before each batch (and each file of a drop), with the time the batch would start (it
    /// is stamped with that time); nil: go on.
    public var hold: @Sendable (Timestamp) -> Hold?
    public var committed: @Sendable (Batch) -> Void
    /// Retried requests, as they happen.
    public var retried: @Sendable () -> Void

    public init(
        hold: @escaping @Sendable (Timestamp) -> Hold?, committed: @escaping @Sendable (Batch) -> Void = { _ in },
        retried: @escaping @Sendable () -> Void = {}
    ) {
        self.hold = hold
        self.committed = committed
        self.retried = retried
    }

    /// No holds, nothing heard: a plain one-pass sync.
    public static let none = RunControl(hold: { _ in nil })
}
