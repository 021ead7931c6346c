import OEMSyncCore

/// A plan bound to one payload's layout: CSV header names resolved to column indexes.
///
/// Binding fails when the header lacks a column the mapping reads: then no record of the file can
/// be mapped, and the whole file goes to quarantine with this error as its reason.
public struct BoundMapping: Sendable {
    public let plan: MappingPlan
    let inputs: [BoundInput]
    /// The number of fields every record must have: the header's width, when there is a header.
    public let expectedFieldCount: Int?

    enum BoundInput: Sendable {
        case index(Int)
        case concat([Int], String)
        case constant(String)
    }

    public struct BindingError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// - Parameter header: the first row of the file (nil for a source without a header row).
    public init(plan: MappingPlan, header: [String]?) throws(BindingError) {
        self.plan = plan
        var positions: [String: Int] = [:]
        var duplicates: Set<String> = []
        for (i, name) in (header ?? []).enumerated() {
            let clean = Transform.trimmed(name)
            if positions[clean] != nil { duplicates.insert(clean) } else { positions[clean] = i }
        }
        var missing: [String] = []
        var ambiguous: [String] = []
        func resolve(_ ref: FieldReference) -> Int {
            switch ref {
            case .index(let i):
                if let header, i >= header.count { missing.append("column \(i + 1) (the header has \(header.count))") }
                return i
            case .header(let name):
                if duplicates.contains(name) { ambiguous.append(name) }
                guard let i = positions[name] else {
                    missing.append("'\(name)'")
                    return -1
                }
                return i
            }
        }
        var inputs: [BoundInput] = []
        for column in plan.columns {
            switch column.input {
            case .field(let ref): inputs.append(.index(resolve(ref)))
            case .concat(let refs, let sep): inputs.append(.concat(refs.map(resolve), sep))
            case .constant(let c): inputs.append(.constant(c))
            }
        }
        if !missing.isEmpty {
            var message = "the header has no \(missing.joined(separator: ", "))"
            if let header, let first = missing.first, first.hasPrefix("'") {
                let name = String(first.dropFirst().dropLast())
                if let s = Suggestion.closest(to: name, in: header.map { Transform.trimmed($0) }) { message += " (did you mean '\(s)'?)" }
            }
            throw BindingError(description: message)
        }
        if !ambiguous.isEmpty {
            throw BindingError(description: "the header names \(ambiguous.map { "'\($0)'" }.joined(separator: ", ")) more than once")
        }
        self.inputs = inputs
        self.expectedFieldCount = header?.count
    }
}
