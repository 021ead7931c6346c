import Foundation
import OEMSyncCore
import Testing

@testable import OEMSyncFeeds

/// SOAP requests as a feed sends them: envelopes of both versions, body templates, WS-Security.
@Suite("SOAP requests")
struct SOAPRequestTests {
    static let created = Timestamp(seconds: 1_796_112_000)  // 2026-12-01T08:00:00Z
    static let nonce = Array(UInt8(0)..<16)

    @Test("SHA-1 matches the FIPS 180 vectors")
    func sha1() {
        func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
        #expect(hex(SHA1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(SHA1.hash([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(hex(SHA1.hash(Array(repeating: UInt8(ascii: "a"), count: 1_000_000))) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    @Test("PasswordDigest is Base64(SHA-1(nonce + created + password)), as Python's hashlib computes it")
    func digest() {
        #expect(UsernameToken.passwordDigest(nonce: Self.nonce, created: "2026-12-01T08:00:00Z", password: "s3cret&<pw>") == "Va1siD0MPyysU9uE3x0qjdxD/tY=")
    }

    @Test("an envelope reads back through the XML reader: version, header, the body's escaped values")
    func envelope() throws {
        let template = try SOAPTemplate("<GetVehicleInventory><Since>{{since}}</Since><Page>{{page}}</Page></GetVehicleInventory>", allowed: ["since", "page"])
        for (version, digest) in [(SOAPRequestBuilder.Version.v11, true), (.v12, false)] {
            let builder = SOAPRequestBuilder(
                version: version, action: "urn:GetVehicleInventory", body: template, security: UsernameToken(username: "d001<x>", password: "s3cret&<pw>", digest: digest))
            let xml = builder.envelope(["since": "2025-12-01 00:00:00 & later", "page": "2"], nonce: Self.nonce, created: Self.created)
            let ns = ["s": version.namespace, "wsse": UsernameToken.wsse, "wsu": UsernameToken.wsu]
            let base = "/s:Envelope/s:Header/wsse:Security/wsse:UsernameToken/"
            let captures = try ["wsse:Username", "wsse:Password", "wsse:Nonce", "wsu:Created", "wsse:Password/@Type"].map { try XMLPath(base + $0, namespaces: ns) }
            let reader = XMLRecordReader(records: try XMLPath("/s:Envelope/s:Body/GetVehicleInventory", namespaces: ns), fields: [
                .init(path: try XMLPath("Since", namespaces: [:])), .init(path: try XMLPath("Page", namespaces: [:])),
            ], captures: captures)
            var records: [RawRecord] = []
            let result = try reader.read(Array(xml.utf8)) { records.append($0) }
            #expect(records.map(\.fields) == [["2025-12-01 00:00:00 & later", "2"]])
            #expect(result.captures[captures[0]] == "d001<x>")
            #expect(result.captures[captures[1]] == (digest ? "Va1siD0MPyysU9uE3x0qjdxD/tY=" : "s3cret&<pw>"))
            #expect(result.captures[captures[2]] == "AAECAwQFBgcICQoLDA0ODw==")
            #expect(result.captures[captures[3]] == "2026-12-01T08:00:00Z")
            #expect(result.captures[captures[4]]?.hasSuffix(digest ? "#PasswordDigest" : "#PasswordText") == true)
        }
    }

    @Test("the action travels as SOAP 1.1's SOAPAction header, or in SOAP 1.2's content type")
    func headers() throws {
        let body = try SOAPTemplate("<Ping/>", allowed: [])
        let v11 = SOAPRequestBuilder(version: .v11, action: "urn:Ping", body: body).headers
        #expect(v11.map(\.name) == ["Content-Type", "SOAPAction"] && v11[0].value.hasPrefix("text/xml") && v11[1].value == "\"urn:Ping\"")
        let v12 = SOAPRequestBuilder(version: .v12, action: "urn:Ping", body: body).headers
        #expect(v12.count == 1 && v12[0].value == "application/soap+xml; charset=utf-8; action=\"urn:Ping\"")
        #expect(!SOAPRequestBuilder(version: .v11, action: "urn:Ping", body: body).envelope([:], nonce: [], created: Self.created).contains("Header"))
    }

    @Test("templates: unknown placeholders and unclosed braces are errors that list what is available")
    func templates() throws {
        #expect(throws: SOAPTemplate.ParseError.self) { try SOAPTemplate("<a>{{sinse}}</a>", allowed: ["since", "page"]) }
        do { _ = try SOAPTemplate("<a>{{sinse}}</a>", allowed: ["since", "page"]) } catch {
            #expect(error.description == "unknown placeholder {{sinse}} in the SOAP body template (available: page, since)")
        }
        #expect(throws: SOAPTemplate.ParseError.self) { try SOAPTemplate("<a>{{since</a>", allowed: ["since"]) }
        let t = try SOAPTemplate("<a>{{ since }}{{since}}</a>", allowed: ["since"])
        #expect(t.placeholders == ["since"] && t.render(["since": "<x>"]) == "<a>&lt;x&gt;&lt;x&gt;</a>")
        // By scalar: an ampersand with a combining mark is escaped; a carriage return kept; other controls dropped.
        #expect(XMLEscape.text("a&\u{301}b\r\n\u{1}c") == "a&amp;\u{301}b&#13;\nc")
    }
}
