import Foundation
import OEMSyncCore
import OEMSyncMapping

/// `oemsync kinds [KIND]`: the source kinds this oemsync knows, and for one kind the keys of its
/// `source:` block with their defaults and meaning, from the schema the config loader reads them by.
public enum KindsCommand {
    public static func run(kind name: String?, console: Console) -> Int32 {
        guard let name else {
            let width = FeedKinds.names.map(\.count).max() ?? 0
            var out = ""
            for kind in FeedKinds.all {
                out += kind.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + "\(kind.format.rawValue) mappings: \(kind.summary)\n"
            }
            console.out(out + "`oemsync kinds KIND` lists a kind's keys.\n")
            return ExitStatus.ok
        }
        guard let kind = FeedKinds.named(name) else {
            let help = Suggestion.closest(to: name, in: FeedKinds.names).map { " (did you mean '\($0)'?)" } ?? ""
            console.err("oemsync kinds: no kind '\(name)'\(help); kinds: \(FeedKinds.names.joined(separator: ", "))\n")
            return ExitStatus.usage
        }
        console.out(describe(kind))
        return ExitStatus.ok
    }

    /// A kind's keys, one per line: `  batch_rows   Records per batch… (default 50000)`; a block's
    /// keys after it (`  pagination.style   … (required)`: required when the block is given).
    static func describe(_ kind: any FeedKind) -> String {
        var out = "kind: \(kind.name) (\(kind.format.rawValue) mappings): \(kind.summary)\n"
        // A block's keys follow it, named `block.key`.
        let lines = kind.schema.keys.flatMap { key in [(key.name, key)] + key.children.map { ("\(key.name).\($0.name)", $0) } }
        let width = lines.map(\.0.count).max() ?? 0
        for (name, key) in lines {
            let when = key.required ? "required" : key.defaultValue.map { "default \($0)" } ?? "optional"
            out += "  " + name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + key.doc + " (\(when))\n"
        }
        return out
    }
}
