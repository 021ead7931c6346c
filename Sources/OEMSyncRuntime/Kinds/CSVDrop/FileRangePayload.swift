import OEMSyncCore
import OEMSyncFeeds
import OEMSyncSinks

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
