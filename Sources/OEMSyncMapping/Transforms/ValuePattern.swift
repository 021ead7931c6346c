/// A `pattern:` check, compiled once. The common shape of dictionary patterns, one character class
/// with a repetition (`[A-Z0-9-]+`, `[0-9]{6}`), is matched byte by byte; anything else goes to ICU.
struct ValuePattern: Sendable {
    let text: String
    private let kind: Kind

    private enum Kind: Sendable {
        case characterClass(allowed: [Bool], min: Int, max: Int)
        case regex(CompiledRegex)
    }

    init(_ pattern: String) throws {
        text = pattern
        if let simple = Self.characterClass(pattern) {
            kind = simple
        } else {
            kind = .regex(try CompiledRegex(pattern))
        }
    }

    func matchesWhole(_ s: String) -> Bool {
        switch kind {
        case .regex(let r): return r.matchesWhole(s)
        case .characterClass(let allowed, let min, let max):
            var n = 0
            for b in s.utf8 {
                guard b < 128, allowed[Int(b)] else { return false }
                n += 1
            }
            return n >= min && n <= max
        }
    }

    /// `[...]` of ASCII letters, digits, ranges and a few literal marks, then `+`, `*`, `?` or `{n,m}`.
    private static func characterClass(_ p: String) -> Kind? {
        let b = Array(p.utf8)
        guard b.first == UInt8(ascii: "["), let close = b.firstIndex(of: UInt8(ascii: "]")), close > 1 else { return nil }
        let body = b[1..<close]
        guard body.first != UInt8(ascii: "^") else { return nil }
        var allowed = [Bool](repeating: false, count: 128)
        var i = body.startIndex
        func plain(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x20 || c == 0x5F
                || c == 0x2E || c == 0x2F || c == 0x2C || c == 0x3A || c == 0x23
        }
        while i < body.endIndex {
            let c = body[i]
            if i + 2 < body.endIndex, body[i + 1] == UInt8(ascii: "-"), plain(c), plain(body[i + 2]), c <= body[i + 2] {
                for x in c...body[i + 2] { allowed[Int(x)] = true }
                i += 3
            } else if c == UInt8(ascii: "-") && (i == body.startIndex || i == body.endIndex - 1) {
                allowed[Int(c)] = true
                i += 1
            } else if plain(c) {
                allowed[Int(c)] = true
                i += 1
            } else {
                return nil
            }
        }
        let rest = String(decoding: b[(close + 1)...], as: UTF8.self)
        switch rest {
        case "+": return .characterClass(allowed: allowed, min: 1, max: .max)
        case "*": return .characterClass(allowed: allowed, min: 0, max: .max)
        case "?": return .characterClass(allowed: allowed, min: 0, max: 1)
        case "": return .characterClass(allowed: allowed, min: 1, max: 1)
        default:
            guard rest.hasPrefix("{"), rest.hasSuffix("}") else { return nil }
            let inner = rest.dropFirst().dropLast().split(separator: ",", omittingEmptySubsequences: false)
            if inner.count == 1, let n = Int(inner[0]) { return .characterClass(allowed: allowed, min: n, max: n) }
            if inner.count == 2, let lo = Int(inner[0]) {
                if inner[1].isEmpty { return .characterClass(allowed: allowed, min: lo, max: .max) }
                if let hi = Int(inner[1]), hi >= lo { return .characterClass(allowed: allowed, min: lo, max: hi) }
            }
            return nil
        }
    }
}
