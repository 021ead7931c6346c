import Foundation

/// The validators' golden corpora under `fixtures/validators/` (made by scripts/golden-validators.py):
/// a JSON-lines file whose first line describes the corpus, and a file of exceptions, one
/// `name<TAB>reason` per line.
public enum GoldenCorpus {
    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
    }

    /// The header and the rows of `fixtures/validators/<name>`; the header's `rows` must count them.
    public static func read(_ name: String) throws -> (header: [String: Any], rows: [[String: Any]]) {
        let lines = try String(contentsOfFile: Fixture.path("validators/\(name)"), encoding: .utf8).split(separator: "\n")
        func object(_ line: Substring) throws -> [String: Any] {
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw Malformed(description: "\(name): a line that is not a JSON object")
            }
            return o
        }
        guard let first = lines.first else { throw Malformed(description: "\(name) is empty") }
        let header = try object(first)
        let rows = try lines.dropFirst().map(object)
        guard rows.count == header["rows"] as? Int else { throw Malformed(description: "\(name): the header counts \(header["rows"] ?? "?") rows, found \(rows.count)") }
        return (header, rows)
    }

    /// The exceptions of `fixtures/validators/<name>`: name -> reason (lines starting with # are comments).
    public static func exceptions(_ name: String) throws -> [String: String] {
        var reasons: [String: String] = [:]
        for line in try String(contentsOfFile: Fixture.path("validators/\(name)"), encoding: .utf8).split(separator: "\n")
        where !line.hasPrefix("#") {
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            if parts.count == 2 { reasons[parts[0]] = parts[1] }
        }
        return reasons
    }
}
