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
        case .upper: return value.uppercased()
        case .lower: return value.lowercased()
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

    /// Trim without Foundation for the common all-ASCII case; the hot path of every CSV field.
    static func trimmed(_ value: String) -> String {
        let utf8 = value.utf8
        guard let first = utf8.first, let last = utf8.last else { return value }
        if !isSpaceByte(first) && !isSpaceByte(last) && first < 0x80 && last < 0x80 { return value }
        return value.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: "\u{3000}\u{FEFF}")))
    }

    @inline(__always)
    static func isSpaceByte(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
}
