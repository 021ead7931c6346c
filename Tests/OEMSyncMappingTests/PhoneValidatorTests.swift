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
