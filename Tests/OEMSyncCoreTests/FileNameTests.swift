import OEMSyncCore
import Testing

@Suite("file names as shown")
struct FileNameTests {
    @Test("control characters, bytes that are not UTF-8 and backslashes are escaped; printable UTF-8 stays")
    func display() {
        #expect(FileName.display(Array("stock 2025年12月.csv".utf8)) == "stock 2025年12月.csv")
        #expect(FileName.display(Array("a\rb\u{1b}[2Jc\nd.csv".utf8)) == "a\\x0db\\x1b[2Jc\\x0ad.csv")
        #expect(FileName.display([0x61, 0xFF, 0xC3, 0x28, 0x2E, 0x63]) == "a\\xff\\xc3(.c")
        #expect(FileName.display(Array("a\\b".utf8)) == "a\\\\b")
        #expect(FileName.display(Array("x\u{85}y".utf8)) == "x\\u{85}y")
        // Overlong forms and surrogates are not UTF-8.
        #expect(FileName.display([0xC0, 0xAF]) == "\\xc0\\xaf")
        #expect(FileName.display([0xED, 0xA0, 0x80]) == "\\xed\\xa0\\x80")
    }

    @Test("two different names never display alike")
    func injective() {
        let names: [[UInt8]] = [Array("a\\x1b".utf8), [0x61, 0x1B], Array("a\\\\x1b".utf8), [0x61, 0x5C, 0x1B]]
        #expect(Set(names.map(FileName.display)).count == names.count)
    }

    @Test("escapingControls escapes control characters only")
    func controls() {
        #expect(FileName.escapingControls("plain \\ text 中文") == "plain \\ text 中文")
        #expect(FileName.escapingControls("a\u{1b}[31mred") == "a\\x1b[31mred")
    }
}
