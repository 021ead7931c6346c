/// A fault the simulated OEM injects: on the requests whose path starts with `path`, it serves
/// `after` of them normally, then answers the next `count` with `kind`.
///
/// Written on the command line as `KIND[:ARG][xCOUNT][+AFTER][@PATH]`:
/// `503x3` (three 503s), `429:2` (one 429 with `Retry-After: 2`), `slow:5x2@/api/v1`,
/// `reset+4` (the fifth request: the connection is closed without an answer), `truncated`,
/// `invalid-json`, `body-error:50001`, `unauthorized`, `redirect:URL`, `maintenance`; for the SOAP
/// service `soap-fault:client`, `soap-fault:server`, `app-error:CODE`, `wrong-namespace`, `resend`, `cut-xml`, `doctype`.
public struct Fault: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// An HTTP error status, with `Retry-After` when given (seconds or an HTTP date).
        case status(Int, retryAfter: String? = nil)
        /// The normal answer, after this many seconds (past a client's timeout).
        case slow(seconds: Double)
        /// The connection is closed without any answer.
        case reset
        /// The headers promise the whole body; half of it is sent, then the connection closes.
        case truncated
        /// HTTP 200 with a body that is not valid JSON (cut in the middle of a record).
        case invalidJSON
        /// HTTP 200 with `{"code": CODE, "msg": MESSAGE, "data": null}`: an error in the body (the
        /// default message says the system is busy; tests give one that quotes a customer).
        case bodyError(code: Int, message: String? = nil)
        /// HTTP 401: the token is no longer accepted (revoked, or expired early).
        case unauthorized
        /// HTTP 302 to another URL (a maintenance page, a moved API): a client must not follow it
        /// with its credentials.
        case redirect(to: String)
        /// HTTP 200 with a JSON body without the API's error code (`{"message": ..., "data": null}`):
        /// a gateway's maintenance notice, which must not pass for an empty result.
        case maintenance
        /// A SOAP Fault: the client's (`soap:Client`, `env:Sender`: not worth retrying) or the server's.
        case soapFault(client: Bool)
        /// A STAR ConfirmBOD with a BODFailureMessage carrying this reason code (an application error).
        case applicationError(code: String)
        /// The business document in another namespace (STAR 4 instead of 5).
        case wrongNamespace
        /// The previous SOAP answer again, same BODID.
        case resend
        /// A complete HTTP answer whose XML stops two thirds of the way in.
        case cutXML
        /// An answer with a DOCTYPE declaring an external entity (XXE) that the envelope uses.
        case doctype
    }

    public var kind: Kind
    public var count: Int
    public var after: Int
    /// A prefix of the request path; empty for every data endpoint (not the token endpoint).
    public var path: String

    public init(_ kind: Kind, count: Int = 1, after: Int = 0, path: String = "") {
        self.kind = kind
        self.count = count
        self.after = after
        self.path = path
    }

    public var description: String {
        let name: String
        switch kind {
        case .status(let s, let r): name = r.map { "\(s):\($0)" } ?? "\(s)"
        case .slow(let s): name = "slow:\(s)"
        case .reset: name = "reset"
        case .truncated: name = "truncated"
        case .invalidJSON: name = "invalid-json"
        case .bodyError(let c, _): name = "body-error:\(c)"
        case .unauthorized: name = "unauthorized"
        case .redirect(let to): name = "redirect:\(to)"
        case .maintenance: name = "maintenance"
        case .soapFault(let client): name = "soap-fault:\(client ? "client" : "server")"
        case .applicationError(let code): name = "app-error:\(code)"
        case .wrongNamespace: name = "wrong-namespace"
        case .resend: name = "resend"
        case .cutXML: name = "cut-xml"
        case .doctype: name = "doctype"
        }
        return name + (count != 1 ? "x\(count)" : "") + (after > 0 ? "+\(after)" : "") + (path.isEmpty ? "" : "@\(path)")
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses the command-line form (see the type's documentation).
    public init(parsing text: String) throws(ParseError) {
        var rest = Substring(text)
        var path = ""
        if let at = rest.firstIndex(of: "@") {
            path = String(rest[rest.index(after: at)...])
            rest = rest[..<at]
        }
        var after = 0
        if let plus = rest.firstIndex(of: "+") {
            guard let n = Int(rest[rest.index(after: plus)...]), n >= 0 else { throw ParseError(description: "invalid fault '\(text)': +AFTER is a number") }
            after = n
            rest = rest[..<plus]
        }
        var count = 1
        if let x = rest.lastIndex(of: "x"), let n = Int(rest[rest.index(after: x)...]) {
            guard n > 0 else { throw ParseError(description: "invalid fault '\(text)': xCOUNT must be positive") }
            count = n
            rest = rest[..<x]
        }
        let parts = rest.split(separator: ":", maxSplits: 1).map(String.init)
        let name = parts.first ?? ""
        let arg = parts.count > 1 ? parts[1] : nil
        let kind: Kind
        switch name {
        case "reset": kind = .reset
        case "truncated": kind = .truncated
        case "invalid-json": kind = .invalidJSON
        case "unauthorized": kind = .unauthorized
        case "maintenance": kind = .maintenance
        case "wrong-namespace": kind = .wrongNamespace
        case "resend": kind = .resend
        case "cut-xml": kind = .cutXML
        case "doctype": kind = .doctype
        case "soap-fault":
            guard let who = arg, who == "client" || who == "server" else { throw ParseError(description: "invalid fault '\(text)': soap-fault:client or soap-fault:server") }
            kind = .soapFault(client: who == "client")
        case "app-error":
            guard let code = arg, !code.isEmpty else { throw ParseError(description: "invalid fault '\(text)': app-error:CODE") }
            kind = .applicationError(code: code)
        case "redirect":
            guard let to = arg, !to.isEmpty else { throw ParseError(description: "invalid fault '\(text)': redirect:URL") }
            kind = .redirect(to: to)
        case "slow":
            guard let s = arg.flatMap(Double.init), s > 0 else { throw ParseError(description: "invalid fault '\(text)': slow:SECONDS") }
            kind = .slow(seconds: s)
        case "body-error":
            guard let c = arg.flatMap(Int.init) else { throw ParseError(description: "invalid fault '\(text)': body-error:CODE") }
            kind = .bodyError(code: c)
        default:
            guard let status = Int(name), (400...599).contains(status) else {
                throw ParseError(
                    description: "invalid fault '\(text)': expected an HTTP status (500, 503, 429...), slow, reset, truncated, invalid-json, body-error, unauthorized or redirect")
            }
            kind = .status(status, retryAfter: arg)
        }
        self.init(kind, count: count, after: after, path: path)
    }
}
