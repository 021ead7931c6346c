import Foundation
import OEMSyncCore
import OEMSyncMapping
import OEMSyncSinks

/// `oemsync check`: validates the config, the dictionary and every mapping, without touching the
/// network or the database. Prints every problem as `file:line:col: error[CODE]: message` with the
/// offending line and a caret; exit 78 when anything is invalid.
public enum CheckCommand {
    /// - Parameters:
    ///   - configPath: the config to check (with its dictionary and mappings), or nil.
    ///   - mappings: extra mapping files to check on their own.
    ///   - dictionary: the dictionary folder for `mappings` (found next to them when nil).
    public static func run(configPath: String?, mappings: [String], dictionary: String?, console: Console) -> Int32 {
        let catalog: SchemaCatalog
        do {
            catalog = try ReferenceSchema.catalog()
        } catch {
            console.err("oemsync: \(error)\n")
            return ExitStatus.failure
        }
        var diagnostics: [Diagnostic] = []
        var sources: [String: String] = [:]
        var mappingCount = 0
        var dictionaryVersion: String?
        if let configPath {
            let load = Project.load(configPath: configPath, catalog: catalog, catalogIsComplete: false)
            diagnostics += load.diagnostics
            sources.merge(load.sources) { a, _ in a }
            mappingCount += load.mappingCount
            dictionaryVersion = load.project?.dictionary.version
        }
        if !mappings.isEmpty {
            var dict = DataDictionary.empty
            if let dir = dictionary ?? DictionaryDiscovery.find(near: mappings[0]) {
                let (d, problems) = DataDictionaryLoader().load(directory: dir, displayDirectory: DisplayPath.of(dir))
                diagnostics += problems
                if let d {
                    dict = d
                    sources.merge(d.sources) { a, _ in a }
                    dictionaryVersion = d.version
                }
            }
            let compiler = MappingCompiler(dictionary: dict, catalog: catalog, catalogIsComplete: false)
            for path in mappings {
                let (_, problems, document) = compiler.compile(path: path, displayPath: path)
                diagnostics += problems
                if let document { sources[document.path] = document.text }
                mappingCount += 1
            }
        }
        let renderer = DiagnosticRenderer(sources: sources)
        if !diagnostics.isEmpty { console.report(diagnostics, renderer) }
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.count - errors
        var checked: [String] = []
        if let configPath { checked.append("config \(configPath)") }
        checked.append("\(mappingCount) mapping\(mappingCount == 1 ? "" : "s")")
        if let dictionaryVersion { checked.append("dictionary \(dictionaryVersion)") }
        let verdict = errors == 0 ? "ok" : "\(errors) error\(errors == 1 ? "" : "s")"
        let warned = warnings == 0 ? "" : ", \(warnings) warning\(warnings == 1 ? "" : "s")"
        console.out("oemsync check: \(checked.joined(separator: ", ")): \(verdict)\(warned)\n")
        return errors == 0 ? ExitStatus.ok : ExitStatus.config
    }
}

/// Finds the data dictionary for a mapping checked on its own: a `dictionary/` folder with a
/// `dictionary.yaml` next to the mapping or up to three folders above it (`Mappings/dictionary`
/// for `Mappings/acme/stock.v1.yaml`).
enum DictionaryDiscovery {
    static func find(near mapping: String) -> String? {
        let absolute = mapping.hasPrefix("/") ? mapping : FileManager.default.currentDirectoryPath + "/" + mapping
        var dir = ((absolute as NSString).standardizingPath as NSString).deletingLastPathComponent
        for _ in 0..<4 {
            let candidate = (dir as NSString).appendingPathComponent("dictionary")
            if FileManager.default.fileExists(atPath: (candidate as NSString).appendingPathComponent("dictionary.yaml")) {
                return candidate
            }
            let parent = (dir as NSString).deletingLastPathComponent
            if parent == dir || parent.isEmpty || parent == "/" { break }
            dir = parent
        }
        return nil
    }
}

/// Paths as people should see them: relative to the working directory when inside it.
public enum DisplayPath {
    public static func of(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        let standard = (absolute as NSString).standardizingPath
        let cwd = (FileManager.default.currentDirectoryPath as NSString).standardizingPath
        if standard.hasPrefix(cwd + "/") { return String(standard.dropFirst(cwd.count + 1)) }
        return standard
    }
}
