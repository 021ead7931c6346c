import Foundation
import OEMSyncCore
import Testing

@testable import OEMSyncMapping

/// The hand-written reading of extensions answers exactly as the extension regex, or leaves the
/// input to it: on every combination of number, marker, spacing and extension below.
@Suite("Phone extensions: the quick reading agrees with the regex")
struct PhoneExtensionTests {
    static func regex(_ text: String) -> (String, String?) {
        let range = NSRange(text.startIndex..., in: text)
        guard let m = PhoneValidator.extensionPattern.firstMatch(in: text, range: range),
            let main = Range(m.range(at: 1), in: text), let ext = Range(m.range(at: 2), in: text)
        else { return (text, nil) }
        return (String(text[main]), String(text[ext]))
    }

    @Test("numbers × markers × spaces × extensions")
    func agreement() {
        let mains = [
            "021-6555 1234", "(021) 65551234", "+86 10 6552 9988", "13800138000", "800-820-8820", "abc", "(0)", "12)", "13800138000()",
            "1-)", "138 ( ) ", "(021)",
        ]
        let markers = ["转", "分机", "-分机", "#", "x", "X", "ext", "EXT", "ext.", "Ext.", "extension", ";ext=", "; ext = ", "/", "-", ""]
        let spaces = ["", " ", "  ", "\t"]
        let extensions = ["8", "808", "123456", "1234567", "", "8a"]
        var quick = 0
        for main in mains {
            for marker in markers {
                for before in spaces {
                    for ext in extensions {
                        for after in ["", " "] {
                            let text = main + before + marker + before + ext + after
                            if let q = PhoneValidator.quickExtension(text) {
                                quick += 1
                                let r = Self.regex(text)
                                #expect(q.0 == r.0 && q.1 == r.1, "\(text.debugDescription): quick \(q), regex \(r)")
                            }
                        }
                    }
                }
            }
        }
        #expect(quick > 1000, "the quick reading takes the usual forms (\(quick))")
    }

    @Test("the full path's verdicts on dirty fields are kept by the quick paths")
    func verdicts() {
        let v = PhoneValidator(region: "CN")
        func code(_ s: String) -> String {
            switch v.validate(s, field: "p") {
            case .valid(let e): return e
            case .validWithWarning(let e, let p): return "\(e) \(p.code)"
            case .invalid(let p): return p.code
            }
        }
        #expect(code("13800138000()x12") == "phone.chars")
        #expect(code("13800138000 ( ) #12") == "phone.chars")
        #expect(code("13800138000\u{0B}") == "+8613800138000")
        #expect(code("\u{0C}13800138000\u{2028}") == "+8613800138000")
        #expect(code("13800138000\u{00A0}") == "+8613800138000")
        #expect(code("021-6555 1234 转 808") == "+862165551234;ext=808")
        #expect(code("010-65529988-123") == "+861065529988;ext=123")
        #expect(code("138001380") == "phone.too_short")
    }
}
