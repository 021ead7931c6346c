import Logging
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import OEMSyncSinks
import Yams

/// A kind of feed source: how the config names it, the payload format its mappings read, the keys
/// of its `source:` block (``SettingsSchema``) and how they are read. Every command reaches a
/// source through its kind and its settings (``FeedSourceSettings``), never by naming the kinds.
///
/// A new kind is a folder under `Kinds/` (its kind, its settings, its ``FeedSource``) and one line
/// in ``FeedKinds/all``.
public protocol FeedKind: Sendable {
    /// `csv-drop`, `rest`: the `kind:` of a feed's `source:`.
    var name: String { get }
    /// What the kind is, in a line, for `oemsync kinds`.
    var summary: String { get }
    /// The payload format its mappings read (`source: {format: …}`).
    var format: SourceSpec.Format { get }
    /// The keys of its `source:` block besides `kind`.
    var schema: SettingsSchema { get }
    /// Reads a `source:` block whose keys the loader checked against ``schema``.
    func read(
        _ block: SettingsBlock, feed: String, loader: ConfigurationLoader, reader: inout YAMLReader, resolve: (String) -> String
    ) -> (any FeedSourceSettings)?
}

/// A feed's source settings, as its kind read them: what `sync`, the daemon, `status`,
/// `checkpoint` and `doctor` ask of any source.
public protocol FeedSourceSettings: Sendable {
    var kind: any FeedKind { get }
    /// Where an HTTP kind sends its requests, and with what: the credentials checked against
    /// `credentials:`, the host's circuit breaker, `doctor`'s checks. Nil for other kinds.
    var http: HTTPEndpoint? { get }
    /// The local directory files are dropped into (file kinds): `doctor`'s permission checks, and
    /// the daemon watches it (inotify) to run the feed as soon as a file is ready.
    var dropDirectory: DropDirectory? { get }
    /// The source of one run, at the feed's stored checkpoint.
    func open(_ run: SourceRun) -> any FeedSource
    /// Why `value` cannot be this kind's checkpoint (`oemsync checkpoint set`); nil when it can.
    func checkpointProblem(_ value: String) -> String?
    /// The stored checkpoint in words and how far behind the feed is, for `oemsync status`.
    func describe(_ status: inout StatusCommand.FeedStatus, now: Timestamp)
    /// The settings `sync --reload-duplicates` runs with: content loaded before is loaded again.
    func reloadingDuplicates() -> any FeedSourceSettings
}

extension FeedSourceSettings {
    public var http: HTTPEndpoint? { nil }
    public var dropDirectory: DropDirectory? { nil }
    public func reloadingDuplicates() -> any FeedSourceSettings { self }
}

/// The OEM endpoint of an HTTP kind's feed.
public struct HTTPEndpoint: Sendable {
    public var url: String
    /// The name of the credentials under `credentials:`.
    public var credentials: String
    public var transport: TransportSettings
    /// Where the client key's passphrase is read, if it has one.
    public var clientKeyPassword: SecretSource?
}

/// What a source needs for one run of its feed.
public struct SourceRun {
    public var feed: FeedSettings
    public var plan: MappingPlan
    public var database: any DealerDatabase
    public var services: SourceServices
    public var logger: Logger
    public var control: RunControl
    /// The feed's checkpoint when the run started.
    public var checkpoint: String?
}

/// The kinds oemsync knows, by name.
public enum FeedKinds {
    /// Every kind. A new kind: its folder under `Kinds/` and one line here.
    public static let all: [any FeedKind] = [
        CSVDropKind(),
        RESTKind(),
        SOAPKind(),
    ]

    public static var names: [String] { all.map(\.name) }

    public static func named(_ name: String) -> (any FeedKind)? { all.first { $0.name == name } }
}
