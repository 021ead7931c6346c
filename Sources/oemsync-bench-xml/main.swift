// The XML benchmark's reader (scripts/bench-soap): reads a SOAP ShowVehicleInventory file into
// records and maps them with an XML mapping, 5000 records at a time, as a sync does; prints one
// line: `records=N written=W rejected=R bytes=B seconds=S`.
//
//   oemsync-bench-xml FILE MAPPING DICTIONARY
//
// BENCH_XML_BARE=1: FoundationXML's XMLParser with a delegate that does nothing, for comparison.
import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping

#if canImport(FoundationXML)
import FoundationXML
#endif

let arguments = CommandLine.arguments
func fail(_ message: String, _ code: Int32) -> Never {
    FileHandle.standardError.write(Data("oemsync-bench-xml: \(message)\n".utf8))
    exit(code)
}

if ProcessInfo.processInfo.environment["BENCH_XML_BARE"] == "1" {
    #if canImport(FoundationXML)
    final class Bare: NSObject, XMLParserDelegate {}
    let started = ContinuousClock.now
    guard arguments.count >= 2, let stream = InputStream(fileAtPath: arguments[1]) else { fail("usage: oemsync-bench-xml FILE", 64) }
    let parser = XMLParser(stream: stream)
    parser.shouldProcessNamespaces = true
    let bare = Bare()
    parser.delegate = bare
    let ok = parser.parse()
    print("bare=\(ok) seconds=\((ContinuousClock.now - started).seconds)")
    exit(0)
    #endif
}

guard arguments.count == 4 else { fail("usage: oemsync-bench-xml FILE MAPPING DICTIONARY", 64) }
let (dictionary, problems) = DataDictionaryLoader().load(directory: arguments[3], displayDirectory: arguments[3])
guard let dictionary, problems.isEmpty else { fail("the dictionary has problems: \(problems.map(\.message))", 78) }
let (compiled, diagnostics, _) = MappingCompiler(dictionary: dictionary).compile(path: arguments[2], displayPath: arguments[2])
guard let plan = compiled, let recordsPath = plan.source.xmlRecords else { fail("the mapping does not compile: \(diagnostics.map(\.message))", 78) }
let bound = BoundMapping(xml: plan)
let reader = XMLRecordReader(records: recordsPath, fields: bound.xmlPaths.map { XMLRecordReader.Field(path: $0.path, join: $0.join) })
let mapper = BatchMapper(bound)

/// Reads and maps the file; the figures line.
func readAndMap(_ path: String, reader: XMLRecordReader, mapper: BatchMapper) throws -> String {
    let started = ContinuousClock.now
    var chunk: [RawRecord] = []
    chunk.reserveCapacity(5000)
    var written = 0
    var rejected = 0
    func flush() {
        let batch = mapper.map(chunk)
        written += batch.rows.count
        rejected += batch.rejects.count
        chunk.removeAll(keepingCapacity: true)
    }
    let result = try reader.read(file: path) { record in
        chunk.append(record)
        if chunk.count == 5000 { flush() }
    }
    flush()
    let seconds = (ContinuousClock.now - started).seconds
    return "records=\(result.records) written=\(written) rejected=\(rejected) bytes=\(result.bytes) seconds=\(seconds)"
}

do {
    print(try readAndMap(arguments[1], reader: reader, mapper: mapper))
} catch {
    fail("\(error)", 1)
}
