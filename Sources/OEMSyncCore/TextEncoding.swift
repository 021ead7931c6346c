/// The text encoding of a payload (a CSV drop), as a mapping declares it.
public enum TextEncoding: String, Sendable, Hashable, CaseIterable {
    /// UTF-8 if the file has a UTF-8 BOM or its first megabyte is valid UTF-8, GB18030 otherwise.
    /// Never Latin-1: it always "succeeds" and silently produces mojibake.
    case auto
    case utf8 = "utf-8"
    /// GB18030, the superset of GBK and GB2312: GBK files are read as GB18030.
    case gb18030
}
