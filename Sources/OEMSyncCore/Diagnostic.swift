/// One problem found in a mapping, the dictionary or the config, with a stable code.
///
/// Codes are documented in `Mappings/README.md` ("Diagnostic codes"): `Y0xx` YAML syntax, `C1xx`
/// config, `M1xx` mapping shape, `M2xx` types and values, `M3xx` target schema, `M4xx` dictionary
/// references, `D1xx`/`D2xx` the dictionary itself. A diagnostic never carries a secret: messages name keys, not values
/// of `password*` settings.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case error
        case warning
    }

    public var severity: Severity
    public var code: String
    public var message: String
    public var location: SourceLocation?
    public var notes: [String]
    public var help: String?

    public init(
        _ severity: Severity, _ code: String, _ message: String, at location: SourceLocation?,
        notes: [String] = [], help: String? = nil
    ) {
        self.severity = severity
        self.code = code
        self.message = message
        self.location = location
        self.notes = notes
        self.help = help
    }

    public static func error(
        _ code: String, _ message: String, at location: SourceLocation?, notes: [String] = [],
        help: String? = nil
    ) -> Diagnostic {
        Diagnostic(.error, code, message, at: location, notes: notes, help: help)
    }

    public static func warning(
        _ code: String, _ message: String, at location: SourceLocation?, notes: [String] = [],
        help: String? = nil
    ) -> Diagnostic {
        Diagnostic(.warning, code, message, at: location, notes: notes, help: help)
    }

    /// The first line of the rendered form: `file:line:col: error[CODE]: message`.
    public var description: String {
        let place = location.map { "\($0): " } ?? ""
        return "\(place)\(severity.rawValue)[\(code)]: \(message)"
    }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }
    public var errors: [Diagnostic] { filter { $0.severity == .error } }
}

/// Thrown when a file does not compile; carries every problem found, not just the first.
public struct DiagnosticsError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
