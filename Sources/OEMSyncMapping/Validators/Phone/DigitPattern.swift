/// A regular expression over decimal digits, in the dialect of libphonenumber's prefix patterns
/// (international prefixes, national prefixes for parsing, leading digits): digits, `\d`, `[...]`
/// with ranges, groups `(...)` and `(?:...)`, `|`, `?`, `*`, `+`, `{m}`, `{m,}`, `{m,n}` and `$`.
///
/// It matches the way Python's `re.match` does, which is what the reference library runs: anchored
/// at the start, not at the end, alternatives and repetitions tried in their order (greedy), and the
/// first match found is the one returned, not the longest: `(1001)|0` on `1001…` takes the carrier
/// code, `0|80?` on `80…` takes `80`. That order decides which prefix is stripped, so it must be the same.
///
/// Compiled once into a small backtracking program; these patterns are a few characters long and
/// run against at most 17 digits. A class: a region hands out its patterns on every parse, and a
/// reference is cheaper to pass around than the program. (`@unchecked Sendable`: the program is
/// written once in init and only read after.)
final class DigitPattern: @unchecked Sendable {
    enum Op: Sendable, Hashable {
        /// One digit out of the set (bit d: digit d).
        case digit(UInt16)
        /// Try `first`; if the rest fails from there, `second`.
        case split(Int, Int)
        case jump(Int)
        /// Record the position in capture slot n (group k: slots 2k and 2k+1).
        case save(Int)
        /// Only at the end of the input (`$`).
        case end
        case match
    }

    struct Match {
        /// How many digits the match took from the start.
        var length: Int
        /// Group k's digits as offsets from the start, nil where the group took no part in the match.
        var groups: [Range<Int>?]
    }

    let source: String
    /// The compiled program, behind a pointer this pattern owns: the matcher's loop reads it without
    /// retaining an array on every match.
    let program: UnsafePointer<Op>
    let groupCount: Int
    /// The digits a match can begin with (bit d: digit d); all ten when a match can be empty.
    let firstDigits: UInt16

    struct SyntaxError: Error, CustomStringConvertible {
        var pattern: String
        var offset: Int
        var description: String { "unsupported pattern syntax at offset \(offset) of \(pattern)" }
    }

    init(_ source: String) throws {
        var parser = Parser(text: Array(source.utf8), source: source)
        let tree = try parser.alternation()
        guard parser.pos == parser.text.count else { throw SyntaxError(pattern: source, offset: parser.pos) }
        var program: [Op] = []
        Self.emit(tree, into: &program)
        program.append(.match)
        self.source = source
        let stored = UnsafeMutablePointer<Op>.allocate(capacity: program.count)
        stored.initialize(from: program, count: program.count)
        self.program = UnsafePointer(stored)
        self.groupCount = parser.groups
        self.firstDigits = Self.firstDigits(of: program)
    }

    deinit { UnsafeMutablePointer(mutating: program).deallocate() }

    /// The match at the start of `input` (digits '0'...'9'), as `re.match` finds it.
    func prefixMatch(_ input: PhoneDigits) -> Match? {
        guard mayStart(input) else { return nil }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * groupCount + 2) { slots -> Match? in
            slots.initialize(repeating: -1)
            guard let end = run(0, input.startIndex, input, slots) else { return nil }
            let base = input.startIndex
            let groups: [Range<Int>?] = groupCount == 0 ? [] : (1...groupCount).map { k in
                guard slots[2 * k] >= 0, slots[2 * k + 1] >= 0 else { return nil }
                return (slots[2 * k] - base)..<(slots[2 * k + 1] - base)
            }
            return Match(length: end - base, groups: groups)
        }
    }

    /// How many digits the match at the start takes (a cheaper `prefixMatch` when the groups do not matter).
    func matchLength(_ input: PhoneDigits) -> Int? {
        guard mayStart(input) else { return nil }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * groupCount + 2) { slots -> Int? in
            slots.initialize(repeating: -1)
            return run(0, input.startIndex, input, slots).map { $0 - input.startIndex }
        }
    }

    func matchesPrefix(_ input: PhoneDigits) -> Bool { matchLength(input) != nil }

    @inline(__always)
    private func mayStart(_ input: PhoneDigits) -> Bool {
        guard firstDigits != 0x3FF else { return true }
        guard let first = input.first else { return false }
        return firstDigits & (1 << (UInt16(first) &- 48)) != 0
    }

    /// The union of the digit sets reachable from the start without consuming a digit.
    static func firstDigits(of program: [Op]) -> UInt16 {
        var set: UInt16 = 0
        var seen = Set<Int>()
        var stack = [0]
        while let pc = stack.popLast() {
            guard seen.insert(pc).inserted else { continue }
            switch program[pc] {
            case .digit(let d): set |= d
            case .split(let a, let b): stack += [a, b]
            case .jump(let t): stack.append(t)
            case .save: stack.append(pc + 1)
            case .end, .match: return 0x3FF  // a match may take no digit at all
            }
        }
        return set
    }

    private func run(_ startPC: Int, _ startSP: Int, _ input: PhoneDigits, _ slots: UnsafeMutableBufferPointer<Int>) -> Int? {
        var pc = startPC
        var sp = startSP
        while true {
            switch program[pc] {
            case .digit(let set):
                guard sp < input.endIndex else { return nil }
                let d = Int(input[sp]) &- 48
                guard d >= 0, d < 10, set & (1 << d) != 0 else { return nil }
                sp += 1
                pc += 1
            case .split(let first, let second):
                if let end = run(first, sp, input, slots) { return end }
                pc = second
            case .jump(let target):
                pc = target
            case .save(let slot):
                let old = slots[slot]
                slots[slot] = sp
                if let end = run(pc + 1, sp, input, slots) { return end }
                slots[slot] = old
                return nil
            case .end:
                guard sp == input.endIndex else { return nil }
                pc += 1
            case .match:
                return sp
            }
        }
    }

    // MARK: - Parsing and compiling

    indirect enum Node {
        case set(UInt16)
        case sequence([Node])
        case alternatives([Node])
        case repeated(Node, min: Int, max: Int?)
        case group(Int, Node)
        case end
    }

    struct Parser {
        var text: [UInt8]
        var source: String
        var pos = 0
        var groups = 0

        func peek() -> UInt8? { pos < text.count ? text[pos] : nil }

        func error() -> SyntaxError { SyntaxError(pattern: source, offset: pos) }

        mutating func alternation() throws -> Node {
            var branches = [try sequence()]
            while peek() == UInt8(ascii: "|") {
                pos += 1
                branches.append(try sequence())
            }
            return branches.count == 1 ? branches[0] : .alternatives(branches)
        }

        mutating func sequence() throws -> Node {
            var items: [Node] = []
            while let c = peek(), c != UInt8(ascii: "|"), c != UInt8(ascii: ")") {
                items.append(try quantified(try atom()))
            }
            return .sequence(items)
        }

        mutating func atom() throws -> Node {
            guard let c = peek() else { throw error() }
            pos += 1
            switch c {
            case UInt8(ascii: "("):
                var index: Int?
                if pos + 1 < text.count, text[pos] == UInt8(ascii: "?"), text[pos + 1] == UInt8(ascii: ":") {
                    pos += 2
                } else {
                    groups += 1
                    index = groups
                }
                let inner = try alternation()
                guard peek() == UInt8(ascii: ")") else { throw error() }
                pos += 1
                return index.map { .group($0, inner) } ?? inner
            case UInt8(ascii: "["):
                var set: UInt16 = 0
                while let d = peek(), d != UInt8(ascii: "]") {
                    if d == UInt8(ascii: "\\") {
                        pos += 1
                        guard peek() == UInt8(ascii: "d") else { throw error() }
                        set |= 0x3FF
                        pos += 1
                    } else if Self.isDigit(d), pos + 2 < text.count, text[pos + 1] == UInt8(ascii: "-"), Self.isDigit(text[pos + 2]) {
                        for v in Int(d - 48)...Int(text[pos + 2] - 48) { set |= 1 << v }
                        pos += 3
                    } else if Self.isDigit(d) {
                        set |= 1 << Int(d - 48)
                        pos += 1
                    } else {
                        throw error()
                    }
                }
                guard peek() == UInt8(ascii: "]") else { throw error() }
                pos += 1
                return .set(set)
            case UInt8(ascii: "\\"):
                guard peek() == UInt8(ascii: "d") else { throw error() }
                pos += 1
                return .set(0x3FF)
            case UInt8(ascii: "$"):
                return .end
            default:
                guard Self.isDigit(c) else {
                    pos -= 1
                    throw error()
                }
                return .set(1 << UInt16(c - 48))
            }
        }

        mutating func quantified(_ node: Node) throws -> Node {
            var node = node
            while let c = peek() {
                switch c {
                case UInt8(ascii: "?"): node = .repeated(node, min: 0, max: 1)
                case UInt8(ascii: "*"): node = .repeated(node, min: 0, max: nil)
                case UInt8(ascii: "+"): node = .repeated(node, min: 1, max: nil)
                case UInt8(ascii: "{"):
                    pos += 1
                    let low = number()
                    var high: Int? = low
                    if peek() == UInt8(ascii: ",") {
                        pos += 1
                        high = peek() == UInt8(ascii: "}") ? nil : number()
                    }
                    guard let low, peek() == UInt8(ascii: "}") else { throw error() }
                    node = .repeated(node, min: low, max: high)
                default:
                    return node
                }
                pos += 1
            }
            return node
        }

        mutating func number() -> Int? {
            var value: Int?
            while let d = peek(), Self.isDigit(d) {
                value = (value ?? 0) * 10 + Int(d - 48)
                pos += 1
            }
            return value
        }

        static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    }

    static func emit(_ node: Node, into p: inout [Op]) {
        switch node {
        case .set(let set):
            p.append(.digit(set))
        case .end:
            p.append(.end)
        case .sequence(let items):
            for item in items { emit(item, into: &p) }
        case .group(let k, let inner):
            p.append(.save(2 * k))
            emit(inner, into: &p)
            p.append(.save(2 * k + 1))
        case .alternatives(let branches):
            var exits: [Int] = []
            for (i, branch) in branches.enumerated() {
                if i == branches.count - 1 {
                    emit(branch, into: &p)
                } else {
                    let split = p.count
                    p.append(.split(split + 1, -1))
                    emit(branch, into: &p)
                    exits.append(p.count)
                    p.append(.jump(-1))
                    p[split] = .split(split + 1, p.count)
                }
            }
            for exit in exits { p[exit] = .jump(p.count) }
        case .repeated(let inner, let min, let max):
            for _ in 0..<min { emit(inner, into: &p) }
            if let max {
                // Greedy optional copies: each one taken if the rest can follow, else all skipped.
                var skips: [Int] = []
                for _ in min..<max {
                    skips.append(p.count)
                    p.append(.split(p.count + 1, -1))
                    emit(inner, into: &p)
                }
                for s in skips { p[s] = .split(s + 1, p.count) }
            } else {
                let loop = p.count
                p.append(.split(loop + 1, -1))
                emit(inner, into: &p)
                p.append(.jump(loop))
                p[loop] = .split(loop + 1, p.count)
            }
        }
    }
}
