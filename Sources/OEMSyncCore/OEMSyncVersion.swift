/// The version oemsync reports: `oemsync --version`, and its HTTP User-Agent.
public enum OEMSyncVersion {
    public static let current = "0.6.0"
}
