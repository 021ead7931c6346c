import Foundation
import OEMSyncCore
import OEMSyncSinks

/// `oemsync batches list` and `oemsync batches show ID`: the ledger, for people and scripts.
///
/// Rejected values are personal data as often as not (a phone, a name): `show` prints each sample's
/// line, field and reason, and its value only with `showValues`.
public enum BatchesCommand {
    public struct ListOptions: Sendable {
        public var configPath: String
        public var feed: String?
        public var status: String?
        public var since: String?
        public var limit: Int
        public var json: Bool

        public init(configPath: String, feed: String? = nil, status: String? = nil, since: String? = nil, limit: Int = 50, json: Bool = false) {
            self.configPath = configPath
            self.feed = feed
            self.status = status
            self.since = since
            self.limit = limit
            self.json = json
        }
    }

    public static let statuses = ["ok", "partial", "failed"]

    public static func list(_ options: ListOptions, console: Console) -> Int32 {
        if let status = options.status, !statuses.contains(status) {
            console.err("oemsync batches list: --status must be one of \(statuses.joined(separator: ", ")), not '\(status)'\n")
            return ExitStatus.usage
        }
        var since: Timestamp?
        if let text = options.since {
            guard let t = TimeArgument.parse(text) else {
                console.err("oemsync batches list: --since '\(text)' is not a time (2026-12-01, 2026-12-01T08:00:00Z, or 24h, 7d ago)\n")
                return ExitStatus.usage
            }
            since = t
        }
        let access: LedgerAccess
        switch LedgerAccess.open(configPath: options.configPath, command: "batches list", console: console) {
        case .ready(let a): access = a
        case .exit(let code): return code
        }
        let batches: [LedgerBatch]
        do {
            batches = try access.ledger.batches(.init(feed: options.feed, status: options.status, since: since, limit: options.limit))
        } catch {
            console.err("oemsync batches list: \(error)\n")
            return ExitStatus.failure
        }
        if options.json {
            console.out(CommandJSON.encode(["batches": batches]))
            return ExitStatus.ok
        }
        let rows = batches.map { b -> [String] in
            var note = b.error ?? ""
            if let of = b.replayOf { note = "replay of \(of)" + (note.isEmpty ? "" : "; \(note)") }
            return [
                String(b.id), b.feed, b.status, b.startedAt, b.source, String(b.recordsIn), String(b.written), String(b.rejected),
                b.payload == nil ? "" : "yes", note,
            ]
        }
        var out = TextTable.render(
            header: ["id", "feed", "status", "started", "source", "records", "written", "rejected", "payload", "notes"], rows: rows)
        if batches.count == options.limit { out += "(the newest \(options.limit); --limit N for more)\n" }
        console.out(out)
        return ExitStatus.ok
    }

    public struct ShowResult: Sendable, Codable {
        public var batch: LedgerBatch
        public var rejects: [RejectGroup]
        public var replays: [LedgerBatch]
        /// With `--show-values` only: the stored payload's first 4 KiB as text, where the OEM's own
        /// words are (the ledger's error holds them masked).
        public var payloadText: String?
    }

    /// How much of a stored payload `show --show-values` prints.
    static let payloadShown = 4096

    public static func show(configPath: String, id: Int64, json: Bool, showValues: Bool, console: Console) -> Int32 {
        let access: LedgerAccess
        switch LedgerAccess.open(configPath: configPath, command: "batches show", console: console) {
        case .ready(let a): access = a
        case .exit(let code): return code
        }
        var result: ShowResult
        do {
            guard let batch = try access.ledger.batch(id) else {
                console.err("oemsync batches show: there is no batch \(id) in the ledger\n")
                return ExitStatus.failure
            }
            result = ShowResult(batch: batch, rejects: try access.ledger.rejectGroups(batch: id), replays: try access.ledger.replays(of: id))
            if showValues, batch.payload != nil, let payload = try access.ledger.payload(batch: id) {
                let head = payload.body.prefix(payloadShown)
                var text = String(decoding: head, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                    .map { FileName.escapingControls(String($0.hasSuffix("\r") ? $0.dropLast() : $0)) }.joined(separator: "\n")
                if payload.body.count > payloadShown { text += "\n… (\(payload.body.count - payloadShown) more bytes)" }
                result.payloadText = text
            }
        } catch {
            console.err("oemsync batches show: \(error)\n")
            return ExitStatus.failure
        }
        if !showValues {
            for g in result.rejects.indices {
                for s in result.rejects[g].samples.indices where result.rejects[g].samples[s].rawValue != nil {
                    result.rejects[g].samples[s].rawValue = "***"
                }
            }
        }
        if json {
            console.out(CommandJSON.encode(result))
            return ExitStatus.ok
        }
        console.out(text(result))
        return ExitStatus.ok
    }

    static func text(_ r: ShowResult) -> String {
        let b = r.batch
        var out = "batch \(b.id) of feed \(b.feed): \(b.status)\n"
        if let of = b.replayOf { out += "  replay of:    batch \(of)\n" }
        out += "  source:       \(b.source) (\(b.sourceRef))\n"
        out += "  position:     \(b.positionStart) -> \(b.positionEnd)\n"
        out += "  time:         \(b.startedAt) -> \(b.finishedAt)\n"
        out += "  mapping:      \(b.mapping) v\(b.mappingVersion), dictionary \(b.dictionaryVersion)\n"
        if let m = b.messageID { out += "  message id:   \(m)\n" }
        out += "  records:      \(b.recordsIn) = \(b.written) written + \(b.rejected) rejected\n"
        out += "  written:      \(b.inserted) inserted, \(b.updated) updated, \(b.unchanged) unchanged, \(b.superseded) superseded"
        out += b.newer > 0 ? ", \(b.newer) left (a later batch wrote them)\n" : "\n"
        if b.refused > 0 { out += "  refused:      \(b.refused) by the database (in the rejects)\n" }
        if b.warnings > 0 { out += "  warnings:     \(b.warnings)\n" }
        if b.requests > 0 || b.duplicates > 0 { out += "  requests:     \(b.requests); \(b.duplicates) records already delivered\n" }
        if let notes = b.notes { out += "  notes:        \(notes)\n" }
        if let error = b.error { out += "  error:        \(error)\n" }
        if let p = b.payload {
            out += "  payload:      \(p.request), \(p.bytes) bytes (\(p.storedBytes) stored)\n"
        } else {
            out += "  payload:      not kept\n"
        }
        if let text = r.payloadText {
            out += "\npayload (as received; personal data unmasked):\n"
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) { out += "  | \(line)\n" }
        }
        if !r.rejects.isEmpty {
            out += "\nrejects by reason:\n"
            for g in r.rejects {
                out += "  \(g.reason): \(g.count)" + (g.open < g.count ? " (\(g.open) open, \(g.count - g.open) resolved by replays)" : "") + "\n"
                for s in g.samples {
                    out += "    line \(s.line)"
                    if let f = s.field { out += " \(f)" }
                    out += ": \(s.message)"
                    if let v = s.rawValue { out += " [value: \(v)]" }
                    if s.isFlagged { out += " (flagged: \(s.attempts) replays failed)" } else if s.attempts > 0 { out += " (\(Plural.count(s.attempts, "failed replay")))" }
                    out += "\n"
                }
            }
        }
        if !r.replays.isEmpty {
            out += "\nreplays:\n"
            for p in r.replays {
                out += "  batch \(p.id) at \(p.startedAt): \(p.status), \(p.recordsIn) records, \(p.written) written, \(p.rejected) rejected\n"
            }
        }
        return out
    }
}

/// Times on the command line: `2026-12-01`, `2026-12-01T08:00:00Z`, or an age (`90m`, `24h`, `7d`).
enum TimeArgument {
    static func parse(_ text: String, now: Timestamp = .now()) -> Timestamp? {
        let units: [(String, Int64)] = [("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, seconds) in units where text.hasSuffix(suffix) {
            if let n = Int64(text.dropLast()), n >= 0 { return Timestamp(microseconds: now.microseconds - n * seconds * 1_000_000) }
        }
        let parts = text.split(separator: "-").compactMap { Int($0) }
        if text.count == 10, parts.count == 3, let d = CivilDate(year: parts[0], month: parts[1], day: parts[2]) {
            return Timestamp(seconds: Int64(d.daysSinceEpoch) * 86400)
        }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return Timestamp(seconds: Int64(date.timeIntervalSince1970)) }
        return nil
    }
}
