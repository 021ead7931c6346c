import Foundation
import OEMSyncCore
import Testing

@Suite("SHA-256")
struct SHA256Tests {
    @Test("FIPS 180-4 test vectors")
    func vectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var million = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { million.update(chunk) }
        #expect(million.finish() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("the digest does not depend on how the input is cut", arguments: [1, 3, 63, 64, 65, 1000])
    func streaming(_ cut: Int) {
        var bytes: [UInt8] = []
        var x: UInt32 = 12345
        for _ in 0..<5000 {
            x = x &* 1_103_515_245 &+ 12345
            bytes.append(UInt8(truncatingIfNeeded: x >> 16))
        }
        var hash = SHA256()
        var i = 0
        while i < bytes.count {
            hash.update(Array(bytes[i..<min(bytes.count, i + cut)]))
            i += cut
        }
        #expect(hash.finish() == SHA256.hex(bytes))
    }

    @Test("agrees with sha256sum on a file")
    func agreesWithCoreutils() throws {
        let path = NSTemporaryDirectory() + "/oemsync-sha-\(UUID().uuidString)"
        var bytes: [UInt8] = []
        for i in 0..<200_003 { bytes.append(UInt8(truncatingIfNeeded: i &* 31 &+ i >> 7)) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pipe = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        process.standardOutput = pipe
        try process.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(out.split(separator: " ").first.map(String.init) == SHA256.hex(bytes))
    }
}
