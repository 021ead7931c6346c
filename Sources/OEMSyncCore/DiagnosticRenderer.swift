/// Renders diagnostics the way compilers do: the headline, the offending line and a caret under the
/// column, then notes and help.
///
/// ```
/// Mappings/acme/stock.v1.yaml:20:3: error[M302]: unknown column 'stock_nr' in table 'stock'
///    |
/// 20 |   stock_nr:
///    |   ^
///    = note: table 'stock' has columns: dealer_code, vin, stock_no, ...
///    = help: did you mean 'stock_no'?
/// ```
public struct DiagnosticRenderer: Sendable {
    /// The text of each file a diagnostic may point into, keyed by the path used in its location.
    public var sources: [String: String]

    public init(sources: [String: String] = [:]) { self.sources = sources }

    public func render(_ diagnostic: Diagnostic) -> String {
        var out = diagnostic.description + "\n"
        let gutterWidth: Int
        if let location = diagnostic.location, let text = sources[location.file],
            let line = Self.line(location.line, of: text)
        {
            let number = String(location.line)
            gutterWidth = number.count
            let pad = String(repeating: " ", count: gutterWidth)
            out += "\(pad) |\n"
            out += "\(number) | \(line)\n"
            out += "\(pad) | \(Self.caretIndent(line: line, column: location.column))^\n"
        } else {
            gutterWidth = 1
        }
        let pad = String(repeating: " ", count: gutterWidth)
        for note in diagnostic.notes { out += "\(pad) = note: \(note)\n" }
        if let help = diagnostic.help { out += "\(pad) = help: \(help)\n" }
        return out
    }

    /// Renders several diagnostics in file order: by file, line and column (stable otherwise).
    public func render(_ diagnostics: [Diagnostic]) -> String {
        let ordered = diagnostics.enumerated().sorted { a, b in
            let l = a.element.location
            let r = b.element.location
            let lk = (l?.file ?? "", l?.line ?? 0, l?.column ?? 0, a.offset)
            let rk = (r?.file ?? "", r?.line ?? 0, r?.column ?? 0, b.offset)
            return lk < rk
        }.map(\.element)
        return ordered.map(render).joined(separator: "\n")
    }

    static func line(_ number: Int, of text: String) -> String? {
        guard number >= 1 else { return nil }
        var current = 1
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "\n" {
                if current == number { return String(text[start..<index]).trimmingCR() }
                current += 1
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        return current == number ? String(text[start...]).trimmingCR() : nil
    }

    /// Spaces (and tabs, kept as tabs) up to the column, counted in Unicode scalars like YAML marks.
    /// Wide characters (CJK) take two terminal cells, so they get two spaces.
    static func caretIndent(line: String, column: Int) -> String {
        var indent = ""
        for (offset, scalar) in line.unicodeScalars.enumerated() where offset < column - 1 {
            if scalar == "\t" {
                indent += "\t"
            } else {
                indent += scalar.isWide ? "  " : " "
            }
        }
        let missing = max(0, column - 1 - line.unicodeScalars.count)
        return indent + String(repeating: " ", count: missing)
    }
}

extension String {
    fileprivate func trimmingCR() -> String {
        hasSuffix("\r") ? String(dropLast()) : self
    }
}

extension Unicode.Scalar {
    /// East Asian wide and full-width characters (CJK ideographs, kana, hangul, full-width forms).
    var isWide: Bool {
        switch value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
            0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
            0xFFE0...0xFFE6, 0x20000...0x3FFFD:
            return true
        default:
            return false
        }
    }
}
