import OEMSyncCore

/// A parsed JSON value. Numbers keep their exact text (`268000.00`, `12345678901234567890`): an
/// amount or an ID goes to the database as the OEM wrote it, never through a binary float.
public indirect enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in document order. A name given twice resolves to its last value, as in JavaScript.
    case object([JSONMember])

    /// The member `name` of an object (the last one, if repeated), nil otherwise.
    public subscript(key name: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for m in members.reversed() where m.key == name { return m.value }
        return nil
    }

    /// The element at `index` of an array (negative counts from the end), nil otherwise.
    public subscript(index index: Int) -> JSONValue? {
        guard case .array(let items) = self else { return nil }
        let i = index < 0 ? items.count + index : index
        return items.indices.contains(i) ? items[i] : nil
    }

    /// The value as a field of a raw record: strings as they are, numbers as written, booleans as
    /// `true`/`false`, null as nil, arrays and objects as compact JSON text.
    public var fieldText: String? {
        switch self {
        case .null: return nil
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n
        case .string(let s): return s
        case .array, .object: return jsonText
        }
    }

    /// Compact JSON text.
    public var jsonText: String {
        var out = ""
        append(to: &out)
        return out
    }

    func append(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): JSONText.appendQuoted(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.append(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, m) in members.enumerated() {
                if i > 0 { out += "," }
                JSONText.appendQuoted(m.key, to: &out)
                out += ":"
                m.value.append(to: &out)
            }
            out += "}"
        }
    }

    /// What kind of value this is, for messages.
    public var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

public struct JSONMember: Sendable, Hashable {
    public var key: String
    public var value: JSONValue

    public init(key: String, value: JSONValue) {
        self.key = key
        self.value = value
    }
}
