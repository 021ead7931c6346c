import OEMSyncCore
import Yams

/// Reads the checks shared by dictionary fields and mapping columns: `length`, `range`, `pattern`,
/// `enum`. Returns false when the key is not one of them.
enum CheckReader {
    static let keys = ["length", "range", "pattern", "enum"]

    @discardableResult
    static func read(_ entry: YAMLReader.Entry, into checks: inout ValueChecks, reader: inout YAMLReader) -> Bool {
        switch entry.key {
        case "length":
            if YAMLReader.isPlainInt(entry.value) {
                if let n = reader.int(entry.value, what: "length", range: 1...1_000_000) { checks.length = n...n }
            } else if let keys = reader.entries(entry.value, what: "length", allowed: ["min", "max"]) {
                var low = 0
                var high = Int.max
                for key in keys {
                    if key.key == "min", let n = reader.int(key.value, what: "length min", range: 0...1_000_000) { low = n }
                    if key.key == "max", let n = reader.int(key.value, what: "length max", range: 0...1_000_000) { high = n }
                }
                if low > high {
                    reader.error("104", "length min \(low) is greater than max \(high)", at: entry.value)
                } else {
                    checks.length = low...high
                }
            }
        case "range":
            guard let keys = reader.entries(entry.value, what: "range", allowed: ["min", "max"]) else { return true }
            for key in keys {
                guard let bound = bound(key.value, reader: &reader) else { continue }
                if key.key == "min" { checks.minimum = bound } else { checks.maximum = bound }
            }
            if let lo = checks.minimum, let hi = checks.maximum, !RangeCheck.lessOrEqual(lo, hi) {
                reader.error("104", "range min \(lo) is greater than max \(hi)", at: entry.value)
            }
        case "pattern":
            if let p = reader.nonEmptyString(entry.value, what: "pattern") {
                if let problem = RegexCache.compileProblem(p) {
                    reader.error("203", "invalid regular expression: \(problem)", at: entry.value)
                } else {
                    checks.pattern = p
                }
            }
        case "enum":
            if let values = reader.stringList(entry.value, what: "enum") {
                if values.isEmpty {
                    reader.error("104", "enum must list at least one value", at: entry.value)
                } else {
                    checks.allowed = values
                }
            }
        default:
            return false
        }
        return true
    }

    static func bound(_ node: Node, reader: inout YAMLReader) -> RangeBound? {
        guard case .scalar(let scalar) = node else {
            reader.error("103", "a range bound must be a number or a date (YYYY-MM-DD)", at: node)
            return nil
        }
        if let n = Double(scalar.string) { return .number(n) }
        if let d = DatePattern.iso.parseDate(Array(scalar.string.utf8)) { return .date(d) }
        reader.error("104", "invalid range bound '\(scalar.string)'", at: node, help: "use a number or a date YYYY-MM-DD")
        return nil
    }
}

enum RangeCheck {
    static func lessOrEqual(_ a: RangeBound, _ b: RangeBound) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return x <= y
        case (.date(let x), .date(let y)): return x <= y
        default: return true
        }
    }
}
