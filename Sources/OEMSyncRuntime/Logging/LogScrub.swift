import OEMSyncCore

/// The last guard against personal data in logs. Components log identifiers and counts, never
/// record values; but free text (an error a database or an OEM wrote, a reason) can quote one. The
/// values of the free-text keys go through ``Redact/scrub(_:)`` (phones, ID numbers, e-mail
/// addresses, URL credentials and query values, tokens), which leaves oemsync's own identifiers
/// (claimed file names, message ids, batch ids) readable.
public enum LogScrub {
    /// Keys whose values are free text.
    static let freeText: Set<String> = [LogKey.error, LogKey.reason]

    public static func value(_ s: String, key: String) -> String { freeText.contains(key) ? Redact.scrub(s) : s }

    public static func text(_ s: String) -> String { Redact.scrub(s) }
}
