import Logging
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import OEMSyncSinks

extension CSVDropSync {
    /// Streams the rest of an open file into the database, batch by batch.
    ///
    /// A batch is one transaction of up to `batch_rows` records, read, mapped and handed to the
    /// database in chunks of at most ``chunkRows``, so memory holds a few chunks whatever the batch
    /// size. Each batch carries the checkpoint after its last record; a read error abandons the batch
    /// in flight (nothing of it is written) and stops.
    ///
    /// - Parameters:
    ///   - checkpoint: the feed's stored checkpoint, which the first batch moves on from.
    ///   - resumed: whether reading continues an interrupted run (then a file already read to its
    ///     end gets no empty batch).
    func stream(
        _ reader: CSVReader, bound: BoundMapping, file identity: FileIdentity, checkpoint stored: String?, resumed: Bool
    ) -> (committed: [BatchWriter.Committed], failure: SinkError?, readError: String?, hold: RunControl.Hold?) {
        let file = identity.claimed
        let mapper = BatchMapper(bound)
        let writer = BatchWriter(database: database, table: plan.targetTable, logger: logger, control: control)
        let batchRows = source.batchRows
        let chunkRows = min(batchRows, Self.chunkRows)
        var checkpoint = stored
        var batches = 0
        // A resume at the end of a file whose last batch committed, but which was not archived yet.
        let endRecorded =
            resumed && ((try? Ledger(database).knowsFinished(feed: feed.name, claimedName: file.claimedName, size: identity.size)) ?? false)
        var readError: String?
        var hold: RunControl.Hold?
        reading: while true {
            // The batch in flight commits; the next one starts only if the daemon lets it.
            let startedAt = clock.now()
            if let h = control.hold(startedAt) {
                hold = h
                break reading
            }
            let start = reader.position
            var inBatch = 0
            // Where each record of the batch starts: a partial batch keeps its rejected records' bytes.
            var starts: [Int64] = []
            var lines: [Int] = []
            var begun = false
            var atEnd = false
            var abandoned = false
            while inBatch < batchRows {
                let want = min(chunkRows, batchRows - inBatch)
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
                    readError = error.description
                    abandoned = true
                    break
                }
                // Short of what was asked, or the last byte read: nothing follows.
                atEnd = records.count < want || reader.position.byteOffset >= reader.fileSize
                if records.isEmpty {
                    // The batch so far ends the file.
                    if inBatch > 0 { break }
                    // Nothing left to read: an empty batch still records the file as read to its
                    // end (a file without records; the batch before filled up exactly at the end),
                    // unless a resume finds that recorded already.
                    if batches == 0 && endRecorded { break }
                }
                if !begun {
                    writer.begin(
                        BatchContext(
                            feed: feed.name, source: file.originalName, sourceRef: file.claimedName, positionStart: start.description,
                            checkpointBefore: checkpoint, mapping: plan.name, mappingVersion: plan.version,
                            dictionaryVersion: plan.dictionaryVersion, startedAt: startedAt, retention: feed.retention))
                    begun = true
                }
                var chunk = mapper.map(records)
                database.prepare(&chunk)
                guard writer.submit(chunk) else {
                    abandoned = true
                    break
                }
                inBatch += records.count
                if atEnd { break }
            }
            guard begun else { break reading }
            if abandoned {
                writer.end(nil)
                break reading
            }
            let after = CSVDropCheckpoint(file: file.claimedName, size: reader.fileSize, crc32: identity.crc32, position: reader.position).json
            let payload = FileRangePayload(file: identity, start: start, end: reader.position, recordStarts: starts, recordLines: lines)
            // The file's last batch records it as loaded, in the same transaction as its last rows.
            let record =
                atEnd
                ? FileRecord(
                    claimedName: file.claimedName, originalName: file.originalName, size: identity.size, sha256: identity.sha256, outcome: .loaded)
                : nil
            writer.end(BatchEnd(positionEnd: reader.position.description, checkpointAfter: after, payload: payload, file: record))
            checkpoint = after
            batches += 1
            if atEnd { break reading }
        }
        let (committed, failure) = writer.finish()
        // A batch held at its commit was read but not written: the checkpoint is still before it.
        return (committed, failure, readError, hold ?? writer.heldAtCommit)
    }
}

/// A claimed file as the ledger knows it: its content's CRC-32 and SHA-256, where its header ends, its encoding.
struct FileIdentity: Sendable {
    var claimed: DropDirectory.ClaimedFile
    var size: Int64
    var crc32: String
    var sha256: String
    /// The byte offset after the header row (0 without a header).
    var headerEnd: Int64
    var encoding: TextEncoding
}

/// A batch's payload read back from the claimed file only when the ledger keeps it: the header row,
/// then the batch's bytes, exactly as the OEM wrote them; for a partial batch only its rejected
/// records' bytes (with their lines). The file is still in `processing/` then: it is archived only
/// after its last batch committed.
struct FileRangePayload: BatchPayloadSource {
    var file: FileIdentity
    var start: CSVPosition
    var end: CSVPosition
    /// The byte offset and line of every record of the batch, in order.
    var recordStarts: [Int64]
    var recordLines: [Int]

    func load(records wanted: Set<Int>?) -> BatchPayload? {
        let path = file.claimed.path
        guard var body = try? FileDigest.read(path: path, range: 0..<file.headerEnd) else { return nil }
        let name = file.claimed.originalName
        let contentType = "text/csv; charset=\(file.encoding.rawValue)"
        guard let wanted else {
            guard let rows = try? FileDigest.read(path: path, range: start.byteOffset..<end.byteOffset) else { return nil }
            body += rows
            return BatchPayload(
                request: "\(name) bytes \(start.byteOffset)-\(end.byteOffset) (crc32 \(file.crc32))", contentType: contentType, body: body,
                firstLine: start.line)
        }
        var lines: [Int] = []
        for (i, line) in recordLines.enumerated() where wanted.contains(line) {
            let from = recordStarts[i]
            let to = i + 1 < recordStarts.count ? recordStarts[i + 1] : end.byteOffset
            guard var bytes = try? FileDigest.read(path: path, range: from..<to) else { return nil }
            // The file's last record may have no line break; another record may follow it here.
            if bytes.last != 0x0A { bytes.append(0x0A) }
            body += bytes
            lines.append(line)
        }
        return BatchPayload(
            request: "\(name) bytes \(start.byteOffset)-\(end.byteOffset) (crc32 \(file.crc32)), \(lines.count) rejected records",
            contentType: contentType, body: body, firstLine: lines.first ?? start.line, lines: lines)
    }
}
