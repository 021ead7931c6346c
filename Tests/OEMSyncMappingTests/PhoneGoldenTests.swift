import Foundation
import OEMSyncCore
import OEMSyncMapping
import OEMSyncTesting
import Testing

/// The phone validator against phonenumbers' verdicts (libphonenumber's metadata) on 10,000+ phone
/// strings (fixtures/validators/phone-golden.jsonl, made by scripts/golden-validators.py): valid or
/// not, and for a valid number its E.164, extension, number type and region, 100 % the same, except
/// the kinds in phone-golden-exceptions.tsv, where the reference is wrong about dirty input.
@Suite("Phone validator against the golden corpus")
struct PhoneGoldenTests {
    static func corpus() throws -> (header: [String: Any], rows: [[String: Any]]) { try GoldenCorpus.read("phone-golden.jsonl") }

    static func exceptions() throws -> [String: String] { try GoldenCorpus.exceptions("phone-golden-exceptions.tsv") }

    /// A verdict as the corpus writes it: "invalid", or "E164 ext type region".
    static func verdict(_ r: [String: Any]) -> String {
        guard r["valid"] as? Bool == true else { return "invalid" }
        return [r["e164"] as? String ?? "?", r["ext"] as? String ?? "-", r["type"] as? String ?? "?", r["region"] as? String ?? "?"]
            .joined(separator: " ")
    }

    static func verdict(_ v: PhoneValidator, _ raw: String) -> String {
        switch v.inspect(raw, field: "phone") {
        case .success(let r): return [r.e164, r.extension ?? "-", r.type.rawValue, r.region].joined(separator: " ")
        case .failure: return "invalid"
        }
    }

    @Test("10,000+ phone strings in 9 regions and the world: validity, E.164, extension, type and region")
    func agreement() throws {
        let (header, rows) = try Self.corpus()
        #expect(header["phonenumbers"] as? String == PhoneValidator.metadataVersion, "the corpus and the tables come from one phonenumbers release")
        let kinds = try Self.exceptions()
        #expect(rows.count >= 10_000)
        var validators: [String: PhoneValidator] = [:]
        var disagreements: [String] = []
        var needed: [String: Int] = [:]
        var valid = 0
        for row in rows {
            let raw = try #require(row["raw"] as? String)
            let region = try #require(row["default_region"] as? String)
            let kind = row["kind"] as? String ?? ""
            let validator = validators[region] ?? PhoneValidator(region: region)
            validators[region] = validator
            let reference = Self.verdict(row)
            let ours = Self.verdict(validator, raw)
            if reference != "invalid" { valid += 1 }
            if row.keys.contains("input") {
                // A kind the reference gets wrong: it must be listed, and the raw verdict must differ.
                #expect(kinds[kind] != nil, "kind \(kind) has a cleaned reference but no reason in the exceptions file")
                if let rawVerdict = row["raw_verdict"] as? [String: Any], Self.verdict(rawVerdict) != reference { needed[kind, default: 0] += 1 }
            }
            if ours != reference {
                disagreements.append("\(raw.debugDescription) [\(kind), \(region)]: phonenumbers \(reference), oemsync \(ours)")
            }
        }
        if !disagreements.isEmpty {
            Issue.record("\(disagreements.count) disagreements with phonenumbers, e.g.\n\(disagreements.prefix(25).joined(separator: "\n"))")
        }
        #expect(valid > 5000, "the corpus holds valid numbers of every kind, not only rejects")
        for kind in kinds.keys {
            #expect(needed[kind, default: 0] > 0, "exception '\(kind)' is not needed: phonenumbers judges its rows right; remove it")
        }
    }

    @Test("every number type and all 9 named regions are in the corpus")
    func coverage() throws {
        let (_, rows) = try Self.corpus()
        let types = Set(rows.compactMap { $0["type"] as? String })
        for t in PhoneNumberType.allCases where t != .unknown {
            #expect(types.contains(t.rawValue), "no \(t.rawValue) number in the corpus")
        }
        let regions = Set(rows.filter { $0["valid"] as? Bool == true }.compactMap { $0["region"] as? String })
        for r in ["CN", "US", "CA", "DE", "GB", "JP", "KR", "HK", "TW"] { #expect(regions.contains(r)) }
        #expect(regions.count > 150, "numbers of most regions of the world (\(regions.count))")
    }
}
