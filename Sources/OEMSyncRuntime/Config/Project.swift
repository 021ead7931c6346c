import Foundation
import OEMSyncCore
import OEMSyncMapping

/// A configuration with its dictionary loaded and every feed's mapping compiled: what `check`
/// validates and what a sync runs.
public struct Project: Sendable {
    public var configuration: Configuration
    public var dictionary: DataDictionary
    /// Compiled mappings by feed name.
    public var plans: [String: MappingPlan]
}

/// The outcome of loading a project: the project if nothing is wrong, every diagnostic, and the
/// text of each file for rendering them.
public struct ProjectLoad: Sendable {
    public var project: Project?
    public var diagnostics: [Diagnostic]
    public var sources: [String: String]
    /// Files read, for the summary line: (config, mappings, dictionary version).
    public var mappingCount: Int

    public var renderer: DiagnosticRenderer { DiagnosticRenderer(sources: sources) }
}

extension Project {
    /// Loads the config at `configPath`, its dictionary, and compiles every feed's mapping against
    /// `catalog` (the reference schema for `check`, the live database for a sync). Touches neither
    /// the network nor a database.
    public static func load(configPath: String, catalog: SchemaCatalog?, catalogIsComplete: Bool) -> ProjectLoad {
        let loaded = ConfigurationLoader().load(path: configPath)
        var sources: [String: String] = [:]
        var diagnostics = loaded.diagnostics
        if let text = loaded.redactedText { sources[configPath] = text }
        guard let configuration = loaded.configuration else {
            return ProjectLoad(project: nil, diagnostics: diagnostics, sources: sources, mappingCount: 0)
        }
        var dictionary = DataDictionary.empty
        if let path = configuration.dictionaryPath {
            let (d, problems) = DataDictionaryLoader().load(directory: path, displayDirectory: configuration.dictionaryDisplay)
            diagnostics += problems
            if let d {
                dictionary = d
                sources.merge(d.sources) { a, _ in a }
            }
        }
        let compiler = MappingCompiler(dictionary: dictionary, catalog: catalog, catalogIsComplete: catalogIsComplete)
        var plans: [String: MappingPlan] = [:]
        var compiled: [String: MappingPlan?] = [:]  // a mapping shared by several feeds compiles once
        for feed in configuration.feeds {
            if let cached = compiled[feed.mappingPath] {
                if let plan = cached { plans[feed.name] = plan }
                continue
            }
            let (plan, problems, document) = compiler.compile(
                path: feed.mappingPath, displayPath: feed.mappingDisplay, reference: feed.location)
            diagnostics += problems
            if let document { sources[document.path] = document.text }
            compiled[feed.mappingPath] = plan
            if let plan { plans[feed.name] = plan }
        }
        // A feed's mapping must read what its source delivers.
        for feed in configuration.feeds {
            guard let plan = plans[feed.name] else { continue }
            let wanted = feed.source.kind.format
            guard plan.source.format != wanted else { continue }
            diagnostics.append(
                .error(
                    "C112", "feed '\(feed.name)' is a \(feed.source.kind.name) source, but mapping '\(feed.mappingDisplay)' reads \(plan.source.format.rawValue)",
                    at: feed.mappingLocation ?? feed.location, help: "a \(feed.source.kind.name) feed needs a mapping with source: {format: \(wanted.rawValue)}"))
        }
        let ok = !diagnostics.hasErrors
        let project = ok ? Project(configuration: configuration, dictionary: dictionary, plans: plans) : nil
        return ProjectLoad(project: project, diagnostics: diagnostics, sources: sources, mappingCount: compiled.count)
    }
}
