import Foundation
import OEMSyncCore

/// Parses dirty phone input into E.164 and judges it by number type, not only by length.
///
/// Steps, in order (domain notes §2.5): fold full-width forms; split several numbers in one field
/// (`/`, `、`, `,`, `，`, `;`, `；`, newline: the first is taken with a `phone.multiple` warning, or the
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
        var text = HalfWidth.fold(raw).replacingOccurrences(of: "\u{FF08}", with: "(")
        text = text.trimmingCharacters(in: .whitespacesAndNewlines)
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
        let allowed = Set("0123456789+-.() /\t")
        guard main.allSatisfy({ allowed.contains($0) }) else {
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
                return .validWithWarning(
                    value, problem("phone.unverified", "country code accepted by length only"))
            }
            return .valid(value)
        }
    }

    struct Failure: Error {
        var code: String
        var message: String
    }

    /// Digits (with a leading `+`) to E.164, using the default region for national forms.
    func parse(_ text: String) -> Result<String, Failure> {
        var digits = ""
        var plus = false
        var chars = Array(text)
        // "(0)" after a country code is a trunk-prefix hint in international notation; drop it.
        if let r = text.range(of: "(0)"), text.hasPrefix("+") || text.hasPrefix("00") || text.hasPrefix("86") {
            chars = Array(text.replacingCharacters(in: r, with: ""))
        }
        for c in chars {
            if c == "+" {
                guard digits.isEmpty, !plus else { return .failure(Failure(code: "phone.chars", message: "misplaced '+'")) }
                plus = true
            } else if c.isASCII, c.isNumber {
                digits.append(c)
            }
        }
        guard !digits.isEmpty else { return .failure(Failure(code: "phone.chars", message: "no digits")) }
        if !plus, digits.hasPrefix("00") {
            plus = true
            digits.removeFirst(2)
        }
        if plus { return Self.international(digits) }
        switch region {
        case "CN":
            if digits.hasPrefix("86"), digits.count >= 12, case .success(let n) = Self.chinese(String(digits.dropFirst(2))) {
                return .success(n)
            }
            return Self.chinese(digits)
        case "US", "CA": return Self.nanp(digits)
        case "HK": return Self.hongKong(digits)
        case "TW": return Self.taiwan(digits)
        default: return .failure(Failure(code: "phone.country", message: "region \(region) is not supported"))
        }
    }

    static func international(_ digits: String) -> Result<String, Failure> {
        if digits.hasPrefix("86") { return chinese(String(digits.dropFirst(2)), international: true) }
        if digits.hasPrefix("1") { return nanp(digits) }
        if digits.hasPrefix("852") { return hongKong(String(digits.dropFirst(3))) }
        if digits.hasPrefix("886") { return taiwan(String(digits.dropFirst(3))) }
        guard digits.first != "0" else { return .failure(Failure(code: "phone.invalid", message: "no country code after '+'")) }
        guard (8...15).contains(digits.count) else {
            return .failure(Failure(code: digits.count < 8 ? "phone.too_short" : "phone.too_long", message: "\(digits.count) digits after the '+'"))
        }
        return .success("+" + digits)
    }

    /// Whether `e164` is an international number we accepted by length only.
    static func unverified(_ e164: String) -> Bool {
        !(e164.hasPrefix("+86") || e164.hasPrefix("+1") || e164.hasPrefix("+852") || e164.hasPrefix("+886"))
    }

    static func isCNMobile(_ e164: String) -> Bool {
        e164.hasPrefix("+861") && e164.count == 14 && !e164.hasPrefix("+8610")
    }

    static let cnMobilePrefixes: Set<String> = {
        var s = Set<String>()
        for p in 130...139 { s.insert(String(p)) }
        for p in [145, 147, 150, 151, 152, 153, 155, 156, 157, 158, 159, 162, 165, 166, 167] { s.insert(String(p)) }
        for p in [170, 171, 172, 173, 175, 176, 177, 178] { s.insert(String(p)) }
        for p in 180...189 { s.insert(String(p)) }
        for p in [190, 191, 192, 193, 195, 196, 197, 198, 199] { s.insert(String(p)) }
        return s
    }()

    /// A Chinese number in national form (trunk `0` optional), or the national significant number
    /// after `+86` (`international`).
    static func chinese(_ input: String, international: Bool = false) -> Result<String, Failure> {
        var n = Substring(input)
        let trunk = n.hasPrefix("0")
        if trunk { n = n.dropFirst() }
        func fail(_ code: String, _ message: String) -> Result<String, Failure> { .failure(Failure(code: code, message: message)) }
        if n.count < 7 { return fail("phone.too_short", "too short for a Chinese number (a short code is not a customer phone)") }
        if n.hasPrefix("1"), !n.hasPrefix("10") {
            guard n.count == 11 else {
                return fail(n.count < 11 ? "phone.too_short" : "phone.too_long", "a Chinese mobile number has 11 digits, found \(n.count)")
            }
            let prefix = String(n.prefix(3))
            let five = n.prefix(5)
            guard cnMobilePrefixes.contains(prefix) || five.hasPrefix("1740") && ("0"..."5").contains(five.last!)
                || five == "16100"
            else { return fail("phone.invalid", "\(prefix) is not an allocated Chinese mobile prefix") }
            return .success("+86" + n)
        }
        if !trunk, !international, n.hasPrefix("400") || n.hasPrefix("800") {
            guard n.count == 10 else { return fail("phone.invalid", "a 400/800 service number has 10 digits, found \(n.count)") }
            return .success("+86" + n)
        }
        guard trunk || international else {
            return fail("phone.invalid", "a Chinese landline needs its area code with the leading 0")
        }
        // Landline: area code 10 or 2X (8-digit subscriber), or a 3-digit code (7 or 8 digits).
        let length: ClosedRange<Int>
        if n.hasPrefix("10") {
            length = 10...10
        } else if n.hasPrefix("2") {
            guard n.dropFirst().first != "6" else { return fail("phone.invalid", "026 is not a Chinese area code") }
            length = 10...10
        } else if let first = n.first, ("3"..."9").contains(first) {
            length = 10...11
        } else {
            return fail("phone.invalid", "not a Chinese area code")
        }
        guard length.contains(n.count) else {
            return fail(n.count < length.lowerBound ? "phone.too_short" : "phone.too_long", "wrong subscriber length for the area code")
        }
        return .success("+86" + n)
    }

    static func nanp(_ input: String) -> Result<String, Failure> {
        var n = Substring(input)
        if n.count == 11, n.hasPrefix("1") { n = n.dropFirst() }
        guard n.count == 10 else {
            return .failure(Failure(code: n.count < 10 ? "phone.too_short" : "phone.too_long", message: "a NANP number has 10 digits"))
        }
        let d = Array(n)
        guard ("2"..."9").contains(d[0]), !(d[1] == "1" && d[2] == "1"), ("2"..."9").contains(d[3]) else {
            return .failure(Failure(code: "phone.invalid", message: "not a valid NANP area code and exchange"))
        }
        return .success("+1" + n)
    }

    static func hongKong(_ n: String) -> Result<String, Failure> {
        guard n.count == 8, let f = n.first, "2356789".contains(f) else {
            return .failure(Failure(code: "phone.invalid", message: "a Hong Kong number has 8 digits starting 2, 3, 5-9"))
        }
        return .success("+852" + n)
    }

    static func taiwan(_ input: String) -> Result<String, Failure> {
        var n = Substring(input)
        if n.hasPrefix("0") { n = n.dropFirst() }
        if n.hasPrefix("9") {
            guard n.count == 9 else { return .failure(Failure(code: "phone.invalid", message: "a Taiwan mobile number has 9 digits after 0")) }
        } else {
            guard let f = n.first, ("2"..."8").contains(f), (8...9).contains(n.count) else {
                return .failure(Failure(code: "phone.invalid", message: "not a Taiwan number"))
            }
        }
        return .success("+886" + n)
    }

    /// Splits a field holding several numbers. A part with fewer than five digits (`ext=123`) belongs
    /// to the number before it.
    static func splitNumbers(_ text: String) -> [String] {
        let separators = Set<Character>(["/", "、", ",", "，", ";", "；", "\n", "|"])
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
        let range = NSRange(text.startIndex..., in: text)
        guard let m = extensionPattern.firstMatch(in: text, range: range),
            let main = Range(m.range(at: 1), in: text), let ext = Range(m.range(at: 2), in: text)
        else { return (text, nil) }
        return (String(text[main]), String(text[ext]))
    }

    /// `010-65529988-123` -> (`010-65529988`, `123`).
    static func trailingGroup(_ text: String) -> (String, String)? {
        guard let dash = text.lastIndex(of: "-") else { return nil }
        let tail = text[text.index(after: dash)...]
        guard (1...5).contains(tail.count), tail.allSatisfy(\.isNumber) else { return nil }
        return (String(text[..<dash]), String(tail))
    }
}
