#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncTesting
import Testing

/// SOAP/XML payloads through libxml2: namespace-aware records and fields, faults, and every
/// attack refused before the parser sees it.
@Suite("XML payloads (libxml2)")
struct XMLRecordReaderTests {
    // The mapping's own prefixes: different from the document's, bound to the same URIs.
    static let ns = ["s": XMLRecordReader.soap11, "star": "http://www.starstandard.org/STAR/5"]

    func path(_ s: String) -> XMLPath { try! XMLPath(s, namespaces: Self.ns) }

    var inventory: XMLRecordReader {
        XMLRecordReader(
            records: path(
                "/s:Envelope/s:Body/star:ShowVehicleInventory/star:ShowVehicleInventoryDataArea/star:VehicleInventory/star:VehicleInventoryInvoice/star:VehicleInventoryVehicleLineItem"),
            fields: [
                .init(path: path("star:Vehicle/star:VehicleID")), .init(path: path("star:Vehicle/star:Model")),
                .init(path: path("star:Vehicle/star:ModelDescription")), .init(path: path("star:Option/star:OptionID"), join: "|"),
                .init(path: path("@lineNumber")), .init(path: path("star:Vehicle/star:ColorGroup/star:ManufacturerColorCode")),
            ],
            captures: [path("/s:Envelope/s:Body/star:ShowVehicleInventory/star:ApplicationArea/star:BODID"), path("/s:Envelope/s:Body/star:ShowVehicleInventory/@releaseID")])
    }

    func read(_ reader: XMLRecordReader, _ xml: String) throws(XMLPayloadError) -> ([RawRecord], XMLRecordReader.Result) {
        var records: [RawRecord] = []
        let result = try reader.read(Array(xml.utf8)) { records.append($0) }
        return (records, result)
    }

    func error(_ reader: XMLRecordReader, _ xml: String) -> XMLPayloadError? {
        do {
            _ = try read(reader, xml)
            return nil
        } catch {
            return error
        }
    }

    @Test("records by namespace, not prefix: fields, repeated elements, attributes, CDATA, captures, lines")
    func inventoryRecords() throws {
        var records: [RawRecord] = []
        let result = try inventory.read(file: Fixture.path("feeds/soap/show-vehicle-inventory.xml")) { records.append($0) }
        #expect(records.map(\.fields) == [
            ["LSVAB2184S2300000", "A3S", "A3 Sportback <S line> & more", "PX2|WQS", "1", "0Q"],
            ["LSVAB2186S2300001", "A3H", "A3 Limousine", "", "2", ""],
        ])
        #expect(records.map(\.line) == [17, 29])
        #expect(result.records == 2)
        #expect(result.captures[path("/s:Envelope/s:Body/star:ShowVehicleInventory/star:ApplicationArea/star:BODID")] == "6f1c2a9e-3b7d-4c1e-9a55-0d2f8e4b7c11")
        #expect(result.captures[path("/s:Envelope/s:Body/star:ShowVehicleInventory/@releaseID")] == "5.11.4")
        #expect(result.fault == nil)
    }

    @Test("entities and character references in text and attributes, Chinese text, a namespaced attribute")
    func escapes() throws {
        let ns = ["x": "urn:x", "meta": "urn:meta"]
        let reader = XMLRecordReader(
            records: try XMLPath("/x:r/x:i", namespaces: ns),
            fields: [
                .init(path: try XMLPath("x:name", namespaces: ns)), .init(path: try XMLPath("@note", namespaces: ns)),
                .init(path: try XMLPath("@meta:src", namespaces: ns)),
            ])
        let xml = """
            <x:r xmlns:x="urn:x" xmlns:m="urn:meta"><x:i note="A &amp; B &lt;1&gt; &#x4E2D;" m:src="oem">
            <x:name>张伟 &amp; &#20013;文 &quot;ok&quot;</x:name></x:i></x:r>
            """
        let (records, _) = try read(reader, xml)
        #expect(records.map(\.fields) == [["张伟 & 中文 \"ok\"", "A & B <1> 中", "oem"]])
        // A prefix the document never binds is not well-formed.
        #expect(error(reader, "<x:r xmlns:x=\"urn:x\"><y:i/></x:r>")?.kind == .malformed)
    }

    @Test("another namespace is another document: a clear error naming both roots")
    func wrongNamespace() {
        let xml = "<Envelope xmlns=\"urn:not-soap\"><Body/></Envelope>"
        let e = error(inventory, xml)
        #expect(e?.kind == .unexpectedRoot)
        #expect(e?.message.contains("{urn:not-soap}Envelope") == true && e?.message.contains("{\(XMLRecordReader.soap11)}Envelope") == true, "\(String(describing: e))")
    }

    @Test("SOAP 1.1 and 1.2 faults: code, reason, and whether the client is at fault")
    func faults() throws {
        let v11 = """
            <soap:Envelope xmlns:soap="\(XMLRecordReader.soap11)"><soap:Body><soap:Fault>
            <faultcode>soap:Server</faultcode><faultstring>STAR:Service Unavailable</faultstring></soap:Fault></soap:Body></soap:Envelope>
            """
        let dotted = v11.replacingOccurrences(of: "soap:Server", with: "soap:Client.Authentication")
        #expect(try read(inventory, dotted).1.fault?.isClientFault == true, "a dotted client code is the client's fault")
        let (r1, f1) = try read(inventory, v11)
        #expect(r1.isEmpty)
        #expect(f1.fault == .init(code: "soap:Server", reason: "STAR:Service Unavailable", isClientFault: false))
        let v12 = """
            <env:Envelope xmlns:env="\(XMLRecordReader.soap12)"><env:Body><env:Fault>
            <env:Code><env:Value>env:Sender</env:Value></env:Code><env:Reason><env:Text xml:lang="en">STAR:Invalid Structure</env:Text></env:Reason>
            </env:Fault></env:Body></env:Envelope>
            """
        let reader12 = XMLRecordReader(records: try XMLPath("/e:Envelope/e:Body/e:Items/e:Item", namespaces: ["e": XMLRecordReader.soap12]), fields: [])
        let (_, f2) = try read(reader12, v12)
        #expect(f2.fault == .init(code: "env:Sender", reason: "STAR:Invalid Structure", isClientFault: true))
    }

    @Test("truncated and malformed XML are errors with their line, never a silent short read")
    func malformed() {
        let full = try! String(contentsOfFile: Fixture.path("feeds/soap/show-vehicle-inventory.xml"), encoding: .utf8)
        let cut = String(full.prefix(full.count / 2))
        let t = error(inventory, cut)
        #expect(t?.kind == .truncated, "\(String(describing: t))")
        #expect(t?.message.contains("ends inside <") == true)
        let m = error(inventory, "<a:Envelope xmlns:a=\"\(XMLRecordReader.soap11)\">\n<a:Body>\n</a:Bod>\n</a:Envelope>")
        #expect(m?.kind == .malformed, "\(String(describing: m))")
        #expect(m?.line == 3)
        #expect(error(inventory, "")?.kind == .truncated)
        // Cut inside a start tag, and before the root: truncated too.
        #expect(error(inventory, "<s:Envelope xmlns:s=\"\(XMLRecordReader.soap11)\"><s:Bo")?.kind == .truncated)
        #expect(error(inventory, "<?xml version=\"1.0\"?>\n<!-- nothing -->")?.kind == .truncated)
    }

    // MARK: Attacks

    @Test("XXE to a file, billion laughs, quadratic blowup, a bare DOCTYPE: refused before parsing", arguments: [
        """
        <?xml version="1.0"?>
        <!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
        <r>&xxe;</r>
        """,
        """
        <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
        <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>
        """,
        "<!DOCTYPE r [<!ENTITY a \"" + String(repeating: "x", count: 50_000) + "\">]><r>" + String(repeating: "&a;", count: 50_000) + "</r>",
        "\u{FEFF}<?xml version=\"1.0\"?><!-- a comment --><!DOCTYPE Envelope><Envelope/>",
    ])
    func attacksRefused(xml: String) {
        let started = ContinuousClock.now
        let e = error(inventory, xml)
        #expect(e?.kind == .forbiddenDTD, "\(String(describing: e))")
        #expect(e?.message.contains("refused") == true)
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test("a DOCTYPE in UTF-16 (which the byte guard does not read) is refused by the parser's own callback")
    func utf16Doctype() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>"
        var bytes: [UInt8] = [0xFF, 0xFE]
        for unit in xml.utf16 { bytes += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        var records = 0
        do {
            _ = try inventory.read(bytes) { _ in records += 1 }
            Issue.record("a UTF-16 DOCTYPE was accepted")
        } catch {
            #expect(error.kind == .forbiddenDTD, "\(error)")
        }
        #expect(records == 0)
    }

    @Test("well-formed oddities pass: a relative namespace URI (a libxml2 warning), one capture written with two prefixes")
    func oddities() throws {
        let reader = XMLRecordReader(
            records: try XMLPath("/i:Inv/i:Item", namespaces: ["i": "VehicleInventory"]), fields: [.init(path: try XMLPath("@id", namespaces: [:]))],
            captures: [try XMLPath("/i:Inv/i:Next", namespaces: ["i": "VehicleInventory"]), try XMLPath("/j:Inv/j:Next", namespaces: ["j": "VehicleInventory"])])
        let (records, result) = try read(reader, "<Inv xmlns=\"VehicleInventory\"><Next>page-2</Next><Item id=\"1\"/><Item id=\"2\"/></Inv>")
        #expect(records.map(\.fields) == [["1"], ["2"]])
        #expect(reader.captures.count == 1)
        #expect(result.captures[reader.captures[0]] == "page-2")
    }

    @Test("an external entity over HTTP is never fetched: nothing connects to the address it names")
    func noNetwork() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        #expect(listen(listener, 4) == 0)
        let port = UInt16(bigEndian: address.sin_port)
        let xml = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"http://127.0.0.1:\(port)/steal\">]><r>&x;</r>"
        #expect(error(inventory, xml)?.kind == .forbiddenDTD)
        var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        #expect(poll(&poller, 1, 300) == 0, "something connected to the entity's address")
    }

    @Test("a DOCTYPE split across the parser's chunks is still refused; '<!' inside the document is not a DTD")
    func chunkBoundaries() throws {
        // XMLParser reads 128 KiB at a time: put "<!DOCTYPE" at every place across that boundary.
        let prefix = "<?xml version=\"1.0\"?><!--"
        for start in (131_072 - 10)...(131_072 + 2) {
            let pad = start - prefix.utf8.count - 3
            let xml = prefix + String(repeating: "x", count: pad) + "-->" + "<!DOCTYPE r SYSTEM \"file:///etc/passwd\"><r/>"
            #expect(error(inventory, xml)?.kind == .forbiddenDTD, "<!DOCTYPE at byte \(start)")
        }
        let reader = XMLRecordReader(records: try XMLPath("/r/i", namespaces: [:]), fields: [.init(path: try XMLPath("v", namespaces: [:]))])
        let (records, _) = try read(reader, "<r><i><v><![CDATA[<!DOCTYPE is text here>]]></v></i></r>")
        #expect(records.map(\.fields) == [["<!DOCTYPE is text here>"]])
    }

    @Test("paths: prefixes must be bound; attributes end a path")
    func paths() {
        #expect(throws: XMLPath.ParseError.self) { try XMLPath("x:A/B", namespaces: Self.ns) }
        do { _ = try XMLPath("x:A", namespaces: Self.ns) } catch { #expect(error.description.contains("unknown namespace prefix 'x'") && error.description.contains("bound: s, star")) }
        #expect(throws: XMLPath.ParseError.self) { try XMLPath("@a/B", namespaces: [:]) }
        #expect(throws: XMLPath.ParseError.self) { try XMLPath("A//B", namespaces: [:]) }
        #expect(try! XMLPath("star:Price/@currencyID", namespaces: Self.ns).attribute == XMLName("", "currencyID"))
        #expect(try! XMLPath("Item", namespaces: ["": "urn:d"]).steps == [XMLName("urn:d", "Item")])
    }

    @Test("a large payload streams: 100,000 records from a file, in order, none lost")
    func streams() throws {
        let dir = try TemporaryDirectory("xml")
        let file = dir.file("big.xml")
        FileManager.default.createFile(atPath: file, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        out.write(Data("<s:Envelope xmlns:s=\"\(XMLRecordReader.soap11)\"><s:Body><Items>".utf8))
        var chunk = ""
        for i in 0..<100_000 {
            chunk += "<Item id=\"\(i)\"><Name>n\(i)</Name></Item>\n"
            if i % 5000 == 4999 {
                out.write(Data(chunk.utf8))
                chunk = ""
            }
        }
        out.write(Data("</Items></s:Body></s:Envelope>".utf8))
        try out.close()
        let reader = XMLRecordReader(
            records: try XMLPath("/s:Envelope/s:Body/Items/Item", namespaces: Self.ns),
            fields: [.init(path: try XMLPath("@id", namespaces: [:])), .init(path: try XMLPath("Name", namespaces: [:]))])
        var count = 0
        var inOrder = true
        let result = try reader.read(file: file) { r in
            if r.fields != [String(count), "n\(count)"] { inOrder = false }
            count += 1
        }
        #expect(count == 100_000 && result.records == 100_000 && inOrder)
        #expect(throws: XMLPayloadError.self) { try reader.read(file: file, maxBytes: 1_000_000) { _ in } }
    }
}
