import Foundation
import OEMSyncCore
@testable import OEMSyncFeeds
import Testing

@Suite("JSON paths, parser and record reader")
struct JSONReaderTests {
    func path(_ text: String) throws -> JSONPath { try JSONPath(parsing: text) }

    func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test("paths: names, quoted names, indexes, wildcards and anchors")
    func paths() throws {
        #expect(try path("customer.mobile").segments == [.key("customer"), .key("mobile")])
        #expect(try path("customer.mobile").anchor == .record)
        #expect(try path("$.data.list[*]").segments == [.key("data"), .key("list"), .wildcard])
        #expect(try path("$.data.list[*]").anchor == .root)
        #expect(try path("options[-1]['颜色 代码']").segments == [.key("options"), .index(-1), .key("颜色 代码")])
        #expect(try path("^^.orderNo").anchor == .parent(levels: 2))
        #expect(try path("$").segments.isEmpty)
        #expect(try path("车架号").segments == [.key("车架号")])
    }

    @Test("invalid paths name the character where they go wrong", arguments: [
        ("a..b", 3), ("a[", 3), ("a[x]", 3), ("a['b]", 6), ("$x", 2), ("", 1), ("a[1", 4),
    ])
    func invalidPaths(text: String, column: Int) {
        #expect(throws: JSONPath.ParseError.self) { try JSONPath(parsing: text) }
        do {
            _ = try JSONPath(parsing: text)
        } catch {
            #expect(error.column == column, "\(text): \(error)")
        }
    }

    @Test("numbers keep their exact text; strings decode escapes and surrogate pairs")
    func exactValues() throws {
        let v = try parse(#"{"price": 268000.00, "id": 12345678901234567890, "e": -1.5E+3, "s": "a\"b\u00e9\ud83d\ude97\n", "t": true, "n": null}"#)
        #expect(v[key: "price"] == .number("268000.00"))
        #expect(v[key: "id"]?.fieldText == "12345678901234567890")
        #expect(v[key: "e"] == .number("-1.5E+3"))
        #expect(v[key: "s"] == .string("a\"bé🚗\n"))
        #expect(v[key: "t"]?.fieldText == "true")
        #expect(v[key: "n"]?.fieldText == nil)
    }

    @Test("invalid JSON is an error with its line and column", arguments: [
        (#"{"a": 1,}"#, "expected a member name"),
        (#"{"a": [1, 2"#, "unexpected end"),
        (#"{"a": 01}"#, "leading zero"),
        (#"{"a": "x\q"}"#, "invalid escape"),
        (#"{"a": "\ud800"}"#, "unpaired surrogate"),
        ("{\"a\": \"\u{01}\"}", "control character"),
        (#"{"a": tru}"#, "invalid literal"),
        (#"{"a": 1} x"#, "after the end"),
        (#"{"a": "unterminated"#, "unterminated string"),
    ])
    func invalidJSON(text: String, message: String) {
        do {
            _ = try parse(text)
            Issue.record("\(text) parsed")
        } catch {
            #expect(error.message.contains(message), "\(text): \(error)")
            #expect(error.line == 1)
        }
    }

    @Test("invalid UTF-8 inside a string is an error, never a replacement character")
    func invalidUTF8() {
        var bytes = Array(#"{"name": "ab"}"#.utf8)
        bytes.insert(0xFF, at: 11)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(bytes) }
    }

    @Test("nesting is limited, so a hostile payload cannot exhaust the stack")
    func depthLimit() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONSyntaxError.self) { try parse(deep) }
    }

    static let page = #"""
        {"code": 0, "msg": "success",
         "data": {"total": 3, "dealer": "D001",
                  "list": [{"orderNo": "SO-1", "customer": {"mobile": "138"}, "lines": [{"vin": "V1"}, {"vin": "V2"}], "tags": ["a", "b"]},
                           {"orderNo": "SO-2", "customer": null, "lines": [], "tags": []},
                           {"orderNo": "SO-3", "price": 1.50, "lines": [{"vin": "V3"}]}]},
         "next": "c2"}
        """#

    @Test("records at a path, fields by relative, root and nested paths, captures after the records")
    func readRecords() throws {
        let reader = JSONRecordReader(
            records: try path("$.data.list[*]"),
            fields: [
                .init(path: try path("orderNo")), .init(path: try path("customer.mobile")), .init(path: try path("tags[*]"), join: "|"),
                .init(path: try path("$.data.dealer")), .init(path: try path("price")), .init(path: try path("lines")),
            ],
            captures: [try path("$.next"), try path("$.code")])
        let payload = Array(Self.page.utf8)
        let page = try reader.read(payload)
        #expect(page.records.map(\.fields) == [
            ["SO-1", "138", "a|b", "D001", "", #"[{"vin":"V1"},{"vin":"V2"}]"#],
            ["SO-2", "", "", "D001", "", "[]"],
            ["SO-3", "", "", "D001", "1.50", #"[{"vin":"V3"}]"#],
        ])
        #expect(page.records.map(\.line) == [1, 2, 3])
        #expect(page.captures[try path("$.next")] == .string("c2"))
        #expect(page.captures[try path("$.code")] == .number("0"))
        // The raw text of a record is its exact text in the payload.
        #expect(page.rawText(2, in: payload) == #"{"orderNo": "SO-3", "price": 1.50, "lines": [{"vin": "V3"}]}"#)
    }

    @Test("nested records paths: each line is a record, ^ reaches the order it belongs to")
    func nestedRecords() throws {
        let reader = JSONRecordReader(
            records: try path("$.data.list[*].lines[*]"),
            fields: [.init(path: try path("vin")), .init(path: try path("^.orderNo"))])
        let page = try reader.read(Array(Self.page.utf8))
        #expect(page.records.map(\.fields) == [["V1", "SO-1"], ["V2", "SO-1"], ["V3", "SO-3"]])
        #expect(page.rawText(0, in: []) == #"{"vin":"V1"}"#)
    }

    @Test("null or [] where the records are is no records; a missing container, a null one or a wrong shape is an error")
    func shapes() throws {
        let reader = JSONRecordReader(records: try path("$.data.list[*]"), fields: [.init(path: try path("id"))])
        #expect(try reader.read(Array(#"{"data": {"list": null}}"#.utf8)).records.isEmpty)
        #expect(try reader.read(Array(#"{"data": {"list": []}}"#.utf8)).records.isEmpty)
        // `"data": null` is an empty result only where an error-code rule vouches for the envelope.
        let vouched = JSONRecordReader(records: try path("$.data.list[*]"), fields: [.init(path: try path("id"))], nullContainers: true)
        #expect(try vouched.read(Array(#"{"code": 0, "data": null}"#.utf8)).records.isEmpty)
        let topLevel = JSONRecordReader(records: try path("$[*]"), fields: [.init(path: try path("id"))], captures: [try path("$.code")])
        #expect(throws: JSONPayloadError.self) { try topLevel.read(Array(#"{"code": 500}"#.utf8)) }
        for (payload, message) in [
            (#"{"code": 500, "data": null}"#, "$.data is null"),
            (#"{"code": 500, "msg": "error"}"#, "$ has no member 'data'"),
            (#"{"data": {"items": []}}"#, "$.data has no member 'list'"),
            (#"{"data": {"list": {"id": 1}}}"#, "$.data.list is an object, expected an array"),
            (#"[1, 2]"#, "$ is an array"),
        ] {
            #expect(throws: JSONPayloadError.self) { try reader.read(Array(payload.utf8)) }
            do {
                _ = try reader.read(Array(payload.utf8))
            } catch {
                #expect(error.isShape)
                #expect(error.description.contains(message), "\(payload): \(error)")
            }
        }
    }

    @Test("a truncated payload is an error even when every record before the cut is complete")
    func truncated() throws {
        let reader = JSONRecordReader(records: try path("$.data.list[*]"), fields: [.init(path: try path("orderNo"))])
        let full = Array(Self.page.utf8)
        // Cut after the records array: the records parsed, the document did not end.
        let cut = Array(full.prefix(full.count - 20))
        #expect(throws: JSONPayloadError.self) { try reader.read(cut) }
        do {
            _ = try reader.read(cut)
        } catch {
            #expect(!error.isShape)
            #expect(error.description.contains("truncated"))
        }
    }

    @Test("a record with a NUL character is rejected as json.nul; its neighbours are read")
    func nul() throws {
        let reader = JSONRecordReader(records: try path("$[*]"), fields: [.init(path: try path("name"))])
        let page = try reader.read(Array(#"[{"name": "a\u0000b"}, {"name": "ok"}]"#.utf8))
        #expect(page.records.map { $0.problem?.code } == ["json.nul", nil])
        #expect(page.records[1].fields == ["ok"])
    }

    @Test("a top-level array of records")
    func topLevelArray() throws {
        let reader = JSONRecordReader(records: try path("$[*]"), fields: [.init(path: try path("id"))])
        #expect(try reader.read(Array(#"[{"id": 1}, {"id": "x"}]"#.utf8)).records.map(\.fields) == [["1"], ["x"]])
    }
}
