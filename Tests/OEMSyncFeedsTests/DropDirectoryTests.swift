import Foundation
import OEMSyncFeeds
import OEMSyncTesting
import Testing

@Suite("CSV drop directory")
struct DropDirectoryTests {
    @Test("rename readiness takes visible matching files, oldest first, never temp or hidden files")
    func renameReadiness() throws {
        let dir = try TemporaryDirectory("drop")
        let drop = DropDirectory(path: dir.path, pattern: "*.csv", readiness: .rename)
        try drop.prepare()
        try dir.write("b.csv", "x")
        try dir.write("a.csv", "x")
        try dir.write("c.csv.part", "x")
        try dir.write(".d.csv", "x")
        try dir.write("e.txt", "x")
        try setMTime(dir.file("b.csv"), 1000)
        try setMTime(dir.file("a.csv"), 2000)
        #expect(try drop.readyFiles().map(\.name) == ["b.csv", "a.csv"])
    }

    @Test("marker readiness waits for <name>.done and removes the marker on claim")
    func markerReadiness() throws {
        let dir = try TemporaryDirectory("drop")
        let drop = DropDirectory(path: dir.path, pattern: "*.csv", readiness: .marker(suffix: ".done"))
        try drop.prepare()
        try dir.write("stock.csv", "x")
        #expect(try drop.readyFiles().isEmpty)
        try dir.write("stock.csv.done", "")
        #expect(try drop.readyFiles().map(\.name) == ["stock.csv"])
        let claimed = try #require(try drop.claim("stock.csv"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("stock.csv.done")))
        #expect(FileManager.default.fileExists(atPath: claimed.path))
    }

    @Test("stable readiness waits until the file has not changed for the set time")
    func stableReadiness() throws {
        let dir = try TemporaryDirectory("drop")
        let drop = DropDirectory(path: dir.path, pattern: "*.csv", readiness: .stable(seconds: 30))
        try drop.prepare()
        try dir.write("fresh.csv", "x")
        try dir.write("old.csv", "x")
        let now = Date()
        try setMTime(dir.file("old.csv"), now.timeIntervalSince1970 - 60)
        #expect(try drop.readyFiles(now: now).map(\.name) == ["old.csv"])
        #expect(try drop.readyFiles(now: now.addingTimeInterval(31)).map(\.name) == ["old.csv", "fresh.csv"])
    }

    @Test("a file is claimed once: the second claim of the same name gets nothing")
    func claimOnce() throws {
        let dir = try TemporaryDirectory("drop")
        let a = DropDirectory(path: dir.path)
        try a.prepare()
        try dir.write("stock.csv", "data")
        let first = try a.claim("stock.csv")
        let second = try DropDirectory(path: dir.path).claim("stock.csv")
        #expect(first != nil)
        #expect(second == nil)
        #expect(first?.originalName == "stock.csv")
        #expect(try a.claimedFiles().map(\.claimedName) == [first!.claimedName])
        #expect(try a.claimedFiles().first?.originalName == "stock.csv")
    }

    @Test("archive and quarantine move the file; quarantine writes the reason beside it")
    func archiveAndQuarantine() throws {
        let dir = try TemporaryDirectory("drop")
        let drop = DropDirectory(path: dir.path)
        try drop.prepare()
        try dir.write("a.csv", "1")
        try dir.write("b.csv", "2")
        let a = try #require(try drop.claim("a.csv"))
        let b = try #require(try drop.claim("b.csv"))
        try drop.archive(a)
        try drop.quarantine(b, reason: "empty file: no header row")
        #expect(dir.list("archive") == [a.claimedName])
        #expect(dir.list("quarantine") == [b.claimedName, b.claimedName + ".reason"].sorted())
        let reason = try String(contentsOfFile: dir.file("quarantine/\(b.claimedName).reason"), encoding: .utf8)
        #expect(reason == "empty file: no header row\n")
        #expect(dir.list("processing").isEmpty)
    }

    @Test("a second process cannot lock a directory that is being synced; the lock frees on release")
    func lock() throws {
        let dir = try TemporaryDirectory("drop")
        var first: DirectoryLock? = try DirectoryLock(directory: dir.path)
        #expect(throws: DirectoryLock.Busy.self) { try DirectoryLock(directory: dir.path) }
        _ = first
        first = nil
        #expect(throws: Never.self) { try DirectoryLock(directory: dir.path) }
    }

    func setMTime(_ path: String, _ seconds: Double) throws {
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: seconds)], ofItemAtPath: path)
    }
}
