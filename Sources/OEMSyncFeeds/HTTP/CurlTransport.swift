import CCurl
import OEMSyncCore
import Foundation

/// HTTP through libcurl, one easy handle per transport so connections are kept alive between the
/// pages of a feed.
///
/// libcurl directly rather than FoundationNetworking's URLSession, which on Linux cannot trust a
/// private CA or present a client certificate (../shared/reference/platform.md): here a feed can
/// name a CA bundle and a client certificate, and TLS is always verified. Redirects are never
/// followed (they could carry credentials to another host), bodies are decompressed (gzip, br,
/// zstd) and written once into one buffer sized from `Content-Length`, and a body larger than
/// `maxResponseBytes` stops the transfer.
///
/// One request at a time: callers on several threads are serialised.
public final class CurlTransport: HTTPTransport, @unchecked Sendable {
    public let settings: TransportSettings
    private let handle: UnsafeMutableRawPointer
    private let lock = NSLock()

    private static let globalInit: Bool = {
        // CURL_GLOBAL_ALL (SSL | WIN32) is a macro Swift does not import.
        curl_global_init(3) == CURLE_OK
    }()

    public init(settings: TransportSettings = TransportSettings()) throws(TransportError) {
        guard Self.globalInit, let h = curl_easy_init() else {
            throw TransportError(.other, "libcurl could not be initialised")
        }
        self.settings = settings
        self.handle = h
    }

    deinit { curl_easy_cleanup(handle) }

    public func send(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse {
        lock.lock()
        defer { lock.unlock() }
        // Reset keeps the live connections, the TLS session cache and the DNS cache.
        curl_easy_reset(handle)
        let sink: ResponseSink
        do {
            sink = try ResponseSink(limit: settings.maxResponseBytes, file: request.responseFile)
        } catch {
            throw TransportError(.other, "cannot write the response to '\(request.responseFile ?? "")': \(error)")
        }
        defer { sink.close() }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        let context = Unmanaged.passUnretained(sink).toOpaque()
        var code = configure(request, sink: sink, context: context, headerList: &headerList)
        if code == CURLE_OK {
            code = curl_easy_perform(handle)
        }
        if code != CURLE_OK {
            throw Self.error(code, sink: sink, limit: settings.maxResponseBytes)
        }
        var status = 0
        _ = oemsync_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var seconds = 0.0
        _ = oemsync_curl_getinfo_double(handle, CURLINFO_TOTAL_TIME, &seconds)
        sink.close()
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body, seconds: seconds, bodyFile: request.responseFile, bodySize: sink.size)
    }

    private func configure(
        _ request: HTTPRequest, sink: ResponseSink, context: UnsafeMutableRawPointer,
        headerList: inout UnsafeMutablePointer<curl_slist>?
    ) -> CURLcode {
        var codes: [CURLcode] = []
        func long(_ option: CURLoption, _ value: Int) { codes.append(oemsync_curl_setopt_long(handle, option, value)) }
        func string(_ option: CURLoption, _ value: String) { codes.append(oemsync_curl_setopt_string(handle, option, value)) }
        string(CURLOPT_URL, request.url)
        long(CURLOPT_NOSIGNAL, 1)
        string(CURLOPT_PROTOCOLS_STR, "http,https")
        long(CURLOPT_FOLLOWLOCATION, 0)
        long(CURLOPT_SSL_VERIFYPEER, 1)
        long(CURLOPT_SSL_VERIFYHOST, 2)
        long(CURLOPT_TIMEOUT_MS, Self.milliseconds(settings.timeout))
        long(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(settings.connectTimeout))
        string(CURLOPT_ACCEPT_ENCODING, "")  // every encoding this libcurl decodes
        string(CURLOPT_USERAGENT, "oemsync/\(OEMSyncVersion.current)")
        codes.append(oemsync_curl_setopt_offset(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(settings.maxResponseBytes)))
        let tls = settings.tls
        if let ca = tls.caFile { string(CURLOPT_CAINFO, ca) }
        if let cert = tls.clientCertificate { string(CURLOPT_SSLCERT, cert) }
        if let key = tls.clientKey { string(CURLOPT_SSLKEY, key) }
        if let password = tls.clientKeyPassword { string(CURLOPT_KEYPASSWD, password) }
        codes.append(oemsync_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, sink.errorBuffer))

        switch request.method {
        case "GET": long(CURLOPT_HTTPGET, 1)
        case "POST": long(CURLOPT_POST, 1)
        case "HEAD": long(CURLOPT_NOBODY, 1)
        default: string(CURLOPT_CUSTOMREQUEST, request.method)
        }
        if let body = request.body {
            long(CURLOPT_POSTFIELDSIZE, body.count)
            // COPYPOSTFIELDS: libcurl keeps its own copy, so the body need not outlive this call.
            let empty: StaticString = ""
            body.withUnsafeBytes { b in
                let start = b.baseAddress ?? UnsafeRawPointer(empty.utf8Start)
                codes.append(oemsync_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: start)))
            }
        }
        // An empty Expect: stops libcurl waiting for `100 Continue` before a POST body.
        var fields = request.headers.map { "\($0.name): \($0.value)" }
        if request.body != nil { fields.append("Expect:") }
        for field in fields { headerList = curl_slist_append(headerList, field) }
        if let headerList { codes.append(oemsync_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)) }

        codes.append(oemsync_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, { data, size, count, context in
            let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
            return sink.append(data, size * count)
        }))
        codes.append(oemsync_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        codes.append(oemsync_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, { data, size, count, context in
            let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
            sink.header(data, size * count)
            return size * count
        }))
        codes.append(oemsync_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context))
        return codes.first { $0 != CURLE_OK } ?? CURLE_OK
    }

    static func milliseconds(_ d: Duration) -> Int {
        let (s, attos) = d.components
        return max(1, Int(s) * 1000 + Int(attos / 1_000_000_000_000_000))
    }

    static func error(_ code: CURLcode, sink: ResponseSink, limit: Int) -> TransportError {
        let detail = String(cString: sink.errorBuffer).trimmingCharacters(in: .whitespacesAndNewlines)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        let kind: TransportError.Kind
        switch code {
        case CURLE_OPERATION_TIMEDOUT: kind = .timeout
        case CURLE_COULDNT_CONNECT: kind = .connect
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: kind = .resolve
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM,
            CURLE_BAD_CONTENT_ENCODING:
            kind = .reset
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE,
            CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            kind = .tls
        case CURLE_FILESIZE_EXCEEDED: kind = .tooLarge
        case CURLE_WRITE_ERROR where sink.exceeded: kind = .tooLarge
        case CURLE_WRITE_ERROR where sink.fileFailed:
            return TransportError(.other, "cannot write the response to its spool file (disk full?)", code: Int(code.rawValue))
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: kind = .invalidRequest
        default: kind = .other
        }
        if kind == .tooLarge {
            return TransportError(.tooLarge, "the response is larger than max_response_bytes (\(limit) bytes)", code: Int(code.rawValue))
        }
        return TransportError(kind, message, code: Int(code.rawValue))
    }
}

/// What libcurl hands back during one transfer: the body, the header fields, an error message.
final class ResponseSink {
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    let limit: Int
    var exceeded = false
    /// Bytes of body received.
    private(set) var size = 0
    let errorBuffer: UnsafeMutablePointer<CChar>
    /// The body's file, when the request spools it to disk.
    private var file: UnsafeMutablePointer<FILE>?
    var fileFailed = false

    struct CannotOpen: Error, CustomStringConvertible {
        var description: String
    }

    init(limit: Int, file path: String? = nil) throws(CannotOpen) {
        self.limit = limit
        if let path {
            guard let f = fopen(path, "w") else { throw CannotOpen(description: String(cString: strerror(errno))) }
            file = f
        }
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        close()
        errorBuffer.deallocate()
    }

    func close() {
        if let file { fclose(file) }
        file = nil
    }

    func append(_ data: UnsafeMutablePointer<CChar>?, _ count: Int) -> Int {
        guard let data, count > 0 else { return 0 }
        guard size + count <= limit else {
            exceeded = true
            return 0  // stops the transfer with CURLE_WRITE_ERROR
        }
        size += count
        if let file {
            guard fwrite(data, 1, count, file) == count else {
                fileFailed = true
                return 0
            }
            return count
        }
        data.withMemoryRebound(to: UInt8.self, capacity: count) { body.append(contentsOf: UnsafeBufferPointer(start: $0, count: count)) }
        return count
    }

    func header(_ data: UnsafeMutablePointer<CChar>?, _ count: Int) {
        guard let data else { return }
        let line = data.withMemoryRebound(to: UInt8.self, capacity: count) { String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self) }
        if line.hasPrefix("HTTP/") {
            headers.removeAll()  // a new response (after 100 Continue, or a proxy's)
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        headers.append((name, value))
        if name == "content-length", file == nil, let n = Int(value), n > 0, n <= limit { body.reserveCapacity(n) }
    }
}
