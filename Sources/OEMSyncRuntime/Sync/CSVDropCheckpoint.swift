import Foundation
import OEMSyncFeeds

/// Where a CSV drop feed stands: the claimed file being loaded and the position after its last
/// committed batch. Stored as JSON in `oemsync_checkpoints.position`.
///
/// The claimed name is unique per claim (claim time and a random tag), so a checkpoint can never
/// be applied to another file, or to the same file dropped again. The file size guards against a
/// file replaced in place.
public struct CSVDropCheckpoint: Codable, Sendable, Hashable {
    public var file: String
    public var size: Int64
    public var offset: Int64
    public var line: Int

    public init(file: String, size: Int64, position: CSVPosition) {
        self.file = file
        self.size = size
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
        try? JSONDecoder().decode(CSVDropCheckpoint.self, from: Data(json.utf8))
    }
}
