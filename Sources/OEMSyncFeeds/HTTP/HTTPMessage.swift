import Foundation

/// One HTTP request as the transport sends it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    /// Header fields in order; names as written.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// Where the response body is written instead of memory (a SOAP response of hundreds of
    /// megabytes): the file is created or truncated for each attempt.
    public var responseFile: String?

    public init(
        method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil, responseFile: String? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.responseFile = responseFile
    }
}

/// A complete HTTP response: status, header fields, and the body, held once.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header fields in order, names lowercased.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Seconds from the start of the request to the end of the response.
    public var seconds: Double
    /// The file holding the body, when the request asked for one (``body`` is then empty).
    public var bodyFile: String?
    /// The body's size in bytes, in memory or in the file.
    public var bodySize: Int

    public init(
        status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = [], seconds: Double = 0, bodyFile: String? = nil,
        bodySize: Int? = nil
    ) {
        self.status = status
        self.headers = headers.map { ($0.name.lowercased(), $0.value) }
        self.body = body
        self.seconds = seconds
        self.bodyFile = bodyFile
        self.bodySize = bodySize ?? body.count
    }

    /// Up to `limit` bytes of the body, from memory or its file (an error answer, a payload kept for the ledger).
    public func bodyPrefix(_ limit: Int) -> [UInt8] {
        guard let bodyFile else { return Array(body.prefix(limit)) }
        guard let handle = FileHandle(forReadingAtPath: bodyFile) else { return [] }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: limit)).map { [UInt8]($0 ?? Data()) } ?? []
    }

    /// The first value of a header field (case-insensitive name).
    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.name == n }?.value
    }

    /// Every value of a header field, for fields that may repeat (`Link`).
    public func headerValues(_ name: String) -> [String] {
        let n = name.lowercased()
        return headers.filter { $0.name == n }.map(\.value)
    }
}

/// TLS for one feed: TLS is always verified (peer certificate and host name); these add a private
/// CA and a client certificate for mutual TLS.
public struct TLSSettings: Sendable, Hashable {
    /// A PEM bundle of the CAs to trust instead of the system's (an OEM's private CA).
    public var caFile: String?
    /// The client certificate (PEM) for mutual TLS, and its key.
    public var clientCertificate: String?
    public var clientKey: String?
    /// The client key's passphrase, read from a file or the environment (never in the config).
    public var clientKeyPassword: String?

    public init(caFile: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil, clientKeyPassword: String? = nil) {
        self.caFile = caFile
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.clientKeyPassword = clientKeyPassword
    }
}

/// How the transport behaves for one feed.
public struct TransportSettings: Sendable, Hashable {
    /// The whole request, connection to last byte. Default 30 s.
    public var timeout: Duration
    /// Establishing the connection (TCP and TLS). Default 10 s.
    public var connectTimeout: Duration
    public var tls: TLSSettings
    /// The largest response body accepted, after decompression. Default 256 MiB.
    public var maxResponseBytes: Int

    public init(
        timeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(10), tls: TLSSettings = TLSSettings(),
        maxResponseBytes: Int = 256 << 20
    ) {
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.tls = tls
        self.maxResponseBytes = maxResponseBytes
    }
}

/// A request that got no complete HTTP response. The message is the transport's own (libcurl's),
/// which names hosts but never a URL's query, a header or a body.
public struct TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// No answer in time (the request's or the connection's timeout).
        case timeout
        /// The server refused or could not be reached.
        case connect
        /// The host name did not resolve.
        case resolve
        /// The connection broke: reset, closed without a response, or closed mid-body.
        case reset
        /// TLS failed: an unknown CA, a wrong host name, an unusable certificate or key.
        case tls
        /// The response was larger than `max_response_bytes`.
        case tooLarge
        /// The request itself cannot be sent (a malformed URL, an unsupported scheme).
        case invalidRequest
        case other
    }

    public var kind: Kind
    public var message: String
    /// libcurl's result code.
    public var code: Int

    public init(_ kind: Kind, _ message: String, code: Int = 0) {
        self.kind = kind
        self.message = message
        self.code = code
    }

    /// Whether trying again may help: timeouts, refused connections and broken connections do;
    /// TLS failures, oversized responses and invalid requests do not.
    public var isRetryable: Bool {
        switch kind {
        case .timeout, .connect, .resolve, .reset, .other: return true
        case .tls, .tooLarge, .invalidRequest: return false
        }
    }

    public var description: String { message }
}

/// Sends HTTP requests. ``CurlTransport`` is the real one.
public protocol HTTPTransport: AnyObject, Sendable {
    func send(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse
}
