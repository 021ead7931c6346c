import Foundation

/// A real TLS server on loopback (`openssl s_server -WWW`, serving the files of a folder), with a
/// private CA, a server certificate for 127.0.0.1 and a client certificate made for the test by the
/// `openssl` command: what a feed's `tls:` settings are tested against.
public final class TLSServer: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let port: Int
    private let process: Process

    public var caFile: String { directory.file("ca.pem") }
    public var clientCertificate: String { directory.file("client.pem") }
    public var clientKey: String { directory.file("client.key") }
    /// A CA the server's certificate is not signed by.
    public var otherCAFile: String { directory.file("other-ca.pem") }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// - Parameters:
    ///   - files: name -> content, served at `/name`.
    ///   - requireClientCertificate: mutual TLS: the handshake needs a certificate signed by the CA.
    public init(files: [String: String], requireClientCertificate: Bool = false) throws {
        directory = try TemporaryDirectory("tls")
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try Self.openssl(["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=oemsync test CA"], in: directory.path)
        try Self.openssl(["req", "-x509"] + ec + ["-keyout", "other-ca.key", "-out", "other-ca.pem", "-days", "2", "-subj", "/CN=other CA"], in: directory.path)
        try directory.write("san.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        for (name, subject, ext) in [("server", "/CN=127.0.0.1", true), ("client", "/CN=dealer-d001", false)] {
            try Self.openssl(["req"] + ec + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject], in: directory.path)
            try Self.openssl(
                ["x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "\(name).pem", "-days", "2"]
                    + (ext ? ["-extfile", "san.ext"] : []), in: directory.path)
        }
        try FileManager.default.createDirectory(atPath: directory.file("www"), withIntermediateDirectories: true)
        for (name, text) in files { try directory.write("www/\(name)", text) }

        port = try Self.freePort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        var arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", "../server.pem", "-key", "../server.key", "-WWW", "-quiet"]
        if requireClientCertificate { arguments += ["-CAfile", "../ca.pem", "-Verify", "1"] }
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory.file("www"))
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until it accepts connections.
        let deadline = Date().addingTimeInterval(10)
        while !Self.accepts(port) {
            guard Date() < deadline, process.isRunning else { throw Failure(description: "openssl s_server did not start") }
            usleep(20_000)
        }
    }

    deinit {
        // Not waitUntilExit(): it runs a run loop, which never returns on a cooperative thread.
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { usleep(5_000) }
    }

    public var url: String { "https://127.0.0.1:\(port)" }

    static func openssl(_ arguments: [String], in directory: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        while p.isRunning { usleep(5_000) }
        guard p.terminationStatus == 0 else { throw Failure(description: "openssl \(arguments.first ?? "") failed") }
    }

    /// A port nothing listens on right now.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw Failure(description: "no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
