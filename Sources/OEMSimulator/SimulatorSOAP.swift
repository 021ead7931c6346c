import Foundation
import OEMSyncCore

/// The OEM's STAR web service: `GetVehicleInventory` answered with a `ShowVehicleInventory` BOD in
/// a SOAP 1.1 or 1.2 envelope (the request's version), with WS-Security UsernameToken checked
/// (PasswordText or PasswordDigest; a nonce used twice is refused), and the WSDL at `?wsdl`.
///
/// The request body names a `Continuation` (from the last answer's `p:Paging` header), or a
/// `PageNumber`, with a `PageSize`, and optionally `ModifiedSince` (ISO 8601, inclusive). Each
/// answer's BODID is derived from its content: the same records at the same place give the same
/// id, as a provider's message store resends a message.
extension SimulatorState {
    static let soapPath = "/soap/star/inventory"
    static let soap11 = "http://schemas.xmlsoap.org/soap/envelope/"
    static let soap12 = "http://www.w3.org/2003/05/soap-envelope"
    static let star = "http://www.starstandard.org/STAR/5"
    static let paging = "urn:acme:paging"

    /// SOAP 1.2 when the request says so in its content type.
    static func isSOAP12(_ r: SimIncoming) -> Bool { (r.headers["content-type"] ?? "").contains("application/soap+xml") }

    func soap(_ r: SimIncoming) -> SimAnswer {
        if r.method == "GET", r.query["wsdl"] != nil || r.query.keys.contains("WSDL") {
            return .response(status: 200, headers: [("Content-Type", "text/xml; charset=utf-8")], body: Array(Self.wsdl(r.origin + Self.soapPath).utf8))
        }
        guard r.method == "POST" else { return .response(status: 405, headers: [], body: []) }
        let v12 = Self.isSOAP12(r)
        let text = String(decoding: r.body, as: UTF8.self)
        if let denied = soapAuthorize(text) { return Self.soapFault(client: true, code: "wsse:FailedAuthentication", reason: denied, v12: v12) }
        let size = min(config.maxPageSize, Int(Self.element("PageSize", in: text) ?? "50") ?? 0)
        guard size >= 1 else { return Self.soapFault(client: true, code: "STAR:Invalid Structure", reason: "PageSize must be a positive number", v12: v12) }
        var offset = 0
        if let c = Self.element("Continuation", in: text), !c.isEmpty {
            guard c.hasPrefix("c-"), let o = Int(c.dropFirst(2)), o >= 0 else {
                return Self.soapFault(client: true, code: "STAR:Invalid Structure", reason: "unknown continuation '\(c)'", v12: v12)
            }
            offset = o
        } else if let p = Self.element("PageNumber", in: text), !p.isEmpty {
            guard let n = Int(p), n >= 1 else { return Self.soapFault(client: true, code: "STAR:Invalid Structure", reason: "PageNumber must be 1 or more", v12: v12) }
            offset = (n - 1) * size
        }
        let since = Self.element("ModifiedSince", in: text).flatMap { $0.isEmpty ? nil : SimTime.parseISO($0) }.map { $0 * 1000 } ?? .min
        let all = data.vehicles.filter { $0.lastModified >= since }
        let slice = Array(all.dropFirst(offset).prefix(size))
        let next = offset + slice.count < all.count ? "c-\(offset + slice.count)" : ""
        let body = Array(Self.inventory(slice, offset: offset, next: next, total: all.count, v12: v12).utf8)
        let answer = SimAnswer.response(status: 200, headers: [("Content-Type", v12 ? "application/soap+xml; charset=utf-8" : "text/xml; charset=utf-8")], body: body)
        lastSOAPAnswer = answer
        return answer
    }

    /// Why the request's UsernameToken is refused, nil when it is good.
    private func soapAuthorize(_ text: String) -> String? {
        guard let user = Self.element("Username", in: text), let password = Self.element("Password", in: text) else {
            return "the request has no WS-Security UsernameToken"
        }
        guard let expected = config.soapUsers[user] else { return "unknown user" }
        if text.contains("#PasswordDigest") {
            guard let nonce = Self.element("Nonce", in: text), let created = Self.element("Created", in: text),
                let nonceBytes = Data(base64Encoded: nonce)
            else { return "a PasswordDigest needs a Nonce and a Created time" }
            let digest = Data(SHA1.hash([UInt8](nonceBytes) + Array(created.utf8) + Array(expected.utf8))).base64EncodedString()
            guard digest == password else { return "wrong password digest" }
            guard !soapNonces.contains(nonce) else { return "the nonce was used before (a replayed request)" }
            soapNonces.insert(nonce)
        } else {
            guard password == expected else { return "wrong password" }
        }
        return nil
    }

    /// The text of the first element with this local name, whatever its prefix (the simulator's
    /// requests are its own client's: a pattern is enough, and no XML parser sees a DTD here).
    static func element(_ local: String, in text: String) -> String? {
        let pattern = "<(?:[A-Za-z0-9_.-]+:)?\(local)(?:\\s[^>]*)?(?:/>|>([^<]*)</)"
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text))
        else { return nil }
        guard let range = Range(match.range(at: 1), in: text) else { return "" }
        return text[range].trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// A GUID-shaped id from the answer's content (FNV-1a, twice).
    static func bodID(_ slice: [SimVehicle], offset: Int) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in "\(offset)".utf8 + slice.flatMap({ Array("\($0.vin)\($0.lastModified)".utf8) }) {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 &+ 1
        }
        let hex = String(format: "%016llx%016llx", a, b)
        let c = Array(hex)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }

    static func envelope(_ body: String, header: String = "", v12: Bool) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<S:Envelope xmlns:S=\"\(v12 ? soap12 : soap11)\"><S:Header>\(header)</S:Header><S:Body>\(body)</S:Body></S:Envelope>\n"
    }

    static func inventory(_ slice: [SimVehicle], offset: Int, next: String, total: Int, v12: Bool, namespace: String = star, bodID: String? = nil) -> String {
        var out = "<ShowVehicleInventory releaseID=\"5.11.4\" xmlns=\"\(namespace)\"><ApplicationArea><Sender><CreatorNameCode>ACME</CreatorNameCode>"
        out += "<DealerNumberID>D001</DealerNumberID></Sender><CreationDateTime>2025-12-02T10:15:00+08:00</CreationDateTime>"
        out += "<BODID>\(bodID ?? Self.bodID(slice, offset: offset))</BODID></ApplicationArea>"
        out += "<ShowVehicleInventoryDataArea><Show/><VehicleInventory><VehicleInventoryInvoice>\n"
        for (i, v) in slice.enumerated() {
            out += "<VehicleInventoryVehicleLineItem lineNumber=\"\(offset + i + 1)\"><Vehicle><Model>\(escape(v.modelCode))</Model>"
            out += "<ModelYear>\(v.modelYear)</ModelYear><ColorGroup><ManufacturerColorCode>\(escape(v.exteriorColor))</ManufacturerColorCode></ColorGroup>"
            out += "<VehicleID>\(escape(v.vin))</VehicleID></Vehicle><VehicleStockString>\(escape(v.certificateNo))</VehicleStockString>"
            out += "<Option><OptionID>\(escape(v.interiorColor))</OptionID></Option><Option><OptionID>\(escape(v.engineNo))</OptionID></Option>"
            out += "</VehicleInventoryVehicleLineItem>\n"
        }
        out += "</VehicleInventoryInvoice></VehicleInventory></ShowVehicleInventoryDataArea></ShowVehicleInventory>"
        let header = "<p:Paging xmlns:p=\"\(paging)\"><p:Continuation>\(next)</p:Continuation><p:Total>\(total)</p:Total></p:Paging>"
        return envelope(out, header: header, v12: v12)
    }

    /// A SOAP Fault, with the status each version gives it (1.1: 500 for both; 1.2: 400 for Sender).
    static func soapFault(client: Bool, code: String, reason: String, v12: Bool) -> SimAnswer {
        let body: String
        if v12 {
            body = "<S:Fault><S:Code><S:Value>S:\(client ? "Sender" : "Receiver")</S:Value><S:Subcode><S:Value>\(escape(code))</S:Value></S:Subcode></S:Code>"
                + "<S:Reason><S:Text xml:lang=\"en\">\(escape(reason))</S:Text></S:Reason></S:Fault>"
        } else {
            let faultcode = code.hasPrefix("STAR:") || code.hasPrefix("wsse:") ? code : "S:\(client ? "Client" : "Server")"
            body = "<S:Fault><faultcode>\(escape(faultcode))</faultcode><faultstring>\(escape(reason))</faultstring></S:Fault>"
        }
        return .response(
            status: v12 && client ? 400 : 500, headers: [("Content-Type", v12 ? "application/soap+xml; charset=utf-8" : "text/xml; charset=utf-8")],
            body: Array(envelope(body, v12: v12).utf8))
    }

    /// A STAR ConfirmBOD carrying an application error (not a Fault: STAR sends those in the document).
    static func confirmBOD(code: String, v12: Bool) -> SimAnswer {
        let body = "<ConfirmBOD releaseID=\"5.11.4\" xmlns=\"\(star)\"><ApplicationArea><BODID>confirm-\(code)</BODID></ApplicationArea>"
            + "<ConfirmBODDataArea><Confirm/><BOD><BODFailureMessage><ErrorProcessMessage><Description>库存服务暂不可用 (simulated)</Description>"
            + "<ReasonCode>\(escape(code))</ReasonCode></ErrorProcessMessage></BODFailureMessage></BOD></ConfirmBODDataArea></ConfirmBOD>"
        return .response(status: 200, headers: [("Content-Type", v12 ? "application/soap+xml; charset=utf-8" : "text/xml; charset=utf-8")], body: Array(envelope(body, v12: v12).utf8))
    }

    static func wsdl(_ address: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <definitions name="VehicleInventory" targetNamespace="urn:acme:star:inventory" xmlns="http://schemas.xmlsoap.org/wsdl/"
            xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/"
            xmlns:tns="urn:acme:star:inventory" xmlns:star="\(star)">
          <message name="GetVehicleInventory"><part name="body" element="star:GetVehicleInventory"/></message>
          <message name="ShowVehicleInventory"><part name="body" element="star:ShowVehicleInventory"/></message>
          <portType name="InventoryPortType">
            <operation name="GetVehicleInventory"><input message="tns:GetVehicleInventory"/><output message="tns:ShowVehicleInventory"/></operation>
          </portType>
          <binding name="InventorySoap11" type="tns:InventoryPortType">
            <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
            <operation name="GetVehicleInventory"><soap:operation soapAction="urn:acme:star:GetVehicleInventory"/>
              <input><soap:body use="literal"/></input><output><soap:body use="literal"/></output></operation>
          </binding>
          <binding name="InventorySoap12" type="tns:InventoryPortType">
            <soap12:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
            <operation name="GetVehicleInventory"><soap12:operation soapAction="urn:acme:star:GetVehicleInventory"/>
              <input><soap12:body use="literal"/></input><output><soap12:body use="literal"/></output></operation>
          </binding>
          <service name="VehicleInventoryService">
            <port name="InventorySoap11" binding="tns:InventorySoap11"><soap:address location="\(address)"/></port>
            <port name="InventorySoap12" binding="tns:InventorySoap12"><soap12:address location="\(address)"/></port>
          </service>
        </definitions>

        """
    }
}
