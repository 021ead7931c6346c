import Foundation
import OEMSyncCore

/// Parses dirty phone input into E.164 and judges it by number type, as libphonenumber does.
///
/// Steps, in order (domain notes §2.5): fold full-width forms; split several numbers in one field
/// (`/`, `、`, `,`, `，`, `;`, `；`, `|`, newline: the first is taken with a `phone.multiple` warning, or the
/// record is rejected, per mapping); reject masked numbers (`138****8000`); drop a label before the
/// number (`tel:`, `手机：`); take an
/// extension (`转`, `分机`, `ext`, `x`, `#`, `;ext=`, or a trailing `-123` after a full landline); then
/// read the digits with libphonenumber's rules (``PhoneNumberParser``): `+`, the default region's
/// international prefix (`00` in China, `011` in the US), its country code written without `+`
/// (`86-138…`), national and carrier prefixes, `(0)` after a country code.
///
/// Validity is by number type against libphonenumber's metadata for every region it knows (the
/// tables are compiled from phonenumbers 9.0.43 by `scripts/phone-metadata.py`): a Chinese mobile
/// number by its allocated prefix, a landline by its area code and that area's subscriber length,
/// 400/800 numbers as shared-cost and toll-free; a short code is not a number.
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

    /// Every region a default region may be (ISO 3166 codes, as libphonenumber knows them).
    public static var supportedRegions: [String] { PhoneMetadata.regionCodes }

    /// Whether `region` can be a default region.
    public static func supports(region: String) -> Bool {
        PhoneMetadata.shared.index[region] != nil && !region.hasPrefix("001")
    }

    /// The region meant by a code that is not one (`cn` for `CN`, `UK` for `GB`), if it is clear.
    public static func regionHint(_ region: String) -> String? {
        let upper = region.uppercased() == "UK" ? "GB" : region.uppercased()
        return upper != region && supports(region: upper) ? upper : nil
    }

    /// The phonenumbers release whose metadata the validator follows.
    public static var metadataVersion: String { PhoneMetadata.libraryVersion }

    public var region: String
    public var multiple: Multiple
    /// The number types a column takes (`phone.type` otherwise); nil: every valid number. A number
    /// whose type cannot be told (`fixed_line_or_mobile`, most of NANP) passes when either is taken.
    public var types: Set<PhoneNumberType>?
    let regionIndex: Int?

    public init(region: String, multiple: Multiple = .first, types: Set<PhoneNumberType>? = nil) {
        self.region = region
        self.multiple = multiple
        self.types = types
        self.regionIndex = Self.supports(region: region) ? PhoneMetadata.shared.index[region] : nil
    }

    /// Whether a number of `type` is one the column takes.
    func takes(_ type: PhoneNumberType) -> Bool {
        guard let types else { return true }
        return types.contains(type) || (type == .fixedLineOrMobile && !types.isDisjoint(with: [.fixedLine, .mobile]))
    }

    public enum Outcome: Sendable, Hashable {
        case valid(String)
        case validWithWarning(String, RecordProblem)
        case invalid(RecordProblem)
    }

    /// A number that was read.
    public struct Reading: Sendable, Hashable {
        /// `+` country code national number.
        public var e164: String
        public var `extension`: String?
        /// The region the number belongs to (`001` for a non-geographic entity such as +800).
        public var region: String
        public var type: PhoneNumberType
        public var warning: RecordProblem?

        /// What a mapping writes: E.164, with `;ext=…` when there is an extension.
        public var value: String { `extension`.map { "\(e164);ext=\($0)" } ?? e164 }
    }

    public func validate(_ raw: String, field: String) -> Outcome {
        switch inspect(raw, field: field) {
        case .success(let r): return r.warning.map { .validWithWarning(r.value, $0) } ?? .valid(r.value)
        case .failure(let p): return .invalid(p)
        }
    }

    public func inspect(_ raw: String, field: String) -> Result<Reading, RecordProblem> {
        let result = read(raw, field: field)
        if types != nil, case .success(let reading) = result, !takes(reading.type) {
            let taken = PhoneNumberType.allCases.filter { types?.contains($0) == true }.map(\.words).joined(separator: ", ")
            return .failure(
                RecordProblem(
                    code: "phone.type", message: "a \(reading.region) \(reading.type.words) number, not one of the types taken: \(taken)", field: field,
                    rawValue: raw))
        }
        return result
    }

    func read(_ raw: String, field: String) -> Result<Reading, RecordProblem> {
        func problem(_ code: String, _ message: String) -> RecordProblem {
            RecordProblem(code: code, message: message, field: field, rawValue: raw)
        }
        let folded = HalfWidth.fold(raw)
        // Fast path: one number written with digits and the usual punctuation only (most records).
        // A failure there takes the full path, which knows more forms (`010-65529988-123`).
        if let plain = plainNumber(folded) {
            switch plain {
            case .success(let reading):
                return .success(reading)
            case .failure(let f):
                // Digits and punctuation only: nothing to split, unmask or cut off, so the full path
                // comes to the same verdict, unless a trailing group is a Chinese landline's extension.
                if folded.utf8.contains(UInt8(ascii: "-")), let reading = dashExtension(Self.trimmed(folded)) { return .success(reading) }
                return .failure(problem(f.code, f.message))
            }
        }
        var text = Self.trimmed(folded)
        var warning: RecordProblem?
        let numbers = Self.splitNumbers(text)
        if numbers.count > 1 {
            let p = problem("phone.multiple", "\(numbers.count) numbers in one field")
            guard multiple == .first else { return .failure(p) }
            warning = p
        }
        text = numbers.first ?? text
        if Self.isMasked(text) {
            return .failure(problem("phone.masked", "masked number (digits replaced by '*' or 'x')"))
        }
        // A label before the number (`tel:`, `手机：`, `Mobile `) is dropped, as libphonenumber does: a
        // number starts at its first digit or '+'.
        if let start = text.utf8.firstIndex(where: { ($0 >= 48 && $0 <= 57) || $0 == UInt8(ascii: "+") }), start != text.utf8.startIndex {
            text = String(text[start...])
        }
        let (main, splitOff) = Self.splitExtension(text)
        var ext = splitOff
        // What is left must be digits and punctuation only.
        guard main.utf8.allSatisfy({ Self.allowed[Int($0)] }) else {
            return .failure(problem("phone.chars", "contains characters that are not part of a phone number"))
        }
        var result = number(main)
        if case .failure = result, ext == nil, let reading = dashExtension(main) {
            result = .success(reading)
            ext = reading.extension
        }
        switch result {
        case .failure(let failure):
            return .failure(problem(failure.code, failure.message))
        case .success(var reading):
            reading.extension = ext
            reading.warning = warning
            return .success(reading)
        }
    }

    struct Failure: Error {
        var code: String
        var message: String
    }

    /// The reading of a field that holds one plainly written number: ASCII digits, spaces, `-`,
    /// `.`, brackets and a leading `+`. Nil for anything else (letters, `*`, separators): the full
    /// path reads it. The digits are gathered on the stack: no allocation.
    func plainNumber(_ s: String) -> Result<Reading, Failure>? {
        let u = s.utf8
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: u.count) { buf -> Result<Reading, Failure>? in
            var n = 0
            var plus = false
            for b in u {
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    buf[n] = b
                    n += 1
                case UInt8(ascii: "+"):
                    guard n == 0, !plus else { return nil }
                    plus = true
                case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")"):
                    break
                default:
                    return nil
                }
            }
            guard n > 0 else { return nil }
            return number(UnsafeBufferPointer(rebasing: buf[..<n]), plus: plus)
        }
    }

    /// A number written with digits and punctuation (and a leading `+`) to a reading.
    func number(_ text: String) -> Result<Reading, Failure> {
        let u = text.utf8
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: u.count) { buf in
            var n = 0
            var plus = false
            for b in u {
                if b == UInt8(ascii: "+") {
                    guard n == 0, !plus else { return .failure(Failure(code: "phone.chars", message: "misplaced '+'")) }
                    plus = true
                } else if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                    buf[n] = b
                    n += 1
                }
            }
            guard n > 0 else { return .failure(Failure(code: "phone.chars", message: "no digits")) }
            return number(UnsafeBufferPointer(rebasing: buf[..<n]), plus: plus)
        }
    }

    /// The digits (after a `+` when `plus`) read and judged with libphonenumber's rules.
    func number(_ digits: UnsafeBufferPointer<UInt8>, plus: Bool) -> Result<Reading, Failure> {
        // Room for a national number a transform rule rewrites (see PhoneNumberParser.parse).
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * (digits.count + 16)) { scratch in
            number(digits[...], plus: plus, scratch: scratch)
        }
    }

    func number(_ digits: PhoneDigits, plus: Bool, scratch: UnsafeMutableBufferPointer<UInt8>) -> Result<Reading, Failure> {
        func fail(_ code: String, _ message: String) -> Result<Reading, Failure> { .failure(Failure(code: code, message: message)) }
        guard let regionIndex else { return fail("phone.country", "region \(region) is not supported") }
        guard digits.count >= 2 else { return fail("phone.too_short", "not a phone number: fewer than 2 digits") }
        let metadata = PhoneMetadata.shared
        let parser = PhoneNumberParser(metadata: metadata)
        let parsed: PhoneNumberParser.Parsed
        switch parser.parse(digits, plus: plus, region: regionIndex, scratch: scratch) {
        case .success(let p): parsed = p
        case .failure(.invalidCountryCode): return fail("phone.country", "no country has the calling code this number starts with")
        case .failure(.tooShortAfterInternationalPrefix): return fail("phone.too_short", "too short after the international prefix")
        case .failure(.tooShortNationalNumber): return fail("phone.too_short", "too short to be a phone number")
        case .failure(.tooLong): return fail("phone.too_long", "more than 17 digits after the country code")
        }
        let owner = parser.region(of: parsed)
        let meta = metadata.regions[owner ?? parsed.parsingRegion]
        let type = owner == nil ? .unknown : metadata.type(parsed.national, meta)
        guard type != .unknown else { return .failure(Self.reason(parsed.national, meta)) }
        return .success(
            Reading(e164: Self.e164(meta.countryCodeDigits, parsed.national), region: meta.name, type: type))
    }

    /// Why a national number that parsed is not valid in `region`, from where its walk through the
    /// region's automaton ended: one that more digits could make valid is too short, a valid number
    /// followed by more digits is too long, and one that left every number range is not allocated.
    static func reason(_ national: PhoneDigits, _ region: PhoneMetadata.Region) -> Failure {
        let metadata = PhoneMetadata.shared
        let name = region.name
        let walk = metadata.walk(national, region)
        if walk.continues {
            if metadata.testLength(national.count, region) == .possibleLocalOnly {
                return Failure(code: "phone.too_short", message: "a short code or a local number in \(name) without its area code")
            }
            return Failure(code: "phone.too_short", message: "too short for a number in \(name)")
        }
        if let (length, type) = walk.longestValidPrefix, length < national.count {
            return Failure(code: "phone.too_long", message: "too long: its first \(length) digits are a \(name) \(type.words) number")
        }
        if metadata.testLength(national.count, region) == .tooLong {
            return Failure(code: "phone.too_long", message: "too long for a number in \(name)")
        }
        return Failure(code: "phone.invalid", message: "not in any allocated number range of \(name)")
    }

    static func e164(_ country: [UInt8], _ digits: PhoneDigits) -> String {
        String(unsafeUninitializedCapacity: 1 + country.count + digits.count) { out in
            out[0] = UInt8(ascii: "+")
            var i = 1
            for b in country {
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

    /// The bytes a number may be written with once extensions and separators are gone.
    static let allowed: [Bool] = (0..<256).map { "0123456789+-.() /\t".utf8.contains(UInt8($0)) }

    /// What separates several numbers in one field.
    static func isSeparator(_ u: Unicode.Scalar) -> Bool {
        switch u {
        case "/", "、", ",", "，", ";", "；", "\n", "|": return true
        default: return false
        }
    }

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

    /// Splits a field holding several numbers. A part with fewer than five digits (`123`), or one
    /// that is an RFC 3966 extension (`ext=12345`), belongs to the number before it.
    static func splitNumbers(_ text: String) -> [String] {
        // A field with none of the separators is one number.
        guard text.unicodeScalars.contains(where: isSeparator) else { return [text] }
        var parts: [String] = []
        for piece in text.split(whereSeparator: { $0.unicodeScalars.count == 1 && isSeparator($0.unicodeScalars.first!) }) {
            let p = piece.trimmingCharacters(in: .whitespaces)
            if p.isEmpty { continue }
            if p.filter(\.isNumber).count < 5 || p.lowercased().hasPrefix("ext"), let last = parts.popLast() {
                parts.append(last + ";" + p)
            } else {
                parts.append(p)
            }
        }
        return parts.isEmpty ? [text] : parts
    }

    static func isMasked(_ text: String) -> Bool {
        // Read once, scalar by scalar (no Foundation search): a star, or two or more x right after a
        // digit (`138xxxx8000`; a single x may be an extension marker).
        var previousDigit = false
        var xs = 0
        var xsAfterDigit = false
        for u in text.unicodeScalars {
            switch u {
            case "*", "×", "＊":
                return true
            case "x", "X":
                if xs == 0 { xsAfterDigit = previousDigit }
                xs += 1
                if xs >= 2, xsAfterDigit { return true }
                previousDigit = false
            default:
                xs = 0
                previousDigit = u.isASCII ? (u >= "0" && u <= "9") : u.properties.numericType != nil
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
        // Read from the end, in UTF-8 bytes (native strings are contiguous; anything else: the regex).
        text.utf8.withContiguousStorageIfAvailable { b -> (String, String?)? in
            func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
            func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
            var end = b.count
            while end > 0, isSpace(b[end - 1]) { end -= 1 }
            var start = end
            while start > 0, isDigit(b[start - 1]) { start -= 1 }
            guard (1...6).contains(end - start) else { return nil }
            var i = start
            while i > 0, isSpace(b[i - 1]) { i -= 1 }
            var marker = 0
            for m in extensionMarkers where i >= m.count {
                var matches = true
                for k in 0..<m.count {
                    let got = b[i - m.count + k]
                    let want = m[k]
                    let letter = (want | 0x20) >= 0x61 && (want | 0x20) <= 0x7A
                    if got != want && !(letter && got | 0x20 == want | 0x20) {
                        matches = false
                        break
                    }
                }
                if matches {
                    marker = m.count
                    break
                }
            }
            guard marker > 0 else { return nil }
            i -= marker
            while i > 0, isSpace(b[i - 1]) { i -= 1 }
            // As the regex: the number ends in a digit followed only by digits, `)` and spaces.
            var j = i
            var digitInTail = false
            while j > 0, isDigit(b[j - 1]) || b[j - 1] == UInt8(ascii: ")") || isSpace(b[j - 1]) {
                if isDigit(b[j - 1]) { digitInTail = true }
                j -= 1
            }
            guard i > 0, digitInTail else { return nil }
            return (
                String(decoding: UnsafeBufferPointer(rebasing: b[..<i]), as: UTF8.self),
                String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self)
            )
        } ?? nil
    }

    /// The extension markers ``quickExtension(_:)`` knows, longest first where one ends another.
    static let extensionMarkers: [[UInt8]] = ["-分机", "分机", "转", "#", "extension", "ext.", ";ext=", "ext", "x"].map { Array($0.utf8) }

    /// `010-65529988-123`: in Chinese records, a short group after a landline written with its area
    /// code is its extension. The reading with that extension, when `text` is one.
    func dashExtension(_ text: String) -> Reading? {
        guard let (head, tail) = Self.trailingGroup(text), Self.isChineseLandline(head),
            case .success(var reading) = number(head), reading.region == "CN", reading.type == .fixedLine
        else { return nil }
        reading.extension = tail
        return reading
    }

    /// A Chinese landline as Chinese records write it: area code with its trunk 0 and the 7 or 8
    /// digit subscriber number, as `010-65529988`, `(010)65529988`, `010 65529988` or `01065529988`
    /// (not `010-6552-9988`: there the last group may be part of the number).
    static func isChineseLandline(_ text: String) -> Bool {
        let s = Array(text.utf8.filter { $0 != UInt8(ascii: " ") })
        func digits(_ part: ArraySlice<UInt8>) -> Bool { part.allSatisfy { $0 >= 48 && $0 <= 57 } }
        var area: ArraySlice<UInt8>
        var subscriber: ArraySlice<UInt8>
        if s.first == UInt8(ascii: "("), let close = s.firstIndex(of: UInt8(ascii: ")")) {
            area = s[1..<close]
            subscriber = s[(close + 1)...]
        } else if let dash = s.firstIndex(of: UInt8(ascii: "-")) {
            area = s[..<dash]
            subscriber = s[(dash + 1)...]
        } else {
            return digits(s[...]) && s.first == UInt8(ascii: "0") && (10...12).contains(s.count)
        }
        guard digits(area), digits(subscriber), area.first == UInt8(ascii: "0") else { return false }
        return (3...4).contains(area.count) && (7...8).contains(subscriber.count)
    }

    /// `010-65529988-123` -> (`010-65529988`, `123`).
    static func trailingGroup(_ text: String) -> (String, String)? {
        let u = text.utf8
        guard let dash = u.lastIndex(of: UInt8(ascii: "-")) else { return nil }
        let tail = u[u.index(after: dash)...]
        guard (1...5).contains(tail.count), tail.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return (String(text[..<dash]), String(text[u.index(after: dash)...]))
    }
}
