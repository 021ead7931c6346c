/// Folds full-width ASCII (U+FF01...U+FF5E) and the ideographic space (U+3000) to ASCII, which
/// Chinese OEM exports use for digits, dates and codes (`１３８－００１３`).
///
/// Applied automatically before parsing numbers, dates, booleans, VINs and phones; never to free text.
public enum HalfWidth {
    /// The input unchanged when it is already ASCII (no allocation), the folded string otherwise.
    public static func fold(_ s: String) -> String {
        let ascii = s.utf8.withContiguousStorageIfAvailable { buf in !buf.contains { $0 >= 0x80 } } ?? s.utf8.allSatisfy { $0 < 0x80 }
        if ascii { return s }
        var scalars = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            switch u.value {
            case 0xFF01...0xFF5E: scalars.append(Unicode.Scalar(u.value - 0xFEE0)!)
            case 0x3000: scalars.append(" ")
            case 0x2212, 0x2013, 0x2014, 0xFE63: scalars.append("-")  // minus sign and dashes
            case 0x3002: scalars.append(".")  // ideographic full stop
            default: scalars.append(u)
            }
        }
        return String(scalars)
    }
}
