import OEMSyncCore

/// How a CSV payload is written: delimiter, header row, encoding, and the size limit of one record.
public struct CSVFormat: Sendable, Hashable {
    public var delimiter: UInt8
    public var header: Bool
    public var encoding: TextEncoding
    /// A record longer than this (in bytes) is rejected as `csv.too_large` and reading resumes on the
    /// next line, so one stray quote cannot swallow the rest of a file or memory. Default 8 MiB.
    public var maxRecordBytes: Int

    public init(delimiter: UInt8 = UInt8(ascii: ","), header: Bool = true, encoding: TextEncoding = .auto, maxRecordBytes: Int = 8 << 20) {
        self.delimiter = delimiter
        self.header = header
        self.encoding = encoding
        self.maxRecordBytes = maxRecordBytes
    }
}

/// A place in a CSV file: the byte offset of the next record and its line number.
public struct CSVPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var byteOffset: Int64
    public var line: Int

    public init(byteOffset: Int64, line: Int) {
        self.byteOffset = byteOffset
        self.line = line
    }

    public static let start = CSVPosition(byteOffset: 0, line: 1)

    public static func < (a: CSVPosition, b: CSVPosition) -> Bool { a.byteOffset < b.byteOffset }

    public var description: String { "line \(line) (byte \(byteOffset))" }
}
