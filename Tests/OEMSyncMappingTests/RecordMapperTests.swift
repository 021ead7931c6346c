import Foundation
import OEMSyncCore
import OEMSyncMapping
import OEMSyncTesting
import Testing

@Suite("Applying a mapping to records")
struct RecordMapperTests {
    static let mapping = """
        oemsync_mapping: 1
        name: test.stock
        version: 7
        source: {format: csv}
        target: {table: stock, key: [dealer_code, vin]}
        columns:
          dealer_code:
            source: Dealer
            transforms: [trim, upper, {remove_prefix: "DLR-"}]
          vin:
            source: VIN
            validate: {vin: strict}
          stock_no:
            sources: [Prefix, Number]
            join: "-"
          status:
            field: stock_status
            source: Status
            lookup: acme.stock_status
          model_code:
            source: Model
            transforms: [trim, upper]
            lookup: {table: acme.model, on_missing: keep}
          ext_color_code:
            source: Color
            transforms: [{split: {separator: "/", index: 0}}]
            default: UNKNOWN
          stock_in_date:
            source: InDate
          list_price:
            source: Price
            transforms: [{replace: {pattern: "[¥,]", with: ""}}]
            on_error: null
          location:
            source: Location
            transforms: [{extract: {pattern: '^Hall (\\w)', group: 1}}]
            pattern: "[A-Z]"
            on_error: default
            default: YARD
          contact_phone:
            source: Phone
            validate: {phone: {region: CN}}
            on_error: null
        """
    static let header = ["Dealer", "VIN", "Prefix", "Number", "Status", "Model", "Color", "InDate", "Price", "Location", "Phone"]

    func mapper() throws -> BatchMapper {
        let dir = try TemporaryDirectory("mapper")
        let path = try dir.write("stock.yaml", Self.mapping)
        let (plan, diagnostics, rendered) = Shipped.compile(path)
        #expect(diagnostics.isEmpty, "\(rendered)")
        return BatchMapper(try BoundMapping(plan: try #require(plan), header: Self.header))
    }

    func record(_ line: Int, _ fields: [String]) -> RawRecord { RawRecord(line: line, fields: fields) }

    @Test("a clean record becomes a typed row through transforms, lookups and validators")
    func cleanRow() throws {
        let batch = try mapper().map([
            record(2, [" dlr-d001 ", "lsvab2181s2100000", "S", "0001", "20", " a3s ", "9B/matte", "２０２５年１２月２日", "¥268,000", "Hall B", "+86 138-0013-8000"])
        ])
        #expect(batch.rejects.isEmpty)
        #expect(batch.warnings.isEmpty)
        #expect(
            batch.rows == [
                [
                    .string("D001"), .string("LSVAB2181S2100000"), .string("S-0001"), .string("IN_STOCK"), .string("ACME-A3-SEDAN"),
                    .string("9B"), .date(CivilDate(year: 2025, month: 12, day: 2)!), .decimal("268000.00"), .string("B"),
                    .string("+8613800138000"),
                ]
            ])
        #expect(batch.rowLines == [2])
    }

    @Test("defaults fill empty values; unknown codes are kept with a warning when the lookup says keep")
    func defaultsAndKeep() throws {
        let batch = try mapper().map([record(3, ["D001", "LSVAB2181S2100000", "", "1", "20", "Z9Z", "", "2025-12-02", "", "", ""])])
        let row = try #require(batch.rows.first)
        #expect(row[2] == .string("1"), "sources join skips empty parts")
        #expect(row[4] == .string("Z9Z"))
        #expect(row[5] == .string("UNKNOWN"))
        #expect(row[7] == .null)
        #expect(row[8] == .string("YARD"))
        #expect(batch.warnings.map(\.problem.code) == ["lookup.missing"])
        #expect(batch.warnings.first?.action == "kept")
    }

    @Test("on_error null and default write the record with a warning; reject lists every problem")
    func onErrorPolicies() throws {
        let m = try mapper()
        let written = m.map([record(4, ["D001", "LSVAB2181S2100000", "S", "2", "20", "A3S", "0Q", "2025-12-02", "abc", "Hall 9", "138****8000"])])
        #expect(written.rejects.isEmpty)
        #expect(written.rows.first?[7] == .null)
        #expect(written.rows.first?[8] == .string("YARD"))
        #expect(written.rows.first?[9] == .null)
        #expect(written.warnings.map(\.problem.code) == ["type.decimal", "value.pattern", "phone.masked"])
        #expect(written.warnings.map(\.action) == ["null", "default", "null"])

        let rejected = m.map([record(5, ["", "LSVAB2181S2100001", "S", "3", "99", "A3S", "0Q", "2025-02-30", "1", "Hall A", ""])])
        #expect(rejected.rows.isEmpty)
        let reject = try #require(rejected.rejects.first)
        #expect(reject.line == 5)
        #expect(reject.problems.map(\.code) == ["value.required", "vin.check_digit", "lookup.missing", "type.date"])
        #expect(reject.problems.map(\.field) == ["dealer_code", "vin", "status", "stock_in_date"])
        #expect(reject.problems.map(\.rawValue) == ["", "LSVAB2181S2100001", "99", "2025-02-30"], "raw values are the fields as read")
        #expect(reject.rawRecord.hasPrefix("[\"\",\"LSVAB2181S2100001\""))
        #expect(rejected.warnings.isEmpty, "a rejected record leaves no warnings behind")
    }

    @Test("validate phone with types: a 400 number in a customer's phone column is a phone.type problem")
    func phoneTypes() throws {
        let dir = try TemporaryDirectory("mapper")
        let yaml = """
            oemsync_mapping: 1
            name: test.customers
            version: 1
            source: {format: csv}
            target: {table: stock, key: [dealer_code, vin]}
            columns:
              dealer_code: {source: Dealer}
              vin: {source: VIN}
              contact_phone:
                source: Phone
                validate: {phone: {region: CN, types: [mobile, fixed_line]}}

            """
        let (plan, diagnostics, rendered) = Shipped.compile(try dir.write("customers.yaml", yaml))
        #expect(diagnostics.isEmpty, "\(rendered)")
        let mapper = BatchMapper(try BoundMapping(plan: try #require(plan), header: ["Dealer", "VIN", "Phone"]))
        let batch = mapper.map([
            record(2, ["D001", "LSVAB2181S2100000", "138 0013 8000"]),
            record(3, ["D001", "LSVAB2183S2100001", "010-65529988"]),
            record(4, ["D001", "LSVAB2185S2100002", "400-820-8820"]),
        ])
        #expect(batch.rows.map { $0[2] } == [.string("+8613800138000"), .string("+861065529988")])
        #expect(batch.rejects.map(\.line) == [4])
        #expect(batch.rejects.first?.problems.map(\.code) == ["phone.type"])

        let (_, bad, text) = Shipped.compile(
            try dir.write("bad.yaml", yaml.replacingOccurrences(of: "types: [mobile, fixed_line]", with: "types: [mobil]")))
        #expect(bad.map(\.code) == ["M104"])
        #expect(text.contains("invalid phone type 'mobil'") && text.contains("did you mean 'mobile'?"), "\(text)")
    }

    @Test("a repeated natural key in one batch is written once, with its last values")
    func duplicateKeys() throws {
        let batch = try mapper().map([
            record(2, ["D001", "LSVAB2181S2100000", "S", "1", "20", "A3S", "0Q", "2025-12-02", "100", "Hall A", ""]),
            record(3, ["D001", "LSVAB2183S2100001", "S", "2", "20", "A3S", "0Q", "2025-12-02", "200", "Hall A", ""]),
            record(4, ["d001", "LSVAB2181S2100000", "S", "3", "40", "A3S", "0Q", "2025-12-03", "300", "Hall A", ""]),
        ])
        #expect(batch.recordsIn == 3)
        #expect(batch.rows.count == 2)
        #expect(batch.superseded == 1)
        #expect(batch.isConserved)
        #expect(batch.rowLines == [4, 3])
        #expect(batch.rows[0][2] == .string("S-3"))
        #expect(batch.rows[0][3] == .string("SOLD"))
    }

    @Test("a record with the wrong number of fields, or one the source could not read, is rejected with its line")
    func recordLevelProblems() throws {
        let batch = try mapper().map([
            record(9, ["D001", "LSVAB2181S2100000"]),
            RawRecord(line: 10, fields: ["bad"], problem: RecordProblem(code: "csv.decode", message: "field 1 is not valid UTF-8")),
        ])
        #expect(batch.rejects.map(\.line) == [9, 10])
        #expect(batch.rejects.map(\.primary.code) == ["csv.columns", "csv.decode"])
        #expect(batch.rejects[0].primary.message == "expected 11 fields, found 2")
        #expect(batch.isConserved)
    }

    @Test("binding to a header that lacks a mapped column names the column and a likely fix")
    func binding() throws {
        let dir = try TemporaryDirectory("bind")
        let path = try dir.write("stock.yaml", Self.mapping)
        let plan = try #require(Shipped.compile(path).0)
        var header = Self.header
        header[1] = "Vin"
        #expect(throws: BoundMapping.BindingError.self) { try BoundMapping(plan: plan, header: header) }
        do {
            _ = try BoundMapping(plan: plan, header: header)
        } catch {
            #expect(error.description == "the header has no 'VIN' (did you mean 'Vin'?)")
        }
        // Surrounding spaces and a BOM-free header bind as usual.
        #expect(throws: Never.self) { try BoundMapping(plan: plan, header: Self.header.map { " \($0) " }) }
    }
}
