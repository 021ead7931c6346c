import OEMSyncCore

/// The steps of ``BatchStore`` in PostgreSQL. A chunk's rows go in as one `COPY` and one upsert
/// inside a savepoint; when the database refuses a row, the savepoint is rolled back and the chunk
/// split in halves, recursively, until each refused row stands alone (k bad rows in n cost about
/// k·log2(n) small round trips; a clean chunk costs two statements more than without the savepoint).
extension PostgresDealerDatabase: BatchStore {
    func beginBatch() throws(SinkError) {
        try connection.execute("BEGIN", code: .write)
        staged = false
    }

    func commitBatch() throws(SinkError) { try connection.execute("COMMIT", code: .write) }

    /// A staging table created in the rolled-back transaction is gone with it: forget the cached
    /// statements, so the next batch creates it again (`CREATE TEMP TABLE IF NOT EXISTS`).
    func rollbackBatch() {
        try? connection.execute("ROLLBACK")
        forgetStagingTables()
    }

    func openBatch(_ c: BatchContext) throws(SinkError) -> Int64 {
        let id = try connection.query(
            """
            INSERT INTO oemsync_batches (feed, source, source_ref, position_start, position_end, records_in, written,
                rejected, warnings, status, mapping, mapping_version, dictionary_version, started_at, finished_at,
                credentials, message_id, replay_of)
            VALUES ($1, $2, $3, $4, $4, 0, 0, 0, 0, 'ok', $5, $6, $7, $8, clock_timestamp(), $9, $10, $11)
            RETURNING id
            """,
            [
                c.feed, c.source, c.sourceRef, c.positionStart, c.mapping, c.mappingVersion, c.dictionaryVersion,
                c.startedAt.description, c.credentials, c.messageID, c.replayOf.map(String.init),
            ],
            code: .write)
        guard let text = id.first?[0] ?? nil, let batchID = Int64(text) else { throw SinkError(.write, "ledger insert returned no id") }
        return batchID
    }

    func writeRows(_ chunk: MappedBatch, table: TargetTable, batchID: Int64, replayOf: Int64?) throws(SinkError) -> RowOutcome {
        var outcome = RowOutcome()
        guard !chunk.rows.isEmpty else { return outcome }
        let upsert = try upsertStatement(for: table)
        try write(
            Array(chunk.rows.indices), of: chunk, encoded: chunk.encodedRows, upsert: upsert, batchID: batchID, replayOf: replayOf,
            into: &outcome)
        return outcome
    }

    /// Writes the rows at `indexes` in a savepoint; on a refused row, bisects.
    private func write(
        _ indexes: [Int], of chunk: MappedBatch, encoded: [UInt8]?, upsert: UpsertStatement, batchID: Int64, replayOf: Int64?,
        into outcome: inout RowOutcome
    ) throws(SinkError) {
        try connection.execute("SAVEPOINT oemsync_rows", code: .write)
        do throws(SinkError) {
            if staged { try connection.execute(upsert.clear, code: .write) }
            staged = true
            try connection.copyIn(upsert.copy, data: encoded ?? Self.encode(indexes.map { chunk.rows[$0] }))
            var newer = 0
            let counts: [[String?]]
            if let replayOf {
                if let query = upsert.newer { newer = Int(try connection.query(query, [String(replayOf)], code: .write).first?[0] ?? "0") ?? 0 }
                counts = try connection.query(upsert.replayUpsert, [String(batchID), String(replayOf)], code: .write)
            } else {
                counts = try connection.query(upsert.upsert, [String(batchID)], code: .write)
            }
            try connection.execute("RELEASE SAVEPOINT oemsync_rows", code: .write)
            let inserted = Int(counts.first?[0] ?? "0") ?? 0
            let updated = Int(counts.first?[1] ?? "0") ?? 0
            outcome.inserted += inserted
            outcome.updated += updated
            outcome.newer += newer
            outcome.unchanged += indexes.count - inserted - updated - newer
        } catch where error.isRowError(.postgres) {
            try connection.execute("ROLLBACK TO SAVEPOINT oemsync_rows; RELEASE SAVEPOINT oemsync_rows", code: .write)
            if indexes.count == 1 {
                outcome.refused.append((indexes[0], error))
                return
            }
            let half = indexes.count / 2
            try write(Array(indexes[..<half]), of: chunk, encoded: nil, upsert: upsert, batchID: batchID, replayOf: replayOf, into: &outcome)
            try write(Array(indexes[half...]), of: chunk, encoded: nil, upsert: upsert, batchID: batchID, replayOf: replayOf, into: &outcome)
        }
    }

    func insertRejects(_ rejects: [Reject], batchID: Int64, context: BatchContext) throws(SinkError) {
        try copyRejects(rejects, batchID: batchID, context: context)
    }

    func insertWarnings(_ warnings: [Warning], batchID: Int64, context: BatchContext) throws(SinkError) {
        try copyWarnings(warnings, batchID: batchID, context: context)
    }

    func closeBatch(_ receipt: BatchReceipt, totals t: BatchTotals, end: BatchEnd, status: String) throws(SinkError) {
        let figures: [String?] = [
            String(t.recordsIn), String(t.written), String(t.superseded), String(t.rejected), String(t.warnings), status,
            String(receipt.inserted), String(receipt.updated), String(receipt.unchanged), end.positionEnd, String(end.requests),
            String(end.duplicates), end.notes, end.failure?.message, String(receipt.refused.count), String(receipt.newer),
            String(receipt.batchID),
        ]
        _ = try connection.command(
            """
            UPDATE oemsync_batches SET records_in = $1, written = $2, superseded = $3, rejected = $4, warnings = $5,
                status = $6, inserted = $7, updated = $8, unchanged = $9, position_end = $10, finished_at = clock_timestamp(),
                requests = $11, duplicates = $12, notes = $13, error = $14, refused = $15, newer = $16
            WHERE id = $17
            """, figures, code: .write)
    }

    func insertPayload(_ p: StoredPayload, batchID: Int64, feed: String) throws(SinkError) {
        // bytea in hex input form: the body goes in as a bound parameter like any other value.
        _ = try connection.command(
            """
            INSERT INTO oemsync_payloads (batch_id, feed, request, status, content_type, body, encoding, size, first_line, stored_at, lines)
            VALUES ($1, $2, $3, $4, $5, $6::bytea, 'deflate', $7, $8, now(), $9)
            """,
            [
                String(batchID), feed, p.payload.request, p.payload.status.map(String.init), p.payload.contentType,
                Self.byteaHex(p.deflated), String(p.payload.body.count), String(p.payload.firstLine), p.lines,
            ], code: .write)
    }

    func resolveRejects(_ ids: [Int64], by batchID: Int64) throws(SinkError) {
        let list = "{" + ids.map(String.init).joined(separator: ",") + "}"
        _ = try connection.command(
            "UPDATE oemsync_rejects SET resolved_by = $1 WHERE id = ANY($2::bigint[]) AND resolved_by IS NULL", [String(batchID), list],
            code: .write)
    }

    func advanceCheckpoint(_ c: BatchContext, to after: String, batchID: Int64) throws(SinkError) -> Bool {
        if let before = c.checkpointBefore {
            return try connection.command(
                "UPDATE oemsync_checkpoints SET position = $1, batch_id = $2, updated_at = now() WHERE feed = $3 AND position = $4",
                [after, String(batchID), c.feed, before], code: .checkpoint) == 1
        }
        return try connection.command(
            "INSERT INTO oemsync_checkpoints (feed, position, batch_id, updated_at) VALUES ($1, $2, $3, now()) ON CONFLICT DO NOTHING",
            [c.feed, after, String(batchID)], code: .checkpoint) == 1
    }

    func executeInBatch(_ sql: String, _ values: [Value]) throws(SinkError) {
        _ = try connection.command(Self.numbered(sql), values.map(\.text), code: .write)
    }
}
