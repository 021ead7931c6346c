import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import OEMSyncSinks

/// `oemsync map MAPPING --input FILE`: a dry run of one mapping on a sample payload. Prints the
/// rows it would write and every reject with its reasons; writes nothing anywhere.
///
/// Personal columns (phones, names: the dictionary's `personal: true`) are masked unless `unmask`.
public enum MapCommand {
    public struct Options: Sendable {
        public var mapping: String
        public var input: String
        public var dictionary: String?
        public var json: Bool
        public var unmask: Bool
        public var limit: Int

        public init(mapping: String, input: String, dictionary: String? = nil, json: Bool = false, unmask: Bool = false, limit: Int = 50) {
            self.mapping = mapping
            self.input = input
            self.dictionary = dictionary
            self.json = json
            self.unmask = unmask
            self.limit = limit
        }
    }

    public static func run(_ options: Options, console: Console) -> Int32 {
        var diagnostics: [Diagnostic] = []
        var sources: [String: String] = [:]
        var dictionary = DataDictionary.empty
        if let dir = options.dictionary ?? DictionaryDiscovery.find(near: options.mapping) {
            let (d, problems) = DataDictionaryLoader().load(directory: dir, displayDirectory: DisplayPath.of(dir))
            diagnostics += problems
            if let d {
                dictionary = d
                sources.merge(d.sources) { a, _ in a }
            }
        }
        let catalog = try? ReferenceSchema.catalog()
        let compiler = MappingCompiler(dictionary: dictionary, catalog: catalog, catalogIsComplete: false)
        let (compiled, problems, document) = compiler.compile(path: options.mapping, displayPath: options.mapping)
        diagnostics += problems
        if let document { sources[document.path] = document.text }
        if !diagnostics.isEmpty { console.report(diagnostics, DiagnosticRenderer(sources: sources)) }
        guard let plan = compiled, !diagnostics.hasErrors else { return ExitStatus.config }

        let result: MappedBatch
        let header: [String]?
        do {
            (result, header) = try mapFile(options.input, plan: plan)
        } catch {
            console.err("oemsync map: \(error)\n")
            return ExitStatus.failure
        }
        _ = header
        let masked = options.unmask ? Set<String>() : plan.personalColumns
        if options.json {
            console.out(MapReport.json(plan: plan, batch: result, masked: masked))
        } else {
            console.out(MapReport.text(plan: plan, input: options.input, batch: result, masked: masked, limit: options.limit))
        }
        return ExitStatus.ok
    }

    struct InputError: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads and maps the whole sample (a sample is small; the daemon streams).
    static func mapFile(_ path: String, plan: MappingPlan) throws -> (MappedBatch, [String]?) {
        if plan.source.format == .json { return (try mapJSON(path, plan: plan), nil) }
        if plan.source.format == .xml { return (try mapXML(path, plan: plan), nil) }
        let csv: BoundCSV
        do {
            csv = try BoundCSV(path: path, plan: plan)
        } catch {
            switch error {
            case .read(let e): throw e
            case .empty: throw InputError(description: "'\(path)' is empty")
            case .noHeader: throw InputError(description: "'\(path)' has no header row")
            case .header(let p): throw InputError(description: "'\(path)' line 1 (header): \(p.message)")
            case .binding(let e): throw InputError(description: "'\(path)': \(e.description)")
            }
        }
        let (reader, header, bound) = (csv.reader, csv.header, csv.bound)
        var records: [RawRecord] = []
        while let r = try reader.next() { records.append(r) }
        return (BatchMapper(bound).map(records), header)
    }

    /// An XML sample: one payload as the OEM sends it (a SOAP response), streamed through the
    /// guarded reader, records at the mapping's element path.
    static func mapXML(_ path: String, plan: MappingPlan) throws -> MappedBatch {
        guard let records = plan.source.xmlRecords else { throw InputError(description: "the mapping has no records path") }
        let bound = BoundMapping(xml: plan)
        let reader = XMLRecordReader(records: records, fields: bound.xmlPaths.map { XMLRecordReader.Field(path: $0.path, join: $0.join) })
        var read: [RawRecord] = []
        let result: XMLRecordReader.Result
        do {
            result = try reader.read(file: path) { read.append($0) }
        } catch {
            throw InputError(description: "'\(path)': \(error.description)")
        }
        if let fault = result.fault { throw InputError(description: "'\(path)' is a SOAP Fault: \(fault.code): \(fault.reason)") }
        // Records are numbered by the line they start on.
        return BatchMapper(bound).map(read)
    }

    /// A JSON sample: one payload as the API sends it (a page), records at the mapping's path.
    static func mapJSON(_ path: String, plan: MappingPlan) throws -> MappedBatch {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(description: "cannot read '\(path)'") }
        guard let records = plan.source.records else { throw InputError(description: "the mapping has no records path") }
        let bound = BoundMapping(json: plan)
        let reader = JSONRecordReader(records: records, fields: bound.paths.map { JSONRecordReader.Field(path: $0.path, join: $0.join) })
        let payload = Array(data)
        let page: JSONRecordReader.Page
        do {
            page = try reader.read(payload)
        } catch {
            throw InputError(description: "'\(path)': \(error.description)")
        }
        var batch = BatchMapper(bound).map(page.records)
        for i in batch.rejects.indices { batch.rejects[i].rawRecord = page.rawText(batch.rejects[i].line - 1, in: payload) }
        return batch
    }
}
