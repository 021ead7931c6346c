import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import OEMSyncSinks
import Yams

/// `kind: csv-drop`: CSV files an OEM (or a dealer's export) drops into a local directory.
public struct CSVDropKind: FeedKind {
    public var name: String { "csv-drop" }
    public var summary: String { "CSV files dropped into a local directory, claimed, loaded and archived" }
    public var format: SourceSpec.Format { .csv }

    public var schema: SettingsSchema {
        SettingsSchema([
            .required("directory", "The drop directory (processing/, archive/ and quarantine/ are made inside it)."),
            .optional("pattern", default: "*.csv", "A glob for the files this feed takes."),
            .optional("ready", default: "rename", "When a file is complete: rename, marker or stable."),
            .optional("marker_suffix", default: ".done", "ready: marker only: the marker is <name><suffix>."),
            .optional("stable_seconds", default: "10", "ready: stable only: how old the modification time must be."),
            .optional("batch_rows", default: "50000", "Records per batch (one transaction), 1 to 1000000; read 5000 at a time."),
            .optional("max_record_bytes", default: "8388608", "The longest record, 1024 to 1073741824 bytes."),
            .optional("duplicates", default: "skip", "Content (SHA-256) loaded before: skip (a ledger note names the batch) or load."),
        ])
    }

    public init() {}

    public func read(
        _ block: SettingsBlock, feed: String, loader: ConfigurationLoader, reader: inout YAMLReader, resolve: (String) -> String
    ) -> (any FeedSourceSettings)? {
        guard let dirEntry = block["directory"], let directory = reader.nonEmptyString(dirEntry.value, what: "directory") else { return nil }
        var settings = CSVDropSettings(directory: resolve(directory), pattern: "*.csv", readiness: .rename, batchRows: 50000, maxRecordBytes: 8 << 20)
        if let p = block["pattern"], let pattern = reader.nonEmptyString(p.value, what: "pattern") { settings.pattern = pattern }
        let readiness = block["ready"].flatMap { reader.choice($0.value, what: "ready", allowed: ["rename", "marker", "stable"]) } ?? "rename"
        switch readiness {
        case "marker":
            var suffix = ".done"
            if let s = block["marker_suffix"], let v = reader.nonEmptyString(s.value, what: "marker_suffix") { suffix = v }
            settings.readiness = .marker(suffix: suffix)
        case "stable":
            var seconds = 10.0
            if let s = block["stable_seconds"], let v = reader.number(s.value, what: "stable_seconds") {
                if v > 0 { seconds = v } else { reader.error("104", "stable_seconds must be positive", at: s.value) }
            }
            settings.readiness = .stable(seconds: seconds)
        default:
            settings.readiness = .rename
        }
        if readiness != "marker", let s = block["marker_suffix"] {
            reader.error("104", "marker_suffix applies to ready: marker only", at: s.keyNode)
        }
        if readiness != "stable", let s = block["stable_seconds"] {
            reader.error("104", "stable_seconds applies to ready: stable only", at: s.keyNode)
        }
        if let b = block["batch_rows"], let n = reader.int(b.value, what: "batch_rows", range: 1...1_000_000) { settings.batchRows = n }
        if let m = block["max_record_bytes"], let n = reader.int(m.value, what: "max_record_bytes", range: 1024...(1 << 30)) {
            settings.maxRecordBytes = n
        }
        if let d = block["duplicates"], let choice = reader.choice(d.value, what: "duplicates", allowed: ["skip", "load"]) {
            settings.duplicates = choice == "load" ? .load : .skip
        }
        return settings
    }
}

/// A CSV drop directory and how files in it are taken and read.
public struct CSVDropSettings: Sendable {
    /// The watched directory (absolute).
    public var directory: String
    /// Files taken: a glob. Default `*.csv`.
    public var pattern: String
    /// When a file is complete. Default: atomic rename into the directory.
    public var readiness: DropDirectory.Readiness
    /// Records per batch: one transaction, one ledger entry, one checkpoint. Default 50000. Records
    /// are read and mapped in chunks of 5000 whatever this is, so memory does not grow with it.
    public var batchRows: Int
    /// The longest record accepted, in bytes. Default 8 MiB.
    public var maxRecordBytes: Int
    /// A file whose content (SHA-256) the feed loaded before: skipped, with a ledger entry naming
    /// the earlier batch (`skip`, the default), or loaded again (`load`). `oemsync sync
    /// --reload-duplicates` loads such files once whatever this says.
    public var duplicates: DuplicateContent = .skip

    public enum DuplicateContent: Sendable, Hashable {
        case skip
        case load
    }

    public var drop: DropDirectory { DropDirectory(path: directory, pattern: pattern, readiness: readiness) }
}


extension CSVDropSettings: FeedSourceSettings {
    public var kind: any FeedKind { CSVDropKind() }
    public var dropDirectory: DropDirectory? { drop }

    public func open(_ run: SourceRun) -> any FeedSource {
        CSVDropSource(run, settings: self)
    }

    public func checkpointProblem(_ value: String) -> String? {
        guard CSVDropCheckpoint.parse(value) == nil else { return nil }
        return "not a CSV drop checkpoint: expected JSON like {\"crc32\":\"…\",\"file\":\"CLAIMED-NAME\",\"line\":2,\"offset\":120,\"size\":9000}"
    }

    /// The file the checkpoint names and how far it is loaded; the files waiting and the oldest's age.
    public func describe(_ status: inout StatusCommand.FeedStatus, now: Timestamp) {
        if let stored = status.summary.checkpoint?.position, let c = CSVDropCheckpoint.parse(stored) {
            status.position =
                c.isComplete ? "\(c.file) loaded to its end (\(c.size) bytes)" : "\(c.file) at line \(c.line) (byte \(c.offset) of \(c.size))"
        }
        let waiting = (try? drop.readyFiles()) ?? []
        let oldest = waiting.map(\.modified).min().map { Date(timeIntervalSince1970: $0) }
        if waiting.isEmpty {
            status.lag = "no files waiting"
            status.lagSeconds = 0
        } else {
            let age = oldest.map { max(0, Int64(Date(timeIntervalSince1970: Double(now.microseconds) / 1e6).timeIntervalSince($0))) } ?? 0
            status.lagSeconds = age
            status.lag = "\(Plural.count(waiting.count, "file")) waiting, oldest \(Duration.seconds(age).shortDescription)"
        }
    }

    public func reloadingDuplicates() -> any FeedSourceSettings {
        var settings = self
        settings.duplicates = .load
        return settings
    }
}
