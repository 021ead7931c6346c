import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncSinks

/// `oemsync checkpoint show|set|reset FEED`: a feed's stored position, and changing it by hand.
///
/// `set` and `reset` ask for `--yes`; `set` checks the value is a checkpoint of the feed's kind
/// (CSV drop or REST JSON, as `show --json` prints it). Every change is logged in
/// `oemsync_checkpoint_changes` with the value it replaced, so it can be undone.
public enum CheckpointCommand {
    public enum Action: Sendable {
        case show
        case set(String)
        case reset
    }

    public struct Shown: Sendable, Codable {
        public var feed: String
        public var checkpoint: StoredCheckpoint?
    }

    public static func run(configPath: String, feed name: String, action: Action, yes: Bool, json: Bool, console: Console) -> Int32 {
        let access: LedgerAccess
        switch LedgerAccess.open(configPath: configPath, command: "checkpoint", console: console) {
        case .ready(let a): access = a
        case .exit(let code): return code
        }
        guard let feed = access.feed(name, command: "checkpoint", console: console) else { return ExitStatus.usage }
        let current: StoredCheckpoint?
        do {
            current = try access.ledger.checkpoint(feed: feed.name)
        } catch {
            console.err("oemsync checkpoint: \(error)\n")
            return ExitStatus.failure
        }
        switch action {
        case .show:
            if json {
                console.out(CommandJSON.encode(Shown(feed: feed.name, checkpoint: current)))
            } else if let current {
                let by = current.batchID.map { "batch \($0)" } ?? "hand"
                console.out("feed \(feed.name): stored \(current.updatedAt) by \(by)\n\(current.position)\n")
            } else {
                console.out("feed \(feed.name): no checkpoint (the next run starts from the beginning)\n")
            }
            return ExitStatus.ok
        case .set(let value):
            if let problem = validate(value, for: feed) {
                console.err("oemsync checkpoint set: \(problem)\n")
                return ExitStatus.usage
            }
            guard yes else {
                console.err(
                    "oemsync checkpoint set: this replaces the checkpoint of feed '\(feed.name)' (now: \(current?.position ?? "none")); add --yes\n")
                return ExitStatus.usage
            }
            return change(access, feed: feed.name, to: value, reason: "set by hand", old: current, console: console)
        case .reset:
            guard yes else {
                console.err(
                    "oemsync checkpoint reset: this removes the checkpoint of feed '\(feed.name)' (now: \(current?.position ?? "none")), so its next run starts from the beginning (rows are upserted, so nothing is doubled); add --yes\n"
                )
                return ExitStatus.usage
            }
            return change(access, feed: feed.name, to: nil, reason: "reset by hand", old: current, console: console)
        }
    }

    private static func change(
        _ access: LedgerAccess, feed: String, to value: String?, reason: String, old: StoredCheckpoint?, console: Console
    ) -> Int32 {
        do {
            try access.ledger.replaceCheckpoint(feed: feed, with: value, reason: reason)
        } catch {
            console.err("oemsync checkpoint: \(error)\n")
            return ExitStatus.failure
        }
        console.out("feed \(feed): checkpoint \(value == nil ? "removed" : "set"); it was: \(old?.position ?? "none")\n")
        return ExitStatus.ok
    }

    /// Why `value` cannot be this feed's checkpoint, or nil when it can.
    static func validate(_ value: String, for feed: FeedSettings) -> String? {
        feed.source.checkpointProblem(value).map { "\($0) (see `oemsync checkpoint show \(feed.name) --json`)" }
    }
}
