/// A path into a JSON document, in the subset of JSONPath (RFC 9535) that mapping files use.
///
/// ```
/// $.data.items[*]            records: every element of data.items (from the document root)
/// vin                        a field of the record
/// customer.mobile            a nested field
/// options[0].code            an array element by index (negative counts from the end: [-1] is the last)
/// options[*].code            every element: the values are joined (the column's `join`, default ",")
/// ['车架号'] / ["a.b"]        a member whose name is not a plain word
/// $.data.dealerCode          from the document root, whatever the record (an envelope field)
/// ^.orderNo                  from the record that encloses this one (records: $.orders[*].lines[*])
/// ```
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    public enum Anchor: Sendable, Hashable {
        /// Relative to the record (a field path without `$` or `^`).
        case record
        /// From the document root (`$`).
        case root
        /// From an enclosing record, `levels` up (`^` is 1, `^^` is 2).
        case parent(levels: Int)
    }

    public enum Segment: Sendable, Hashable {
        case key(String)
        case index(Int)
        case wildcard
    }

    public var anchor: Anchor
    public var segments: [Segment]
    /// The text as written, for messages.
    public let text: String

    public init(anchor: Anchor, segments: [Segment], text: String) {
        self.anchor = anchor
        self.segments = segments
        self.text = text
    }

    public var description: String { text }

    /// Whether the path can match more than one value.
    public var hasWildcard: Bool { segments.contains(.wildcard) }

    /// A path that cannot be parsed: `column` is the 1-based character where it goes wrong.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var column: Int
        public var description: String { "\(message) (at character \(column))" }
    }

    /// Parses `text`. A path starting with `$` is anchored at the document root, one starting with
    /// `^` at an enclosing record; any other path is relative to the record.
    public init(parsing text: String) throws(ParseError) {
        self.text = text
        let chars = Array(text.unicodeScalars)
        var i = 0
        func fail(_ message: String, at position: Int) -> ParseError {
            ParseError(message: message, column: position + 1)
        }
        guard !chars.isEmpty else { throw fail("empty path", at: 0) }
        var anchor = Anchor.record
        if chars[0] == "$" {
            anchor = .root
            i = 1
        } else if chars[0] == "^" {
            var levels = 0
            while i < chars.count, chars[i] == "^" {
                levels += 1
                i += 1
            }
            anchor = .parent(levels: levels)
        }
        var segments: [Segment] = []
        // A relative path starts with a bare name; an anchor is followed by `.name` or `[...]`.
        var expectName = anchor == .record
        while i < chars.count {
            let c = chars[i]
            if expectName || c == "." {
                if !expectName { i += 1 }
                expectName = false
                let start = i
                while i < chars.count, chars[i] != ".", chars[i] != "[", chars[i] != "]", chars[i] != " " { i += 1 }
                guard i > start else {
                    throw fail(start < chars.count ? "expected a member name, found '\(chars[start])'" : "the path ends after '.'", at: start)
                }
                let name = String(String.UnicodeScalarView(chars[start..<i]))
                if name == "*" {
                    segments.append(.wildcard)
                } else {
                    segments.append(.key(name))
                }
                continue
            }
            guard c == "[" else { throw fail("expected '.' or '[', found '\(c)'", at: i) }
            i += 1
            guard i < chars.count else { throw fail("the path ends inside '['", at: i) }
            if chars[i] == "*" {
                i += 1
                guard i < chars.count, chars[i] == "]" else { throw fail("expected ']' after '*'", at: i) }
                i += 1
                segments.append(.wildcard)
            } else if chars[i] == "'" || chars[i] == "\"" {
                let quote = chars[i]
                i += 1
                var name = String.UnicodeScalarView()
                var closed = false
                while i < chars.count {
                    if chars[i] == "\\", i + 1 < chars.count {
                        name.append(chars[i + 1])
                        i += 2
                        continue
                    }
                    if chars[i] == quote {
                        closed = true
                        i += 1
                        break
                    }
                    name.append(chars[i])
                    i += 1
                }
                guard closed else { throw fail("unterminated quoted name", at: i) }
                guard i < chars.count, chars[i] == "]" else { throw fail("expected ']' after the quoted name", at: i) }
                i += 1
                segments.append(.key(String(name)))
            } else {
                let start = i
                if chars[i] == "-" { i += 1 }
                while i < chars.count, ("0"..."9").contains(chars[i]) { i += 1 }
                let digits = String(String.UnicodeScalarView(chars[start..<i]))
                guard let n = Int(digits) else {
                    throw fail("expected an index, '*' or a quoted name inside '[ ]'", at: start)
                }
                guard i < chars.count, chars[i] == "]" else { throw fail("expected ']' after the index", at: i) }
                i += 1
                segments.append(.index(n))
            }
        }
        // `$` alone is the whole document and `^` alone the enclosing record: no segments.
        self.anchor = anchor
        self.segments = segments
    }
}
