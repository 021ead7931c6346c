#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import OEMSyncCore

/// Streams an RFC 4180 CSV file record by record, with the line and byte offset of each.
///
/// - Quotes, doubled quotes, delimiters and newlines (LF or CRLF) inside quoted fields; a UTF-8 BOM
///   at the start is skipped; blank lines are skipped.
/// - The file is read in 1 MiB chunks: memory does not grow with the file, only with the longest
///   record (bounded by ``CSVFormat/maxRecordBytes``).
/// - Records are split on raw bytes, then each field is decoded (UTF-8 or GB18030). A record that
///   cannot be decoded, has a character after a closing quote, an unterminated quote, or is too long
///   comes back with a `problem` (`csv.decode`, `csv.quote`, `csv.too_large`) and its line; reading
///   then continues, so one bad line never costs the rest of the file.
public final class CSVReader {
    public let path: String
    public let format: CSVFormat
    /// The encoding in use (``TextEncoding/auto`` resolved from the first megabyte).
    public private(set) var encoding: TextEncoding
    /// The position of the next record: what a checkpoint stores after a batch.
    public private(set) var position: CSVPosition
    /// The file's size when it was opened.
    public let fileSize: Int64

    private let fd: Int32
    private var chunk: [UInt8]
    private var chunkStart: Int64 = 0  // file offset of chunk[0]
    private var chunkCount = 0
    private var cursor = 0
    private var atEOF = false

    private var record: [UInt8] = []
    private var fieldEnds: [Int] = []

    static let chunkSize = 1 << 20

    public struct IOError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Opens `path` and, when `format.header`, reads nothing yet: call ``readHeader()`` first.
    /// - Parameter start: where to continue (a checkpoint); the header is still read from the top.
    public init(path: String, format: CSVFormat) throws(IOError) {
        self.path = path
        self.format = format
        // Never through a symbolic link, and never blocking on a FIFO: only a regular file is read.
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { throw IOError(description: "cannot open '\(path)': \(String(cString: strerror(errno)))") }
        var st = stat()
        fstat(fd, &st)
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw IOError(description: "'\(path)' is not a regular file")
        }
        fileSize = Int64(st.st_size)
        chunk = [UInt8](repeating: 0, count: Self.chunkSize)
        position = .start
        encoding = format.encoding == .auto ? .utf8 : format.encoding
        try fill(from: 0)
        let head = Array(chunk[0..<chunkCount])
        encoding = TextDecoder.resolve(format.encoding, head: head, headIsWholeFile: Int64(chunkCount) == fileSize)
        if head.starts(with: [0xEF, 0xBB, 0xBF]) {
            cursor = 3
            position = CSVPosition(byteOffset: 3, line: 1)
        }
    }

    deinit { close(fd) }

    /// Whether the first megabyte contains a NUL byte: a binary file, not text.
    public var looksBinary: Bool {
        chunkStart == 0 && chunk[0..<chunkCount].contains(0)
    }

    /// The header row, read from the top of the file; nil for an empty file.
    public func readHeader() throws(IOError) -> RawRecord? {
        try next()
    }

    /// Continues at `target`, a position after the header that an earlier run reached.
    public func seek(to target: CSVPosition) throws(IOError) {
        guard target.byteOffset <= fileSize else {
            throw IOError(description: "checkpoint offset \(target.byteOffset) is beyond the end of '\(path)' (\(fileSize) bytes)")
        }
        try fill(from: target.byteOffset)
        position = target
    }

    /// The next record, or nil at the end of the file.
    public func next() throws(IOError) -> RawRecord? {
        while true {
            guard let result = try parseRecord() else { return nil }
            if let r = result { return r }
            // nil inner: a blank line, skipped
        }
    }

    // MARK: - Parsing

    private enum State {
        case fieldStart
        case unquoted
        case quoted
        case quoteInQuoted
    }

    /// `.some(nil)` for a blank line, `nil` at EOF.
    private func parseRecord() throws(IOError) -> RawRecord?? {
        // Work on local buffers (moved out of the object, no copy): the byte loop then touches no
        // class property, which keeps exclusivity checks out of it.
        var record = self.record
        var fieldEnds = self.fieldEnds
        self.record = []
        self.fieldEnds = []
        record.removeAll(keepingCapacity: true)
        fieldEnds.removeAll(keepingCapacity: true)
        defer {
            self.record = record
            self.fieldEnds = fieldEnds
        }
        var pendingCR = false
        let startOffset = position.byteOffset
        let startLine = position.line
        var line = startLine
        var state = State.fieldStart
        var problem: String?
        var sawAnything = false
        let delimiter = format.delimiter
        let quote = UInt8(ascii: "\"")
        let lf = UInt8(0x0A)
        let cr = UInt8(0x0D)

        while true {
            if cursor >= chunkCount {
                if atEOF { break }
                try fill(from: chunkStart + Int64(chunkCount))
                if chunkCount == 0 { break }
            }
            var ended = false
            let start = cursor
            let end = chunkCount
            let consumed: Int = chunk.withUnsafeBufferPointer { buf in
                var i = start
                while i < end {
                    let b = buf[i]
                    switch state {
                    case .unquoted, .fieldStart:
                        if b == delimiter {
                            fieldEnds.append(record.count)
                            state = .fieldStart
                            sawAnything = true
                        } else if b == lf || b == cr {
                            if state == .unquoted || sawAnything { fieldEnds.append(record.count) }
                            line += 1
                            i += 1
                            if b == cr, i < end, buf[i] == lf { i += 1 } else if b == cr, i == end { pendingCR = true }
                            ended = true
                            return i
                        } else if b == quote && state == .fieldStart {
                            state = .quoted
                            sawAnything = true
                        } else {
                            // A quote inside an unquoted field is kept as a character (5'11" style data).
                            record.append(b)
                            state = .unquoted
                            sawAnything = true
                        }
                    case .quoted:
                        if b == quote {
                            state = .quoteInQuoted
                        } else {
                            if b == lf { line += 1 }
                            record.append(b)
                        }
                    case .quoteInQuoted:
                        if b == quote {
                            record.append(quote)
                            state = .quoted
                        } else if b == delimiter {
                            fieldEnds.append(record.count)
                            state = .fieldStart
                        } else if b == lf || b == cr {
                            fieldEnds.append(record.count)
                            line += 1
                            i += 1
                            if b == cr, i < end, buf[i] == lf { i += 1 } else if b == cr, i == end { pendingCR = true }
                            ended = true
                            return i
                        } else {
                            if problem == nil { problem = "character after a closing quote" }
                            record.append(b)
                            state = .unquoted
                        }
                    }
                    i += 1
                }
                return i
            }
            cursor = consumed
            if pendingCR {
                // A CR was the last byte of the chunk; swallow the LF of a CRLF in the next one.
                pendingCR = false
                if cursor >= chunkCount, !atEOF { try fill(from: chunkStart + Int64(chunkCount)) }
                if cursor < chunkCount, chunk[cursor] == lf { cursor += 1 }
            }
            if ended {
                position = CSVPosition(byteOffset: chunkStart + Int64(cursor), line: line)
                if !sawAnything && record.isEmpty { return .some(nil) }
                if record.count > format.maxRecordBytes {
                    let problem = RecordProblem(code: "csv.too_large", message: "record longer than \(Self.describe(format.maxRecordBytes))")
                    // Keep the start of it (4 KiB) as the raw record, for the rejects table.
                    let head = String(decoding: record.prefix(4096), as: UTF8.self)
                    return .some(RawRecord(line: startLine, fields: [head], problem: problem))
                }
                return .some(finish(record, fieldEnds, startLine: startLine, problem: problem))
            }
            if record.count > format.maxRecordBytes {
                return .some(try recover(
                    from: startOffset, line: startLine, code: "csv.too_large",
                    message: "record longer than \(Self.describe(format.maxRecordBytes)) (an unbalanced quote?); reading resumes on the next line"))
            }
        }
        // End of file.
        if state == .quoted {
            return .some(try recover(
                from: startOffset, line: startLine, code: "csv.quote",
                message: "quoted field never closed; reading resumes on the next line"))
        }
        guard sawAnything || !record.isEmpty else { return nil }
        fieldEnds.append(record.count)
        position = CSVPosition(byteOffset: chunkStart + Int64(cursor), line: line)
        return .some(finish(record, fieldEnds, startLine: startLine, problem: problem))
    }

    private func finish(_ record: [UInt8], _ fieldEnds: [Int], startLine: Int, problem: String?) -> RawRecord {
        var fields: [String] = []
        fields.reserveCapacity(fieldEnds.count)
        var decodeProblem: String?
        record.withUnsafeBufferPointer { buf in
            var start = 0
            for (k, end) in fieldEnds.enumerated() {
                let slice = UnsafeBufferPointer(rebasing: buf[start..<end])
                if let s = TextDecoder.decode(slice, as: encoding) {
                    fields.append(s)
                } else {
                    if decodeProblem == nil {
                        decodeProblem = slice.contains(0)
                            ? "field \(k + 1) contains a NUL byte"
                            : "field \(k + 1) is not valid \(encoding == .gb18030 ? "GB18030" : "UTF-8")"
                    }
                    fields.append(String(decoding: slice, as: UTF8.self))
                }
                start = end
            }
        }
        if let decodeProblem {
            return RawRecord(line: startLine, fields: fields, problem: RecordProblem(code: "csv.decode", message: decodeProblem))
        }
        if let problem {
            return RawRecord(line: startLine, fields: fields, problem: RecordProblem(code: "csv.quote", message: problem))
        }
        return RawRecord(line: startLine, fields: fields)
    }

    /// Rejects the record that starts at `offset` as its first line only, and continues after that line.
    private func recover(from offset: Int64, line: Int, code: String, message: String) throws(IOError) -> RawRecord {
        try fill(from: offset)
        var firstLine: [UInt8] = []
        var found = false
        while !found {
            if cursor >= chunkCount {
                if atEOF { break }
                try fill(from: chunkStart + Int64(chunkCount))
                if chunkCount == 0 { break }
            }
            while cursor < chunkCount {
                let b = chunk[cursor]
                cursor += 1
                if b == 0x0A {
                    found = true
                    break
                }
                if firstLine.count < 4096 { firstLine.append(b) }
            }
        }
        if firstLine.last == 0x0D { firstLine.removeLast() }
        position = CSVPosition(byteOffset: chunkStart + Int64(cursor), line: line + 1)
        let text = firstLine.withUnsafeBufferPointer { TextDecoder.decode($0, as: encoding) } ?? String(decoding: firstLine, as: UTF8.self)
        return RawRecord(line: line, fields: [text], problem: RecordProblem(code: code, message: message))
    }

    static func describe(_ bytes: Int) -> String {
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
    }

    /// Loads the chunk that starts at file offset `offset`.
    private func fill(from offset: Int64) throws(IOError) {
        var total = 0
        chunk.withUnsafeMutableBytes { raw in
            while total < Self.chunkSize {
                let n = pread(fd, raw.baseAddress! + total, Self.chunkSize - total, off_t(offset) + off_t(total))
                if n < 0 {
                    if errno == EINTR { continue }
                    total = -1
                    return
                }
                if n == 0 { break }
                total += n
            }
        }
        guard total >= 0 else { throw IOError(description: "cannot read '\(path)': \(String(cString: strerror(errno)))") }
        chunkStart = offset
        chunkCount = total
        cursor = 0
        atEOF = offset + Int64(total) >= fileSize || total < Self.chunkSize
    }
}
