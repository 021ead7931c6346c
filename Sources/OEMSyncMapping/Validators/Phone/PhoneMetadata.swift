import Foundation

/// Digits '0'...'9' of a number being read, in a buffer that lives as long as the reading (stack
/// memory the validator allocates per field): slicing it costs no reference counting.
typealias PhoneDigits = Slice<UnsafeBufferPointer<UInt8>>

/// What a valid number is, by libphonenumber's metadata: every region's country code, prefixes and
/// possible lengths, and one automaton per region that answers, in one pass over the national
/// number, whether its general pattern matches and which number type it is.
///
/// The tables are compiled from the reference library by `scripts/phone-metadata.py` into
/// `PhoneMetadataTables.swift`; this file only reads them, once, on first use. (`@unchecked
/// Sendable`: the automaton is behind pointers, written in init and only read after.)
final class PhoneMetadata: @unchecked Sendable {
    /// A row of the generated region table.
    struct RegionRecord: Sendable {
        var id: String
        var countryCode: Int
        var internationalPrefix: String
        var nationalPrefixForParsing: String
        var nationalPrefixTransformRule: String
        var leadingDigits: String
        var lengths: UInt32
        var localOnlyLengths: UInt32
        var start: Int

        init(
            _ id: String, _ countryCode: Int, _ internationalPrefix: String, _ nationalPrefixForParsing: String,
            _ nationalPrefixTransformRule: String, _ leadingDigits: String, _ lengths: UInt32, _ localOnlyLengths: UInt32,
            _ start: Int
        ) {
            self.id = id
            self.countryCode = countryCode
            self.internationalPrefix = internationalPrefix
            self.nationalPrefixForParsing = nationalPrefixForParsing
            self.nationalPrefixTransformRule = nationalPrefixTransformRule
            self.leadingDigits = leadingDigits
            self.lengths = lengths
            self.localOnlyLengths = localOnlyLengths
            self.start = start
        }
    }

    /// One part of a national prefix transform rule (`8\1`): literal digits or a group's digits.
    enum TransformPart: Sendable {
        case digits([UInt8])
        case group(Int)
    }

    /// A class, so that reading one out of ``regions`` on the hot path is one reference, not a copy
    /// of every pattern and string in it.
    final class Region: Sendable {
        /// ISO 3166 code, or `001:800` for a non-geographic entity.
        let id: String
        /// As readings and messages name it: the ISO code, or `001` for a non-geographic entity.
        let name: String
        let countryCode: Int
        let countryCodeDigits: [UInt8]
        let internationalPrefix: DigitPattern?
        let nationalPrefix: DigitPattern?
        let transform: [TransformPart]?
        let leadingDigits: DigitPattern?
        /// Bit n set: a national number of n digits is possible (general description).
        let lengths: UInt32
        let localOnlyLengths: UInt32
        /// The automaton's start state.
        let start: Int

        init(
            id: String, countryCode: Int, countryCodeDigits: [UInt8], internationalPrefix: DigitPattern?, nationalPrefix: DigitPattern?,
            transform: [TransformPart]?, leadingDigits: DigitPattern?, lengths: UInt32, localOnlyLengths: UInt32, start: Int
        ) {
            self.id = id
            self.name = id.hasPrefix("001") ? "001" : id
            self.countryCode = countryCode
            self.countryCodeDigits = countryCodeDigits
            self.internationalPrefix = internationalPrefix
            self.nationalPrefix = nationalPrefix
            self.transform = transform
            self.leadingDigits = leadingDigits
            self.lengths = lengths
            self.localOnlyLengths = localOnlyLengths
            self.start = start
        }
    }

    let regions: [Region]
    /// Region index by ISO code.
    let index: [String: Int]
    /// Region indices by country code (0...999), the main country first.
    let countryCodes: [[Int]]
    // The automaton as pointers that live as long as the process (the metadata is never freed): the
    // walk reads them without retaining an array. Written once in init, read-only after.
    /// 10 next states per state; state 0 is dead.
    let transitions: UnsafePointer<UInt16>
    /// Per state: bit 7, the general pattern matches; bit 6, more digits can make a valid number;
    /// bits 0-3, the ``PhoneNumberType`` code.
    let labels: UnsafePointer<UInt8>

    static let shared = PhoneMetadata()

    /// The ISO codes of every region the metadata knows, sorted.
    static let regionCodes: [String] = shared.regions.map(\.id).filter { !$0.hasPrefix("001") }.sorted()

    init() {
        let records = Self.generatedRegions
        var regions: [Region] = []
        var index: [String: Int] = [:]
        for r in records {
            // The generator only writes patterns in DigitPattern's dialect; a failure here is a
            // generator bug, caught by the tests on first use.
            func pattern(_ s: String) -> DigitPattern? { s.isEmpty ? nil : try! DigitPattern(s) }
            index[r.id] = regions.count
            regions.append(
                Region(
                    id: r.id, countryCode: r.countryCode, countryCodeDigits: Array(String(r.countryCode).utf8),
                    internationalPrefix: pattern(r.internationalPrefix), nationalPrefix: pattern(r.nationalPrefixForParsing),
                    transform: r.nationalPrefixTransformRule.isEmpty ? nil : Self.transformParts(r.nationalPrefixTransformRule),
                    leadingDigits: pattern(r.leadingDigits), lengths: r.lengths, localOnlyLengths: r.localOnlyLengths,
                    start: r.start))
        }
        var codes = [[Int]](repeating: [], count: 1000)
        for (code, ids) in Self.generatedCountryCodes {
            codes[code] = ids.compactMap { index[$0] }
        }
        self.regions = regions
        self.index = index
        self.countryCodes = codes
        let blob = Data(base64Encoded: Self.generatedTransitions)!
        let transitions = UnsafeMutablePointer<UInt16>.allocate(capacity: blob.count / 2)
        blob.withUnsafeBytes { raw in
            for i in 0..<(raw.count / 2) { transitions[i] = UInt16(raw[2 * i]) | UInt16(raw[2 * i + 1]) << 8 }
        }
        self.transitions = UnsafePointer(transitions)
        let labelBytes = Data(base64Encoded: Self.generatedLabels)!
        let labels = UnsafeMutablePointer<UInt8>.allocate(capacity: labelBytes.count)
        labelBytes.copyBytes(to: labels, count: labelBytes.count)
        self.labels = UnsafePointer(labels)
    }

    static func transformParts(_ rule: String) -> [TransformPart] {
        var parts: [TransformPart] = []
        var literal: [UInt8] = []
        var bytes = rule.utf8.makeIterator()
        while let b = bytes.next() {
            if b == UInt8(ascii: "\\"), let g = bytes.next() {
                if !literal.isEmpty { parts.append(.digits(literal)) }
                literal = []
                parts.append(.group(Int(g) - 48))
            } else {
                literal.append(b)
            }
        }
        if !literal.isEmpty { parts.append(.digits(literal)) }
        return parts
    }

    /// The automaton's label for `digits` in `region`: bit 7 the general pattern, bits 0-3 the type.
    @inline(__always)
    func label(_ digits: PhoneDigits, _ region: Region) -> UInt8 {
        guard digits.count <= 17 else { return 0 }
        var state = region.start
        for b in digits {
            state = Int(transitions[state &* 10 &+ Int(b &- 48)])
            if state == 0 { return 0 }
        }
        return labels[state]
    }

    struct Walk {
        /// The longest leading part of the digits that is a valid number, with its type.
        var longestValidPrefix: (Int, PhoneNumberType)?
        /// Whether more digits could still make a valid number of some type.
        var continues: Bool
    }

    /// `digits` walked through the region's automaton, for the reason a number is not valid.
    func walk(_ digits: PhoneDigits, _ region: Region) -> Walk {
        var state = region.start
        var walk = Walk(longestValidPrefix: nil, continues: false)
        for (i, b) in digits.enumerated() {
            state = Int(transitions[state * 10 + Int(b - 48)])
            if state == 0 { return walk }
            let type = PhoneNumberType(code: labels[state] & 0x0F)
            if type != .unknown, i + 1 < digits.count { walk.longestValidPrefix = (i + 1, type) }
        }
        walk.continues = labels[state] & 0x40 != 0
        return walk
    }

    /// Whether the general pattern matches the whole of `digits` (libphonenumber's viability test).
    func matchesGeneral(_ digits: PhoneDigits, _ region: Region) -> Bool {
        label(digits, region) & 0x80 != 0
    }

    func type(_ digits: PhoneDigits, _ region: Region) -> PhoneNumberType {
        PhoneNumberType(code: label(digits, region) & 0x0F)
    }

    enum LengthVerdict {
        case possible, possibleLocalOnly, tooShort, tooLong, invalidLength
    }

    /// libphonenumber's `_test_number_length` against the region's general possible lengths.
    func testLength(_ count: Int, _ region: Region) -> LengthVerdict {
        if count < 32, region.localOnlyLengths & (1 << count) != 0 { return .possibleLocalOnly }
        guard region.lengths != 0 else { return .invalidLength }
        let shortest = region.lengths.trailingZeroBitCount
        let longest = 31 - region.lengths.leadingZeroBitCount
        if count == shortest { return .possible }
        if count < shortest { return .tooShort }
        if count > longest { return .tooLong }
        return region.lengths & (1 << count) != 0 ? .possible : .invalidLength
    }
}

/// libphonenumber's number types.
public enum PhoneNumberType: String, Sendable, Codable, CaseIterable {
    case unknown
    case fixedLine = "fixed_line"
    case mobile
    /// Where fixed-line and mobile numbers cannot be told apart (NANP, for instance).
    case fixedLineOrMobile = "fixed_line_or_mobile"
    case tollFree = "toll_free"
    case premiumRate = "premium_rate"
    case sharedCost = "shared_cost"
    case voip
    case personalNumber = "personal_number"
    case pager
    case uan
    case voicemail

    /// The type in words, for messages (`fixed line`, `toll free`).
    public var words: String { rawValue.replacingOccurrences(of: "_", with: " ") }

    /// The code the generated tables use (the order of `scripts/phone-metadata.py`'s TYPES).
    init(code: UInt8) {
        self = Int(code) < Self.byCode.count ? Self.byCode[Int(code)] : .unknown
    }

    /// `allCases` once: the automaton's walk asks for a type on every parse.
    private static let byCode = allCases
}
