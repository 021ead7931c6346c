import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncTesting
import Testing

@Suite("CSV reader")
struct CSVReaderTests {
    /// All records of a file (header included) as (line, fields, problem code).
    func read(_ path: String, _ format: CSVFormat = CSVFormat()) throws -> [(Int, [String], String?)] {
        let reader = try CSVReader(path: path, format: format)
        var out: [(Int, [String], String?)] = []
        while let r = try reader.next() { out.append((r.line, r.fields, r.problem?.code)) }
        return out
    }

    func readBytes(_ bytes: [UInt8], _ format: CSVFormat = CSVFormat()) throws -> [(Int, [String], String?)] {
        let dir = try TemporaryDirectory("csv")
        return try read(try dir.write("f.csv", Data(bytes)), format)
    }

    @Test("quoted fields keep delimiters, doubled quotes and embedded LF and CRLF; lines are counted")
    func quotedNewlines() throws {
        let rows = try read(Fixture.path("feeds/csv/edge/quoted-newlines.csv"))
        #expect(rows.map(\.0) == [1, 2, 4, 6])
        #expect(rows[1].1[8] == "Hall A\nrow 2, bay \"7\"")
        #expect(rows[2].1[8] == "two\r\nlines")
        #expect(rows[3].1[8] == "plain")
        #expect(rows.allSatisfy { $0.1.count == 10 && $0.2 == nil })
    }

    @Test("a UTF-8 BOM is skipped, CRLF ends records, and a last line without newline is read")
    func bomAndCRLF() throws {
        let rows = try read(Fixture.path("feeds/csv/edge/bom-crlf.csv"))
        #expect(rows.count == 3)
        #expect(rows[0].1.first == "DealerCode")
        #expect(rows[2].1 == ["D001", "LSVAB2183S2100001", "S-2", "20", "A3H", "9B", "2025-12-03", "200", "B", ""])
    }

    @Test("GB18030 files decode, including 4-byte characters, and auto detection picks GB18030")
    func gb18030() throws {
        let path = Fixture.path("feeds/csv/edge/gb18030.csv")
        let reader = try CSVReader(path: path, format: CSVFormat())
        #expect(reader.encoding == .gb18030)
        _ = try reader.next()
        let first = try #require(try reader.next())
        #expect(first.fields[6] == "2025年12月2日")
        #expect(first.fields[8] == "𠀀号库 䶮")
        let second = try #require(try reader.next())
        #expect(second.fields[6] == "２０２５年１２月３日")
        #expect(second.fields[8] == "展厅€")
    }

    @Test("a row that is not valid UTF-8 comes back with csv.decode and its line; its neighbours decode")
    func invalidUTF8() throws {
        let rows = try read(Fixture.path("feeds/csv/edge/invalid-utf8.csv"))
        #expect(rows.map(\.2) == [nil, nil, "csv.decode", nil, nil])
        #expect(rows[2].0 == 3)
        #expect(rows[1].1[8] == "上海展厅")
        #expect(rows[4].1[8] == "Café")
    }

    @Test("an unterminated quote costs only its own line: reading resumes on the next")
    func unterminatedQuote() throws {
        let rows = try read(Fixture.path("feeds/csv/edge/unterminated-quote.csv"))
        #expect(rows.map(\.0) == [1, 2, 3, 4])
        #expect(rows[2].2 == "csv.quote")
        #expect(rows[2].1 == ["D001,LSVAB2183S2100001,S-2,20,A3S,0Q,2025-12-02,200,\"Hall B,"])
        #expect(rows[3].1[2] == "S-3")
    }

    @Test("a record beyond the size limit is rejected as csv.too_large and the next line is read")
    func tooLarge() throws {
        var bytes = Array("a,b\n1,\"".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 3 << 20) + Array("\n2,ok\n".utf8)
        bytes += Array("3,fine\n".utf8)
        let rows = try readBytes(bytes, CSVFormat(maxRecordBytes: 1 << 20))
        #expect(rows.map(\.2) == [nil, "csv.too_large", nil, nil])
        #expect(rows[2].1 == ["2", "ok"])
        #expect(rows[2].0 == 3)
    }

    @Test("a small size limit applies to records that end within one read")
    func smallLimit() throws {
        let long = String(repeating: "x", count: 5000)
        let rows = try readBytes(Array("a,b\n1,\(long)\n2,ok\n".utf8), CSVFormat(maxRecordBytes: 1024))
        #expect(rows.map(\.2) == [nil, "csv.too_large", nil])
        #expect(rows[1].1 == ["1" + String(repeating: "x", count: 4095)], "the start of the record is kept")
        #expect(rows[2].1 == ["2", "ok"])
    }

    @Test("a huge field (4 MiB) under the limit is read whole")
    func hugeField() throws {
        let big = String(repeating: "数据", count: 700_000)
        let rows = try readBytes(Array("id,text\n1,\"\(big)\"\n2,small\n".utf8))
        #expect(rows.count == 3)
        #expect(rows[1].1[1] == big)
        #expect(rows[2].1 == ["2", "small"])
    }

    @Test("a CRLF split across the 1 MiB read boundary is one line end")
    func crlfAcrossChunks() throws {
        let first = "h\n" + String(repeating: "y", count: (1 << 20) - 3)  // the CR lands on the last byte of the chunk
        let bytes = Array((first + "\r\nnext\r\nlast").utf8)
        let rows = try readBytes(bytes)
        #expect(rows.map(\.0) == [1, 2, 3, 4])
        #expect(rows[2].1 == ["next"])
        #expect(rows[3].1 == ["last"])
    }

    @Test("blank lines are skipped, empty fields are kept, a line of commas is a record")
    func blanks() throws {
        let rows = try readBytes(Array("a,b\n\n1,\n\n,\n".utf8))
        #expect(rows.map(\.1) == [["a", "b"], ["1", ""], ["", ""]])
        #expect(rows.map(\.0) == [1, 3, 5])
    }

    @Test("seeking to a stored position continues with the same line numbers")
    func seek() throws {
        let path = Fixture.path("feeds/csv/edge/quoted-newlines.csv")
        let reader = try CSVReader(path: path, format: CSVFormat())
        _ = try reader.readHeader()
        _ = try reader.next()
        let position = reader.position
        let expected = try reader.next()
        let again = try CSVReader(path: path, format: CSVFormat())
        _ = try again.readHeader()
        try again.seek(to: position)
        let resumed = try #require(try again.next())
        #expect(resumed.line == expected?.line)
        #expect(resumed.fields == expected?.fields)
        #expect(position.line == 4)
    }

    @Test("empty files have no header; binary files are recognised")
    func emptyAndBinary() throws {
        let empty = try CSVReader(path: Fixture.path("feeds/csv/edge/empty.csv"), format: CSVFormat())
        #expect(try empty.readHeader() == nil)
        #expect(empty.fileSize == 0)
        let binary = try CSVReader(path: Fixture.path("feeds/csv/edge/binary.csv"), format: CSVFormat())
        #expect(binary.looksBinary)
        #expect(!(try CSVReader(path: Fixture.path("feeds/csv/edge/gb18030.csv"), format: CSVFormat())).looksBinary)
    }

    @Test("a semicolon-delimited file reads with its delimiter")
    func delimiter() throws {
        let rows = try readBytes(Array("a;b\n\"x;y\";2\n".utf8), CSVFormat(delimiter: UInt8(ascii: ";")))
        #expect(rows[1].1 == ["x;y", "2"])
    }
}
