import Foundation
import Logging
import OEMSyncCore
import OEMSyncRuntime
import Synchronization
import Testing

@Suite("log output: journal priorities, JSON lines")
struct LogOutputTests {
    @Test("in the journal every line starts with its syslog priority and has no time stamp; elsewhere no prefix")
    func journalPriorities() {
        for journal in [true, false] {
            let lines = Mutex("")
            let output = LogOutput(format: .logfmt, level: .debug, journal: journal, stream: { line in lines.withLock { $0 += line } })
            let logger = Logger(label: "t") { output.handler(label: $0) }
            logger.debug("batch committed")
            logger.info("file claimed")
            logger.notice("feed held")
            logger.warning("file quarantined")
            logger.error("feed stopped")
            output.console().err("oemsync sync: feed 'x': database down\nsecond line\n")
            let text = lines.withLock { $0 }.split(separator: "\n").map(String.init)
            if journal {
                #expect(text.map { String($0.prefix(3)) } == ["<7>", "<6>", "<5>", "<4>", "<3>", "<3>", "<3>"], "\(text)")
                #expect(!text.contains { $0.contains("ts=") })
            } else {
                #expect(text.allSatisfy { !$0.hasPrefix("<") }, "\(text)")
                #expect(text.prefix(5).allSatisfy { $0.hasPrefix("ts=") })
            }
        }
    }

    @Test("stderr is the journal only when $JOURNAL_STREAM names stderr's own device and inode")
    func journalDetection() throws {
        var st = stat()
        #expect(fstat(2, &st) == 0)
        #expect(Journal.isStderr(environment: ["JOURNAL_STREAM": "\(st.st_dev):\(st.st_ino)"]))
        #expect(!Journal.isStderr(environment: ["JOURNAL_STREAM": "\(st.st_dev):\(st.st_ino + 1)"]))
        #expect(!Journal.isStderr(environment: ["JOURNAL_STREAM": "garbage"]))
        #expect(!Journal.isStderr(environment: [:]))
    }

    @Test("JSON: counts are numbers, text is text, and error messages and diagnostics are objects too")
    func jsonLines() throws {
        let lines = Mutex("")
        let output = LogOutput(format: .json, level: .info, journal: false, stream: { line in lines.withLock { $0 += line } })
        let logger = Logger(label: "t") { output.handler(label: $0) }
        logger.info("file loaded", metadata: [LogKey.records: .stringConvertible(120), LogKey.file: "0042.csv", "oemsync.ratio": .stringConvertible(0.5)])
        let console = output.console()
        console.err("oemsync sync: feed 'x': the database is down\n")
        let location = SourceLocation(file: "oemsync.yaml", line: 7, column: 3)
        console.report(
            [.error("C104", "unknown key 'feedz'", at: location, notes: ["known keys: feeds"], help: "did you mean 'feeds'?")],
            DiagnosticRenderer())
        let objects = try lines.withLock { $0 }.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "\($0)")
        }
        #expect(objects.count == 3)
        #expect(objects[0]["oemsync.records"] as? Int == 120)
        #expect(objects[0]["oemsync.ratio"] as? Double == 0.5)
        #expect(objects[0]["oemsync.file"] as? String == "0042.csv")
        #expect(objects[1]["level"] as? String == "error")
        #expect(objects[1]["msg"] as? String == "oemsync sync: feed 'x': the database is down")
        #expect(objects[2]["msg"] as? String == "diagnostic")
        #expect(objects[2]["code"] as? String == "C104")
        #expect(objects[2]["line"] as? Int == 7 && objects[2]["column"] as? Int == 3)
        #expect(objects[2]["file"] as? String == "oemsync.yaml")
        #expect(objects[2]["notes"] as? [String] == ["known keys: feeds"])
        #expect(objects[2]["help"] as? String == "did you mean 'feeds'?")
    }

    @Test("a control character in a logged value never reaches the terminal raw")
    func controls() {
        let lines = Mutex("")
        let output = LogOutput(format: .logfmt, level: .info, journal: false, stream: { line in lines.withLock { $0 += line } })
        let logger = Logger(label: "t") { output.handler(label: $0) }
        logger.info("file claimed", metadata: [LogKey.reason: "a\u{1b}[2Jb\rc"])
        let text = lines.withLock { $0 }
        #expect(!text.contains("\u{1b}") && !text.contains("\r"))
        #expect(text.contains(#"oemsync.reason="a\u{1b}[2Jb\rc""#), "\(text)")
    }
}
