import Foundation
import OEMSyncTesting
import Testing

/// The units in systemd/ pass `systemd-analyze verify` (warnings count as failures) and its offline
/// security review, with ExecStart pointing at the built binary. (`scripts/test-systemd` runs them
/// in a real systemd: started, reloaded, stopped, restarted by the watchdog.)
@Suite("systemd units")
struct SystemdUnitTests {
    func analyze(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self))
    }

    @Test("the daemon's unit, the one-pass service and its timer verify cleanly and the services are hardened")
    func verify() throws {
        let dir = try TemporaryDirectory("units")
        for name in ["oemsync.service", "oemsync-sync.service", "oemsync-sync.timer"] {
            let text = try String(contentsOfFile: Fixture.repository("systemd/" + name), encoding: .utf8)
                .replacingOccurrences(of: "/usr/bin/oemsync", with: CLITests.binary)
            try dir.write(name, text)
        }
        let (status, output) = try analyze(
            ["verify", "--man=no", "--recursive-errors=no", dir.file("oemsync.service"), dir.file("oemsync-sync.service"), dir.file("oemsync-sync.timer")])
        #expect(status == 0, "\(output)")
        #expect(output.isEmpty, "systemd-analyze printed warnings:\n\(output)")
        for unit in ["oemsync.service", "oemsync-sync.service"] {
            let (secStatus, report) = try analyze(["security", "--offline=yes", "--threshold=20", dir.file(unit)])
            #expect(secStatus == 0, "\(report)")
            #expect(report.contains("Overall exposure level for \(unit): 1."), "\(report.suffix(200))")
        }
        // The daemon is a notify service whose bad config stops the restarts. `oemsync run` checks the
        // config itself and exits 78; an ExecStartPre= check exiting 78 would be restarted forever
        // (RestartPreventExitStatus= applies to the main process only).
        let daemon = try String(contentsOfFile: dir.file("oemsync.service"), encoding: .utf8)
        for line in [
            "Type=notify", "WatchdogSec=", "RestartPreventExitStatus=78", "ExecStart=\(CLITests.binary) run", "ExecReload=\(CLITests.binary) check",
            "LoadCredential=db-password:oemsync-db-password", "SystemCallErrorNumber=EPERM",
        ] {
            #expect(daemon.contains(line), "\(line)")
        }
        // Settings only: a comment may name what is left out.
        let settings = daemon.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(!settings.contains { $0.hasPrefix("ExecStartPre=") }, "an ExecStartPre= check exiting 78 restarts forever")
        #expect(!settings.contains { $0.hasPrefix("SystemCallFilter=") && $0.contains("@resources") }, "libdispatch calls setpriority (@resources): SIGSYS")
    }
}
