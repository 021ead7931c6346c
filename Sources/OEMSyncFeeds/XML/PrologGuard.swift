/// Watches the bytes before the root element as they pass to the parser. SOAP forbids a document
/// type declaration, and every entity attack (external entities reading files or calling URLs,
/// billion laughs, quadratic blowup) needs one: whitespace, a BOM, the XML declaration, processing
/// instructions and comments are allowed there; anything starting `<!` that is not a comment (a
/// DOCTYPE, an ENTITY) is refused, before libxml2 has seen the declaration. It reads ASCII-compatible
/// encodings (UTF-8, GB18030, Latin-1); behind it, the reader's `internalSubset` callback refuses a
/// DOCTYPE in any other (UTF-16, UCS-4, EBCDIC) before libxml2 reads a declaration.
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
