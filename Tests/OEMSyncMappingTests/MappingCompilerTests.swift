import Foundation
import OEMSyncCore
import OEMSyncMapping
import OEMSyncSinks
import OEMSyncTesting
import Testing

/// The dictionary and catalog every compile test uses: the shipped ones.
enum Shipped {
    static let dictionary: DataDictionary = {
        let (d, problems) = DataDictionaryLoader().load(
            directory: Fixture.repository("Mappings/dictionary"), displayDirectory: "Mappings/dictionary")
        precondition(problems.isEmpty, "the shipped dictionary must load cleanly: \(problems)")
        return d!
    }()

    static let catalog: SchemaCatalog = try! ReferenceSchema.catalog()

    static func compile(_ path: String, display: String? = nil, complete: Bool = false) -> (MappingPlan?, [Diagnostic], String) {
        let compiler = MappingCompiler(dictionary: dictionary, catalog: catalog, catalogIsComplete: complete)
        let (plan, diagnostics, document) = compiler.compile(path: path, displayPath: display ?? path)
        var sources = dictionary.sources
        if let document { sources[document.path] = document.text }
        return (plan, diagnostics, DiagnosticRenderer(sources: sources).render(diagnostics))
    }
}

@Suite("Mapping compiler")
struct MappingCompilerTests {
    static let shippedMappings = ["Mappings/acme/stock.v1.yaml", "Mappings/acme/orders.v1.yaml", "Mappings/acme/vehicles.v1.yaml"]

    @Test("every shipped mapping compiles without a diagnostic against the reference schema", arguments: shippedMappings)
    func shippedCompile(_ relative: String) throws {
        let (plan, diagnostics, rendered) = Shipped.compile(Fixture.repository(relative), display: relative, complete: true)
        #expect(diagnostics.isEmpty, "\(rendered)")
        let p = try #require(plan)
        #expect(p.targetTable.keyIndexes.count == p.key.count)
        #expect(p.dictionaryVersion == Shipped.dictionary.version)
    }

    static let invalidFiles: [String] = {
        let dir = Fixture.path("mappings/invalid")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
    }()

    @Test("broken mappings give the diagnostics in their golden files", arguments: invalidFiles)
    func invalidGolden(_ name: String) {
        let display = "fixtures/mappings/invalid/" + name
        let (plan, diagnostics, rendered) = Shipped.compile(Fixture.path("mappings/invalid/" + name), display: display)
        #expect(plan == nil, "a mapping with errors yields no plan")
        #expect(diagnostics.hasErrors, "\(name) compiled without errors")
        if let code = name.split(separator: "-").first, code.count == 4, code.first!.isUppercase, code.dropFirst().allSatisfy(\.isNumber) {
            #expect(diagnostics.contains { $0.code == String(code) }, "\(name) must report \(code):\n\(rendered)")
        }
        let golden = "mappings/invalid/" + name.replacingOccurrences(of: ".yaml", with: ".expected.txt")
        switch GoldenFile.compare(rendered, with: golden) {
        case .matches: break
        case .recorded: Issue.record("recorded \(golden); run again without OEMSYNC_RECORD")
        case .differs(let expected, let actual): #expect(actual == expected)
        }
    }

    @Test("every problem of a file is reported, not only the first")
    func collectsAll() {
        let (_, diagnostics, rendered) = Shipped.compile(Fixture.path("mappings/invalid/many-problems.yaml"))
        let codes = Set(diagnostics.map(\.code))
        for code in ["M104", "M201", "M401"] { #expect(codes.contains(code), "missing \(code) in:\n\(rendered)") }
        #expect(diagnostics.count >= 5)
    }

    @Test("an unknown table is an error against the database, a warning against the reference schema")
    func unknownTable() throws {
        let dir = try TemporaryDirectory("map")
        let path = try dir.write(
            "custom.yaml",
            """
            oemsync_mapping: 1
            name: custom
            version: 1
            source: {format: csv}
            target: {table: dealer_extras, key: [vin]}
            columns:
              vin: {source: VIN}
            """)
        let (planReference, reference, _) = Shipped.compile(path, complete: false)
        #expect(reference.map(\.code) == ["M301"])
        #expect(reference.first?.severity == .warning)
        #expect(planReference != nil)
        let (planLive, live, _) = Shipped.compile(path, complete: true)
        #expect(live.map(\.code) == ["M301"])
        #expect(live.first?.severity == .error)
        #expect(planLive == nil)
    }

    @Test("columns inherit type, checks, format and the personal flag from the dictionary")
    func inheritsDictionary() throws {
        let (plan, diagnostics, rendered) = Shipped.compile(Fixture.repository("Mappings/acme/orders.v1.yaml"))
        #expect(diagnostics.isEmpty, "\(rendered)")
        let p = try #require(plan)
        let byName = Dictionary(uniqueKeysWithValues: p.columns.map { ($0.name, $0) })
        #expect(byName["total_price"]?.coercion.type == .decimal)
        #expect(byName["total_price"]?.coercion.scale == 2)
        #expect(byName["customer_phone"]?.personal == true)
        #expect(byName["customer_name"]?.personal == true)
        #expect(byName["order_no"]?.personal == false)
        #expect(byName["status"]?.checks.allowed?.contains("DELIVERED") == true)
        #expect(byName["dealer_code"]?.required == true, "key columns are required")
        #expect(p.personalColumns == ["customer_name", "customer_phone"])
    }
}

@Suite("Diagnostic rendering")
struct DiagnosticRendererTests {
    @Test("the caret sits under the column, CJK characters counted as two cells")
    func caretUnderCJK() {
        let text = "columns:\n  状态: {source: 状态, lookup: acme.x}\n"
        let d = Diagnostic.error("M401", "unknown code table 'acme.x'", at: SourceLocation(file: "m.yaml", line: 2, column: 26))
        let out = DiagnosticRenderer(sources: ["m.yaml": text]).render(d)
        #expect(
            out == """
                m.yaml:2:26: error[M401]: unknown code table 'acme.x'
                  |
                2 |   状态: {source: 状态, lookup: acme.x}
                  |                              ^

                """)
    }
}

@Suite("Data dictionary")
struct DataDictionaryTests {
    @Test("the shipped dictionary loads its fields and code tables")
    func shipped() {
        #expect(Shipped.dictionary.version == "2025.12")
        #expect(Shipped.dictionary.fields["vin"]?.format == .vin)
        #expect(Shipped.dictionary.fields["customer_phone"]?.personal == true)
        #expect(Shipped.dictionary.codeTables["acme.model"]?.codes["A3S"] == "ACME-A3-SEDAN")
    }

    @Test("a dictionary with an error reports it, and keeps what did load for checking mappings")
    func partial() throws {
        let dir = try TemporaryDirectory("dict")
        try dir.write(
            "dictionary.yaml",
            """
            oemsync_dictionary: 1
            version: "1"
            fields:
              vin: {meaning: VIN, type: string, format: vin}
              price: {meaning: Price, type: money}
              Bad-Name: {meaning: x, type: string}
            """)
        try dir.write(
            "codes/x.yaml",
            """
            oemsync_dictionary: 1
            code_tables:
              x.colour: {meaning: colours, codes: {"01": WHITE}}
              x.empty: {codes: {}}
            """)
        let (dictionary, diagnostics) = DataDictionaryLoader().load(directory: dir.path, displayDirectory: "dict")
        #expect(diagnostics.map(\.description) == [
            "dict/dictionary.yaml:5:33: error[D104]: invalid type 'money'",
            "dict/dictionary.yaml:6:3: error[D104]: invalid field name 'Bad-Name'",
            "dict/codes/x.yaml:4:12: error[D102]: missing required key 'meaning' in code table 'x.empty'",
        ])
        let d = try #require(dictionary)
        #expect(d.fields.keys.sorted() == ["vin"])
        #expect(d.codeTables["x.colour"]?.codes == ["01": "WHITE"])
    }
}
