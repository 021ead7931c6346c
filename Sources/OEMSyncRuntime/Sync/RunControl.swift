import OEMSyncCore

/// What the daemon tells a sync while it runs, and hears back: whether the next batch may start
/// (a blackout is near, the daemon is stopping) and what each committed batch did.
///
/// A held sync stops after the batch in flight, checkpointed, like a REST pull parked on its
/// quota: the next run resumes where it stopped. The hold is asked before a batch is read (and, for
/// REST, before its page is fetched), and again by the writer when the batch's commit would begin
/// (the batches before it committed), so a batch read ahead never commits into a window.
/// `oemsync sync --once` runs without one.
public struct RunControl: Sendable {
    /// Why no further batch starts now, and when the feed may go on (nil: the daemon decides).
    public struct Hold: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            /// A window closes (or is closed): on when it opens.
            case window
            /// The daemon is stopping.
            case shutdown
            /// The source parked itself: the OEM's `Retry-After`, the daily quota, `max_pages`.
            case source
        }

        public var reason: String
        public var until: Timestamp?
        public var kind: Kind

        public init(reason: String, until: Timestamp? = nil, kind: Kind = .source) {
            self.reason = reason
            self.until = until
            self.kind = kind
        }
    }

    /// One committed batch's figures, for metrics and the drain margin.
    public struct Batch: Sendable {
        /// From the batch's start to its commit.
        public var duration: Duration
        public var recordsIn: Int
        public var written: Int
        public var rejected: Int
        public var failed: Bool
    }

    /// Asked before each batch (and each file of a drop), with the time the batch would start (it
    /// is stamped with that time); nil: go on.
    public var hold: @Sendable (Timestamp) -> Hold?
    public var committed: @Sendable (Batch) -> Void
    /// Retried requests, as they happen.
    public var retried: @Sendable () -> Void
    /// The time holds are asked at (the daemon's clock).
    public var now: @Sendable () -> Timestamp

    public init(
        hold: @escaping @Sendable (Timestamp) -> Hold?, committed: @escaping @Sendable (Batch) -> Void = { _ in },
        retried: @escaping @Sendable () -> Void = {}, now: @escaping @Sendable () -> Timestamp = { SystemClock().now() }
    ) {
        self.hold = hold
        self.committed = committed
        self.retried = retried
        self.now = now
    }

    /// No holds, nothing heard: a plain one-pass sync.
    public static let none = RunControl(hold: { _ in nil })
}
