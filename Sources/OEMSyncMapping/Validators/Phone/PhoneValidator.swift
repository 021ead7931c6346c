import Foundation
import OEMSyncCore

/// Parses dirty phone input into E.164 and judges it by number type, not only by length.
///
/// Steps, in order (domain notes §2.5): fold full-width forms; split several numbers in one field
/// (`/`, `、`, `,`, `，`, `;`, `；`, `|`, newline: the first is taken with a `phone.multiple` warning, or the
/// record is rejected, per mapping); reject masked numbers (`138****8000`); drop `tel:`; take an
/// extension (`转`, `分机`, `ext`, `x`, `#`, `;ext=`, or a trailing `-123` after a full landline);
/// read `+`, `00`, or the default region's own forms (`86-`, trunk `0`, `(0)`); then validate:
///
/// - CN: mobile by allocated prefix (13x, 145/147, 15x but 154, 162/165-167, 170-173/175-178, 18x,
///   19x but 194), landline by area-code shape and subscriber length (010 and 02X: 8 digits; other
///   3-digit area codes: 7 or 8), 400/800 service numbers; short codes are not customer phones.
/// - US, CA (NANP): `NXX-NXX-XXXX`, no N11 area codes.
/// - HK: 8 digits starting 2, 3, 5-9. TW: mobile `09xx xxx xxx`, landline with a 2-8 area code.
/// - Any other explicit country code: 8 to 15 digits, written with a `phone.unverified` warning.
///
/// The written value is E.164 (`+8613800138000`), with `;ext=123` appended when an extension was
/// given (RFC 3966), so nothing in the input is lost.
public struct PhoneValidator: Sendable, Hashable {
    public enum Multiple: String, Sendable, CaseIterable {
        /// Take the first number and warn.
        case first
        /// Reject the record.
        case reject
    }

    public static let supportedRegions = ["CN", "US", "CA", "HK", "TW"]

    public var region: String
    public var multiple: Multiple

    public init(region: String, multiple: Multiple = .first) {
        self.region = region
        self.multiple = multiple
    }

    public enum Outcome: Sendable, Hashable {
        case valid(String)
        case validWithWarning(String, RecordProblem)
        case invalid(RecordProblem)
    }

    public func validate(_ raw: String, field: String) -> Outcome {
        func problem(_ code: String, _ message: String) -> RecordProblem {
            RecordProblem(code: code, message: message, field: field, rawValue: raw)
        }
        let folded = HalfWidth.fold(raw)
        // Fast path: one number written with digits and the usual punctuation only (most records).
        // A failure there takes the full path, which knows more forms (`010-65529988-123`).
        if let (digits, plus) = Self.plainNumber(folded) {
            switch parse(digits, plus: plus) {
            case .success(let e164) where !Self.unverified(e164):
                return .valid(e164)
            case .failure(let f) where !folded.utf8.contains(UInt8(ascii: "-")):
                // Digits and punctuation only, and no trailing group that could be an extension: the
                // full path would come to the same verdict (nothing to split, unmask or cut off).
                return .invalid(problem(f.code, f.message))
            default:
                break
            }
        }
        var text = Self.trimmed(folded)
        var warning: RecordProblem?
        let numbers = Self.splitNumbers(text)
        if numbers.count > 1 {
            let p = problem("phone.multiple", "\(numbers.count) numbers in one field")
            guard multiple == .first else { return .invalid(p) }
            warning = p
        }
        text = numbers.first ?? text
        if Self.isMasked(text) {
            return .invalid(problem("phone.masked", "masked number (digits replaced by '*' or 'x')"))
        }
        if text.lowercased().hasPrefix("tel:") { text = String(text.dropFirst(4)) }
        var (main, ext) = Self.splitExtension(text)
        // What is left must be digits and punctuation only.
        guard main.utf8.allSatisfy({ Self.allowed[Int($0)] }) else {
            return .invalid(problem("phone.chars", "contains characters that are not part of a phone number"))
        }
        var result = parse(main)
        if case .failure = result, ext == nil, let (head, tail) = Self.trailingGroup(main) {
            // `010-65529988-123`: a trailing short group after a valid landline is its extension.
            if case .success(let e164) = parse(head), e164.hasPrefix("+86"), !Self.isCNMobile(e164) {
                result = .success(e164)
                ext = tail
                main = head
            }
        }
        switch result {
        case .failure(let failure):
            return .invalid(problem(failure.code, failure.message))
        case .success(let e164):
            let value = ext.map { "\(e164);ext=\($0)" } ?? e164
            if let warning { return .validWithWarning(value, warning) }
            if Self.unverified(e164) {
                return .validWithWarning(value, problem("phone.unverified", "country code accepted by length only"))
            }
            return .valid(value)
        }
    }

    struct Failure: Error {
        var code: String
        var message: String
    }

    typealias Digits = ArraySlice<UInt8>

    /// The digits of a field that holds one plainly written number: ASCII digits, spaces, `-`, `.`,
    /// brackets and a leading `+`. Anything else (letters, `*`, separators, `(0)`) takes the full path.
    static func plainNumber(_ s: String) -> (Digits, Bool)? {
        var digits: [UInt8] = []
        digits.reserveCapacity(16)
        var plus = false
        var previous: UInt8 = 0
        var beforePrevious: UInt8 = 0
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits.append(b)
            case UInt8(ascii: "+"):
                guard digits.isEmpty, !plus else { return nil }
                plus = true
            case UInt8(ascii: ")"):
                if previous == UInt8(ascii: "0"), beforePrevious == UInt8(ascii: "(") { return nil }  // "(0)"
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("):
                break
            default:
                return nil
            }
            beforePrevious = previous
            previous = b
        }
        return digits.isEmpty ? nil : (digits[...], plus)
    }

    /// Digits (with a leading `+`) to E.164, using the default region for national forms.
    func parse(_ text: String) -> Result<String, Failure> {
        var cleaned = text
        // "(0)" after a country code is a trunk-prefix hint in international notation; drop it.
        if let r = text.range(of: "(0)"), text.hasPrefix("+") || text.hasPrefix("00") || text.hasPrefix("86") {
            cleaned = text.replacingCharacters(in: r, with: "")
        }
        var digits: [UInt8] = []
        var plus = false
        for b in cleaned.utf8 {
            if b == UInt8(ascii: "+") {
                guard digits.isEmpty, !plus else { return .failure(Failure(code: "phone.chars", message: "misplaced '+'")) }
                plus = true
            } else if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                digits.append(b)
            }
        }
        guard !digits.isEmpty else { return .failure(Failure(code: "phone.chars", message: "no digits")) }
        return parse(digits[...], plus: plus)
    }

    func parse(_ input: Digits, plus: Bool) -> Result<String, Failure> {
        var digits = input
        var plus = plus
        if !plus, digits.starts(with: [0x30, 0x30]) {
            plus = true
            digits = digits.dropFirst(2)
        }
        if plus { return Self.international(digits) }
        switch region {
        case "CN":
            if digits.starts(with: Self.d86), digits.count >= 12, case .success(let n) = Self.chinese(digits.dropFirst(2)) {
                return .success(n)
            }
            return Self.chinese(digits)
        case "US", "CA": return Self.nanp(digits)
        case "HK": return Self.hongKong(digits)
        case "TW": return Self.taiwan(digits)
        default: return .failure(Failure(code: "phone.country", message: "region \(region) is not supported"))
        }
    }

    /// The bytes a number may be written with once extensions and separators are gone.
    static let allowed: [Bool] = (0..<256).map { "0123456789+-.() /\t".utf8.contains(UInt8($0)) }

    static let d86: [UInt8] = Array("86".utf8)
    static let d852: [UInt8] = Array("852".utf8)
    static let d886: [UInt8] = Array("886".utf8)

    static func e164(_ country: String, _ digits: Digits) -> String {
        let c = country.utf8
        return String(unsafeUninitializedCapacity: 1 + c.count + digits.count) { out in
            out[0] = UInt8(ascii: "+")
            var i = 1
            for b in c {
                out[i] = b
                i += 1
            }
            for b in digits {
                out[i] = b
                i += 1
            }
            return i
        }
    }

    static func international(_ digits: Digits) -> Result<String, Failure> {
        if digits.starts(with: d86) { return chinese(digits.dropFirst(2), international: true) }
        if digits.first == UInt8(ascii: "1") { return nanp(digits) }
        if digits.starts(with: d852) { return hongKong(digits.dropFirst(3)) }
        if digits.starts(with: d886) { return taiwan(digits.dropFirst(3)) }
        guard digits.first != UInt8(ascii: "0") else { return .failure(Failure(code: "phone.invalid", message: "no country code after '+'")) }
        guard (8...15).contains(digits.count) else {
            return .failure(Failure(code: digits.count < 8 ? "phone.too_short" : "phone.too_long", message: "\(digits.count) digits after the '+'"))
        }
        return .success(e164("", digits))
    }

    /// Whether `e164` is an international number we accepted by length only.
    static func unverified(_ e164: String) -> Bool {
        var u = e164.utf8.makeIterator()
        guard u.next() == UInt8(ascii: "+") else { return true }
        switch (u.next(), u.next(), u.next()) {
        case (UInt8(ascii: "8")?, UInt8(ascii: "6")?, _), (UInt8(ascii: "1")?, _, _): return false
        case (UInt8(ascii: "8")?, UInt8(ascii: "5")?, UInt8(ascii: "2")?), (UInt8(ascii: "8")?, UInt8(ascii: "8")?, UInt8(ascii: "6")?): return false
        default: return true
        }
    }

    static func isCNMobile(_ e164: String) -> Bool {
        e164.hasPrefix("+861") && e164.utf8.count == 14 && !e164.hasPrefix("+8610")
    }

    /// Allocated Chinese mobile prefixes (the second and third digits after the leading 1), as a
    /// 100-entry table: 13x, 145, 147, 15x but 154, 162, 165-167, 170-173, 175-178, 18x, 19x but 194.
    static let cnMobile: [Bool] = {
        var t = [Bool](repeating: false, count: 100)
        for p in [30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 45, 47, 50, 51, 52, 53, 55, 56, 57, 58, 59, 62, 65, 66, 67] { t[p] = true }
        for p in [70, 71, 72, 73, 75, 76, 77, 78, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 95, 96, 97, 98, 99] { t[p] = true }
        return t
    }()

    @inline(__always)
    static func digit(_ d: Digits, _ i: Int) -> Int { Int(d[d.startIndex + i]) - 48 }

    /// A Chinese number in national form (trunk `0` optional), or the national significant number
    /// after `+86` (`international`).
    static func chinese(_ input: Digits, international: Bool = false) -> Result<String, Failure> {
        var n = input
        let trunk = n.first == UInt8(ascii: "0")
        if trunk { n = n.dropFirst() }
        func fail(_ code: String, _ message: String) -> Result<String, Failure> { .failure(Failure(code: code, message: message)) }
        if n.count < 7 { return fail("phone.too_short", "too short for a Chinese number (a short code is not a customer phone)") }
        let d0 = digit(n, 0)
        let d1 = digit(n, 1)
        if d0 == 1, d1 != 0 {
            guard n.count == 11 else {
                return fail(n.count < 11 ? "phone.too_short" : "phone.too_long", "a Chinese mobile number has 11 digits, found \(n.count)")
            }
            let prefix = d1 * 10 + digit(n, 2)
            let satellite = prefix == 74 && digit(n, 3) == 0 && digit(n, 4) <= 5
            let iot = prefix == 61 && digit(n, 3) == 0 && digit(n, 4) == 0
            guard cnMobile[prefix] || satellite || iot else {
                return fail("phone.invalid", "1\(prefix) is not an allocated Chinese mobile prefix")
            }
            return .success(e164("86", n))
        }
        if !trunk, !international, (d0 == 4 || d0 == 8), d1 == 0, digit(n, 2) == 0 {
            guard n.count == 10 else { return fail("phone.invalid", "a 400/800 service number has 10 digits, found \(n.count)") }
            return .success(e164("86", n))
        }
        guard trunk || international else {
            return fail("phone.invalid", "a Chinese landline needs its area code with the leading 0")
        }
        // Landline: area code 10 or 2X (8-digit subscriber), or a 3-digit code (7 or 8 digits).
        let length: ClosedRange<Int>
        if d0 == 1 && d1 == 0 {
            length = 10...10
        } else if d0 == 2 {
            guard d1 != 6 else { return fail("phone.invalid", "026 is not a Chinese area code") }
            length = 10...10
        } else if d0 >= 3 {
            length = 10...11
        } else {
            return fail("phone.invalid", "not a Chinese area code")
        }
        guard length.contains(n.count) else {
            return fail(n.count < length.lowerBound ? "phone.too_short" : "phone.too_long", "wrong subscriber length for the area code")
        }
        return .success(e164("86", n))
    }

    static func nanp(_ input: Digits) -> Result<String, Failure> {
        var n = input
        if n.count == 11, n.first == UInt8(ascii: "1") { n = n.dropFirst() }
        guard n.count == 10 else {
            return .failure(Failure(code: n.count < 10 ? "phone.too_short" : "phone.too_long", message: "a NANP number has 10 digits"))
        }
        guard digit(n, 0) >= 2, !(digit(n, 1) == 1 && digit(n, 2) == 1), digit(n, 3) >= 2 else {
            return .failure(Failure(code: "phone.invalid", message: "not a valid NANP area code and exchange"))
        }
        return .success(e164("1", n))
    }

    static func hongKong(_ n: Digits) -> Result<String, Failure> {
        guard n.count == 8, [2, 3, 5, 6, 7, 8, 9].contains(digit(n, 0)) else {
            return .failure(Failure(code: "phone.invalid", message: "a Hong Kong number has 8 digits starting 2, 3, 5-9"))
        }
        return .success(e164("852", n))
    }

    static func taiwan(_ input: Digits) -> Result<String, Failure> {
        var n = input
        if n.first == UInt8(ascii: "0") { n = n.dropFirst() }
        guard !n.isEmpty else { return .failure(Failure(code: "phone.too_short", message: "not a Taiwan number")) }
        if digit(n, 0) == 9 {
            guard n.count == 9 else { return .failure(Failure(code: "phone.invalid", message: "a Taiwan mobile number has 9 digits after 0")) }
        } else {
            guard (2...8).contains(digit(n, 0)), (8...9).contains(n.count) else {
                return .failure(Failure(code: "phone.invalid", message: "not a Taiwan number"))
            }
        }
        return .success(e164("886", n))
    }

    static let separators = Set<Character>(["/", "、", ",", "，", ";", "；", "\n", "|"])

    /// Without white space and line breaks at either end (the field was folded to half-width first).
    static func trimmed(_ text: String) -> String {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || (0x09...0x0D).contains($0) }
        let u = text.utf8
        // Other white space (NBSP, U+2028, ...) is non-ASCII: Foundation knows it.
        if let a = u.first, let z = u.last, a >= 0x80 || z >= 0x80 { return text.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard let first = u.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = u.lastIndex(where: { !isSpace($0) })!
        if first == u.startIndex && last == u.index(before: u.endIndex) { return text }
        return String(text[first...last])
    }

    /// Splits a field holding several numbers. A part with fewer than five digits (`ext=123`) belongs
    /// to the number before it.
    static func splitNumbers(_ text: String) -> [String] {
        // A field with none of the separators (ASCII ones or any non-ASCII character) is one number.
        guard text.utf8.contains(where: { b in b >= 0x80 || b == UInt8(ascii: "/") || b == UInt8(ascii: ",") || b == UInt8(ascii: ";") || b == 0x0A || b == UInt8(ascii: "|") })
        else { return [text] }
        var parts: [String] = []
        for piece in text.split(whereSeparator: { separators.contains($0) }) {
            let p = piece.trimmingCharacters(in: .whitespaces)
            if p.isEmpty { continue }
            if p.filter(\.isNumber).count < 5, let last = parts.popLast() {
                parts.append(last + ";" + p)
            } else {
                parts.append(p)
            }
        }
        return parts.isEmpty ? [text] : parts
    }

    static func isMasked(_ text: String) -> Bool {
        // Most fields have neither a star nor an x: answered from the bytes.
        if !text.utf8.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "x") || $0 == UInt8(ascii: "X") || $0 >= 0x80 }) {
            return false
        }
        if text.contains("*") || text.contains("×") || text.contains("＊") { return true }
        // Two or more x between digits: 138xxxx8000 (a single x may be an extension marker).
        let chars = Array(text.lowercased())
        var i = 0
        while i < chars.count {
            if chars[i] == "x" {
                var j = i
                while j < chars.count, chars[j] == "x" { j += 1 }
                if j - i >= 2, i > 0, chars[i - 1].isNumber { return true }
                i = j
            } else {
                i += 1
            }
        }
        return false
    }

    static let extensionPattern = try! NSRegularExpression(
        pattern: "^(.*?\\d[\\d)\\s]*?)\\s*(?:;\\s*ext\\s*=|ext\\.?|extension|x|#|转|分机|-分机)\\s*(\\d{1,6})\\s*$",
        options: [.caseInsensitive])

    static func splitExtension(_ text: String) -> (String, String?) {
        // Every extension marker has a letter, '#', ';' or a Chinese character: without one, no regex.
        guard text.utf8.contains(where: { ($0 | 0x20) >= UInt8(ascii: "a") && ($0 | 0x20) <= UInt8(ascii: "z") || $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: ";") || $0 >= 0x80 })
        else { return (text, nil) }
        if let quick = quickExtension(text) { return quick }
        let range = NSRange(text.startIndex..., in: text)
        guard let m = extensionPattern.firstMatch(in: text, range: range),
            let main = Range(m.range(at: 1), in: text), let ext = Range(m.range(at: 2), in: text)
        else { return (text, nil) }
        return (String(text[main]), String(text[ext]))
    }

    /// The usual spellings of ``extensionPattern`` without the regex, read from the end: 1-6 digits, a
    /// marker (`转`, `分机`, `-分机`, `#`, `x`, `ext`, `ext.`, `extension`, `;ext=`), and before it a number
    /// ending in a digit or `)`. Nil when unsure: the regex decides then.
    static func quickExtension(_ text: String) -> (String, String?)? {
        let scalars = Array(text.unicodeScalars)
        var end = scalars.count
        func isSpace(_ u: Unicode.Scalar) -> Bool { u == " " || u == "\t" }
        while end > 0, isSpace(scalars[end - 1]) { end -= 1 }
        var start = end
        while start > 0, ("0"..."9").contains(scalars[start - 1]) { start -= 1 }
        guard (1...6).contains(end - start) else { return nil }
        let digits = String(String.UnicodeScalarView(scalars[start..<end]))
        var i = start
        while i > 0, isSpace(scalars[i - 1]) { i -= 1 }
        func ends(with marker: String) -> Bool {
            let m = Array(marker.unicodeScalars)
            guard i >= m.count else { return false }
            return zip(scalars[(i - m.count)..<i], m).allSatisfy { a, b in
                a == b || (a.isASCII && b.isASCII && Character(a).lowercased() == Character(b).lowercased())
            }
        }
        var marker = 0
        for m in ["-分机", "分机", "转", "#", "extension", "ext.", ";ext=", "ext", "x"] where ends(with: m) {
            marker = m.unicodeScalars.count
            break
        }
        guard marker > 0 else { return nil }
        i -= marker
        while i > 0, isSpace(scalars[i - 1]) { i -= 1 }
        // As the regex: the number ends in a digit followed only by digits, `)` and spaces.
        var j = i
        var digitInTail = false
        while j > 0, ("0"..."9").contains(scalars[j - 1]) || scalars[j - 1] == ")" || isSpace(scalars[j - 1]) {
            if ("0"..."9").contains(scalars[j - 1]) { digitInTail = true }
            j -= 1
        }
        guard i > 0, digitInTail else { return nil }
        return (String(String.UnicodeScalarView(scalars[..<i])), digits)
    }

    /// `010-65529988-123` -> (`010-65529988`, `123`).
    static func trailingGroup(_ text: String) -> (String, String)? {
        guard let dash = text.lastIndex(of: "-") else { return nil }
        let tail = text[text.index(after: dash)...]
        guard (1...5).contains(tail.count), tail.allSatisfy(\.isNumber) else { return nil }
        return (String(text[..<dash]), String(tail))
    }
}
