import Foundation
import OEMSyncCore

/// A file the ledger knows as loaded, found by its content.
public struct LoadedFile: Sendable, Hashable, Codable {
    public var batchID: Int64
    public var claimedName: String
    public var originalName: String
}

extension Ledger {
    /// The newest load of this content by the feed (its last batch), or nil.
    public func loadedContent(feed: String, sha256: String) throws(SinkError) -> LoadedFile? {
        let rows = try database.select(
            """
            SELECT batch_id, claimed_name, original_name FROM oemsync_files
            WHERE feed = ? AND sha256 = ? AND outcome = 'loaded' AND batch_id IS NOT NULL ORDER BY batch_id DESC LIMIT 1
            """, [.string(feed), .string(sha256)])
        guard let r = rows.first, let id = r[0].flatMap({ Int64($0) }), let claimed = r[1], let original = r[2] else { return nil }
        return LoadedFile(batchID: id, claimedName: claimed, originalName: original)
    }

    /// Whether the database holds the end of this claimed file's load: its `oemsync_files` entry
    /// (loaded or skipped), or, for files loaded before that table existed, a batch of the file that
    /// ended at its last byte. An archived file the database does not know was archived after a
    /// commit the database lost (a restore from backup, a server that acknowledged commits it had
    /// not written): it is loaded again.
    public func knowsFinished(feed: String, claimedName: String, size: Int64) throws(SinkError) -> Bool {
        let files = try database.select(
            "SELECT outcome FROM oemsync_files WHERE feed = ? AND claimed_name = ?", [.string(feed), .string(claimedName)])
        if let outcome = files.first?[0] { return outcome != FileRecord.Outcome.quarantined.rawValue }
        let batches = try database.select(
            "SELECT position_end FROM oemsync_batches WHERE feed = ? AND source_ref = ? AND replay_of IS NULL ORDER BY id DESC LIMIT 1",
            [.string(feed), .string(claimedName)])
        guard let end = batches.first?[0] ?? nil else { return false }
        return Self.byteOffset(ofPosition: end) == size
    }

    /// Whether the feed has any batch in the ledger (a fresh database has none: nothing to compare
    /// an archive with).
    public func hasBatches(feed: String) throws(SinkError) -> Bool {
        try !database.select("SELECT 1 FROM oemsync_batches WHERE feed = ? LIMIT 1", [.string(feed)]).isEmpty
    }

    /// Records a file's outcome outside a batch (a quarantine).
    public func record(_ file: FileRecord, feed: String) throws(SinkError) {
        let s = file.statement(feed: feed, batchID: nil)
        _ = try database.transaction([s])
    }

    /// The files of a feed by outcome, newest first.
    public func files(feed: String, outcome: FileRecord.Outcome, limit: Int = 50) throws(SinkError) -> [FileRecord] {
        let rows = try database.select(
            """
            SELECT claimed_name, original_name, size, sha256, outcome, same_as, reason FROM oemsync_files
            WHERE feed = ? AND outcome = ? ORDER BY finished_at DESC, claimed_name DESC LIMIT \(limit)
            """, [.string(feed), .string(outcome.rawValue)])
        return rows.compactMap { r in
            guard let claimed = r[0], let original = r[1], let size = r[2].flatMap({ Int64($0) }) else { return nil }
            return FileRecord(
                claimedName: claimed, originalName: original, size: size, sha256: r[3], outcome: outcome, sameAs: r[5].flatMap { Int64($0) },
                reason: r[6])
        }
    }

    /// `line 120 (byte 9000)` -> 9000.
    static func byteOffset(ofPosition text: String) -> Int64? {
        guard let r = text.range(of: "(byte "), let close = text[r.upperBound...].firstIndex(of: ")") else { return nil }
        return Int64(text[r.upperBound..<close])
    }
}
