import OEMSyncCore

/// Builds `COPY ... FROM STDIN` text-format data: tab-separated, `\N` for NULL, with backslash,
/// tab, newline and carriage return escaped. Values are written in PostgreSQL's input syntax.
struct CopyEncoder {
    var bytes: [UInt8] = []

    init(capacity: Int = 1 << 20) { bytes.reserveCapacity(capacity) }

    mutating func appendRow(_ values: [Value]) {
        for (i, v) in values.enumerated() {
            if i > 0 { bytes.append(0x09) }
            append(v)
        }
        bytes.append(0x0A)
    }

    mutating func append(_ value: Value) {
        switch value {
        case .null: bytes.append(contentsOf: [0x5C, 0x4E])  // \N
        case .string(let s): appendEscaped(s)
        case .int(let i): bytes.append(contentsOf: String(i).utf8)
        case .decimal(let d): bytes.append(contentsOf: d.utf8)
        case .bool(let b): bytes.append(b ? UInt8(ascii: "t") : UInt8(ascii: "f"))
        case .date(let d): bytes.append(contentsOf: d.description.utf8)
        case .datetime(let t): bytes.append(contentsOf: t.description.utf8)
        }
    }

    mutating func appendEscaped(_ s: String) {
        // Most values need no escaping: copy them whole.
        if !s.utf8.contains(where: { $0 == 0x5C || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            bytes.append(contentsOf: s.utf8)
            return
        }
        for b in s.utf8 {
            switch b {
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
            case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
            case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
            default: bytes.append(b)
            }
        }
    }
}
