import Foundation
import Logging
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import OEMSyncSinks

/// A CSV drop feed's pass: resume the files an earlier run left in `processing/`, then claim and
/// load every complete file waiting in the directory, oldest first. Each file is a unit.
///
/// Per file: decide where to start (the checkpoint, if it names this very claim), read the header
/// and bind the mapping (a file that cannot be bound is quarantined, untouched), then deliver
/// batches of `batch_rows` records, read 5000 at a time. The file's last batch records it as
/// loaded in `oemsync_files`; once it is committed the file moves to `archive/`. A database
/// failure stops the feed and leaves the file in `processing/`, to resume from its checkpoint.
final class CSVDropSource: FeedSource {
    /// Records read and mapped at a time; a batch (transaction) is one or more chunks.
    static let chunkRows = 5000

    private let feed: FeedSettings
    private let settings: CSVDropSettings
    private let plan: MappingPlan
    private let database: any DealerDatabase
    private let logger: Logger
    private let control: RunControl
    private let clock: any SyncClock
    /// The checkpoint when the run started: the file it names resumes from it.
    private let stored: CSVDropCheckpoint?
    private var drop: DropDirectory { settings.drop }
    /// Held for the whole run: no other process claims from this directory meanwhile.
    private var lock: DirectoryLock?
    private var pending: [SourceStep] = []
    /// Files to load, in order: those left in `processing/` (and moved back from `archive/`), then
    /// the waiting ones, listed once the first are loaded.
    private var claimed: [DropDirectory.ClaimedFile] = []
    private var waiting: [DropDirectory.Waiting]?
    private var healed: Set<String> = []
    /// The file being streamed, batch after batch.
    private var stream: FileStream?

    init(_ run: SourceRun, settings: CSVDropSettings) {
        let feed = run.feed
        self.feed = feed
        self.settings = settings
        plan = run.plan
        database = run.database
        logger = run.logger
        control = run.control
        clock = run.services.clock
        stored = run.checkpoint.flatMap(CSVDropCheckpoint.parse)
        do {
            try settings.drop.prepare()
        } catch {
            pending = [.stop(FeedError(.source, feed: feed.name, error.description))]
            return
        }
        do {
            lock = try DirectoryLock(directory: settings.drop.path)
        } catch {
            pending = [.stop(FeedError(.busy, feed: feed.name, error.description))]
            return
        }
        do {
            healed = try heal()
            claimed = try drop.claimedFiles()
        } catch {
            pending = [.stop(Self.error(error, feed: feed.name))]
        }
    }

    func next() -> SourceStep {
        if !pending.isEmpty { return pending.removeFirst() }
        if let stream { return stream.next() }
        // Each file starts only if the control lets it (a window near, the daemon stopping); a run
        // with no file left ends, held by nothing.
        func held() -> RunControl.Hold? { control.hold(clock.now()) }
        do {
            if !claimed.isEmpty {
                if let hold = held() { return .parked(hold, quotaSpent: false) }
                start(claimed.removeFirst())
                return next()
            }
            if waiting == nil { waiting = try drop.readyFiles() }
            while let file = waiting?.first {
                if let hold = held() { return .parked(hold, quotaSpent: false) }
                waiting?.removeFirst()
                guard let claimedFile = try drop.claim(file) else { continue }  // another process took it
                logger.info(
                    "file claimed", metadata: [LogKey.file: .string(claimedFile.originalName), LogKey.claimed: .string(claimedFile.claimedName)])
                start(claimedFile)
                return next()
            }
            return .done
        } catch {
            return .stop(Self.error(error, feed: feed.name))
        }
    }

    /// Stops streaming the open file. The directory lock stays until the run is over (the source
    /// is released): the writer may still be committing the file's last batches.
    func cancel() { stream = nil }

    private static func error(_ error: any Error, feed: String) -> FeedError {
        if let e = error as? SinkError { return FeedError(.database, feed: feed, e.description) }
        return FeedError(.source, feed: feed, "\(error)")
    }

    /// Files in `archive/` whose load the database does not hold (it lost commits it had
    /// acknowledged, or was restored from a backup), moved back to `processing/` to be loaded
    /// again: newest claim first, until the first archived file the ledger knows. A database
    /// without any batch of the feed (a new one) is not compared with the archive.
    /// Returns the claimed names moved back.
    private func heal() throws -> Set<String> {
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

    /// Queues the steps that open a claimed file: its unit, then its batches (``FileStream``), a
    /// skip as a duplicate, a quarantine, or a stop.
    private func start(_ file: DropDirectory.ClaimedFile) {
        var report = FileReport(name: file.originalName, claimedName: file.claimedName, outcome: .failed(message: ""))
        if healed.contains(file.claimedName) { report.note = "loaded again from archive/: the database did not hold its load" }
        var content: FileDigest.Content?
        func quarantine(_ reason: String) {
            do {
                let path = try drop.quarantine(file, reason: reason)
                logger.warning(
                    "file quarantined",
                    metadata: [LogKey.file: .string(file.originalName), LogKey.claimed: .string(file.claimedName), LogKey.reason: .string(reason)])
                pending = [.begin(report, file: file.originalName), .finished(.quarantined(path: path, reason: reason))]
            } catch {
                fail(error.description)
                return
            }
            // The quarantine itself is done; its ledger entry is for people, and waits for no database.
            let record = FileRecord(
                claimedName: file.claimedName, originalName: file.originalName, size: content?.size ?? 0, sha256: content?.sha256,
                outcome: .quarantined, reason: reason)
            do {
                try Ledger(database).record(record, feed: feed.name)
            } catch {
                logger.warning(
                    "quarantine not recorded in the ledger", metadata: [LogKey.file: .string(file.originalName), LogKey.error: .string(error.description)])
            }
        }
        func fail(_ message: String) {
            pending = [.begin(report, file: file.originalName), .stop(FeedError(.database, feed: feed.name, file: file.originalName, message))]
        }
        // Not a regular file (a symbolic link, a FIFO, a directory): never opened, never followed.
        if let refusal = file.refusal { return quarantine(refusal) }

        let format = CSVFormat(
            delimiter: plan.source.delimiter, header: plan.source.header, encoding: plan.source.encoding, maxRecordBytes: settings.maxRecordBytes)
        let reader: CSVReader
        do {
            reader = try CSVReader(path: file.path, format: format)
        } catch {
            // A file this process may not read, or that stopped being a regular file: it would fail
            // every run and hold up every file behind it.
            return quarantine("cannot be read: \(error.description)")
        }
        // Where to start: the checkpoint, if it names this very claim.
        let resume = stored?.file == file.claimedName ? stored : nil
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
        if resume == nil, settings.duplicates == .skip {
            do {
                if let earlier = try Ledger(database).loadedContent(feed: feed.name, sha256: digest.sha256) {
                    return skipDuplicate(file, report: report, content: digest, earlier: earlier)
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
        // A resume at the end of a file whose last batch committed, but which was not archived yet.
        let endRecorded =
            resume != nil && ((try? Ledger(database).knowsFinished(feed: feed.name, claimedName: file.claimedName, size: identity.size)) ?? false)
        pending = [.begin(report, file: file.originalName)]
        stream = FileStream(
            feed: feed.name, reader: reader, mapper: BatchMapper(bound), file: identity, batchRows: settings.batchRows, endRecorded: endRecorded,
            settle: archive(file))
        stream?.done = { [weak self] in self?.stream = nil }
    }

    /// Archives a loaded file, once its last batch is committed.
    private func archive(_ file: DropDirectory.ClaimedFile) -> (inout FileReport) -> Void {
        { [drop, logger] report in
            do throws(DropDirectory.DropError) {
                report.outcome = .archived(path: try drop.archive(file))
                logger.info(
                    "file loaded",
                    metadata: [
                        LogKey.file: .string(file.originalName), LogKey.records: .stringConvertible(report.recordsIn),
                        LogKey.written: .stringConvertible(report.written), LogKey.rejected: .stringConvertible(report.rejected),
                    ])
            } catch {
                report.outcome = .failed(message: error.description)
            }
        }
    }

    /// A file whose content the feed loaded before: an `ok` batch without records whose note names
    /// the earlier batch, then the archive.
    private func skipDuplicate(_ file: DropDirectory.ClaimedFile, report: FileReport, content: FileDigest.Content, earlier: LoadedFile) {
        let note =
            "same content (SHA-256 \(content.sha256.prefix(12))…) as '\(earlier.originalName)' (\(earlier.claimedName)), loaded by batch \(earlier.batchID): skipped; `oemsync sync \(feed.name) --once --reload-duplicates` loads it"
        let end = BatchEnd(
            positionEnd: CSVPosition(byteOffset: content.size, line: 1).description, checkpointAfter: nil, notes: note,
            file: FileRecord(
                claimedName: file.claimedName, originalName: file.originalName, size: content.size, sha256: content.sha256, outcome: .skipped,
                sameAs: earlier.batchID))
        let archive = archive(file)
        let logger = self.logger
        pending = [
            .begin(report, file: file.originalName),
            .batch(
                .single(
                    source: file.originalName, sourceRef: file.claimedName, positionStart: CSVPosition.start.description, mapper: nil, records: [],
                    end: { end })),
            .end(settle: { report in
                report.note = "skipped: same content as batch \(earlier.batchID) ('\(earlier.originalName)')"
                logger.notice(
                    "file skipped: same content loaded before",
                    metadata: [LogKey.file: .string(file.originalName), "oemsync.same_as": .stringConvertible(earlier.batchID)])
                archive(&report)
            }),
        ]
    }
}

/// One claimed file read batch after batch: each batch up to `batch_rows` records, read in chunks
/// of at most ``CSVDropSource/chunkRows``, carrying the checkpoint after its last record and, when
/// the ledger keeps it, its bytes (``FileRangePayload``).
private final class FileStream {
    let feed: String
    let reader: CSVReader
    let mapper: BatchMapper
    let file: FileIdentity
    let batchRows: Int
    /// Whether a resumed file's end is recorded already (then it gets no empty batch).
    let endRecorded: Bool
    let settle: (inout FileReport) -> Void
    /// Called once the file's last batch is handed over.
    var done: () -> Void = {}
    private var batches = 0
    private var atEnd = false

    init(
        feed: String, reader: CSVReader, mapper: BatchMapper, file: FileIdentity, batchRows: Int, endRecorded: Bool,
        settle: @escaping (inout FileReport) -> Void
    ) {
        self.feed = feed
        self.reader = reader
        self.mapper = mapper
        self.file = file
        self.batchRows = batchRows
        self.endRecorded = endRecorded
        self.settle = settle
    }

    /// Reads up to `want` records; `atEnd` when fewer came or the last byte was read.
    private func read(_ want: Int, starts: inout [Int64], lines: inout [Int]) throws(SourceReadError) -> [RawRecord] {
        var records: [RawRecord] = []
        records.reserveCapacity(want)
        do {
            while records.count < want {
                let offset = reader.position.byteOffset
                guard let record = try reader.next() else { break }
                starts.append(offset)
                lines.append(record.line)
                records.append(record)
            }
        } catch {
            throw SourceReadError(message: error.description)
        }
        atEnd = records.count < want || reader.position.byteOffset >= reader.fileSize
        return records
    }

    func next() -> SourceStep {
        if atEnd {
            done()
            return .end(settle: settle)
        }
        let chunkRows = min(batchRows, CSVDropSource.chunkRows)
        let start = reader.position
        // Where each record of the batch starts: a partial batch keeps its rejected records' bytes.
        var starts: [Int64] = []
        var lines: [Int] = []
        let first: [RawRecord]
        do {
            first = try read(chunkRows, starts: &starts, lines: &lines)
        } catch {
            done()
            return .stop(FeedError(.database, feed: feed, file: file.claimed.originalName, error.message))
        }
        // Nothing left to read: an empty batch still records the file as read to its end (a file
        // without records; the batch before filled up exactly at the end), unless a resume finds
        // that recorded already.
        if first.isEmpty, batches == 0, endRecorded {
            done()
            return .end(settle: settle)
        }
        var inBatch = first.count
        // The first chunk is handed over once, and not kept while the rest of the batch is read.
        var firstChunk: [RawRecord]? = first
        let claimed = file.claimed
        return .batch(
            SourceBatch(
                source: claimed.originalName, sourceRef: claimed.claimedName, positionStart: start.description, mapper: mapper,
                chunks: { [self] () throws(SourceReadError) -> [RawRecord]? in
                    if let chunk = firstChunk {
                        firstChunk = nil
                        return chunk
                    }
                    guard !atEnd, inBatch < batchRows else { return nil }
                    let records = try read(min(chunkRows, batchRows - inBatch), starts: &starts, lines: &lines)
                    inBatch += records.count
                    // The batch so far ends the file.
                    return records.isEmpty ? nil : records
                },
                end: { [self] in
                    let position = reader.position
                    let after = CSVDropCheckpoint(file: claimed.claimedName, size: file.size, crc32: file.crc32, position: position).json
                    let payload = FileRangePayload(file: file, start: start, end: position, recordStarts: starts, recordLines: lines)
                    // The file's last batch records it as loaded, in the same transaction as its last rows.
                    let record =
                        atEnd
                        ? FileRecord(
                            claimedName: claimed.claimedName, originalName: claimed.originalName, size: file.size, sha256: file.sha256,
                            outcome: .loaded)
                        : nil
                    batches += 1
                    return BatchEnd(positionEnd: position.description, checkpointAfter: after, payload: payload, file: record)
                }))
    }
}
