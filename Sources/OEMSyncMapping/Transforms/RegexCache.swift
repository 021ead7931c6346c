import Foundation

/// A regular expression compiled once, when the mapping is compiled, and shared by every record.
///
/// NSRegularExpression (ICU) is immutable once built and safe to use from several threads.
public struct CompiledRegex: @unchecked Sendable, Hashable {
    public let pattern: String
    let regex: NSRegularExpression

    public init(_ pattern: String) throws {
        self.pattern = pattern
        self.regex = try NSRegularExpression(pattern: pattern)
    }

    /// Whether the whole string matches (the pattern is implicitly anchored).
    public func matchesWhole(_ s: String) -> Bool {
        let range = NSRange(s.startIndex..., in: s)
        guard let m = regex.firstMatch(in: s, options: [.anchored], range: range) else { return false }
        return m.range == range
    }

    public func replacingAll(in s: String, with template: String) -> String {
        regex.stringByReplacingMatches(
            in: s, range: NSRange(s.startIndex..., in: s), withTemplate: template)
    }

    /// The text of capture group `group` of the first match, or nil if there is no match.
    public func firstGroup(in s: String, group: Int) -> String? {
        guard let m = regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)),
            group <= m.numberOfRanges - 1,
            let r = Range(m.range(at: group), in: s)
        else { return nil }
        return String(s[r])
    }

    public var captureGroups: Int { regex.numberOfCaptureGroups }

    public static func == (a: CompiledRegex, b: CompiledRegex) -> Bool { a.pattern == b.pattern }
    public func hash(into hasher: inout Hasher) { hasher.combine(pattern) }
}

enum RegexCache {
    /// Why `pattern` does not compile, or nil if it does.
    static func compileProblem(_ pattern: String) -> String? {
        do {
            _ = try NSRegularExpression(pattern: pattern)
            return nil
        } catch {
            return "'\(pattern)' is not a valid ICU regular expression"
        }
    }
}
