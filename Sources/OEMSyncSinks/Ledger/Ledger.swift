import Foundation
import OEMSyncCore

/// oemsync's own tables read for people: the batches, their rejects and payloads, the checkpoints.
/// What `oemsync status`, `batches`, `replay` and `checkpoint` stand on.
///
/// The SQL is written once for both dialects with `?` placeholders; only time formatting, time
/// comparison and bytes differ, and those are chosen here by dialect.
public struct Ledger: Sendable {
    public let database: any DealerDatabase

    /// Rejects replayed this many times without success are flagged, not replayed again unless forced.
    public static let maxAttempts = 3

    public init(_ database: any DealerDatabase) { self.database = database }

    var postgres: Bool { database.dialect == .postgres }

    /// A time column as `2026-12-01T08:00:00Z`.
    func time(_ column: String) -> String {
        postgres
            ? "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')" : "strftime('%Y-%m-%dT%H:%M:%SZ', \(column))"
    }

    /// `column >= ?` for a time column and an ISO 8601 parameter.
    private func notBefore(_ column: String) -> String {
        postgres ? "\(column) >= ?::timestamptz" : "julianday(\(column)) >= julianday(?)"
    }

    // MARK: Batches

    private var batchColumns: String {
        """
        b.id, b.feed, b.source, b.source_ref, b.position_start, b.position_end, b.records_in, b.written, b.inserted, b.updated,
        b.unchanged, b.superseded, b.rejected, b.refused, b.newer, b.warnings, b.duplicates, b.requests, b.status, b.mapping,
        b.mapping_version, b.dictionary_version, \(time("b.started_at")), \(time("b.finished_at")), b.error, b.notes, b.message_id,
        b.replay_of, p.request, p.size, \(postgres ? "octet_length(p.body)" : "length(p.body)"), p.content_type
        """
    }

    public struct BatchFilter: Sendable {
        public var feed: String?
        public var status: String?
        public var since: Timestamp?
        public var limit: Int

        public init(feed: String? = nil, status: String? = nil, since: Timestamp? = nil, limit: Int = 50) {
            self.feed = feed
            self.status = status
            self.since = since
            self.limit = limit
        }
    }

    /// The newest batches first.
    public func batches(_ filter: BatchFilter) throws(SinkError) -> [LedgerBatch] {
        var conditions: [String] = []
        var values: [Value] = []
        if let feed = filter.feed {
            conditions.append("b.feed = ?")
            values.append(.string(feed))
        }
        if let status = filter.status {
            conditions.append("b.status = ?")
            values.append(.string(status))
        }
        if let since = filter.since {
            conditions.append(notBefore("b.started_at"))
            values.append(.string(since.description))
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        values.append(.int(Int64(filter.limit)))
        return try database.select(
            "SELECT \(batchColumns) FROM oemsync_batches b LEFT JOIN oemsync_payloads p ON p.batch_id = b.id \(whereClause) ORDER BY b.id DESC LIMIT ?",
            values
        ).map(LedgerBatch.init(row:))
    }

    public func batch(_ id: Int64) throws(SinkError) -> LedgerBatch? {
        try database.select(
            "SELECT \(batchColumns) FROM oemsync_batches b LEFT JOIN oemsync_payloads p ON p.batch_id = b.id WHERE b.id = ?", [.int(id)]
        ).first.map(LedgerBatch.init(row:))
    }

    /// The replays of a batch, oldest first.
    public func replays(of id: Int64) throws(SinkError) -> [LedgerBatch] {
        try database.select(
            "SELECT \(batchColumns) FROM oemsync_batches b LEFT JOIN oemsync_payloads p ON p.batch_id = b.id WHERE b.replay_of = ? ORDER BY b.id",
            [.int(id)]
        ).map(LedgerBatch.init(row:))
    }

    // MARK: Rejects

    /// A batch's rejects grouped by reason, with up to `samples` examples each.
    public func rejectGroups(batch id: Int64, samples: Int = 3) throws(SinkError) -> [RejectGroup] {
        let rows = try database.select(
            """
            SELECT reason, count(*), sum(CASE WHEN resolved_by IS NULL THEN 1 ELSE 0 END) FROM oemsync_rejects
            WHERE batch_id = ? GROUP BY reason ORDER BY count(*) DESC, reason
            """, [.int(id)])
        var groups: [RejectGroup] = []
        for row in rows {
            guard let reason = row[0] else { continue }
            let sample = try rejects(where: "batch_id = ? AND reason = ?", [.int(id), .string(reason)], limit: samples)
            groups.append(RejectGroup(reason: reason, count: Int(row[1] ?? "0") ?? 0, open: Int(row[2] ?? "0") ?? 0, samples: sample))
        }
        return groups
    }

    /// Open rejects (not yet resolved by a replay), oldest first, optionally of one feed, batch or reason.
    public func openRejects(feed: String? = nil, batch: Int64? = nil, reason: String? = nil) throws(SinkError) -> [LedgerReject] {
        var conditions = ["resolved_by IS NULL"]
        var values: [Value] = []
        if let feed {
            conditions.append("feed = ?")
            values.append(.string(feed))
        }
        if let batch {
            conditions.append("batch_id = ?")
            values.append(.int(batch))
        }
        if let reason {
            conditions.append("reason = ?")
            values.append(.string(reason))
        }
        return try rejects(where: conditions.joined(separator: " AND "), values, limit: nil)
    }

    private func rejects(where condition: String, _ values: [Value], limit: Int?) throws(SinkError) -> [LedgerReject] {
        var values = values
        var sql = """
            SELECT id, batch_id, line, field, reason, message, raw_value, attempts, resolved_by FROM oemsync_rejects
            WHERE \(condition) ORDER BY id
            """
        if let limit {
            sql += " LIMIT ?"
            values.append(.int(Int64(limit)))
        }
        return try database.select(sql, values).map { r in
            LedgerReject(
                id: Int64(r[0] ?? "") ?? 0, batchID: Int64(r[1] ?? "") ?? 0, line: Int(r[2] ?? "") ?? 0, field: r[3], reason: r[4] ?? "",
                message: r[5] ?? "", rawValue: r[6], attempts: Int(r[7] ?? "") ?? 0, resolvedBy: r[8].flatMap { Int64($0) })
        }
    }

    // MARK: Payloads

    /// The stored payload of a batch, inflated; nil when none was kept.
    public func payload(batch id: Int64) throws(SinkError) -> BatchPayload? {
        let body = postgres ? "encode(body, 'hex')" : "hex(body)"
        guard
            let row = try database.select(
                "SELECT request, status, content_type, \(body), encoding, size, first_line, lines FROM oemsync_payloads WHERE batch_id = ?",
                [.int(id)]
            ).first
        else { return nil }
        let stored = Self.bytes(hex: row[3] ?? "")
        let bytes: [UInt8]
        if row[4] == "deflate" {
            bytes = try Deflate.decompress(stored, size: Int(row[5] ?? "") ?? 0)
        } else {
            bytes = stored
        }
        let lines = row[7].map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: ",").compactMap { Int($0) } }
        return BatchPayload(
            request: row[0] ?? "", status: row[1].flatMap { Int($0) }, contentType: row[2], body: bytes, firstLine: Int(row[6] ?? "1") ?? 1,
            lines: lines)
    }

    /// Deletes payloads of `ok` batches of `feed` stored before `cutoff` (retention); returns how many.
    @discardableResult
    public func purgeOKPayloads(feed: String, storedBefore cutoff: Timestamp) throws(SinkError) -> Int {
        let before = postgres ? "p.stored_at < ?::timestamptz" : "julianday(p.stored_at) < julianday(?)"
        return try database.transaction([
            (
                """
                DELETE FROM oemsync_payloads WHERE batch_id IN (
                    SELECT p.batch_id FROM oemsync_payloads p JOIN oemsync_batches b ON b.id = p.batch_id
                    WHERE p.feed = ? AND b.status = 'ok' AND \(before))
                """, [.string(feed), .string(cutoff.description)]
            )
        ]).first ?? 0
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8
            switch c {
            case 0x30...0x39: v = c - 0x30
            case 0x41...0x46: v = c - 0x41 + 10
            case 0x61...0x66: v = c - 0x61 + 10
            default: continue
            }
            if let h = high {
                out.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        return out
    }

    // MARK: Feeds and checkpoints

    /// Per feed that has a ledger: its figures, last batch, open rejects and checkpoint. The figures
    /// and the last batch are those of the feed's own batches; replays are counted apart (their
    /// records were counted once already), and their effect shows in the open rejects.
    public func feedSummaries() throws(SinkError) -> [String: FeedSummary] {
        var out: [String: FeedSummary] = [:]
        for r in try database.select(
            """
            SELECT feed, count(*), coalesce(sum(records_in), 0), coalesce(sum(written), 0), coalesce(sum(rejected), 0),
                sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), max(id)
            FROM oemsync_batches WHERE replay_of IS NULL GROUP BY feed
            """, [])
        {
            guard let feed = r[0] else { continue }
            var s = FeedSummary(feed: feed)
            s.batches = Int(r[1] ?? "0") ?? 0
            s.recordsIn = Int(r[2] ?? "0") ?? 0
            s.written = Int(r[3] ?? "0") ?? 0
            s.rejected = Int(r[4] ?? "0") ?? 0
            s.failedBatches = Int(r[5] ?? "0") ?? 0
            if let last = r[6].flatMap({ Int64($0) }) { s.lastBatch = try batch(last) }
            out[feed] = s
        }
        for r in try database.select(
            """
            SELECT feed, count(*), sum(CASE WHEN attempts >= ? THEN 1 ELSE 0 END) FROM oemsync_rejects
            WHERE resolved_by IS NULL GROUP BY feed
            """, [.int(Int64(Self.maxAttempts))])
        {
            guard let feed = r[0] else { continue }
            out[feed, default: FeedSummary(feed: feed)].openRejects = Int(r[1] ?? "0") ?? 0
            out[feed, default: FeedSummary(feed: feed)].flaggedRejects = Int(r[2] ?? "0") ?? 0
        }
        for r in try database.select("SELECT feed, count(*) FROM oemsync_batches WHERE replay_of IS NOT NULL GROUP BY feed", []) {
            guard let feed = r[0] else { continue }
            out[feed, default: FeedSummary(feed: feed)].replays = Int(r[1] ?? "0") ?? 0
        }
        for r in try database.select(
            "SELECT b.feed, max(b.id) FROM oemsync_batches b WHERE b.status = 'failed' AND b.replay_of IS NULL GROUP BY b.feed", [])
        {
            guard let feed = r[0], let id = r[1].flatMap({ Int64($0) }) else { continue }
            out[feed, default: FeedSummary(feed: feed)].lastFailure = try batch(id)
        }
        for c in try checkpoints() { out[c.feed, default: FeedSummary(feed: c.feed)].checkpoint = c }
        return out
    }

    public func checkpoints() throws(SinkError) -> [StoredCheckpoint] {
        try database.select("SELECT feed, position, batch_id, \(time("updated_at")) FROM oemsync_checkpoints ORDER BY feed", []).compactMap { r in
            guard let feed = r[0], let position = r[1] else { return nil }
            return StoredCheckpoint(feed: feed, position: position, batchID: r[2].flatMap { Int64($0) }, updatedAt: r[3] ?? "")
        }
    }

    public func checkpoint(feed: String) throws(SinkError) -> StoredCheckpoint? {
        try checkpoints().first { $0.feed == feed }
    }

    /// Sets (or, with nil, removes) a feed's checkpoint by hand, logged in `oemsync_checkpoint_changes`
    /// with the old value, so a mistaken `set` or `reset` can be undone.
    public func replaceCheckpoint(feed: String, with position: String?, reason: String) throws(SinkError) {
        let old = try checkpoint(feed: feed)?.position
        let now = Value.datetime(.now())
        var statements: [(sql: String, values: [Value])] = [
            (
                "INSERT INTO oemsync_checkpoint_changes (feed, old_position, new_position, changed_at, reason) VALUES (?, ?, ?, ?, ?)",
                [.string(feed), old.map(Value.string) ?? .null, position.map(Value.string) ?? .null, now, .string(reason)]
            )
        ]
        if let position {
            statements.append(
                (
                    """
                    INSERT INTO oemsync_checkpoints (feed, position, batch_id, updated_at) VALUES (?, ?, NULL, ?)
                    ON CONFLICT (feed) DO UPDATE SET position = excluded.position, batch_id = NULL, updated_at = excluded.updated_at
                    """, [.string(feed), .string(position), now]
                ))
        } else {
            statements.append(("DELETE FROM oemsync_checkpoints WHERE feed = ?", [.string(feed)]))
        }
        _ = try database.transaction(statements)
    }

    // MARK: Dry runs

    /// How the stored row with `row`'s key differs from `row`: nil when there is none, else the
    /// columns whose values would change, old value first (compared by the database itself, as the
    /// upsert does).
    public func difference(_ row: [Value], in table: TargetTable) throws(SinkError) -> [ColumnChange]? {
        let q = SQLIdentifier.quote
        let values = table.valueIndexes
        let distinct = postgres ? "IS DISTINCT FROM" : "IS NOT"
        var selects = values.map { postgres ? "\(q(table.columns[$0].name))::text" : q(table.columns[$0].name) }
        selects += values.map { "(\(q(table.columns[$0].name)) \(distinct) ?)" }
        let key = table.keyIndexes.map { "\(q(table.columns[$0].name)) = ?" }.joined(separator: " AND ")
        let params = values.map { row[$0] } + table.keyIndexes.map { row[$0] }
        guard
            let stored = try database.select(
                "SELECT \(selects.isEmpty ? "1" : selects.joined(separator: ", ")) FROM \(q(table.name)) WHERE \(key)", params
            ).first
        else { return nil }
        var changes: [ColumnChange] = []
        for (n, i) in values.enumerated() where ["1", "t", "true"].contains(stored[values.count + n] ?? "") {
            changes.append(ColumnChange(column: table.columns[i].name, old: stored[n], new: row[i].text))
        }
        return changes
    }
}

/// One ledger entry as `oemsync batches` shows it.
public struct LedgerBatch: Sendable, Codable, Hashable {
    public var id: Int64
    public var feed: String
    public var source: String
    public var sourceRef: String
    public var positionStart: String
    public var positionEnd: String
    public var recordsIn: Int
    public var written: Int
    public var inserted: Int
    public var updated: Int
    public var unchanged: Int
    public var superseded: Int
    public var rejected: Int
    /// Of the rejects, rows the database itself refused.
    public var refused: Int
    /// Rows a replay left because a later batch had written them.
    public var newer: Int
    public var warnings: Int
    public var duplicates: Int
    public var requests: Int
    public var status: String
    public var mapping: String
    public var mappingVersion: String
    public var dictionaryVersion: String
    public var startedAt: String
    public var finishedAt: String
    public var error: String?
    public var notes: String?
    public var messageID: String?
    public var replayOf: Int64?
    /// The kept payload, if any: what was asked for, its size and its size as stored.
    public var payload: PayloadInfo?

    public struct PayloadInfo: Sendable, Codable, Hashable {
        public var request: String
        public var bytes: Int
        public var storedBytes: Int
        public var contentType: String?
    }

    init(row r: [String?]) {
        func int(_ i: Int) -> Int { Int(r[i] ?? "0") ?? 0 }
        id = Int64(r[0] ?? "0") ?? 0
        feed = r[1] ?? ""
        // Read back as shown: names escaped, free text scrubbed (rows written before either rule).
        source = FileName.escapingControls(r[2] ?? "")
        sourceRef = FileName.escapingControls(r[3] ?? "")
        positionStart = r[4] ?? ""
        positionEnd = r[5] ?? ""
        recordsIn = int(6)
        written = int(7)
        inserted = int(8)
        updated = int(9)
        unchanged = int(10)
        superseded = int(11)
        rejected = int(12)
        refused = int(13)
        newer = int(14)
        warnings = int(15)
        duplicates = int(16)
        requests = int(17)
        status = r[18] ?? ""
        mapping = r[19] ?? ""
        mappingVersion = r[20] ?? ""
        dictionaryVersion = r[21] ?? ""
        startedAt = r[22] ?? ""
        finishedAt = r[23] ?? ""
        error = r[24].map { FileName.escapingControls(Redact.scrub($0)) }
        notes = r[25].map { FileName.escapingControls(Redact.scrub($0)) }
        messageID = r[26]
        replayOf = r[27].flatMap { Int64($0) }
        if let request = r[28] {
            let stored = int(30)
            payload = PayloadInfo(request: request, bytes: r[29].flatMap { Int($0) } ?? stored, storedBytes: stored, contentType: r[31])
        }
    }
}

public struct LedgerReject: Sendable, Codable, Hashable {
    public var id: Int64
    public var batchID: Int64
    public var line: Int
    public var field: String?
    public var reason: String
    public var message: String
    /// The offending value as read: personal data, shown only when asked for.
    public var rawValue: String?
    public var attempts: Int
    public var resolvedBy: Int64?

    /// Replayed ``Ledger/maxAttempts`` times without success: flagged for a person.
    public var isFlagged: Bool { attempts >= Ledger.maxAttempts }
}

public struct RejectGroup: Sendable, Codable, Hashable {
    public var reason: String
    public var count: Int
    /// Not yet resolved by a replay.
    public var open: Int
    public var samples: [LedgerReject]
}

public struct StoredCheckpoint: Sendable, Codable, Hashable {
    public var feed: String
    public var position: String
    /// The batch that stored it; nil when set by hand.
    public var batchID: Int64?
    public var updatedAt: String
}

public struct FeedSummary: Sendable, Codable, Hashable {
    public var feed: String
    /// The feed's own batches (replays apart) and their records.
    public var batches = 0
    public var replays = 0
    public var recordsIn = 0
    public var written = 0
    public var rejected = 0
    public var failedBatches = 0
    public var openRejects = 0
    public var flaggedRejects = 0
    public var lastBatch: LedgerBatch?
    public var lastFailure: LedgerBatch?
    public var checkpoint: StoredCheckpoint?

    public init(feed: String) { self.feed = feed }
}

public struct ColumnChange: Sendable, Codable, Hashable {
    public var column: String
    public var old: String?
    public var new: String?
}
