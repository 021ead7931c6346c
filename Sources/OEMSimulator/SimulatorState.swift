import Foundation
import OEMSyncCore

/// What the simulator answers one request with, before it becomes bytes on the wire.
enum SimAnswer: Sendable {
    case response(status: Int, headers: [(String, String)], body: [UInt8])
    /// The same, after a delay.
    case delayed(seconds: Double, status: Int, headers: [(String, String)], body: [UInt8])
    /// Close the connection without a response.
    case reset
    /// Promise `body.count` bytes, send half, close.
    case truncated(status: Int, headers: [(String, String)], body: [UInt8])
}

/// The request as the endpoints see it.
struct SimIncoming: Sendable {
    var method: String
    var path: String
    var query: [String: String]
    var headers: [String: String]  // lowercased names
    var body: [UInt8]
    /// `http://127.0.0.1:PORT`, for absolute links.
    var origin: String
}

/// The OEM's state: data, issued tokens, fault counters, the request log. One actor, so that
/// concurrent connections see one consistent OEM.
actor SimulatorState {
    var data: SimulatorData
    var config: SimulatorConfig
    private(set) var log: [SimRequest] = []
    private(set) var tokensIssued = 0
    private var tokens: [String: Int] = [:]  // token -> data requests left (Int.max: unlimited)
    private var matched: [Int] = []  // per fault: matching requests seen
    private var dataRequests = 0
    private var updated = false
    private var bucket: (tokens: Double, at: Double)?
    private(set) var rateLimitViolations = 0
    /// WS-Security nonces seen (a second use is a replay), and the last inventory answer (for `resend`).
    var soapNonces: Set<String> = []
    var lastSOAPAnswer: SimAnswer?
    private let start = ContinuousClock.now

    init(data: SimulatorData, config: SimulatorConfig) {
        self.data = data
        self.config = config
        matched = Array(repeating: 0, count: config.faults.count)
    }

    func setFaults(_ faults: [Fault]) {
        config.faults = faults
        matched = Array(repeating: 0, count: faults.count)
    }

    func setConfig(_ update: @Sendable (inout SimulatorConfig) -> Void) {
        update(&config)
        if matched.count != config.faults.count { matched = Array(repeating: 0, count: config.faults.count) }
    }

    func replaceData(_ new: SimulatorData) { data = new }

    private var now: Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    func handle(_ request: SimIncoming) -> SimAnswer {
        let isToken = request.path == "/oauth/token"
        var faultName: String?
        var answer: SimAnswer
        if let (fault, index) = nextFault(for: request.path, isToken: isToken) {
            faultName = fault.description
            answer = inject(fault.kind, index: index, request: request, isToken: isToken)
        } else if let limited = rateLimited(isToken: isToken) {
            faultName = "rate-limited"
            answer = limited
        } else {
            answer = isToken ? token(request) : route(request)
        }
        let status: Int
        switch answer {
        case .response(let s, _, _), .delayed(_, let s, _, _), .truncated(let s, _, _): status = s
        case .reset: status = 0
        }
        log.append(SimRequest(at: now, method: request.method, path: request.path, query: request.query, status: status, fault: faultName))
        return answer
    }

    /// Every fault counts every request it applies to; the first one whose turn it is answers.
    private func nextFault(for path: String, isToken: Bool) -> (Fault, Int)? {
        var chosen: (Fault, Int)?
        for (i, fault) in config.faults.enumerated() {
            let applies = fault.path.isEmpty ? !isToken && path != "/healthz" : path.hasPrefix(fault.path)
            guard applies else { continue }
            matched[i] += 1
            let n = matched[i]
            if chosen == nil, n > fault.after, n <= fault.after + fault.count { chosen = (fault, i) }
        }
        return chosen
    }

    private func inject(_ kind: Fault.Kind, index: Int, request: SimIncoming, isToken: Bool) -> SimAnswer {
        switch kind {
        case .status(let status, let retryAfter):
            var headers = [("Content-Type", "application/json")]
            if let retryAfter { headers.append(("Retry-After", retryAfter)) }
            return .response(status: status, headers: headers, body: Array("{\"error\":\"simulated \(status)\"}".utf8))
        case .slow(let seconds):
            guard case .response(let s, let h, let b) = isToken ? token(request) : route(request) else { return .reset }
            return .delayed(seconds: seconds, status: s, headers: h, body: b)
        case .reset:
            return .reset
        case .truncated:
            guard case .response(let s, let h, let b) = isToken ? token(request) : route(request) else { return .reset }
            return .truncated(status: s, headers: h, body: b)
        case .invalidJSON:
            guard case .response(let s, let h, let b) = isToken ? token(request) : route(request) else { return .reset }
            return .response(status: s, headers: h, body: Array(b.prefix(max(1, b.count * 2 / 3))))
        case .bodyError(let code, let message):
            let body = "{\"code\":\(code),\"msg\":\(JSONText.quoted(message ?? "系统繁忙，请稍后重试 (simulated)")),\"data\":null}"
            return .response(status: 200, headers: [("Content-Type", "application/json;charset=UTF-8")], body: Array(body.utf8))
        case .unauthorized:
            return unauthorized("token expired")
        case .redirect(let to):
            return .response(status: 302, headers: [("Location", to)], body: [])
        case .maintenance:
            return Self.json("{\"message\":\"系统维护中，请稍后访问 (simulated)\",\"data\":null}")
        case .soapFault(let client):
            return Self.soapFault(
                client: client, code: client ? "Client" : "Server",
                reason: client ? "dealer D001 is not entitled to this operation (simulated)" : "the inventory backend is busy (simulated)",
                v12: Self.isSOAP12(request))
        case .applicationError(let code):
            return Self.confirmBOD(code: code, v12: Self.isSOAP12(request))
        case .wrongNamespace:
            guard case .response(let s, let h, let b) = route(request) else { return .reset }
            let text = String(decoding: b, as: UTF8.self).replacingOccurrences(of: Self.star, with: "http://www.starstandard.org/STAR/4")
            return .response(status: s, headers: h, body: Array(text.utf8))
        case .resend:
            // The answer before again, with its BODID: a provider that lost the client's receipt.
            return lastSOAPAnswer ?? route(request)
        case .cutXML:
            guard case .response(let s, let h, let b) = route(request) else { return .reset }
            return .response(status: s, headers: h, body: Array(b.prefix(max(1, b.count * 2 / 3))))
        case .doctype:
            guard case .response(let s, let h, let b) = route(request) else { return .reset }
            // An XXE attempt: the entity would pull a local file into the first VIN.
            var text = String(decoding: b, as: UTF8.self)
            text = text.replacingOccurrences(
                of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                with: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE S:Envelope [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n")
            if let r = text.range(of: "<VehicleID>") { text.replaceSubrange(r, with: "<VehicleID>&xxe;") }
            return .response(status: s, headers: h, body: Array(text.utf8))
        }
    }

    private func rateLimited(isToken: Bool) -> SimAnswer? {
        guard let limit = config.rateLimit, !isToken else { return nil }
        let t = now
        var b = bucket ?? (Double(limit.burst), t)
        b.tokens = min(Double(limit.burst), b.tokens + (t - b.at) * limit.perSecond)
        b.at = t
        if b.tokens >= 1 {
            b.tokens -= 1
            bucket = b
            return nil
        }
        bucket = b
        rateLimitViolations += 1
        return .response(status: 429, headers: [("Retry-After", "1"), ("Content-Type", "application/json")], body: Array("{\"error\":\"rate limit exceeded\"}".utf8))
    }

    // MARK: Auth

    private func unauthorized(_ why: String) -> SimAnswer {
        .response(
            status: 401, headers: [("WWW-Authenticate", "Bearer error=\"invalid_token\""), ("Content-Type", "application/json")],
            body: Array("{\"error\":\"invalid_token\",\"error_description\":\"\(why)\"}".utf8))
    }

    private func token(_ request: SimIncoming) -> SimAnswer {
        guard request.method == "POST" else { return .response(status: 405, headers: [], body: []) }
        let form = Self.form(request.body)
        var id = form["client_id"]
        var secret = form["client_secret"]
        if let basic = Self.basic(request.headers["authorization"]) { (id, secret) = (basic.0, basic.1) }
        guard form["grant_type"] == "client_credentials" else {
            return .response(status: 400, headers: [("Content-Type", "application/json")], body: Array("{\"error\":\"unsupported_grant_type\"}".utf8))
        }
        guard let id, let secret, config.clients[id] == secret else {
            return .response(status: 401, headers: [("Content-Type", "application/json")], body: Array("{\"error\":\"invalid_client\"}".utf8))
        }
        tokensIssued += 1
        let token = "sim-\(tokensIssued)-\(UInt32.random(in: .min ... .max))"
        tokens[token] = config.tokenUses ?? .max
        var body = "{\"access_token\":\"\(token)\",\"token_type\":\"Bearer\",\"expires_in\":\(config.tokenLifetime)"
        if let scope = form["scope"] { body += ",\"scope\":\(JSONWriter.quoted(scope))" }
        return .response(status: 200, headers: [("Content-Type", "application/json"), ("Cache-Control", "no-store")], body: Array((body + "}").utf8))
    }

    /// Nil when the request is allowed; otherwise the 401 to send.
    private func authorize(_ request: SimIncoming) -> SimAnswer? {
        if let key = request.headers["x-api-key"] ?? request.query["api_key"] {
            return config.apiKeys.contains(key) ? nil : unauthorized("unknown api key")
        }
        guard let auth = request.headers["authorization"] else { return unauthorized("missing credentials") }
        if let (user, password) = Self.basic(auth) { return config.basicUsers[user] == password ? nil : unauthorized("wrong user or password") }
        guard auth.hasPrefix("Bearer "), let left = tokens[String(auth.dropFirst(7))] else { return unauthorized("unknown token") }
        guard left > 0 else { return unauthorized("token expired") }
        if left != .max { tokens[String(auth.dropFirst(7))] = left - 1 }
        return nil
    }

    static func basic(_ header: String?) -> (String, String)? {
        guard let header, header.hasPrefix("Basic "), let data = Data(base64Encoded: String(header.dropFirst(6))),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    static func form(_ body: [UInt8]) -> [String: String] {
        var out: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
            if kv.count == 2 { out[kv[0]] = kv[1] }
        }
        return out
    }

    // MARK: Data endpoints

    private func route(_ request: SimIncoming) -> SimAnswer {
        if request.path == "/healthz" { return .response(status: 200, headers: [], body: Array("ok\n".utf8)) }
        if request.path == Self.soapPath { return soap(request) }
        guard request.method == "GET" else { return .response(status: 405, headers: [], body: []) }
        let parts = request.path.split(separator: "/").map(String.init)
        let endpoint: (SimIncoming) -> SimAnswer
        switch parts.count {
        case 5 where parts[0] == "api" && parts[1] == "v1" && parts[2] == "dealers" && parts[4] == "orders":
            let dealer = parts[3]
            endpoint = { self.ordersV1($0, dealer: dealer) }
        case 3 where parts == ["api", "v2", "orders"]: endpoint = ordersV2
        case 3 where parts == ["api", "v3", "orders"]: endpoint = ordersV3
        case 3 where parts == ["api", "v1", "vehicles"]: endpoint = vehicles
        default:
            return .response(status: 404, headers: [("Content-Type", "application/json")], body: Array("{\"error\":\"not found\"}".utf8))
        }
        if let denied = authorize(request) { return denied }
        dataRequests += 1
        defer {
            if let u = config.updateDuringPull, !updated, dataRequests >= u.afterRequests {
                updated = true
                data.touchOrders(u.orderNos, at: data.latestOrderChange + 60)
            }
        }
        return endpoint(request)
    }

    static func json(_ text: String, status: Int = 200, headers: [(String, String)] = []) -> SimAnswer {
        .response(status: status, headers: [("Content-Type", "application/json;charset=UTF-8")] + headers, body: Array(text.utf8))
    }

    /// Orders, page-number style with a Chinese-OEM envelope: `{"code":0,"msg":"success","data":{...}}`;
    /// `updatedSince` and `updateTime` are Asia/Shanghai local times without a zone; inclusive.
    private func ordersV1(_ r: SimIncoming, dealer: String) -> SimAnswer {
        let pageNo = Int(r.query["pageNo"] ?? "1") ?? 0
        let pageSize = min(config.maxPageSize, Int(r.query["pageSize"] ?? "20") ?? 0)
        guard pageNo >= 1, pageSize >= 1 else { return Self.json("{\"code\":40001,\"msg\":\"参数错误: pageNo/pageSize\",\"data\":null}") }
        var since: Int64 = .min
        if let s = r.query["updatedSince"] {
            guard let t = SimTime.parseShanghai(s) else { return Self.json("{\"code\":40001,\"msg\":\"参数错误: updatedSince\",\"data\":null}") }
            since = t
        }
        let all = data.orders.filter { $0.dealerCode == dealer && $0.updated >= since }
        let page = all.dropFirst((pageNo - 1) * pageSize).prefix(pageSize)
        var out = "{\"code\":0,\"msg\":\"success\",\"data\":{\"total\":\(all.count),\"pageNo\":\(pageNo),\"pageSize\":\(pageSize),\"list\":["
        out += page.map { JSONWriter.order($0, updatedKey: "updateTime", updated: SimTime.shanghai($0.updated)) }.joined(separator: ",")
        return Self.json(out + "]}}")
    }

    /// Orders, cursor style (keyset on the change order, so stable while data changes):
    /// `{"orders":[...],"next_cursor":"..."}`; `updated_after` is ISO 8601 and exclusive.
    private func ordersV2(_ r: SimIncoming) -> SimAnswer {
        let limit = min(config.maxPageSize, Int(r.query["limit"] ?? "50") ?? 0)
        guard limit >= 1 else { return Self.json("{\"error\":\"invalid limit\"}", status: 400) }
        var after: (Int64, String)?
        if let c = r.query["cursor"] {
            guard let data = Data(base64Encoded: c), let text = String(data: data, encoding: .utf8), let bar = text.firstIndex(of: "|"),
                let t = Int64(text[..<bar])
            else { return Self.json("{\"error\":\"invalid cursor\"}", status: 400) }
            after = (t, String(text[text.index(after: bar)...]))
        }
        var since: Int64 = .min
        if let s = r.query["updated_after"] {
            guard let t = SimTime.parseISO(s) else { return Self.json("{\"error\":\"invalid updated_after\"}", status: 400) }
            since = t
        }
        // The orders are sorted by (change time, id): the page starts after the cursor and the bound.
        var start = data.firstOrder { $0.updated > since }
        if let after { start = max(start, data.firstOrder { ($0.updated, $0.orderNo) > after }) }
        let rest = data.orders[start...]
        let page = rest.prefix(limit)
        var out = "{\"orders\":["
        out += page.map { JSONWriter.order($0, updatedKey: "updatedAt", updated: SimTime.iso($0.updated)) }.joined(separator: ",")
        out += "],\"next_cursor\":"
        if rest.count > limit, let last = page.last {
            out += "\"" + Data("\(last.updated)|\(last.orderNo)".utf8).base64EncodedString() + "\""
        } else {
            out += "null"
        }
        return Self.json(out + "}")
    }

    /// Orders, next-link style: a `Link: <...>; rel="next"` header and `links.next` in the body
    /// (relative); page numbers underneath; `updatedSince` is ISO 8601 with any offset, inclusive.
    private func ordersV3(_ r: SimIncoming) -> SimAnswer {
        let page = Int(r.query["page"] ?? "1") ?? 0
        let perPage = min(config.maxPageSize, Int(r.query["per_page"] ?? "25") ?? 0)
        guard page >= 1, perPage >= 1 else { return Self.json("{\"error\":\"invalid page\"}", status: 400) }
        var since: Int64 = .min
        if let s = r.query["updatedSince"] {
            guard let t = SimTime.parseISO(s) else { return Self.json("{\"error\":\"invalid updatedSince\"}", status: 400) }
            since = t
        }
        let all = data.orders[data.firstOrder { $0.updated >= since }...]
        let slice = all.dropFirst((page - 1) * perPage).prefix(perPage)
        var out = "{\"data\":["
        out += slice.map { JSONWriter.order($0, updatedKey: "updatedAt", updated: SimTime.isoShanghai($0.updated)) }.joined(separator: ",")
        out += "],\"links\":{\"next\":"
        var headers: [(String, String)] = []
        if page * perPage < all.count {
            var query = "page=\(page + 1)&per_page=\(perPage)"
            if let s = r.query["updatedSince"] { query += "&updatedSince=" + JSONWriter.percentEncoded(s) }
            let next = "/api/v3/orders?" + query
            out += JSONWriter.quoted(next)
            headers.append(("Link", "<\(r.origin)\(next)>; rel=\"next\""))
        } else {
            out += "null"
        }
        return Self.json(out + "}}", headers: headers)
    }

    /// Vehicles, offset/limit style: `{"total":N,"offset":O,"limit":L,"items":[...]}`;
    /// `modifiedSince` and `lastModified` are epoch milliseconds; inclusive.
    private func vehicles(_ r: SimIncoming) -> SimAnswer {
        let offset = Int(r.query["offset"] ?? "0") ?? -1
        let limit = min(config.maxPageSize, Int(r.query["limit"] ?? "50") ?? 0)
        guard offset >= 0, limit >= 1 else { return Self.json("{\"error\":\"invalid offset or limit\"}", status: 400) }
        let since = r.query["modifiedSince"].flatMap { Int64($0) } ?? .min
        let all = data.vehicles.filter { $0.lastModified >= since }
        let slice = all.dropFirst(offset).prefix(limit)
        var out = "{\"total\":\(all.count),\"offset\":\(offset),\"limit\":\(limit),\"items\":["
        out += slice.map(JSONWriter.vehicle).joined(separator: ",")
        return Self.json(out + "]}")
    }
}
