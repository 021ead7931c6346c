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
    public static func resolve(_ choice: TextEncoding, head: [UInt8], headIsWholeFile: Bool) -> TextEncoding {
        guard choice == .auto else { return choice }
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { return .utf8 }
        return isValidUTF8Prefix(head, complete: headIsWholeFile) ? .utf8 : .gb18030
    }

    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, as encoding: TextEncoding) -> String? {
        if bytes.isEmpty { return "" }
        // ASCII is the same in both encodings and the common case: no validation needed.
        var ascii = true
        for b in bytes where b >= 0x80 {
            ascii = false
            break
        }
        if ascii { return String(decoding: bytes, as: UTF8.self) }
        switch encoding {
        case .utf8, .auto:
            return String(validating: bytes, as: UTF8.self)
        case .gb18030:
            return String(data: Data(buffer: bytes), encoding: gb18030)
        }
    }

    /// Whether `bytes` is valid UTF-8, allowing a multi-byte sequence cut off at the end unless
    /// `complete` (the chunk is the whole file).
    static func isValidUTF8Prefix(_ bytes: [UInt8], complete: Bool) -> Bool {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            let need: Int
            switch b {
            case 0x00...0x7F: i += 1; continue
            case 0xC2...0xDF: need = 1
            case 0xE0...0xEF: need = 2
            case 0xF0...0xF4: need = 3
            default: return false
            }
            if i + need >= n {
                // The sequence is cut off by the end of the sample.
                guard !complete else { return false }
                for k in (i + 1)..<n where bytes[k] & 0xC0 != 0x80 { return false }
                return true
            }
            for k in 1...need where bytes[i + k] & 0xC0 != 0x80 { return false }
            i += need + 1
        }
        return true
    }
}
