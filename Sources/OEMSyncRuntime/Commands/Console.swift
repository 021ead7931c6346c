import Foundation
import OEMSyncCore

/// Where a command writes: results to `out`, diagnostics and errors to `err`. Tests capture both.
public struct Console: Sendable {
    public var out: @Sendable (String) -> Void
    public var err: @Sendable (String) -> Void
    /// How diagnostics are written when not as rendered text on `err` (``LogOutput``: JSON lines,
    /// journal priorities).
    public var diagnostics: (@Sendable ([Diagnostic], DiagnosticRenderer) -> Void)?

    public init(out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void) {
        self.out = out
        self.err = err
    }

    /// Diagnostics as the console wants them: rendered with their source lines on `err`, unless
    /// the console writes them otherwise.
    public func report(_ list: [Diagnostic], _ renderer: DiagnosticRenderer) {
        guard !list.isEmpty else { return }
        if let diagnostics { diagnostics(list, renderer) } else { err(renderer.render(list)) }
    }

    public static let standard = Console(
        out: { FileHandle.standardOutput.write(Data($0.utf8)) },
        err: { FileHandle.standardError.write(Data($0.utf8)) })
}

/// Exit statuses (sysexits): 0 ok, 1 failure, 64 usage, 78 configuration or mapping invalid.
public enum ExitStatus {
    public static let ok: Int32 = 0
    public static let failure: Int32 = 1
    public static let usage: Int32 = 64
    public static let config: Int32 = 78
}
