/// A JSON text that is not valid JSON (RFC 8259): what is wrong and where.
public struct JSONSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    /// 0-based byte offset into the payload.
    public var offset: Int
    public var line: Int
    public var column: Int

    public var description: String { "invalid JSON at line \(line), column \(column) (byte \(offset)): \(message)" }
}

/// A strict, byte-level JSON reader over one payload held in memory once.
///
/// It validates everything it passes over, including what it skips, so a truncated or corrupt
/// payload is always an error, never a short list of records. Strings must be valid UTF-8, numbers
/// keep their text, nesting is limited (``maxDepth``) so a hostile payload cannot exhaust the stack.
struct JSONParser {
    static let maxDepth = 200

    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Parses a whole document into a value.
    static func parse(_ data: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        try data.withUnsafeBufferPointer { (buffer) throws(JSONSyntaxError) -> JSONValue in
            var p = JSONParser(buffer)
            let v = try p.parseValue(depth: 0)
            try p.expectEnd()
            return v
        }
    }

    func error(_ message: String, at offset: Int? = nil) -> JSONSyntaxError {
        let at = min(offset ?? i, bytes.count)
        var line = 1
        var lineStart = 0
        for k in 0..<at where bytes[k] == 0x0A {
            line += 1
            lineStart = k + 1
        }
        return JSONSyntaxError(message: message, offset: at, line: line, column: at - lineStart + 1)
    }

    var atEnd: Bool { i >= bytes.count }

    mutating func skipWhitespace() {
        while i < bytes.count {
            let b = bytes[i]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            i += 1
        }
    }

    /// The next significant byte, without consuming it.
    mutating func peek() throws(JSONSyntaxError) -> UInt8 {
        skipWhitespace()
        guard i < bytes.count else { throw error("unexpected end of the payload (truncated?)") }
        return bytes[i]
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(JSONSyntaxError) {
        guard try peek() == byte else { throw error("expected \(what), found \(describe(bytes[i]))") }
        i += 1
    }

    mutating func expectEnd() throws(JSONSyntaxError) {
        skipWhitespace()
        guard atEnd else { throw error("unexpected \(describe(bytes[i])) after the end of the document") }
    }

    func describe(_ b: UInt8) -> String {
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x" + String(b, radix: 16, uppercase: true)
    }

    // MARK: Values

    mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        switch try peek() {
        case UInt8(ascii: "{"):
            guard depth < Self.maxDepth else { throw error("nested more than \(Self.maxDepth) levels deep") }
            i += 1
            var members: [JSONMember] = []
            if try peek() == UInt8(ascii: "}") {
                i += 1
                return .object(members)
            }
            while true {
                guard try peek() == UInt8(ascii: "\"") else { throw error("expected a member name in quotes, found \(describe(bytes[i]))") }
                let key = try parseString()
                try expect(UInt8(ascii: ":"), "':' after a member name")
                members.append(JSONMember(key: key, value: try parseValue(depth: depth + 1)))
                if try endOfContainer(UInt8(ascii: "}")) { return .object(members) }
            }
        case UInt8(ascii: "["):
            guard depth < Self.maxDepth else { throw error("nested more than \(Self.maxDepth) levels deep") }
            i += 1
            var items: [JSONValue] = []
            if try peek() == UInt8(ascii: "]") {
                i += 1
                return .array(items)
            }
            while true {
                items.append(try parseValue(depth: depth + 1))
                if try endOfContainer(UInt8(ascii: "]")) { return .array(items) }
            }
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        default:
            let start = i
            try scanNumber()
            return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self))
        }
    }

    /// Passes over one value, validating it, without building it.
    mutating func skipValue(depth: Int) throws(JSONSyntaxError) {
        switch try peek() {
        case UInt8(ascii: "{"):
            guard depth < Self.maxDepth else { throw error("nested more than \(Self.maxDepth) levels deep") }
            i += 1
            if try peek() == UInt8(ascii: "}") {
                i += 1
                return
            }
            while true {
                guard try peek() == UInt8(ascii: "\"") else { throw error("expected a member name in quotes, found \(describe(bytes[i]))") }
                try skipString()
                try expect(UInt8(ascii: ":"), "':' after a member name")
                try skipValue(depth: depth + 1)
                if try endOfContainer(UInt8(ascii: "}")) { return }
            }
        case UInt8(ascii: "["):
            guard depth < Self.maxDepth else { throw error("nested more than \(Self.maxDepth) levels deep") }
            i += 1
            if try peek() == UInt8(ascii: "]") {
                i += 1
                return
            }
            while true {
                try skipValue(depth: depth + 1)
                if try endOfContainer(UInt8(ascii: "]")) { return }
            }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try scanNumber()
        }
    }

    /// After a member or element: true at the container's closing byte, false after a comma.
    mutating func endOfContainer(_ close: UInt8) throws(JSONSyntaxError) -> Bool {
        let b = try peek()
        i += 1
        if b == close { return true }
        guard b == UInt8(ascii: ",") else {
            i -= 1
            throw error("expected ',' or '\(Character(Unicode.Scalar(close)))', found \(describe(b))")
        }
        return false
    }

    mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw error("unexpected end of the payload (truncated?)") }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] {
            throw error("invalid literal (expected \(word))")
        }
        i += n
    }

    mutating func scanNumber() throws(JSONSyntaxError) {
        let start = i
        func digit(_ k: Int) -> Bool { k < bytes.count && bytes[k] >= 0x30 && bytes[k] <= 0x39 }
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard digit(i) else {
            if i >= bytes.count { throw error("unexpected end of the payload (truncated?)") }
            throw error("unexpected \(describe(bytes[i])): expected a value", at: start)
        }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if digit(i) { throw error("a number cannot have a leading zero", at: start) }
        } else {
            while digit(i) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digit(i) else { throw error("expected a digit after the decimal point") }
            while digit(i) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digit(i) else { throw error("expected a digit in the exponent") }
            while digit(i) { i += 1 }
        }
    }

    // MARK: Strings

    /// Reads a string at the opening quote. Invalid UTF-8, raw control characters, bad escapes and
    /// unpaired surrogates are errors.
    mutating func parseString() throws(JSONSyntaxError) -> String {
        i += 1  // the opening quote
        let start = i
        // Fast path: no escapes.
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<i])
                i += 1
                return try decodeUTF8(slice, at: start)
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("a control character (0x\(String(b, radix: 16))) must be escaped inside a string") }
            i += 1
        }
        guard i < bytes.count else { throw error("unterminated string (truncated?)", at: start - 1) }
        var out = try decodeUTF8(UnsafeBufferPointer(rebasing: bytes[start..<i]), at: start)
        var runStart = i
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                out += try decodeUTF8(UnsafeBufferPointer(rebasing: bytes[runStart..<i]), at: runStart)
                i += 1
                return out
            }
            if b < 0x20 { throw error("a control character (0x\(String(b, radix: 16))) must be escaped inside a string") }
            guard b == UInt8(ascii: "\\") else {
                i += 1
                continue
            }
            out += try decodeUTF8(UnsafeBufferPointer(rebasing: bytes[runStart..<i]), at: runStart)
            i += 1
            guard i < bytes.count else { throw error("unterminated string (truncated?)") }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out += "\""
            case UInt8(ascii: "\\"): out += "\\"
            case UInt8(ascii: "/"): out += "/"
            case UInt8(ascii: "b"): out += "\u{08}"
            case UInt8(ascii: "f"): out += "\u{0C}"
            case UInt8(ascii: "n"): out += "\n"
            case UInt8(ascii: "r"): out += "\r"
            case UInt8(ascii: "t"): out += "\t"
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate \\u\(String(scalar, radix: 16, uppercase: true))")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid low surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error("unpaired surrogate \\u\(String(scalar, radix: 16, uppercase: true))")
                }
                out.unicodeScalars.append(Unicode.Scalar(scalar)!)
            default:
                throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))'", at: i - 2)
            }
            runStart = i
        }
        throw error("unterminated string (truncated?)", at: start - 1)
    }

    mutating func skipString() throws(JSONSyntaxError) {
        _ = try parseString()
    }

    mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw error("unterminated \\u escape (truncated?)") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[i]
            let d: UInt8
            switch b {
            case 0x30...0x39: d = b - 0x30
            case 0x41...0x46: d = b - 0x41 + 10
            case 0x61...0x66: d = b - 0x61 + 10
            default: throw error("invalid hex digit in a \\u escape")
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }

    func decodeUTF8(_ slice: UnsafeBufferPointer<UInt8>, at offset: Int) throws(JSONSyntaxError) -> String {
        // ASCII needs no validation; anything else must be well-formed UTF-8 (never silently replaced).
        var ascii = true
        for b in slice where b >= 0x80 {
            ascii = false
            break
        }
        if ascii { return String(decoding: slice, as: UTF8.self) }
        guard let s = String(validating: slice, as: UTF8.self) else {
            throw error("a string is not valid UTF-8", at: offset)
        }
        return s
    }
}
