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
    /// For a JSON source: the paths records are read into, field `i` from `fields[i]`.
    public let paths: [(path: JSONPath, join: String)]
    /// For an XML source: the same, as XML paths.
    public let xmlPaths: [(path: XMLPath, join: String)]

    enum BoundInput: Sendable {
        case index(Int)
        case concat([Int], String)
        case constant(String)
    }

    public struct BindingError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Binds a JSON (or XML) mapping: every distinct path the columns read becomes one field.
    public init(json plan: MappingPlan) {
        self.plan = plan
        var paths: [(path: JSONPath, join: String)] = []
        var xmlPaths: [(path: XMLPath, join: String)] = []
        func index(_ ref: FieldReference) -> Int {
            switch ref {
            case .path(let p, let join):
                if let i = paths.firstIndex(where: { $0.path == p && $0.join == join }) { return i }
                paths.append((p, join))
                return paths.count - 1
            case .xml(let p, let join):
                if let i = xmlPaths.firstIndex(where: { $0.path == p && $0.join == join }) { return i }
                xmlPaths.append((p, join))
                return xmlPaths.count - 1
            case .header, .index:
                return -1
            }
        }
        var inputs: [BoundInput] = []
        for column in plan.columns {
            switch column.input {
            case .field(let ref): inputs.append(.index(index(ref)))
            case .concat(let refs, let sep): inputs.append(.concat(refs.map(index), sep))
            case .constant(let c): inputs.append(.constant(c))
            }
        }
        self.inputs = inputs
        self.paths = paths
        self.xmlPaths = xmlPaths
        self.expectedFieldCount = nil
    }

    /// Binds an XML mapping: every distinct path the columns read becomes one field.
    public init(xml plan: MappingPlan) { self.init(json: plan) }

    /// - Parameter header: the first row of the file (nil for a source without a header row).
    public init(plan: MappingPlan, header: [String]?) throws(BindingError) {
        self.plan = plan
        self.paths = []
        self.xmlPaths = []
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
            case .path(let p, _):
                missing.append("JSON path '\(p.text)' (a JSON mapping cannot read a CSV file)")
                return -1
            case .xml(let p, _):
                missing.append("XML path '\(p.text)' (an XML mapping cannot read a CSV file)")
                return -1
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
