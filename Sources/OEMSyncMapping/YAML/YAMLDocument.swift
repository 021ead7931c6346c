import Foundation
import OEMSyncCore
import Yams

/// A YAML file parsed into a node tree that keeps every node's line and column.
///
/// Mappings, the dictionary and the config are all read this way: parse to `Yams.Node`, then compile
/// the tree while carrying marks, so every diagnostic points at `file:line:column`.
public struct YAMLDocument {
    /// The path as the user should see it in diagnostics.
    public var path: String
    public var text: String
    public var root: Node?

    /// Whether the text parsed; when it did not, `root` is nil and the diagnostics say why, and the
    /// text is still here so they can be rendered with their line.
    public var parsed: Bool

    /// Parses `text`; a syntax error becomes a `Y001` diagnostic at the position libyaml reports.
    public static func parse(_ text: String, path: String) -> (YAMLDocument, [Diagnostic]) {
        do {
            let root = try Yams.compose(yaml: text)
            return (YAMLDocument(path: path, text: text, root: root, parsed: true), [])
        } catch let error as YamlError {
            return (YAMLDocument(path: path, text: text, root: nil, parsed: false), [diagnostic(for: error, path: path)])
        } catch {
            let d = Diagnostic.error("Y001", "cannot parse YAML", at: SourceLocation(file: path, line: 1, column: 1))
            return (YAMLDocument(path: path, text: text, root: nil, parsed: false), [d])
        }
    }

    /// Reads and parses a file; a missing or unreadable file is reported at `reference` (the place
    /// that named it), or as a file-level error.
    public static func load(path: String, displayPath: String? = nil, code: String, reference: SourceLocation?)
        -> (YAMLDocument?, [Diagnostic])
    {
        let shown = displayPath ?? path
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            let message = exists ? "cannot read '\(shown)'" : "file not found: '\(shown)'"
            return (nil, [.error(code, message, at: reference ?? SourceLocation(file: shown, line: 1, column: 1))])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return (nil, [.error("Y001", "file is not valid UTF-8", at: SourceLocation(file: shown, line: 1, column: 1))])
        }
        return parse(text, path: shown)
    }

    static func diagnostic(for error: YamlError, path: String) -> Diagnostic {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: path, line: mark.line, column: mark.column) }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let notes = context.map { ["\($0.text) at line \($0.mark.line), column \($0.mark.column)"] } ?? []
            return .error("Y001", "YAML syntax error: \(problem)", at: at(mark), notes: notes)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return .error(
                "Y002", "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in mapping",
                at: at(context.mark), help: "each key may appear once; remove or rename the repeated one")
        case .reader(let problem, _, _, _):
            return .error("Y001", "YAML reader error: \(problem)", at: SourceLocation(file: path, line: 1, column: 1))
        default:
            return .error("Y001", "cannot parse YAML", at: SourceLocation(file: path, line: 1, column: 1))
        }
    }
}
