import Foundation
import OEMSyncCore
import OEMSyncMapping
import OEMSyncSinks
import Logging

/// Maps a stored payload again with the feed's current mapping and dictionary, and writes the
/// result as a new ledger entry linked to the original (`replay_of`).
///
/// - The checkpoint never moves: a replay re-applies what was delivered, it does not read on.
/// - Rows a later batch wrote are left alone (a replay never puts older data over newer).
/// - The open rejects of the replayed records are resolved by the new entry whatever the outcome;
///   a record rejected again gets a new reject with one more attempt. After ``Ledger/maxAttempts``
///   a record is flagged and left out of replays unless forced.
/// - A dry run does all of it inside a transaction that is rolled back: its figures are exact (the
///   database's own refusals included) and nothing is written.
public struct Replay: Sendable {
    public var project: Project
    public var database: any DealerDatabase

    public init(project: Project, database: any DealerDatabase) {
        self.project = project
        self.database = database
    }

    /// One batch to replay: the original (whose payload is read), which records, which rejects.
    public struct Target: Sendable {
        public var original: LedgerBatch
        /// The lines to replay; nil for every record of the payload except flagged ones.
        public var lines: Set<Int>?
        /// Open rejects of these records (in the original or an earlier replay of it).
        public var rejects: [LedgerReject]
        /// Flagged rejects left out of this replay.
        public var flagged: [LedgerReject]
    }

    public struct Outcome: Sendable, Codable {
        public var original: Int64
        public var feed: String
        public var dryRun: Bool
        /// The new ledger entry (nil for a dry run).
        public var batch: Int64?
        public var records = 0
        public var inserted = 0
        public var updated = 0
        public var unchanged = 0
        /// Records overwritten by a later record with the same key in the same payload (written).
        public var superseded = 0
        public var newer = 0
        public var rejected = 0
        public var rejectReasons: [String: Int] = [:]
        /// Open rejects resolved (written now, or rejected again with one more attempt).
        public var resolved = 0
        public var rejectedAgain = 0
        public var flagged = 0
        /// A few rows whose stored values would change (dry run only).
        public var sampleChanges: [RowChange] = []
        public var error: String?
    }

    public struct RowChange: Sendable, Codable {
        public var line: Int
        public var key: [String]
        public var changes: [ColumnChange]
        /// No stored row has this key: it would be inserted.
        public var isNew: Bool
    }

    // MARK: Choosing what to replay

    public enum Selection: Sendable {
        case batches([Int64])
        case feed(String, status: String)
        case rejects(reason: String, feed: String?)
    }

    public struct SelectionError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The targets of a selection, one per original batch, oldest first.
    public func targets(_ selection: Selection, force: Bool) throws -> [Target] {
        let ledger = Ledger(database)
        var originals: [Int64: (batch: LedgerBatch, lines: Set<Int>?)] = [:]
        func original(of id: Int64) throws -> LedgerBatch {
            guard let b = try ledger.batch(id) else { throw SelectionError(description: "there is no batch \(id) in the ledger") }
            if let root = b.replayOf {
                guard let r = try ledger.batch(root) else { throw SelectionError(description: "batch \(id) replays batch \(root), which is gone") }
                return r
            }
            return b
        }
        switch selection {
        case .batches(let ids):
            for id in ids {
                let o = try original(of: id)
                originals[o.id] = (o, nil)
            }
        case .feed(let feed, let status):
            var candidates = try ledger.batches(.init(feed: feed, status: status, limit: 1_000_000)).filter { $0.replayOf == nil }
            if status == "partial" {
                let open = Set(try ledger.openRejects(feed: feed).map(\.batchID))
                let withOpen = try Set(open.map { try original(of: $0).id })
                candidates = candidates.filter { withOpen.contains($0.id) }
            }
            if status == "failed" {
                // A failed batch stays selected until a replay of it is no longer failed.
                candidates = try candidates.filter { try !ledger.replays(of: $0.id).contains { $0.status != "failed" } }
            }
            for b in candidates { originals[b.id] = (b, nil) }
        case .rejects(let reason, let feed):
            for r in try ledger.openRejects(feed: feed, reason: reason) {
                let o = try original(of: r.batchID)
                var lines = originals[o.id]?.lines ?? []
                lines.insert(r.line)
                originals[o.id] = (o, lines)
            }
        }
        var targets: [Target] = []
        for (id, entry) in originals.sorted(by: { $0.key < $1.key }) {
            var family = [id] + (try ledger.replays(of: id).map(\.id))
            family.sort()
            var open: [LedgerReject] = []
            for member in family { open += try ledger.openRejects(batch: member) }
            if let lines = entry.lines { open = open.filter { lines.contains($0.line) } }
            let flagged = force ? [] : open.filter(\.isFlagged)
            open = open.filter { force || !$0.isFlagged }
            targets.append(Target(original: entry.batch, lines: entry.lines, rejects: open, flagged: flagged))
        }
        return targets
    }

    // MARK: Replaying

    public func run(_ target: Target, dryRun: Bool, samples: Int = 5) -> Outcome {
        let original = target.original
        var outcome = Outcome(original: original.id, feed: original.feed, dryRun: dryRun)
        outcome.flagged = target.flagged.count
        guard let feed = project.configuration.feed(named: original.feed), let plan = project.plans[feed.name] else {
            outcome.error = "feed '\(original.feed)' is not in the configuration any more"
            return outcome
        }
        let ledger = Ledger(database)
        let payload: BatchPayload
        do {
            guard let p = try ledger.payload(batch: original.id) else {
                outcome.error =
                    "batch \(original.id) has no stored payload (an ok batch keeps its payload only under keep_ok_payloads)"
                return outcome
            }
            payload = p
        } catch {
            outcome.error = error.description
            return outcome
        }
        let read: PayloadRecords
        do {
            read = try PayloadRecords.read(payload, plan: plan)
        } catch {
            outcome.error = "batch \(original.id): \(error.description)"
            return outcome
        }
        let flaggedLines = Set(target.flagged.map(\.line))
        let records = read.records.filter { r in
            (target.lines.map { $0.contains(r.line) } ?? true) && !flaggedLines.contains(r.line)
        }
        outcome.records = records.count
        guard !records.isEmpty else {
            if target.flagged.isEmpty {
                outcome.error =
                    target.lines == nil
                    ? "batch \(original.id) has no records of its own in its payload (every record of the page had come before)"
                    : "batch \(original.id): none of the selected records is in its payload"
            }
            return outcome
        }

        var mapped = BatchMapper(read.bound).map(records)
        let previous = Dictionary(target.rejects.map { ($0.line, $0) }, uniquingKeysWith: { a, b in a.attempts >= b.attempts ? a : b })
        for i in mapped.rejects.indices {
            let line = mapped.rejects[i].line
            if let raw = read.rawJSON(line: line, firstLine: payload.firstLine) { mapped.rejects[i].rawRecord = raw }
            if let before = previous[line] {
                mapped.rejects[i].attempts = before.attempts + 1
                outcome.rejectedAgain += 1
            }
        }
        let replayedLines = Set(records.map(\.line))
        let resolves = target.rejects.filter { replayedLines.contains($0.line) }.map(\.id)
        outcome.resolved = resolves.count

        if dryRun { outcome.sampleChanges = sample(mapped, table: plan.targetTable, limit: samples) }
        let context = BatchContext(
            feed: feed.name, source: original.source, sourceRef: "replay of batch \(original.id)", positionStart: original.positionStart,
            checkpointBefore: nil, mapping: plan.name, mappingVersion: plan.version, dictionaryVersion: plan.dictionaryVersion,
            startedAt: .now(), replayOf: original.id, resolves: resolves)
        var run = context
        run.dryRun = dryRun
        run.attemptsBefore = previous.mapValues(\.attempts)
        do {
            let receipt = try database.commit(
                mapped, to: plan.targetTable, context: run, end: BatchEnd(positionEnd: original.positionEnd, checkpointAfter: nil))
            outcome.batch = dryRun ? nil : receipt.batchID
            outcome.inserted = receipt.inserted
            outcome.updated = receipt.updated
            outcome.unchanged = receipt.unchanged
            outcome.superseded = mapped.superseded
            outcome.newer = receipt.newer
            let reasons = mapped.rejects.map(\.primary.code) + receipt.refused.map(\.primary.code)
            outcome.rejected = reasons.count
            for r in reasons { outcome.rejectReasons[r, default: 0] += 1 }
            // A row the database refused again is a reject again too.
            let refusedLines = Set(receipt.refused.map(\.line))
            outcome.rejectedAgain += target.rejects.filter { refusedLines.contains($0.line) }.count
        } catch {
            outcome.error = error.description
        }
        return outcome
    }

    /// Rows whose stored values differ (or that are new), from the first rows of the batch.
    private func sample(_ mapped: MappedBatch, table: TargetTable, limit: Int) -> [RowChange] {
        let ledger = Ledger(database)
        var out: [RowChange] = []
        for (i, row) in mapped.rows.prefix(2000).enumerated() where out.count < limit {
            let key = table.keyIndexes.map { row[$0].text ?? "" }
            do {
                if let diff = try ledger.difference(row, in: table) {
                    if !diff.isEmpty { out.append(RowChange(line: mapped.rowLines[i], key: key, changes: diff, isNew: false)) }
                } else {
                    out.append(RowChange(line: mapped.rowLines[i], key: key, changes: [], isNew: true))
                }
            } catch {
                break  // the sample is a courtesy; the dry run's figures come from the transaction
            }
        }
        return out
    }
}

extension FeedSettings {
    /// Drops payloads of this feed's ok batches older than `keep_ok_payloads` (those of failed and
    /// partial batches stay). Run at the start of each pass; a failure is logged, not fatal.
    func purgeExpiredPayloads(_ database: any DealerDatabase, logger: Logger, now: Timestamp = .now()) {
        guard retention.okSeconds > 0 else { return }
        do {
            let removed = try Ledger(database).purgeOKPayloads(
                feed: name, storedBefore: Timestamp(microseconds: now.microseconds - retention.okSeconds * 1_000_000))
            if removed > 0 { logger.info("payloads expired", metadata: [LogKey.records: .stringConvertible(removed)]) }
        } catch {
            logger.warning("payloads not expired", metadata: [LogKey.error: .string(error.description)])
        }
    }
}
