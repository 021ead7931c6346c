import Foundation

/// What the XML parser reads from: a file or bytes, handed over in chunks, with two guards.
///
/// - **No DTD.** SOAP forbids a document type declaration, and every entity attack (external
///   entities reading files or calling URLs, billion laughs, quadratic blowup) needs one. The
///   prolog (what comes before the root element) is watched as it passes: any `<!` other than a
///   comment there stops the stream, and the parse fails with ``XMLPayloadError/Kind/forbiddenDTD``,
///   before libxml2 has seen a declaration.
/// - **A size limit**, counted as bytes pass.
///
/// It is an `InputStream` because `XMLParser(stream:)` pulls its input in chunks through one, so a
/// response of any size is parsed with a fixed buffer.
final class GuardedXMLStream: InputStream, @unchecked Sendable {
    enum Source {
        case file(FileHandle)
        case bytes([UInt8])
    }

    private var source: Source
    private var offset = 0
    private let maxBytes: Int
    private(set) var bytesRead = 0
    /// Why the stream stopped early, if it did: the parse error to report instead of libxml2's.
    private(set) var refusal: XMLPayloadError?
    private var prolog = PrologGuard()
    private var ended = false

    init(source: Source, maxBytes: Int) {
        self.source = source
        self.maxBytes = maxBytes
        super.init(data: Data())
    }

    override func open() {}
    override func close() {}
    override var hasBytesAvailable: Bool { !ended }
    override var streamStatus: Stream.Status { ended ? .atEnd : .open }

    override func read(_ buffer: UnsafeMutablePointer<UInt8>, maxLength: Int) -> Int {
        guard !ended else { return 0 }
        var chunk: [UInt8]
        switch source {
        case .file(let handle):
            chunk = [UInt8]((try? handle.read(upToCount: maxLength)) ?? Data())
        case .bytes(let bytes):
            let end = min(bytes.count, offset + maxLength)
            chunk = Array(bytes[offset..<end])
            offset = end
        }
        if chunk.isEmpty {
            ended = true
            return 0
        }
        if bytesRead + chunk.count > maxBytes {
            refusal = XMLPayloadError(.tooLarge, "the XML payload is larger than \(maxBytes) bytes (max_response_bytes)", line: nil)
            ended = true
            return 0
        }
        if !prolog.done {
            if let problem = prolog.scan(chunk, at: bytesRead) {
                refusal = problem
                ended = true
                return 0
            }
        }
        bytesRead += chunk.count
        chunk.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: $0.count) }
        return chunk.count
    }
}

/// Watches the bytes before the root element: whitespace, a BOM, the XML declaration, processing
/// instructions and comments are allowed; anything starting `<!` that is not a comment (a
/// DOCTYPE, an ENTITY) is refused.
struct PrologGuard {
    private(set) var done = false
    private var line = 1
    /// Bytes at the end of the last chunk that could not be judged alone (`<` without what follows).
    private var pending: [UInt8] = []
    private var inComment = false
    private var inPI = false

    mutating func scan(_ chunk: [UInt8], at start: Int) -> XMLPayloadError? {
        let carried = pending.count
        let bytes = pending + chunk
        pending = []
        var i = 0
        func byte(_ k: Int) -> UInt8? { k < bytes.count ? bytes[k] : nil }
        while i < bytes.count {
            let b = bytes[i]
            if inComment {
                if b == UInt8(ascii: "-") {
                    guard let n1 = byte(i + 1), let n2 = byte(i + 2) else { break }
                    if n1 == UInt8(ascii: "-"), n2 == UInt8(ascii: ">") {
                        inComment = false
                        i += 3
                        continue
                    }
                }
            } else if inPI {
                if b == UInt8(ascii: "?") {
                    guard let n1 = byte(i + 1) else { break }
                    if n1 == UInt8(ascii: ">") {
                        inPI = false
                        i += 2
                        continue
                    }
                }
            } else if b == UInt8(ascii: "<") {
                guard let next = byte(i + 1) else { break }
                if next == UInt8(ascii: "?") {
                    inPI = true
                    i += 2
                    continue
                }
                if next == UInt8(ascii: "!") {
                    guard let n2 = byte(i + 2), let n3 = byte(i + 3) else { break }
                    if n2 == UInt8(ascii: "-"), n3 == UInt8(ascii: "-") {
                        inComment = true
                        i += 4
                        continue
                    }
                    let word = String(decoding: bytes[(i + 2)..<min(bytes.count, i + 9)], as: UTF8.self).prefix { $0.isLetter }
                    return XMLPayloadError(
                        .forbiddenDTD,
                        "the XML payload declares a document type (<!\(word)…); DTDs and entity declarations are refused (XXE, entity expansion)",
                        line: line)
                }
                done = true  // the root element starts: the prolog is over
                return nil
            }
            if b == UInt8(ascii: "\n"), i >= carried { line += 1 }
            i += 1
        }
        if i < bytes.count { pending = Array(bytes[i...]) }
        return nil
    }
}
