import Foundation
import OEMSyncCore

/// A SOAP request as the feed config describes it: the version, the operation's SOAPAction, the
/// body from a template filled with the checkpoint's values, and a WS-Security header.
public struct SOAPRequestBuilder: Sendable {
    public enum Version: String, Sendable, Hashable {
        case v11 = "1.1"
        case v12 = "1.2"

        public var namespace: String { self == .v11 ? XMLRecordReader.soap11 : XMLRecordReader.soap12 }
    }

    public var version: Version
    /// The operation's action URI (SOAP 1.1 `SOAPAction` header; SOAP 1.2 `action` parameter).
    public var action: String
    public var body: SOAPTemplate
    public var security: UsernameToken?

    public init(version: Version, action: String, body: SOAPTemplate, security: UsernameToken? = nil) {
        self.version = version
        self.action = action
        self.body = body
        self.security = security
    }

    /// The envelope's text, with `values` in the body's placeholders and, with a UsernameToken, a
    /// fresh nonce and creation time.
    public func envelope(_ values: [String: String], nonce: [UInt8], created: Timestamp) -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap:Envelope xmlns:soap=\"\(version.namespace)\">"
        if let security { out += "<soap:Header>" + security.header(nonce: nonce, created: created) + "</soap:Header>" }
        out += "<soap:Body>" + body.render(values) + "</soap:Body></soap:Envelope>"
        return out
    }

    /// The HTTP header fields of the request: SOAP 1.1 names the action in `SOAPAction`, SOAP 1.2 in
    /// the content type.
    public var headers: [(name: String, value: String)] {
        switch version {
        case .v11: return [("Content-Type", "text/xml; charset=utf-8"), ("SOAPAction", "\"\(action)\"")]
        case .v12: return [("Content-Type", "application/soap+xml; charset=utf-8; action=\"\(action)\"")]
        }
    }
}

/// A request body with `{{name}}` placeholders (`{{since}}`, `{{page}}`, `{{continuation}}`),
/// checked when the config is read; values are XML-escaped when they are put in.
public struct SOAPTemplate: Sendable, Hashable {
    enum Part: Sendable, Hashable {
        case text(String)
        case value(String)
    }

    let parts: [Part]
    public let placeholders: [String]

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public init(_ text: String, allowed: Set<String>) throws(ParseError) {
        var parts: [Part] = []
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            parts.append(.text(String(rest[..<open.lowerBound])))
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw ParseError(description: "an unclosed {{ in the SOAP body template")
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard allowed.contains(name) else {
                throw ParseError(description: "unknown placeholder {{\(name)}} in the SOAP body template (available: \(allowed.sorted().joined(separator: ", ")))")
            }
            parts.append(.value(name))
            if !names.contains(name) { names.append(name) }
            rest = rest[close.upperBound...]
        }
        parts.append(.text(String(rest)))
        self.parts = parts
        placeholders = names
    }

    /// The body with each placeholder's value, escaped; a value not given is empty.
    public func render(_ values: [String: String]) -> String {
        parts.map { part in
            switch part {
            case .text(let t): return t
            case .value(let name): return XMLEscape.text(values[name] ?? "")
            }
        }.joined()
    }
}

/// WS-Security UsernameToken (OASIS UsernameToken Profile 1.1): the password as text, or as
/// `PasswordDigest` = Base64(SHA-1(nonce + created + password)), with the nonce and creation time
/// that keep a captured header from being replayed.
public struct UsernameToken: Sendable, Hashable {
    public var username: String
    public var password: String
    public var digest: Bool

    public init(username: String, password: String, digest: Bool) {
        self.username = username
        self.password = password
        self.digest = digest
    }

    static let wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
    static let wsu = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
    static let profile = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    static let base64Binary = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"

    /// `Base64(SHA-1(nonce + created + password))`.
    public static func passwordDigest(nonce: [UInt8], created: String, password: String) -> String {
        Data(SHA1.hash(nonce + Array(created.utf8) + Array(password.utf8))).base64EncodedString()
    }

    /// The `wsse:Security` header element.
    public func header(nonce: [UInt8], created: Timestamp) -> String {
        let createdText = Self.iso(created)
        let passwordElement =
            digest
            ? "<wsse:Password Type=\"\(Self.profile)#PasswordDigest\">\(Self.passwordDigest(nonce: nonce, created: createdText, password: password))</wsse:Password>"
            : "<wsse:Password Type=\"\(Self.profile)#PasswordText\">\(XMLEscape.text(password))</wsse:Password>"
        return "<wsse:Security xmlns:wsse=\"\(Self.wsse)\" xmlns:wsu=\"\(Self.wsu)\" soap:mustUnderstand=\"1\">"
            + "<wsu:Timestamp><wsu:Created>\(createdText)</wsu:Created></wsu:Timestamp>"
            + "<wsse:UsernameToken><wsse:Username>\(XMLEscape.text(username))</wsse:Username>\(passwordElement)"
            + "<wsse:Nonce EncodingType=\"\(Self.base64Binary)\">\(Data(nonce).base64EncodedString())</wsse:Nonce>"
            + "<wsu:Created>\(createdText)</wsu:Created></wsse:UsernameToken></wsse:Security>"
    }

    /// `2026-12-01T08:00:00Z`: whole seconds, UTC.
    static func iso(_ t: Timestamp) -> String {
        Timestamp(seconds: t.microseconds >= 0 ? t.microseconds / 1_000_000 : (t.microseconds - 999_999) / 1_000_000).description
    }
}

/// Escaping for XML text and attribute values, by Unicode scalar (an `&` with a combining mark is
/// still an `&`). Carriage returns are kept as `&#13;` (a parser would turn a raw one into a line
/// feed); other C0 controls cannot be written in XML 1.0 and are dropped.
enum XMLEscape {
    static func text(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\r": out += "&#13;"
            case "\n", "\t": out.unicodeScalars.append(u)
            case _ where u.value < 0x20: continue
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
