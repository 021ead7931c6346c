import Foundation
import OEMSyncCore

/// Decodes the bytes of one CSV field in the file's encoding.
///
/// Splitting into records and fields happens on raw bytes before decoding, which is safe for both
/// encodings: in UTF-8 and in GB18030 the bytes `,` `"` CR LF never occur inside a multi-byte
/// character. (A backslash can, in GBK, which is why no backslash escaping is ever applied.)
public enum TextDecoder {
    /// GB18030-2000; `GBK_95` is not available on Linux, and GB18030 is its superset.
    static let gb18030 = String.Encoding(rawValue: 0x8000_0632)

    /// The encoding to use for a file whose first bytes are `head`, under the configured choice.
    ///
    /// `auto`: a UTF-8 BOM means UTF-8. Otherwise the sample is scored: valid multi-byte UTF-8
    /// sequences against bytes that cannot be UTF-8. Clean UTF-8, or UTF-8 with a few corrupt bytes
    /// (more than twice as many valid sequences as invalid ones: those rows are rejected, the rest
    /// read right), is UTF-8; anything else is GB18030, where Chinese text scores mostly invalid.
    public static func resolve(_ choice: TextEncoding, head: [UInt8], headIsWholeFile: Bool) -> TextEncoding {
        guard choice == .auto else { return choice }
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { return .utf8 }
        let (valid, invalid) = utf8Score(head, complete: headIsWholeFile)
        return invalid == 0 || valid > 2 * invalid ? .utf8 : .gb18030
    }

    /// The field's text, or nil when it is not valid in `encoding` or contains a NUL byte (which no
    /// database text column can store).
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, as encoding: TextEncoding) -> String? {
        if bytes.isEmpty { return "" }
        // ASCII is the same in both encodings and the common case: no validation needed.
        var ascii = true
        for b in bytes where b >= 0x80 || b == 0 {
            if b == 0 { return nil }
            ascii = false
        }
        if ascii { return String(decoding: bytes, as: UTF8.self) }
        switch encoding {
        case .utf8, .auto:
            return String(validating: bytes, as: UTF8.self)
        case .gb18030:
            return String(data: Data(buffer: bytes), encoding: gb18030)
        }
    }

    /// Counts valid multi-byte UTF-8 sequences and invalid bytes in `bytes`. A sequence cut off at
    /// the end of the sample counts as neither, unless `complete` (the sample is the whole file).
    static func utf8Score(_ bytes: [UInt8], complete: Bool) -> (valid: Int, invalid: Int) {
        var valid = 0
        var invalid = 0
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            let need: Int
            switch b {
            case 0x00...0x7F:
                i += 1
                continue
            case 0xC2...0xDF: need = 1
            case 0xE0...0xEF: need = 2
            case 0xF0...0xF4: need = 3
            default:
                invalid += 1
                i += 1
                continue
            }
            if i + need >= n {
                if complete { invalid += 1 }
                break
            }
            if (1...need).allSatisfy({ bytes[i + $0] & 0xC0 == 0x80 }) {
                valid += 1
                i += need + 1
            } else {
                invalid += 1
                i += 1
            }
        }
        return (valid, invalid)
    }
}
