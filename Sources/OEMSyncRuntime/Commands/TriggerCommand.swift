#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OEMSyncCore

/// `oemsync trigger FEED`: asks the running daemon, through its control socket (`daemon.control`),
/// to run a feed now. Exit 0 when the daemon took the request, 64 for a feed it does not run, 1
/// when no daemon answers, 78 for an invalid config.
public enum TriggerCommand {
    public static func run(configPath: String, feed: String, console: Console) -> Int32 {
        let loaded = ConfigurationLoader().load(path: configPath)
        guard let configuration = loaded.configuration else {
            console.report(loaded.diagnostics, DiagnosticRenderer(sources: loaded.redactedText.map { [configPath: $0] } ?? [:]))
            return ExitStatus.config
        }
        guard let path = configuration.daemon.control else {
            console.err("oemsync trigger: the config turns the control socket off (daemon: {control: off})\n")
            return ExitStatus.failure
        }
        let reply: String
        do {
            reply = try request("run \(feed)", at: path)
        } catch {
            console.err("oemsync trigger: no daemon answers on \(path): \(error.description) (is `oemsync run` running with this config?)\n")
            return ExitStatus.failure
        }
        if reply.hasPrefix("ok") {
            console.out(reply + "\n")
            return ExitStatus.ok
        }
        console.err("oemsync trigger: \(reply.hasPrefix("error: ") ? String(reply.dropFirst(7)) : reply)\n")
        return reply.contains("no feed") ? ExitStatus.usage : ExitStatus.failure
    }

    struct NoAnswer: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends one request line and reads the answer line (5 s at most).
    static func request(_ line: String, at path: String) throws(NoAnswer) -> String {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw NoAnswer(description: "the path is too long for a socket") }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NoAnswer(description: String(cString: strerror(errno))) }
        defer { close(fd) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw NoAnswer(description: String(cString: strerror(errno))) }
        let out = Array((line + "\n").utf8)
        guard out.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == out.count else {
            throw NoAnswer(description: String(cString: strerror(errno)))
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        let deadline = ContinuousClock.now + .seconds(5)
        while !answer.contains(UInt8(ascii: "\n")) {
            let left = deadline - ContinuousClock.now
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard left > .zero, poll(&p, 1, Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))) > 0 else {
                throw NoAnswer(description: "no answer within 5s")
            }
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { break }
            answer += chunk[0..<n]
        }
        return String(decoding: answer.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    }
}
