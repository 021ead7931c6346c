import Foundation
import OEMSyncFeeds

/// Where a CSV drop feed stands: the claimed file being loaded and the position after its last
/// committed batch. Stored as JSON in `oemsync_checkpoints.position`.
///
/// The claimed name is unique per claim (claim time and a random tag), so a checkpoint can never
/// be applied to another file, or to the same file dropped again. The size and the CRC-32 of the
/// content (``FileDigest``) guard against a file changed in place; `crc32` is absent in checkpoints
/// written by oemsync 0.2, which are still resumed (by size alone).
public struct CSVDropCheckpoint: Codable, Sendable, Hashable {
    public var file: String
    public var size: Int64
    public var crc32: String?
    public var offset: Int64
    public var line: Int

    public init(file: String, size: Int64, crc32: String?, position: CSVPosition) {
        self.file = file
        self.size = size
        self.crc32 = crc32
        self.offset = position.byteOffset
        self.line = position.line
    }

    public var position: CSVPosition { CSVPosition(byteOffset: offset, line: line) }

    /// Whether the file was read to its end.
    public var isComplete: Bool { offset >= size }

    /// Stable JSON (sorted keys): the checkpoint's compare-and-set compares this text.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    public static func parse(_ json: String) -> CSVDropCheckpoint? {
        guard let c = try? JSONDecoder().decode(CSVDropCheckpoint.self, from: Data(json.utf8)) else { return nil }
        guard c.size >= 0, c.offset >= 0, c.offset <= c.size, c.line >= 1, !c.file.isEmpty else { return nil }
        return c
    }
}
