import Foundation

/// Compares user-facing text with a golden file under `fixtures/`.
///
/// `OEMSYNC_RECORD=1` rewrites the golden file instead, and the comparison then fails on purpose,
/// so a recording can never pass as a test run.
public enum GoldenFile {
    public enum Outcome: Equatable {
        case matches
        case differs(expected: String, actual: String)
        case recorded
    }

    public static func compare(_ actual: String, with relative: String) -> Outcome {
        let path = Fixture.path(relative)
        if ProcessInfo.processInfo.environment["OEMSYNC_RECORD"] != nil {
            try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try? actual.write(toFile: path, atomically: true, encoding: .utf8)
            return .recorded
        }
        let expected = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<missing golden file \(relative)>"
        return expected == actual ? .matches : .differs(expected: expected, actual: actual)
    }
}
