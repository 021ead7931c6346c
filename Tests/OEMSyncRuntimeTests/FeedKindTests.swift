import Foundation
import OEMSyncCore
import OEMSyncMapping
import OEMSyncTesting
import Synchronization
import Testing
import Yams

@testable import OEMSyncRuntime

/// The registry of source kinds: the config loader reads every kind by its schema, the docs list
/// every key a schema declares, and `oemsync kinds` shows them.
@Suite("Source kinds and their schemas")
struct FeedKindTests {
    /// The part of Mappings/README.md that documents each kind's `source:` keys.
    static let sections = [
        "csv-drop": ("## 16. The config file", "### Schedules and the daemon"),
        "rest": ("### REST feeds", "### SOAP feeds"),
        "soap": ("### SOAP feeds", "## 17. Commands"),
    ]

    @Test("every kind is registered once, with a section in the integrator's reference")
    func registry() {
        #expect(Set(FeedKinds.names).count == FeedKinds.all.count)
        #expect(Set(FeedKinds.names) == Set(Self.sections.keys), "a new kind needs its section in Mappings/README.md and here")
        for kind in FeedKinds.all {
            #expect(FeedKinds.named(kind.name)?.name == kind.name)
            #expect(!kind.schema.keys.isEmpty && !kind.schema.requiredNames.isEmpty)
            #expect(kind.schema.keys.allSatisfy { !$0.doc.isEmpty && !($0.required && $0.defaultValue != nil) }, "\(kind.name)")
            #expect(!kind.schema.declares("kind"), "kind is read before the kind's own keys")
        }
    }

    @Test("Mappings/README.md documents every key each kind's schema declares")
    func documented() throws {
        let readme = try String(contentsOfFile: Fixture.repository("Mappings/README.md"), encoding: .utf8)
        let configStart = try #require(readme.range(of: "## 16. The config file"))
        let configEnd = try #require(readme.range(of: "## 17. Commands"))
        let config = readme[configStart.lowerBound..<configEnd.lowerBound]
        for kind in FeedKinds.all {
            let (from, to) = try #require(Self.sections[kind.name])
            let start = try #require(readme.range(of: from), "\(from)")
            let end = try #require(readme.range(of: to, range: start.upperBound..<readme.endIndex), "\(to)")
            let section = readme[start.lowerBound..<end.lowerBound]
            for key in kind.schema.keys {
                #expect(section.contains("`\(key.name)") || section.contains("source.\(key.name)`"), "kind \(kind.name): key '\(key.name)' is not documented")
                // A block's keys: `pagination.style`, or listed after it (`retry.base`, `cap`); the
                // HTTP kinds share retry and tls, documented once for REST.
                for child in key.children {
                    #expect(
                        config.contains("`\(key.name).\(child.name)") || config.contains("`\(child.name)`"),
                        "kind \(kind.name): key '\(key.name).\(child.name)' is not documented")
                }
            }
        }
    }

    @Test("a key no schema declares is C101 with the kind's keys and a suggestion; a missing required key is C102")
    func undeclared() throws {
        let dir = try TemporaryDirectory()
        let config = """
            oemsync: 1
            database: {url: "sqlite:db.sqlite"}
            feeds:
              stock:
                mapping: Mappings/acme/stock.v1.yaml
                source: {kind: csv-drop, directory: drops, patern: "*.csv"}
              more:
                mapping: Mappings/acme/stock.v1.yaml
                source: {kind: csv-drop, pattern: "*.csv"}
              odd:
                mapping: Mappings/acme/stock.v1.yaml
                source: {kind: csv-dropp, directory: drops}

            """
        let path = dir.path + "/oemsync.yaml"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let result = ConfigurationLoader().load(path: path)
        #expect(result.configuration == nil)
        let unknown = try #require(result.diagnostics.first { $0.code == "C101" })
        #expect(unknown.message == "unknown key 'patern' in the csv-drop source of feed 'stock'")
        #expect(unknown.help == "did you mean 'pattern'?")
        #expect(unknown.notes == ["allowed keys: kind, " + CSVDropKind().schema.names.joined(separator: ", ")])
        #expect(result.diagnostics.contains { $0.code == "C102" && $0.message == "missing required key 'directory' in the csv-drop source of feed 'more'" })
        let kind = try #require(result.diagnostics.first { $0.code == "C104" })
        #expect(kind.help == "did you mean 'csv-drop'?")
        #expect(kind.notes == ["expected one of: csv-drop, rest, soap"])
    }

    @Test("oemsync kinds lists every kind; oemsync kinds KIND its keys, required or with their defaults")
    func command() {
        let out = Mutex("")
        let err = Mutex("")
        let console = Console(out: { s in out.withLock { $0 += s } }, err: { s in err.withLock { $0 += s } })
        #expect(KindsCommand.run(kind: nil, console: console) == 0)
        for kind in FeedKinds.all { #expect(out.withLock { $0 }.contains("\(kind.name)  ") || out.withLock { $0 }.contains("\(kind.name) ")) }

        out.withLock { $0 = "" }
        #expect(KindsCommand.run(kind: "csv-drop", console: console) == 0)
        let text = out.withLock { $0 }
        #expect(text.contains("kind: csv-drop (csv mappings)"))
        #expect(text.contains("  directory ") && text.contains("(required)"))
        #expect(text.contains("  batch_rows ") && text.contains("(default 50000)"))
        #expect(text.split(separator: "\n").count == 1 + CSVDropKind().schema.keys.count)

        out.withLock { $0 = "" }
        #expect(KindsCommand.run(kind: "rest", console: console) == 0)
        let rest = out.withLock { $0 }
        #expect(rest.contains("  pagination.style ") && rest.contains("  retry.max_attempts ") && rest.contains("(default 5)"), "\(rest)")

        #expect(KindsCommand.run(kind: "sftp", console: console) == 64)
        #expect(err.withLock { $0 }.contains("no kind 'sftp'"))
    }
}
