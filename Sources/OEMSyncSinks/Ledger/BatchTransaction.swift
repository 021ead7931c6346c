import OEMSyncCore

/// The steps of writing one batch, which each dialect implements with its own statements; the
/// order of the steps, the isolation of refused rows and the ledger's rules live once, in
/// ``commitBatch(_:to:context:)``.
protocol BatchStore: AnyObject {
    var dialect: SQLDialect { get }
    func beginBatch() throws(SinkError)
    func commitBatch() throws(SinkError)
    func rollbackBatch()
    /// Inserts the ledger entry with zero counts and returns its id (the rows' provenance needs it).
    func openBatch(_ context: BatchContext) throws(SinkError) -> Int64
    /// Upserts `rows` of `chunk`; a row the database refuses is reported in the result and the
    /// others are written. Errors that are not about a row (connection lost, disk full) are thrown.
    func writeRows(_ chunk: MappedBatch, table: TargetTable, batchID: Int64, replayOf: Int64?) throws(SinkError) -> RowOutcome
    func insertRejects(_ rejects: [Reject], batchID: Int64, context: BatchContext) throws(SinkError)
    func insertWarnings(_ warnings: [Warning], batchID: Int64, context: BatchContext) throws(SinkError)
    func closeBatch(_ receipt: BatchReceipt, totals: BatchTotals, end: BatchEnd, status: String) throws(SinkError)
    func insertPayload(_ payload: StoredPayload, batchID: Int64, feed: String) throws(SinkError)
    func resolveRejects(_ ids: [Int64], by batchID: Int64) throws(SinkError)
    /// Compare-and-set from `context.checkpointBefore`; false when it changed underneath.
    func advanceCheckpoint(_ context: BatchContext, to after: String, batchID: Int64) throws(SinkError) -> Bool
    /// One statement with `?` placeholders inside the batch's transaction.
    func executeInBatch(_ sql: String, _ values: [Value]) throws(SinkError)
}

/// What upserting a chunk's rows did.
struct RowOutcome {
    var inserted = 0
    var updated = 0
    var unchanged = 0
    /// Rows a replay left alone because a later batch wrote them.
    var newer = 0
    /// Indexes into the chunk's rows that the database refused, with its error.
    var refused: [(index: Int, error: SinkError)] = []
}

/// A payload as stored: deflated, with its size to check on the way out, and the lines of its
/// records as a JSON array when they do not follow each other.
struct StoredPayload {
    var payload: BatchPayload
    var deflated: [UInt8]
    var lines: String?

    init(_ payload: BatchPayload) throws(SinkError) {
        self.payload = payload
        deflated = try Deflate.compress(payload.body)
        lines = payload.lines.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }
    }
}

extension BatchStore {
    /// Writes one batch in one transaction: see ``DealerDatabase/commit(_:to:context:)``.
    func commitBatch(_ chunks: any BatchChunks, to table: TargetTable, context: BatchContext) throws(SinkError) -> BatchReceipt {
        try beginBatch()
        do throws(SinkError) {
            let batchID = try openBatch(context)
            var receipt = BatchReceipt(batchID: batchID, inserted: 0, updated: 0, unchanged: 0)
            var totals = BatchTotals()
            var rejectedLines = Set<Int>()
            while let chunk = chunks.next() {
                try chunk.checkConserved(feed: context.feed)
                let outcome = try writeRows(chunk, table: table, batchID: batchID, replayOf: context.replayOf)
                receipt.inserted += outcome.inserted
                receipt.updated += outcome.updated
                receipt.unchanged += outcome.unchanged
                receipt.newer += outcome.newer
                let refused = outcome.refused.map { r -> Reject in
                    var reject = DatabaseReject.make(chunk, row: r.index, error: r.error, dialect: dialect)
                    if let before = context.attemptsBefore[reject.line] { reject.attempts = before + 1 }
                    return reject
                }
                receipt.refused += refused
                totals.add(chunk)
                totals.refuse(refused.count)
                for r in chunk.rejects { rejectedLines.insert(r.line) }
                for r in refused { rejectedLines.insert(r.line) }
                try insertRejects(chunk.rejects + refused, batchID: batchID, context: context)
                try insertWarnings(chunk.warnings, batchID: batchID, context: context)
            }
            guard var end = chunks.end else { throw SinkError(.abandoned, "the source stopped before the batch ended; rolled back") }
            // The ledger's free text never holds a phone, an ID number, an address or a key, whoever wrote it.
            end.notes = end.notes.map(Redact.scrub)
            if let failure = end.failure { end.failure = BatchFailure(message: Redact.scrub(failure.message)) }
            let status = totals.status(end)
            try closeBatch(receipt, totals: totals, end: end, status: status)
            if context.retention.keeps(status: status), let source = end.payload {
                // A payload the ledger must keep and cannot read fails the batch: its rejects would be unreplayable.
                guard let payload = source.load(records: context.retention.keepsWhole(status: status) ? nil : rejectedLines) else {
                    throw SinkError(.write, "the batch's payload could not be read back for the ledger; rolled back")
                }
                try insertPayload(try StoredPayload(payload), batchID: batchID, feed: context.feed)
            }
            if !context.resolves.isEmpty { try resolveRejects(context.resolves, by: batchID) }
            if let file = end.file {
                let record = file.statement(feed: context.feed, batchID: batchID)
                try executeInBatch(record.sql, record.values)
            }
            if let after = end.checkpointAfter, try !advanceCheckpoint(context, to: after, batchID: batchID) {
                throw SinkError(
                    .checkpoint, "the checkpoint of feed '\(context.feed)' changed underneath this run (another process?); batch rolled back")
            }
            if context.dryRun {
                rollbackBatch()
            } else {
                try commitBatch()
            }
            return receipt
        } catch {
            rollbackBatch()
            var e = error
            e.feed = context.feed
            throw e
        }
    }
}

/// A row the database refused, as a reject: the database's own message (values masked), the
/// row as it was mapped (there is no raw record at this point; the batch's payload has it).
enum DatabaseReject {
    static func make(_ chunk: MappedBatch, row index: Int, error: SinkError, dialect: SQLDialect) -> Reject {
        let code = error.isValueError(dialect) ? "db.value" : "db.constraint"
        var message = error.message
        if let state = error.databaseCode { message += " [\(state)]" }
        var raw = "["
        for (i, v) in chunk.rows[index].enumerated() {
            if i > 0 { raw += "," }
            if let text = v.text { JSONText.appendQuoted(text, to: &raw) } else { raw += "null" }
        }
        raw += "]"
        return Reject(line: chunk.rowLines[index], problems: [RecordProblem(code: code, message: message)], rawRecord: raw)
    }
}

extension SinkError {
    /// Whether the database refused one row's values (a constraint or a value it cannot store),
    /// as opposed to failing as a whole: only such errors are isolated into rejects.
    func isRowError(_ dialect: SQLDialect) -> Bool {
        guard let code = databaseCode else { return false }
        switch dialect {
        case .postgres: return code.hasPrefix("22") || code.hasPrefix("23")
        case .sqlite:
            guard let n = Int(code) else { return false }
            return [18, 19, 20].contains(n & 0xFF)  // TOOBIG, CONSTRAINT, MISMATCH
        }
    }

    func isValueError(_ dialect: SQLDialect) -> Bool {
        guard let code = databaseCode else { return false }
        switch dialect {
        case .postgres: return code.hasPrefix("22")
        case .sqlite: return Int(code).map { [18, 20].contains($0 & 0xFF) } ?? false
        }
    }
}

extension BatchTotals {
    /// Moves `n` rows the database refused from written to rejected.
    mutating func refuse(_ n: Int) {
        written -= n
        rejected += n
    }
}
