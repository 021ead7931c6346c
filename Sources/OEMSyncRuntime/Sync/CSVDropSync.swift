import Foundation
import Logging
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import OEMSyncSinks

/// One pass of a CSV drop feed: resume a file an earlier run left in `processing/`, then claim and
/// load every complete file waiting in the directory, oldest first.
///
/// Per file: decide where to start (its checkpoint, if it is the file the checkpoint names), read
/// the header and bind the mapping (a file that cannot be bound is quarantined, untouched), then
/// stream batches of `batch_rows` records: map, and commit rows + rejects + ledger + checkpoint in
/// one transaction. A database failure stops the feed and leaves the file in `processing/`, to
/// resume from its checkpoint next time.
public struct CSVDropSync: Sendable {
    /// Records read and mapped at a time; a batch (transaction) is one or more chunks.
    static let chunkRows = 5000

    public var feed: FeedSettings
    public var source: CSVDropSettings
    public var plan: MappingPlan
    public var database: any DealerDatabase
    public var logger: Logger
    /// Asked before each file and batch whether to go on (the daemon's windows and shutdown).
    public var control: RunControl
    /// The time batches are stamped with.
    public var clock: any SyncClock

    /// - Parameter source: the feed's drop directory settings (`feed.source` must be a CSV drop).
    public init(
        feed: FeedSettings, source: CSVDropSettings, plan: MappingPlan, database: any DealerDatabase, logger: Logger,
        control: RunControl = .none, clock: any SyncClock = SystemClock()
    ) {
        self.feed = feed
        self.source = source
        self.plan = plan
        self.database = database
        self.control = control
        self.clock = clock
        var logger = logger
        logger[metadataKey: LogKey.feed] = .string(feed.name)
        self.logger = logger
    }

    public func run() -> FeedReport {
        var report = FeedReport(feed: feed.name)
        let drop = source.drop
        do {
            try drop.prepare()
        } catch {
            report.error = FeedError(.source, feed: feed.name, error.description)
            return report
        }
        let lock: DirectoryLock
        do {
            lock = try DirectoryLock(directory: drop.path)
        } catch {
            report.error = FeedError(.busy, feed: feed.name, error.description)
            return report
        }
        defer { withExtendedLifetime(lock) {} }
        feed.purgeExpiredPayloads(database, logger: logger, now: clock.now())
        /// False when the feed must stop here: a failure, or a hold (the file stays in `processing/`).
        func record(_ result: FileReport, _ file: DropDirectory.ClaimedFile) -> Bool {
            report.files.append(result)
            switch result.outcome {
            case .failed(let message):
                report.error = FeedError(.database, feed: feed.name, file: file.originalName, message)
                return false
            case .parked(let reason):
                report.held = result.held ?? RunControl.Hold(reason: reason)
                return false
            default:
                return true
            }
        }
        func held() -> Bool {
            guard let hold = control.hold(clock.now()) else { return false }
            logger.notice("feed held", metadata: [LogKey.reason: .string(hold.reason)])
            report.held = hold
            return true
        }
        do {
            let healed = try heal(drop)
            for file in try drop.claimedFiles() {
                if held() { return report }
                var result = load(file, drop: drop)
                if healed.contains(file.claimedName) { result.note = "loaded again from archive/: the database did not hold its load" }
                guard record(result, file) else { return report }
            }
            for waiting in try drop.readyFiles() {
                if held() { return report }
                guard let file = try drop.claim(waiting) else { continue }  // another process took it
                logger.info("file claimed", metadata: [LogKey.file: .string(file.originalName), LogKey.claimed: .string(file.claimedName)])
                guard record(load(file, drop: drop), file) else { return report }
            }
        } catch let error as SinkError {
            report.error = FeedError(.database, feed: feed.name, error.description)
        } catch {
            report.error = FeedError(.source, feed: feed.name, "\(error)")
        }
        return report
    }

    /// Files in `archive/` whose load the database does not hold (it lost commits it had
    /// acknowledged, or was restored from a backup), moved back to `processing/` to be loaded
    /// again: newest claim first, until the first archived file the ledger knows. A database
    /// without any batch of the feed (a new one) is not compared with the archive.
    /// Returns the claimed names moved back.
    func heal(_ drop: DropDirectory) throws -> Set<String> {
        let ledger = Ledger(database)
        guard try ledger.hasBatches(feed: feed.name) else { return [] }
        var healed: Set<String> = []
        for name in try drop.archivedFiles() {
            var st = stat()
            guard lstat((drop.archivePath as NSString).appendingPathComponent(name), &st) == 0 else { continue }
            if try ledger.knowsFinished(feed: feed.name, claimedName: name, size: Int64(st.st_size)) { break }
            healed.insert(try drop.unarchive(name).claimedName)
            logger.warning(
                "archived file not in the database: loading it again",
                metadata: [LogKey.file: .string(DropDirectory.originalName(of: name)), LogKey.claimed: .string(name)])
        }
        return healed
    }

    /// Loads one claimed file to its end, or quarantines it, or stops on a database failure.
    func load(_ file: DropDirectory.ClaimedFile, drop: DropDirectory) -> FileReport {
        var report = FileReport(name: file.originalName, claimedName: file.claimedName, outcome: .failed(message: ""))
        var content: FileDigest.Content?
        func quarantine(_ reason: String) -> FileReport {
            do {
                let path = try drop.quarantine(file, reason: reason)
                logger.warning(
                    "file quarantined",
                    metadata: [LogKey.file: .string(file.originalName), LogKey.claimed: .string(file.claimedName), LogKey.reason: .string(reason)])
                report.outcome = .quarantined(path: path, reason: reason)
            } catch {
                report.outcome = .failed(message: error.description)
                return report
            }
            // The quarantine itself is done; its ledger entry is for people, and waits for no database.
            let record = FileRecord(
                claimedName: file.claimedName, originalName: file.originalName, size: content?.size ?? 0, sha256: content?.sha256,
                outcome: .quarantined, reason: reason)
            do {
                try Ledger(database).record(record, feed: feed.name)
            } catch {
                logger.warning("quarantine not recorded in the ledger", metadata: [LogKey.file: .string(file.originalName), LogKey.error: .string(error.description)])
            }
            return report
        }
        func fail(_ message: String) -> FileReport {
            logger.error("feed stopped", metadata: [LogKey.file: .string(file.originalName), LogKey.error: .string(message)])
            report.outcome = .failed(message: message)
            return report
        }
        // Not a regular file (a symbolic link, a FIFO, a directory): never opened, never followed.
        if let refusal = file.refusal { return quarantine(refusal) }

        // Where to start: the checkpoint, if it names this very claim.
        let stored: String?
        do {
            stored = try database.checkpoint(feed: feed.name)
        } catch {
            return fail(error.description)
        }
        let previous = stored.flatMap(CSVDropCheckpoint.parse)
        let format = CSVFormat(
            delimiter: plan.source.delimiter, header: plan.source.header, encoding: plan.source.encoding,
            maxRecordBytes: source.maxRecordBytes)
        let reader: CSVReader
        do {
            reader = try CSVReader(path: file.path, format: format)
        } catch {
            // A file this process may not read, or that stopped being a regular file: it would fail
            // every run and hold up every file behind it.
            return quarantine("cannot be read: \(error.description)")
        }
        let resume = previous?.file == file.claimedName ? previous : nil
        if let resume, resume.size != reader.fileSize {
            return quarantine("the file changed size since loading started (\(resume.size) -> \(reader.fileSize) bytes); not resumed")
        }
        if reader.fileSize == 0 { return quarantine("empty file: no header row and no records") }
        if reader.looksBinary { return quarantine("not a text file: it contains NUL bytes") }
        let digest: FileDigest.Content
        do {
            digest = try FileDigest.content(path: file.path)
        } catch {
            return fail(error.description)
        }
        content = digest
        if let resume, let before = resume.crc32, before != digest.crc32 {
            return quarantine("the file's content changed since loading started (CRC-32 \(before) -> \(digest.crc32)); not resumed")
        }
        // The same content loaded before (an OEM's resend): a ledger entry says so, nothing is written.
        if resume == nil, source.duplicates == .skip {
            do {
                if let earlier = try Ledger(database).loadedContent(feed: feed.name, sha256: digest.sha256) {
                    return skipDuplicate(file, drop: drop, content: digest, earlier: earlier, checkpoint: stored, report: report)
                }
            } catch {
                return fail(error.description)
            }
        }

        var header: [String]?
        var headerEnd: Int64 = 0
        if plan.source.header {
            do {
                guard let row = try reader.readHeader() else { return quarantine("empty file: no header row") }
                if let problem = row.problem { return quarantine("header row (line 1): \(problem.message)") }
                header = row.fields
                headerEnd = reader.position.byteOffset
            } catch {
                return fail(error.description)
            }
        }
        let bound: BoundMapping
        do {
            bound = try BoundMapping(plan: plan, header: header)
        } catch {
            return quarantine("header row (line 1) does not fit mapping '\(plan.file)': \(error.description)")
        }
        if let resume {
            do {
                try reader.seek(to: resume.position)
            } catch {
                return fail(error.description)
            }
            report.resumedFrom = resume.position.description
            logger.info("file resumed", metadata: [LogKey.file: .string(file.originalName), LogKey.position: .string(resume.position.description)])
        }

        let identity = FileIdentity(
            claimed: file, size: reader.fileSize, crc32: digest.crc32, sha256: digest.sha256, headerEnd: headerEnd, encoding: reader.encoding)
        let (committed, failure, readError, hold) = stream(reader, bound: bound, file: identity, checkpoint: stored, resumed: resume != nil)
        for c in committed { report.add(c) }
        if let failure { return fail(failure.description) }
        if let readError { return fail(readError) }
        if let hold {
            logger.notice("file held", metadata: [LogKey.file: .string(file.originalName), LogKey.reason: .string(hold.reason)])
            report.outcome = .parked(reason: hold.reason)
            report.held = hold
            return report
        }
        do {
            let path = try drop.archive(file)
            report.outcome = .archived(path: path)
            logger.info(
                "file loaded",
                metadata: [
                    LogKey.file: .string(file.originalName), LogKey.records: .stringConvertible(report.recordsIn),
                    LogKey.written: .stringConvertible(report.written), LogKey.rejected: .stringConvertible(report.rejected),
                ])
        } catch {
            return fail(error.description)
        }
        return report
    }

    /// Records a file whose content the feed loaded before as an `ok` batch without records whose
    /// note names the earlier batch, then archives it.
    func skipDuplicate(
        _ file: DropDirectory.ClaimedFile, drop: DropDirectory, content: FileDigest.Content, earlier: LoadedFile, checkpoint: String?,
        report: FileReport
    ) -> FileReport {
        var report = report
        let note =
            "same content (SHA-256 \(content.sha256.prefix(12))…) as '\(earlier.originalName)' (\(earlier.claimedName)), loaded by batch \(earlier.batchID): skipped; `oemsync sync \(feed.name) --once --reload-duplicates` loads it"
        let now = clock.now()
        let context = BatchContext(
            feed: feed.name, source: file.originalName, sourceRef: file.claimedName, positionStart: CSVPosition.start.description,
            checkpointBefore: checkpoint, mapping: plan.name, mappingVersion: plan.version, dictionaryVersion: plan.dictionaryVersion,
            startedAt: now, retention: feed.retention)
        let end = BatchEnd(
            positionEnd: CSVPosition(byteOffset: content.size, line: 1).description, checkpointAfter: nil, notes: note,
            file: FileRecord(
                claimedName: file.claimedName, originalName: file.originalName, size: content.size, sha256: content.sha256, outcome: .skipped,
                sameAs: earlier.batchID))
        do {
            let receipt = try database.commit(MappedBatch(), to: plan.targetTable, context: context, end: end)
            report.batches = 1
            report.note = "skipped: same content as batch \(earlier.batchID) ('\(earlier.originalName)')"
            logger.notice(
                "file skipped: same content loaded before",
                metadata: [LogKey.file: .string(file.originalName), LogKey.batch: .stringConvertible(receipt.batchID), "oemsync.same_as": .stringConvertible(earlier.batchID)])
            report.outcome = .archived(path: try drop.archive(file))
        } catch {
            logger.error("feed stopped", metadata: [LogKey.file: .string(file.originalName), LogKey.error: .string("\(error)")])
            report.outcome = .failed(message: "\(error)")
        }
        return report
    }
}
