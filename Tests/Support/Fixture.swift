import Foundation

/// Files under the repository's top-level `fixtures/` folder (SwiftPM resources cannot reach it, so
/// paths are resolved from this file's location).
public enum Fixture {
    public static let root: String = {
        let here = URL(fileURLWithPath: #filePath)  // Tests/Support/Fixture.swift
        return here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }()

    public static func path(_ relative: String) -> String { root + "/fixtures/" + relative }

    /// A file of the repository itself (`Mappings/acme/stock.v1.yaml`).
    public static func repository(_ relative: String) -> String { root + "/" + relative }

    public static func data(_ relative: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path(relative)))
    }
}

/// A fresh directory under the system temp folder, removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "test") throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("oemsync-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        try write(name, Data(text.utf8))
    }

    @discardableResult
    public func write(_ name: String, _ data: Data) throws -> String {
        let p = file(name)
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: p))
        return p
    }

    public func list(_ sub: String = "") -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: file(sub))) ?? []).sorted()
    }
}
