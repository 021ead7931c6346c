/// File names as they are shown and stored: a name can hold any byte but `/` and NUL, and an OEM's
/// transfer software (or an attacker) may put a carriage return, an escape sequence or bytes that
/// are not UTF-8 in one. Written raw into a terminal, a log line or a report, such a name rewrites
/// what the reader sees.
///
/// ``display(_:)-(Array<UInt8>)`` keeps printable UTF-8 as it is and writes everything else as an
/// escape: control characters (C0, DEL, C1) and bytes that are not UTF-8 as `\xHH` (C1 as
/// `\u{HH}`), a backslash as `\\`. The result is valid UTF-8 without control characters, and two
/// different names never display alike.
public enum FileName {
    public static func display(_ bytes: [UInt8]) -> String {
        var out = ""
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b < 0x80 {
                switch b {
                case 0x5C: out += "\\\\"
                case 0..<0x20, 0x7F: out += hex(b)
                default: out.unicodeScalars.append(Unicode.Scalar(b))
                }
                i += 1
                continue
            }
            guard let (scalar, length) = decode(bytes, at: i) else {
                out += hex(b)
                i += 1
                continue
            }
            if (0x80...0x9F).contains(scalar.value) {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
            i += length
        }
        return out
    }

    public static func display(_ name: String) -> String { display(Array(name.utf8)) }

    /// Whether the name displays as itself (nothing to escape).
    public static func isPlain(_ name: String) -> Bool { display(name) == name }

    private static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "\\x" + String(digits[Int(b >> 4)]) + String(digits[Int(b & 0xF)])
    }

    /// One well-formed UTF-8 sequence at `i` (no overlong forms, no surrogates), or nil.
    private static func decode(_ bytes: [UInt8], at i: Int) -> (Unicode.Scalar, Int)? {
        let b0 = bytes[i]
        let length: Int
        let min: UInt32
        var value: UInt32
        switch b0 {
        case 0xC2...0xDF: (length, min, value) = (2, 0x80, UInt32(b0 & 0x1F))
        case 0xE0...0xEF: (length, min, value) = (3, 0x800, UInt32(b0 & 0x0F))
        case 0xF0...0xF4: (length, min, value) = (4, 0x10000, UInt32(b0 & 0x07))
        default: return nil
        }
        guard i + length <= bytes.count else { return nil }
        for k in 1..<length {
            let b = bytes[i + k]
            guard b & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(b & 0x3F)
        }
        guard value >= min, let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }

    /// Control characters (C0, DEL, C1) escaped, everything else as it is: for text that may hold a
    /// name stored before names were escaped, or text written by someone else, on its way to a
    /// terminal. Text without control characters comes back unchanged.
    public static func escapingControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        for u in text.unicodeScalars {
            if isControl(u) {
                out += u.value < 0x80 ? hex(UInt8(u.value)) : "\\u{" + String(u.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }

    static func isControl(_ u: Unicode.Scalar) -> Bool { u.value < 0x20 || u.value == 0x7F || (0x80...0x9F).contains(u.value) }
}
