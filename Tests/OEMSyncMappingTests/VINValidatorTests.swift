import OEMSyncCore
import OEMSyncMapping
import Testing

@Suite("VIN validation")
struct VINValidatorTests {
    /// Domain notes §1.11, V1-V20: real VINs with correct check digits (verified with vininfo).
    static let valid = [
        "1M8GDM9AXKP042788", "1G4AH59H45G118341", "1HGCM82633A004352", "JHMCM56557C404453", "1HGBH41JXMN109186",
        "JH4KA2650HC000268", "JH4KA7561PC008269", "5YJSA1H12FFP71790", "5YJ3E1EA7HF000337", "1HD1GP4558K319097",
        "1FV3GFBC0YHA74039", "SCFEBBELXDGD17560", "YV1TS592861433393", "LJCPCBLCX11000237", "LDC613P23A1305189",
        "LSJA24U62JG269225", "LBV5S3102ESJ25655", "LVSFCFME37F107967", "LZZ1BLMJ4TJ465057", "HE9XR1C48PS083871",
    ]

    @Test("accepts the twenty reference VINs in strict mode", arguments: valid)
    func acceptsValid(_ vin: String) {
        // Already in normal form: valid as written, nothing handed back.
        #expect(VINValidator(mode: .strict).validate(vin, field: "vin") == .validAsWritten)
        #expect(VINValidator(mode: .strict).validate(vin.lowercased(), field: "vin") == .valid(vin))
    }

    /// Domain notes §1.11, I1-I16 and I20, with the reason code each must get in strict mode.
    static let invalid: [(String, String, String)] = [
        ("", "vin.length", "expected 17 characters, found 0"),
        ("1HGCM82633A00435", "vin.length", "expected 17 characters, found 16"),
        ("JHMCM56557C4044533", "vin.length", "expected 17 characters, found 18"),
        ("1HGCM82633A00I352", "vin.chars", "character 'I' at position 14 is not allowed in a VIN"),
        ("1HGCM82633AO04352", "vin.chars", "character 'O' at position 12 is not allowed in a VIN; did you mean 1HGCM82633A004352?"),
        ("1HGCM82633A0Q4352", "vin.chars", "character 'Q' at position 13 is not allowed in a VIN; did you mean 1HGCM82633A004352?"),
        ("1HGCM82633A00435*", "vin.chars", "character '*' at position 17 is not allowed in a VIN"),
        ("1HGCM82633A004353", "vin.check_digit", "expected 5, found 3"),
        ("1M8GDM9A1KP042788", "vin.check_digit", "expected X, found 1"),
        ("1HGCM82633A004325", "vin.check_digit", "expected 0, found 3"),
        ("1HGCM8263AA004352", "vin.check_digit", "expected 7, found 3"),
        ("1HGCM8261UA004352", "vin.year", "'U' at position 10 is not a model-year code"),
        ("1HGCM8262ZA004352", "vin.year", "'Z' at position 10 is not a model-year code"),
        ("00000000000000000", "vin.placeholder", "one character repeated 17 times is a placeholder, not a VIN"),
        ("11111111111111111", "vin.placeholder", "one character repeated 17 times is a placeholder, not a VIN"),
        ("124379N500001", "vin.length", "expected 17 characters, found 13"),
        ("GRS182-0001234", "vin.length", "expected 17 characters, found 13"),
        ("WBANU53578CT69351", "vin.check_digit", "expected 0, found 7"),
    ]

    @Test("rejects malformed VINs with a reason code and message", arguments: invalid)
    func rejectsInvalid(_ input: String, _ code: String, _ message: String) throws {
        guard case .invalid(let problem) = VINValidator(mode: .strict).validate(input, field: "vin") else {
            Issue.record("\(input) was accepted")
            return
        }
        #expect(problem.code == code)
        #expect(problem.message == message)
        #expect(problem.field == "vin")
        #expect(problem.rawValue == input)
    }

    @Test("normalises case, full-width characters, spaces and hyphens, keeping the raw value")
    func normalises() {
        let v = VINValidator(mode: .strict)
        for raw in ["1hgcm82633a004352", " 1HGCM826 33A004352 ", "1HGCM-82633A004352", "１ＨＧＣＭ８２６３３Ａ００４３５２"] {
            #expect(v.validate(raw, field: "vin") == .valid("1HGCM82633A004352"), "\(raw)")
        }
    }

    @Test("advisory mode writes EU VINs without a check digit, with a warning")
    func advisoryWarns() {
        let outcome = VINValidator(mode: .advisory).validate("WVWZZZ3CZEE140287", field: "vin")
        guard case .validWithWarning(let vin, let warning) = outcome else {
            Issue.record("expected a warning, got \(outcome)")
            return
        }
        #expect(vin == "WVWZZZ3CZEE140287")
        #expect(warning.code == "vin.check_digit")
        // Position 10 '0' (no model year, BMW EU) passes in advisory mode, fails in strict mode.
        #expect(VINValidator(mode: .advisory).validate("WBA71DC010CH14720", field: "vin") == .validAsWritten)
        guard case .invalid(let p) = VINValidator(mode: .strict).validate("WBA71DC010CH14720", field: "vin") else {
            Issue.record("strict mode accepted a VIN without a model year")
            return
        }
        #expect(p.code == "vin.year")
    }

    @Test("auto mode is strict for North America and China, advisory elsewhere")
    func autoByRegion() {
        let auto = VINValidator(mode: .auto)
        // Brazil (9): the check digit is not mandatory -> warning.
        if case .validWithWarning = auto.validate("9BWZZZ377VT004251", field: "vin") {} else {
            Issue.record("a Brazilian VIN with a wrong check digit should be written with a warning")
        }
        // China (L) with a wrong check digit -> rejected.
        if case .invalid(let p) = auto.validate("LSJA24U63JG269225", field: "vin") { #expect(p.code == "vin.check_digit") } else {
            Issue.record("a Chinese VIN with a wrong check digit must be rejected")
        }
        // US (1) with a wrong check digit -> rejected.
        if case .invalid = auto.validate("1HGCM82633A004353", field: "vin") {} else { Issue.record("a US VIN must be strict") }
    }
}
