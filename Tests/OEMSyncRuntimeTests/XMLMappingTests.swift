import Foundation
import OEMSyncCore
import OEMSyncMapping
import OEMSyncRuntime
import OEMSyncSinks
import OEMSyncTesting
import Synchronization
import Testing

/// XML mappings: `source: {format: xml, namespaces:, records:}` with namespace-aware field paths,
/// compiled and checked like the others, and `oemsync map` on a SOAP payload.
@Suite("XML mappings")
struct XMLMappingTests {
    static let dictionary = Fixture.repository("Mappings/dictionary")

    func compile(_ yaml: String) throws -> (MappingPlan?, [Diagnostic]) {
        let dir = try TemporaryDirectory("xmlmap")
        let path = try dir.write("m.yaml", yaml)
        let (d, _) = DataDictionaryLoader().load(directory: Self.dictionary, displayDirectory: "dictionary")
        let compiler = MappingCompiler(dictionary: d ?? .empty, catalog: try ReferenceSchema.catalog(), catalogIsComplete: true)
        let (plan, problems, _) = compiler.compile(path: path, displayPath: "m.yaml")
        return (plan, problems)
    }

    static func mapping(source: String, columns: String = "  vin: {source: star:Vehicle/star:VehicleID}\n") -> String {
        """
        oemsync_mapping: 1
        name: t
        version: 1
        source:
        \(source)
        target: {table: stock, key: [dealer_code, vin]}
        columns:
          dealer_code: {value: D001}
        \(columns)
        """
    }

    static let namespaces = "  namespaces: {s: \"http://schemas.xmlsoap.org/soap/envelope/\", star: \"http://www.starstandard.org/STAR/5\"}\n"

    @Test("oemsync map on a SOAP inventory: rows by namespace-aware paths, repeated elements joined, records numbered by line")
    func mapsInventory() throws {
        let out = Mutex("")
        let err = Mutex("")
        let console = Console(out: { s in out.withLock { $0 += s } }, err: { s in err.withLock { $0 += s } })
        let code = MapCommand.run(
            .init(mapping: Fixture.repository("Mappings/acme/inventory-soap.v1.yaml"), input: Fixture.path("feeds/soap/show-vehicle-inventory.xml"), dictionary: Self.dictionary, json: true),
            console: console)
        #expect(code == 0, "\(err.withLock { $0 })")
        let report = try JSONSerialization.jsonObject(with: Data(out.withLock { $0 }.utf8)) as? [String: Any]
        let rows = report?["rows"] as? [[String: Any]] ?? []
        #expect(rows.count == 2, "\(out.withLock { $0 })")
        let first = rows.first?["values"] as? [String: Any]
        #expect(first?["vin"] as? String == "LSVAB2184S2300000")
        #expect(first?["model_code"] as? String == "ACME-A3-SEDAN")
        #expect(first?["location"] as? String == "PX2|WQS")
        #expect(rows.map { $0["line"] as? Int } == [17, 29])
    }

    @Test("an XML mapping's problems are errors at their place", arguments: [
        (namespaces + "  format: xml\n  records: /x:Envelope/x:Body/x:I", "unknown namespace prefix 'x'"),
        (namespaces + "  format: xml\n  records: s:Envelope/s:Body", "starting with '/'"),
        (namespaces + "  format: xml\n", "an xml source needs records"),
        (namespaces + "  format: json\n  records: $.a[*]", "namespaces applies to format: xml only"),
        ("  format: xml\n  encoding: gb18030\n  records: /a/b", "encoding applies to format: csv only"),
    ])
    func sourceErrors(source: String, fragment: String) throws {
        let (plan, problems) = try compile(Self.mapping(source: source))
        #expect(plan == nil)
        #expect(problems.contains { $0.message.contains(fragment) }, "\(problems.map(\.message))")
    }

    @Test("field paths: relative to the record, prefixes bound, join on elements only")
    func fieldErrors() throws {
        let source = Self.namespaces + "  format: xml\n  records: /s:Envelope/s:Body/star:I"
        let absolute = try compile(Self.mapping(source: source, columns: "  vin: {source: /s:Envelope/star:VehicleID}\n"))
        #expect(absolute.1.contains { $0.message.contains("relative to the record") && $0.location?.line == 11 }, "\(absolute.1.map(\.message))")
        let unbound = try compile(Self.mapping(source: source, columns: "  vin: {source: q:VehicleID}\n"))
        #expect(unbound.1.contains { $0.message.contains("unknown namespace prefix 'q'") && $0.code == "M210" }, "\(unbound.1.map(\.message))")
        let joinAttr = try compile(Self.mapping(source: source, columns: "  vin: {source: \"@id\", join: \"|\"}\n"))
        #expect(joinAttr.1.contains { $0.message.contains("join only applies") })
        let ok = try compile(Self.mapping(source: source, columns: "  vin: {source: star:V/@id}\n  location: {source: star:Option, join: \"|\"}\n"))
        #expect(ok.0 != nil, "\(ok.1.map(\.message))")
        #expect(ok.0?.source.format == .xml && ok.0?.source.xmlRecords?.steps.count == 3)
    }
}
