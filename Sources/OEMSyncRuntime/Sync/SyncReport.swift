import OEMSyncSinks

/// What one run of a feed did, file by file: the figures `oemsync sync` prints.
public struct FeedReport: Sendable {
    public var feed: String
    public var files: [FileReport] = []
    /// Set when the feed stopped early (database down, directory unreadable).
    public var error: FeedError?
    /// Set when the run stopped early on purpose, checkpointed: the daemon held it (a window, a
    /// shutdown), or a REST pull parked (quota, Retry-After, max_pages).
    public var held: RunControl.Hold?
    /// Whether the run parked because its daily request quota is spent.
    public var quotaSpent = false

    public init(feed: String) { self.feed = feed }

    public var recordsIn: Int { files.reduce(0) { $0 + $1.recordsIn } }
    public var written: Int { files.reduce(0) { $0 + $1.written } }
    public var rejected: Int { files.reduce(0) { $0 + $1.rejected } }
    public var quarantined: Int { files.filter { if case .quarantined = $0.outcome { return true } else { return false } }.count }
    /// Whether the run needs attention: a feed error or a quarantined file.
    public var failed: Bool {
        error != nil || quarantined > 0 || files.contains { f in
            if case .failed = f.outcome { return true }
            return f.failedBatches > 0
        }
    }
}

/// One file of a CSV drop feed, or one pull of a REST feed.
public struct FileReport: Sendable {
    public enum Outcome: Sendable, Hashable {
        /// Loaded and moved to `archive/`.
        case archived(path: String)
        /// Not loadable; moved to `quarantine/` with a `.reason` file.
        case quarantined(path: String, reason: String)
        /// Stopped mid-way (the database went away, the OEM failed); left to resume from the checkpoint.
        case failed(message: String)
        /// A REST pull that reached the end of the listing.
        case completed
        /// A REST pull that stopped early on purpose, checkpointed: the daily quota is spent, the
        /// OEM asked to come back later, or `max_pages` was reached. Not a failure.
        case parked(reason: String)
    }

    public var name: String
    public var claimedName: String
    public var outcome: Outcome
    /// Why the file or pull stopped early on purpose (``Outcome/parked(reason:)``), as the control said.
    public var held: RunControl.Hold?
    /// The position loading started from, when it resumed an interrupted run.
    public var resumedFrom: String?
    /// What else a reader must know: a file skipped as the same content as an earlier one, a file
    /// loaded again from `archive/` because the database did not know it.
    public var note: String?
    public var batches = 0
    public var recordsIn = 0
    public var written = 0
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0
    public var superseded = 0
    public var rejected = 0
    public var warnings = 0
    /// Reject reason codes with their counts, most frequent first.
    public var rejectReasons: [(code: String, count: Int)] = []
    /// REST: HTTP requests sent (retries included), failed attempts retried, records dropped as
    /// already delivered, pages recorded as failed and skipped (`on_failure: continue`).
    public var requests = 0
    public var retries = 0
    public var duplicates = 0
    public var failedBatches = 0

    public var status: String {
        switch outcome {
        case .archived, .completed: return failedBatches > 0 ? "failed" : rejected > 0 ? "partial" : "ok"
        case .quarantined: return "quarantined"
        case .failed: return "failed"
        case .parked: return "parked"
        }
    }
}

extension FileReport {
    /// Adds a committed batch's figures; reject reasons stay sorted, most frequent first.
    mutating func add(_ c: BatchWriter.Committed) {
        batches += 1
        recordsIn += c.totals.recordsIn
        written += c.totals.written
        superseded += c.totals.superseded
        rejected += c.totals.rejected
        warnings += c.totals.warnings
        inserted += c.receipt.inserted
        updated += c.receipt.updated
        unchanged += c.receipt.unchanged
        requests += c.end?.requests ?? 0
        duplicates += c.end?.duplicates ?? 0
        if c.end?.failure != nil { failedBatches += 1 }
        for code in c.rejectCodes {
            if let i = rejectReasons.firstIndex(where: { $0.code == code }) {
                rejectReasons[i].count += 1
            } else {
                rejectReasons.append((code, 1))
            }
        }
        rejectReasons.sort { $0.count != $1.count ? $0.count > $1.count : $0.code < $1.code }
    }
}
