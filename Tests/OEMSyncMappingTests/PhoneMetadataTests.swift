@testable import OEMSyncMapping
import OEMSyncCore
import Testing

@Suite("Phone metadata: prefix patterns, automata, regions")
struct PhoneMetadataTests {
    /// (pattern, input, what Python's re.match gives: length and group spans), checked with Python 3.11.
    static let matches: [(String, String, Int?, [Range<Int>?])] = [
        ("0|80?", "80123", 2, []),  // the first alternative fails; the second takes the optional 0
        ("0|80?", "0123", 1, []),
        ("(1001)|0", "10012345", 4, [0..<4]),  // a carrier code before the trunk 0
        (#"(1(?:[12]\d|79)\d\d)|0"#, "1791212345678", 5, [0..<5]),  // China's carrier selection codes
        (#"(1(?:[12]\d|79)\d\d)|0"#, "01012345678", 1, [nil]),
        (#"(000[2569]\d{4,6})$|(?:(?:003768)0?)|0"#, "00021234", 8, [0..<8]),  // Japan: `$` anchors
        (#"(000[2569]\d{4,6})$|(?:(?:003768)0?)|0"#, "000212345678", 1, [nil]),
        (#"(000[2569]\d{4,6})$|(?:(?:003768)0?)|0"#, "0037680123", 7, [nil]),
        (#"0(8(?:[1-46-8]|5\d\d))?"#, "0851234", 5, [1..<5]),  // Korea's carrier codes
        (#"0(8(?:[1-46-8]|5\d\d))?"#, "0512", 1, [nil]),
        (#"(\d{4,6})1"#, "1234561", 7, [0..<6]),  // greedy, then backtracks to let the 1 match
        (#"([59]\d{7})$|0"#, "51234567", 8, [0..<8]),
        (#"00|99(?:[01469]|5(?:[14]1|3[23]))"#, "99531", nil, []),
        ("[08]", "8123", 1, []),
        ("1", "2345", nil, []),
    ]

    @Test("prefix patterns match as Python's re.match: first alternative that fits, greedy, groups", arguments: matches)
    func pythonSemantics(_ pattern: String, _ input: String, _ length: Int?, _ groups: [Range<Int>?]) throws {
        let p = try DigitPattern(pattern)
        let digits = Array(input.utf8)
        digits.withUnsafeBufferPointer { buf in
            let m = p.prefixMatch(buf[...])
            #expect(m?.length == length, "\(pattern) on \(input)")
            if let m { #expect(m.groups == groups, "\(pattern) on \(input)") }
            #expect(p.matchLength(buf[...]) == length)
        }
    }

    @Test("syntax outside the dialect is refused, with its place")
    func syntax() {
        for bad in ["a", "(12", "[1-", #"\w"#, "1{2"] {
            #expect(throws: DigitPattern.SyntaxError.self, "\(bad)") { try DigitPattern(bad) }
        }
    }

    @Test("every region and non-geographic entity is loaded, each country code names its regions")
    func regions() {
        let m = PhoneMetadata.shared
        #expect(PhoneMetadata.regionCodes.count == 245)
        #expect(m.regions.count == 254)
        #expect(m.countryCodes[1].map { m.regions[$0].id }.first == "US")
        #expect(m.countryCodes[1].count == 25)  // NANP
        #expect(m.countryCodes[86].map { m.regions[$0].id } == ["CN"])
        #expect(m.countryCodes[800].map { m.regions[$0].name } == ["001"])
        for r in m.regions { #expect(r.nationalPrefix?.source != "" && r.start > 0) }
    }

    @Test("the automaton answers libphonenumber's number type for the domain notes' vectors")
    func types() {
        let m = PhoneMetadata.shared
        func type(_ region: String, _ national: String) -> PhoneNumberType {
            Array(national.utf8).withUnsafeBufferPointer { m.type($0[...], m.regions[m.index[region]!]) }
        }
        #expect(type("CN", "13800138000") == .mobile)
        #expect(type("CN", "1065529988") == .fixedLine)
        #expect(type("CN", "7558601338") == .unknown)  // Shenzhen subscribers have 8 digits
        #expect(type("CN", "9356612345") == .fixedLine)
        #expect(type("CN", "3711234567") == .unknown)
        #expect(type("CN", "4008208820") == .sharedCost)
        #expect(type("CN", "8008208820") == .tollFree)
        #expect(type("DE", "15123456789") == .mobile)
        #expect(type("DE", "301234567") == .fixedLine)
        #expect(type("GB", "2079460018") == .fixedLine)
        #expect(type("GB", "7700900123") == .unknown)  // Ofcom's drama range
        #expect(type("US", "2125550123") == .fixedLineOrMobile)
        #expect(type("US", "2121234567") == .unknown)  // an exchange starting with 1
        #expect(type("US", "8005550123") == .tollFree)
    }
}

@Suite("Phone validator on random input")
struct PhoneFuzzTests {
    /// A small deterministic generator (the test must fail the same way twice).
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("every region as the default, 20,000 random fields: a verdict for each, and every valid one is E.164")
    func randomFields() {
        var rng = SplitMix(state: 20261201)
        let pieces: [String] = "0123456789012345678901234567890123456789+-. ()（）/,;x#*转分机ext+０１２３".map(String.init)
            + ["\u{3000}", "tel:", "00", "86", "0086", "(0)"]
        let regions = PhoneValidator.supportedRegions
        var valid = 0
        for i in 0..<20_000 {
            let region = regions[i % regions.count]
            let length = Int.random(in: 0...24, using: &rng)
            let raw = (0..<length).map { _ in pieces.randomElement(using: &rng)! }.joined()
            let v = PhoneValidator(region: region)
            switch v.inspect(raw, field: "p") {
            case .success(let r):
                valid += 1
                let digits = Array(r.e164.utf8.dropFirst())
                let plain = !digits.isEmpty && digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
                #expect(r.e164.hasPrefix("+") && plain && digits.count <= 20, "\(raw.debugDescription) in \(region): \(r.e164)")
                #expect(r.type != PhoneNumberType.unknown, "\(raw.debugDescription) in \(region)")
                // The same field read again gives the same reading.
                #expect(v.inspect(raw, field: "p") == .success(r))
            case .failure(let p):
                #expect(p.code.hasPrefix("phone.") && !p.message.isEmpty)
            }
        }
        #expect(valid > 40, "random digits make some valid numbers somewhere (\(valid))")
    }
}
