import OEMSyncCore

/// The steps of ``BatchStore`` in SQLite: a row the database refuses fails only its own statement
/// (SQLite backs out that statement and keeps the transaction), so refused rows are isolated one by
/// one as they come, with no bisection needed.
extension SQLiteDealerDatabase: BatchStore {
    func beginBatch() throws(SinkError) {
        try connection.execute("BEGIN IMMEDIATE", code: .write)
        syncedAt = .string(Timestamp.now().description)  // formatted once per batch
    }

    func commitBatch() throws(SinkError) { try connection.execute("COMMIT", code: .write) }

    func rollbackBatch() { try? connection.execute("ROLLBACK") }

    func openBatch(_ context: BatchContext) throws(SinkError) -> Int64 { try ledgerStatements().openBatch(context: context) }

    func writeRows(_ chunk: MappedBatch, table: TargetTable, batchID: Int64, replayOf: Int64?) throws(SinkError) -> RowOutcome {
        let writer = try tableWriter(for: table)
        var outcome = RowOutcome()
        for (i, row) in chunk.rows.enumerated() {
            do throws(SinkError) {
                switch try writer.upsert(row, batchID: batchID, syncedAt: syncedAt, replayOf: replayOf) {
                case .inserted: outcome.inserted += 1
                case .updated: outcome.updated += 1
                case .unchanged: outcome.unchanged += 1
                case .newer: outcome.newer += 1
                }
            } catch where error.isRowError(.sqlite) {
                // RAISE(ROLLBACK) or ON CONFLICT ROLLBACK end the whole transaction: not a row to isolate.
                guard !connection.isAutocommit else {
                    throw SinkError(.write, "the database rolled the batch back: \(error.message)")
                }
                outcome.refused.append((i, error))
            }
        }
        return outcome
    }

    func insertRejects(_ rejects: [Reject], batchID: Int64, context: BatchContext) throws(SinkError) {
        let ledger = try ledgerStatements()
        for r in rejects { try ledger.insertReject(r, batchID: batchID, context: context) }
    }

    func insertWarnings(_ warnings: [Warning], batchID: Int64, context: BatchContext) throws(SinkError) {
        let ledger = try ledgerStatements()
        for w in warnings { try ledger.insertWarning(w, batchID: batchID, context: context) }
    }

    func closeBatch(_ receipt: BatchReceipt, totals: BatchTotals, end: BatchEnd, status: String) throws(SinkError) {
        try ledgerStatements().closeBatch(receipt, totals: totals, end: end, status: status)
    }

    func insertPayload(_ payload: StoredPayload, batchID: Int64, feed: String) throws(SinkError) {
        try ledgerStatements().insertPayload(payload, batchID: batchID, feed: feed)
    }

    func resolveRejects(_ ids: [Int64], by batchID: Int64) throws(SinkError) { try ledgerStatements().resolve(ids, by: batchID) }

    func advanceCheckpoint(_ context: BatchContext, to after: String, batchID: Int64) throws(SinkError) -> Bool {
        try ledgerStatements().advanceCheckpoint(context: context, to: after, batchID: batchID)
    }

    func executeInBatch(_ sql: String, _ values: [Value]) throws(SinkError) {
        let statement = try connection.prepare(sql)
        try statement.bind(values)
        try statement.step()
    }
}
