import OEMSyncCore
import OEMSyncMapping
import Testing

@Suite("Phone number validation")
struct PhoneValidatorTests {
    /// Dirty inputs from domain notes §2.5 (default region CN) and the E.164 they must give.
    static let valid: [(String, String)] = [
        ("+86 138-0013-8000", "+8613800138000"),
        ("86-13800138000", "+8613800138000"),
        ("8613800138000", "+8613800138000"),
        ("008613800138000", "+8613800138000"),
        ("013800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("tel:+86-138-0013-8000", "+8613800138000"),
        ("１３８００１３８０００", "+8613800138000"),
        ("０１０－６５５２９９８８", "+861065529988"),
        ("（010）65529988", "+861065529988"),
        ("+86 (0)10 6552 9988", "+861065529988"),
        ("+86-0755-86013388", "+8675586013388"),
        ("0935-6612345", "+869356612345"),
        ("010-65529988 ext. 123", "+861065529988;ext=123"),
        ("010-65529988;ext=123", "+861065529988;ext=123"),
        ("(010)65529988转123", "+861065529988;ext=123"),
        ("010 6552 9988 分机 123", "+861065529988;ext=123"),
        ("010-65529988-123", "+861065529988;ext=123"),
        ("400-820-8820", "+864008208820"),
        ("+852 9123 4567", "+85291234567"),
        ("+886 912 345 678", "+886912345678"),
        ("+1 212 555 0123", "+12125550123"),
    ]

    @Test("parses dirty Chinese and international forms into E.164", arguments: valid)
    func parses(_ raw: String, _ e164: String) {
        #expect(PhoneValidator(region: "CN").validate(raw, field: "phone") == .valid(e164))
    }

    static let invalid: [(String, String)] = [
        ("138****8000", "phone.masked"),
        ("138xxxx8000", "phone.masked"),
        ("1380013800", "phone.too_short"),
        ("138001380001", "phone.too_long"),
        ("14012345678", "phone.invalid"),  // 140 is not an allocated mobile prefix
        ("15412345678", "phone.invalid"),  // nor is 154
        ("19412345678", "phone.invalid"),  // nor 194
        ("95588", "phone.too_short"),  // a short code is not a customer phone
        ("026-12345678", "phone.invalid"),  // 026 is not an area code
        ("010-1234567", "phone.too_short"),  // Beijing subscribers have 8 digits
        ("65529988", "phone.invalid"),  // a landline without its area code
        ("call me", "phone.chars"),
    ]

    @Test("rejects masked, short, unallocated and malformed numbers with a reason", arguments: invalid)
    func rejects(_ raw: String, _ code: String) {
        guard case .invalid(let p) = PhoneValidator(region: "CN").validate(raw, field: "phone") else {
            Issue.record("\(raw) was accepted")
            return
        }
        #expect(p.code == code)
        #expect(!p.message.contains(raw), "a message must not repeat the number")
    }

    @Test("several numbers in one field: the first with a warning, or a reject, per mapping")
    func multiple() {
        let raw = "13800138000 / 13900139000"
        guard case .validWithWarning(let value, let w) = PhoneValidator(region: "CN", multiple: .first).validate(raw, field: "p") else {
            Issue.record("expected the first number with a warning")
            return
        }
        #expect(value == "+8613800138000")
        #expect(w.code == "phone.multiple")
        guard case .invalid(let p) = PhoneValidator(region: "CN", multiple: .reject).validate(raw, field: "p") else {
            Issue.record("multiple: reject must reject")
            return
        }
        #expect(p.code == "phone.multiple")
    }

    @Test("NANP rules for US numbers")
    func nanp() {
        let us = PhoneValidator(region: "US")
        #expect(us.validate("(212) 555-0123", field: "p") == .valid("+12125550123"))
        #expect(us.validate("1-212-555-0123", field: "p") == .valid("+12125550123"))
        for bad in ["212-123-4567", "112-555-0123", "911-555-0123"] {
            if case .valid = us.validate(bad, field: "p") { Issue.record("\(bad) accepted") }
        }
    }
}

@Suite("Phone numbers of every region, by number type")
struct PhoneRegionTests {
    /// (default region, input, E.164 or the problem code, type): domain notes §2.6 and libphonenumber's
    /// verdicts (phonenumbers 9.0.43).
    static let cases: [(String, String, String, PhoneNumberType?)] = [
        ("DE", "+49 1512 3456789", "+4915123456789", .mobile),
        ("DE", "030 1234567", "+49301234567", .fixedLine),
        ("DE", "0180 5 123456", "+491805123456", .sharedCost),
        ("GB", "020 7946 0018", "+442079460018", .fixedLine),
        ("GB", "07700 900123", "phone.invalid", nil),  // the drama range is not allocated
        ("GB", "+44 (0)7911 123456", "+447911123456", .mobile),
        ("JP", "03-1234-5678", "+81312345678", .fixedLine),
        ("JP", "090-1234-5678", "+819012345678", .mobile),
        ("JP", "0120-123-456", "+81120123456", .tollFree),
        ("KR", "010-1234-5678", "+821012345678", .mobile),
        ("KR", "02-312-3456", "+8223123456", .fixedLine),
        ("KR", "081 2 312 3456", "+8223123456", .fixedLine),  // carrier code 81 after the trunk 0
        ("HK", "2123 4567", "+85221234567", .fixedLine),
        ("HK", "5123 4567", "+85251234567", .mobile),
        ("TW", "02 2345 6789", "+886223456789", .fixedLine),
        ("TW", "0912 345 678", "+886912345678", .mobile),
        ("US", "011 49 30 1234567", "+49301234567", .fixedLine),  // the US international prefix
        ("US", "0049 30 1234567", "phone.too_long", nil),  // 00 is not one in the US
        ("CA", "(604) 555-0123", "+16045550123", .fixedLineOrMobile),
        ("CN", "0755-8601338", "phone.too_short", nil),  // Shenzhen has 8-digit subscribers
        ("CN", "0371-1234567", "phone.too_short", nil),
        ("CN", "0935-6612345", "+869356612345", .fixedLine),
        ("CN", "17951 13800138000", "+8613800138000", .mobile),  // an IP dialling carrier code
        ("CN", "+1 868 620 1234", "+18686201234", .mobile),  // Trinidad, a NANP region of its own
        ("CN", "+800 1234 5678", "+80012345678", .tollFree),  // a non-geographic number
        ("CN", "+999 123 4567", "phone.country", nil),
    ]

    @Test("E.164, number type or the problem, per region", arguments: cases)
    func region(_ region: String, _ raw: String, _ expected: String, _ type: PhoneNumberType?) {
        let v = PhoneValidator(region: region)
        switch v.inspect(raw, field: "phone") {
        case .success(let r):
            #expect(r.value == expected, "\(raw) in \(region)")
            if let type { #expect(r.type == type, "\(raw) in \(region)") }
        case .failure(let p):
            #expect(p.code == expected, "\(raw) in \(region): \(p.message)")
            #expect(!p.message.contains(raw.filter(\.isNumber)), "a message must not repeat the number")
        }
    }

    @Test("a mapping can take only some number types; one that cannot be told apart passes with either")
    func types() {
        let mobile = PhoneValidator(region: "CN", types: [.mobile])
        #expect(mobile.validate("13800138000", field: "p") == .valid("+8613800138000"))
        guard case .invalid(let p) = mobile.validate("400-820-8820", field: "p") else {
            Issue.record("a shared-cost number was taken as a mobile")
            return
        }
        #expect(p.code == "phone.type")
        #expect(p.message == "a CN shared cost number, not one of the types taken: mobile")
        #expect(mobile.validate("+1 212 555 0123", field: "p") == .valid("+12125550123"))
        #expect(PhoneValidator(region: "US", types: [.tollFree]).validate("212 555 0123", field: "p") != .valid("+12125550123"))
    }

    @Test("reasons name the length or the range, not the number")
    func reasons() {
        let cn = PhoneValidator(region: "CN")
        func problem(_ raw: String) -> String {
            if case .invalid(let p) = cn.validate(raw, field: "p") { return "\(p.code): \(p.message)" }
            return "accepted"
        }
        #expect(problem("1380013800") == "phone.too_short: too short for a number in CN")
        #expect(problem("138001380001") == "phone.too_long: too long: its first 11 digits are a CN mobile number")
        #expect(problem("14012345678") == "phone.invalid: not in any allocated number range of CN")
        #expect(problem("95588") == "phone.too_short: a short code or a local number in CN without its area code")
    }
}
