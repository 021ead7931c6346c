import Foundation

/// One step of a column's `transforms:` list: a pure function of a string.
///
/// A step may return nil ("no value"): `extract` without a match, `split` without that part. The
/// column then continues as empty (its `default`, `required` and `on_error` decide what happens).
public enum Transform: Sendable, Hashable {
    /// Remove leading and trailing white space, including the ideographic space U+3000.
    case trim
    case upper
    case lower
    /// Unicode NFKC: full-width letters and digits to ASCII, compatibility forms folded. For codes,
    /// VINs, phones and numbers; never for names, which must be stored as given.
    case nfkc
    /// Replace every run of white space by one space.
    case collapseSpaces
    /// Regex replace (ICU syntax; `$1` in `with` refers to a capture group).
    case replace(CompiledRegex, with: String)
    /// The capture group `group` (0 = whole match) of the first match; no match -> no value.
    case extract(CompiledRegex, group: Int)
    /// Split on `separator` and keep part `index` (0-based; -1 is the last); missing -> no value.
    case split(separator: String, index: Int)
    /// Remove a prefix or suffix if present.
    case removePrefix(String)
    case removeSuffix(String)

    public func apply(_ value: String) -> String? {
        switch self {
        case .trim: return Self.trimmed(value)
        case .upper: return Self.asciiCase(value, upper: true) ?? value.uppercased()
        case .lower: return Self.asciiCase(value, upper: false) ?? value.lowercased()
        case .nfkc: return value.precomposedStringWithCompatibilityMapping
        case .collapseSpaces:
            return value.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        case .replace(let regex, let template): return regex.replacingAll(in: value, with: template)
        case .extract(let regex, let group): return regex.firstGroup(in: value, group: group)
        case .split(let separator, let index):
            let parts = value.components(separatedBy: separator)
            let i = index < 0 ? parts.count + index : index
            return parts.indices.contains(i) ? parts[i] : nil
        case .removePrefix(let p): return value.hasPrefix(p) ? String(value.dropFirst(p.count)) : value
        case .removeSuffix(let s): return value.hasSuffix(s) ? String(value.dropLast(s.count)) : value
        }
    }

    /// Trim without Foundation when the ends are ASCII: the hot path of every CSV field.
    static func trimmed(_ value: String) -> String {
        let utf8 = value.utf8
        guard let first = utf8.first, let last = utf8.last else { return value }
        if first >= 0x80 || last >= 0x80 {
            // Only white space at an end needs Foundation; `2025年12月2日` or `北京` do not.
            let scalars = value.unicodeScalars
            guard let f = scalars.first, let l = scalars.last, isSpace(f) || isSpace(l) else { return value }
            return value.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: "\u{3000}\u{FEFF}")))
        }
        if !isSpaceByte(first) && !isSpaceByte(last) { return value }
        var start = utf8.startIndex
        var end = utf8.endIndex
        while start < end, isSpaceByte(utf8[start]) { start = utf8.index(after: start) }
        while end > start, isSpaceByte(utf8[utf8.index(before: end)]) { end = utf8.index(before: end) }
        let result = String(value[start..<end])
        // A non-ASCII space (U+3000) may sit inside the ASCII ones; finish the job properly then.
        if let f = result.utf8.first, let l = result.utf8.last, f >= 0x80 || l >= 0x80 { return Self.trimmed(result) }
        return result
    }

    @inline(__always)
    static func isSpaceByte(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    /// White space outside ASCII: no-break and ideographic spaces, the Unicode space block, the BOM.
    static func isSpace(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x85, 0xA0, 0x1680, 0x2000...0x200B, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF: return true
        default: return u.value < 0x80 && isSpaceByte(UInt8(u.value))
        }
    }

    /// ASCII upper/lower case without Foundation, or nil when the text is not all ASCII.
    static func asciiCase(_ value: String, upper: Bool) -> String? {
        var changed = false
        for b in value.utf8 {
            if b >= 0x80 { return nil }
            if upper ? (b >= 0x61 && b <= 0x7A) : (b >= 0x41 && b <= 0x5A) { changed = true }
        }
        guard changed else { return value }
        return String(decoding: value.utf8.map { b in
            upper ? (b >= 0x61 && b <= 0x7A ? b - 32 : b) : (b >= 0x41 && b <= 0x5A ? b + 32 : b)
        }, as: UTF8.self)
    }
}
