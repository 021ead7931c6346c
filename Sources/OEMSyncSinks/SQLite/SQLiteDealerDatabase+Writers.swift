import OEMSyncCore

extension SQLiteDealerDatabase {
    enum UpsertResult {
        case inserted
        case updated
        case unchanged
        /// A replay met a row a later batch wrote, and left it.
        case newer
    }

    /// The two prepared statements that upsert one table's rows.
    final class TableWriter {
        let insert: SQLiteStatement
        let update: SQLiteStatement?
        let connection: SQLiteConnection
        let provenance: Bool
        /// The batch that last wrote a row, by key (as its origin: a replay counts as the batch it
        /// replays): a replay leaves rows of later batches alone.
        let owner: SQLiteStatement?
        let keyIndexes: [Int]

        init(connection: SQLiteConnection, table: TargetTable, provenance: Bool) throws(SinkError) {
            self.connection = connection
            self.provenance = provenance
            let q = SQLIdentifier.quote
            let n = table.columns.count
            var columns = table.columns.map { q($0.name) }
            var params = (1...n).map { "?\($0)" }
            if provenance {
                columns += [q(SQLIdentifier.batchColumn), q(SQLIdentifier.syncedColumn)]
                params += ["?\(n + 1)", "?\(n + 2)"]
            }
            // The conflict target is the natural key only: a row that collides with another unique
            // constraint must fail (and become a reject), never vanish as "unchanged".
            let keyList = table.keyIndexes.map { q(table.columns[$0].name) }.joined(separator: ", ")
            insert = try connection.prepare(
                "INSERT INTO \(q(table.name)) (\(columns.joined(separator: ", "))) VALUES (\(params.joined(separator: ", "))) ON CONFLICT (\(keyList)) DO NOTHING")
            keyIndexes = table.keyIndexes
            let keyByPosition = table.keyIndexes.enumerated().map { "t.\(q(table.columns[$1].name)) = ?\($0 + 1)" }.joined(separator: " AND ")
            // The origin of the batch that last wrote the row: a replay counts as the batch it replays.
            owner = provenance
                ? try connection.prepare(
                    """
                    SELECT coalesce(b.replay_of, b.id) FROM \(q(table.name)) t JOIN oemsync_batches b ON b.id = t.\(q(SQLIdentifier.batchColumn))
                    WHERE \(keyByPosition)
                    """) : nil
            let values = table.valueIndexes
            if values.isEmpty {
                update = nil  // a key-only table: nothing to update
            } else {
                var sets = values.map { "\(q(table.columns[$0].name)) = ?\($0 + 1)" }
                if provenance { sets += ["\(q(SQLIdentifier.batchColumn)) = ?\(n + 1)", "\(q(SQLIdentifier.syncedColumn)) = ?\(n + 2)"] }
                let key = table.keyIndexes.map { "\(q(table.columns[$0].name)) = ?\($0 + 1)" }.joined(separator: " AND ")
                let changed = values.map { "\(q(table.columns[$0].name)) IS NOT ?\($0 + 1)" }.joined(separator: " OR ")
                update = try connection.prepare(
                    "UPDATE \(q(table.name)) SET \(sets.joined(separator: ", ")) WHERE \(key) AND (\(changed))")
            }
        }

        func upsert(_ row: [Value], batchID: Int64, syncedAt: Value, replayOf: Int64? = nil) throws(SinkError) -> UpsertResult {
            try insert.bind(row)
            if provenance {
                try insert.bind(.int(batchID), at: Int32(row.count + 1))
                try insert.bind(syncedAt, at: Int32(row.count + 2))
            }
            try insert.step()
            if connection.changes == 1 { return .inserted }
            if let replayOf, let owner {
                try owner.bind(keyIndexes.map { row[$0] })
                if try owner.step(), let last = owner.int(0), last > replayOf {
                    owner.reset()
                    return .newer
                }
                owner.reset()
            }
            guard let update else { return .unchanged }
            try update.bind(row)
            if provenance {
                try update.bind(.int(batchID), at: Int32(row.count + 1))
                try update.bind(syncedAt, at: Int32(row.count + 2))
            }
            try update.step()
            return connection.changes == 1 ? .updated : .unchanged
        }
    }

    /// Prepared statements for the ledger, rejects, warnings and checkpoint.
    final class LedgerStatements {
        let connection: SQLiteConnection
        let batch: SQLiteStatement
        let finish: SQLiteStatement
        let reject: SQLiteStatement
        let warning: SQLiteStatement
        let checkpointInsert: SQLiteStatement
        let checkpointUpdate: SQLiteStatement
        let payload: SQLiteStatement
        let resolve: SQLiteStatement

        init(connection: SQLiteConnection) throws(SinkError) {
            self.connection = connection
            // The entry is opened with zero counts (the batch id is needed by the rows' provenance) and
            // closed with the batch's figures in the same transaction.
            batch = try connection.prepare(
                """
                INSERT INTO oemsync_batches (feed, source, source_ref, position_start, position_end, records_in, written,
                    rejected, warnings, status, mapping, mapping_version, dictionary_version, started_at, finished_at,
                    credentials, message_id, replay_of)
                VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0, 'ok', ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            finish = try connection.prepare(
                """
                UPDATE oemsync_batches SET records_in = ?, written = ?, superseded = ?, rejected = ?, warnings = ?, status = ?,
                    inserted = ?, updated = ?, unchanged = ?, position_end = ?, finished_at = ?, requests = ?, duplicates = ?,
                    notes = ?, error = ?, refused = ?, newer = ?
                WHERE id = ?
                """)
            payload = try connection.prepare(
                """
                INSERT INTO oemsync_payloads (batch_id, feed, request, status, content_type, body, encoding, size, first_line, stored_at, lines)
                VALUES (?, ?, ?, ?, ?, ?, 'deflate', ?, ?, ?, ?)
                """)
            reject = try connection.prepare(
                """
                INSERT INTO oemsync_rejects (batch_id, feed, source, line, field, reason, message, raw_value, problems, raw_record, attempts)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            resolve = try connection.prepare("UPDATE oemsync_rejects SET resolved_by = ? WHERE id = ? AND resolved_by IS NULL")
            warning = try connection.prepare(
                """
                INSERT INTO oemsync_warnings (batch_id, feed, source, line, field, reason, message, raw_value, action)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            checkpointInsert = try connection.prepare(
                "INSERT INTO oemsync_checkpoints (feed, position, batch_id, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
            checkpointUpdate = try connection.prepare(
                "UPDATE oemsync_checkpoints SET position = ?, batch_id = ?, updated_at = ? WHERE feed = ? AND position = ?")
        }

        func openBatch(context c: BatchContext) throws(SinkError) -> Int64 {
            try batch.bind([
                .string(c.feed), .string(c.source), .string(c.sourceRef), .string(c.positionStart), .string(c.positionStart),
                .string(c.mapping), .string(c.mappingVersion), .string(c.dictionaryVersion), .datetime(c.startedAt), .datetime(.now()),
                c.credentials.map(Value.string) ?? .null, c.messageID.map(Value.string) ?? .null, c.replayOf.map(Value.int) ?? .null,
            ])
            try batch.step()
            return connection.lastInsertRowID
        }

        func closeBatch(_ r: BatchReceipt, totals t: BatchTotals, end: BatchEnd, status: String) throws(SinkError) {
            try finish.bind([
                .int(Int64(t.recordsIn)), .int(Int64(t.written)), .int(Int64(t.superseded)), .int(Int64(t.rejected)),
                .int(Int64(t.warnings)), .string(status), .int(Int64(r.inserted)), .int(Int64(r.updated)),
                .int(Int64(r.unchanged)), .string(end.positionEnd), .datetime(.now()), .int(Int64(end.requests)),
                .int(Int64(end.duplicates)), end.notes.map(Value.string) ?? .null, end.failure.map { .string($0.message) } ?? .null,
                .int(Int64(r.refused.count)), .int(Int64(r.newer)), .int(r.batchID),
            ])
            try finish.step()
        }

        func insertPayload(_ p: StoredPayload, batchID: Int64, feed: String) throws(SinkError) {
            try payload.bind([
                .int(batchID), .string(feed), .string(p.payload.request), p.payload.status.map { .int(Int64($0)) } ?? .null,
                p.payload.contentType.map(Value.string) ?? .null,
            ])
            try payload.bindBlob(p.deflated, at: 6)
            try payload.bind(
                [.int(Int64(p.payload.body.count)), .int(Int64(p.payload.firstLine)), .datetime(.now()), p.lines.map(Value.string) ?? .null],
                from: 7)
            try payload.step()
        }

        func resolve(_ ids: [Int64], by batchID: Int64) throws(SinkError) {
            for id in ids {
                try resolve.bind([.int(batchID), .int(id)])
                try resolve.step()
            }
        }

        func insertReject(_ r: Reject, batchID: Int64, context c: BatchContext) throws(SinkError) {
            let p = r.primary
            try reject.bind([
                .int(batchID), .string(c.feed), .string(c.source), .int(Int64(r.line)), p.field.map(Value.string) ?? .null,
                .string(p.code), .string(p.message), p.rawValue.map(Value.string) ?? .null, .string(ProblemsJSON.encode(r.problems)),
                .string(r.rawRecord), .int(Int64(r.attempts)),
            ])
            try reject.step()
        }

        func insertWarning(_ w: Warning, batchID: Int64, context c: BatchContext) throws(SinkError) {
            let p = w.problem
            try warning.bind([
                .int(batchID), .string(c.feed), .string(c.source), .int(Int64(w.line)), p.field.map(Value.string) ?? .null,
                .string(p.code), .string(p.message), p.rawValue.map(Value.string) ?? .null, .string(w.action),
            ])
            try warning.step()
        }

        func advanceCheckpoint(context c: BatchContext, to after: String, batchID: Int64) throws(SinkError) -> Bool {
            let now = Value.datetime(.now())
            if let before = c.checkpointBefore {
                try checkpointUpdate.bind([.string(after), .int(batchID), now, .string(c.feed), .string(before)])
                try checkpointUpdate.step()
            } else {
                try checkpointInsert.bind([.string(c.feed), .string(after), .int(batchID), now])
                try checkpointInsert.step()
            }
            return connection.changes == 1
        }
    }
}

/// The problems of a reject as a JSON array, stored beside its primary reason.
enum ProblemsJSON {
    static func encode(_ problems: [RecordProblem]) -> String {
        var out = "["
        for (i, p) in problems.enumerated() {
            if i > 0 { out += "," }
            out += "{\"code\":"
            JSONText.appendQuoted(p.code, to: &out)
            out += ",\"field\":"
            if let f = p.field { JSONText.appendQuoted(f, to: &out) } else { out += "null" }
            out += ",\"message\":"
            JSONText.appendQuoted(p.message, to: &out)
            out += ",\"raw_value\":"
            if let v = p.rawValue { JSONText.appendQuoted(v, to: &out) } else { out += "null" }
            out += "}"
        }
        return out + "]"
    }
}
