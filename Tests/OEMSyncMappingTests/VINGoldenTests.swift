import Foundation
import OEMSyncCore
import OEMSyncMapping
import OEMSyncTesting
import Testing

/// The VIN validator against vininfo's verdicts on 10,000+ VINs (fixtures/validators/vin-golden.jsonl,
/// made by scripts/golden-validators.py): 100 % agreement, except the rules in
/// vin-golden-exceptions.tsv, each with the reason the reference is wrong.
@Suite("VIN validator against the golden corpus")
struct VINGoldenTests {
    struct Corpus {
        var year: Int
        var rows: [[String: Any]]
    }

    static func corpus() throws -> Corpus {
        let (header, rows) = try GoldenCorpus.read("vin-golden.jsonl")
        return Corpus(year: try #require(header["year"] as? Int), rows: rows)
    }

    static func exceptions() throws -> [String: String] { try GoldenCorpus.exceptions("vin-golden-exceptions.tsv") }

    /// The rule that explains a disagreement on `field`, if the exceptions file has one.
    static func rule(for field: String, row: [String: Any], rules: [String: String]) -> String? {
        let kind = row["kind"] as? String
        let wmi = row["wmi"] as? String ?? ""
        let candidates = [
            kind == "placeholder" && field == "valid" ? "placeholder" : nil,
            wmi == "6FP" && ["checksum", "valid", "years"].contains(field) ? "wmi:6FP" : nil,
            field == "region" ? "region:\(wmi.prefix(1))" : nil,
        ]
        return candidates.compactMap { $0 }.first { rules[$0] != nil }
    }

    @Test("10,000+ VINs: normalisation, well-formedness, check digit, strict verdict, region, country, model years")
    func agreement() throws {
        let corpus = try Self.corpus()
        let rules = try Self.exceptions()
        #expect(corpus.rows.count >= 10_000)
        let strict = VINValidator(mode: .strict)
        var disagreements: [String] = []
        var used: [String: Int] = [:]
        for row in corpus.rows {
            let raw = try #require(row["raw"] as? String)
            let report = strict.inspect(raw, currentYear: corpus.year)
            let parses = row["parses"] as? Bool ?? false
            var fields: [(String, String, String)] = []  // field, reference, ours
            func compare(_ field: String, _ reference: String?, _ ours: String?) {
                if reference != ours { fields.append((field, reference ?? "nil", ours ?? "nil")) }
            }
            func compare(_ field: String, _ reference: Bool?, _ ours: Bool?) {
                compare(field, reference.map { "\($0)" }, ours.map { "\($0)" })
            }
            compare("normalized", row["normalized"] as? String, report.normalized)
            // What the validator writes for a valid VIN, through whichever path it takes.
            if let written = strict.validate(raw, field: "vin").written(from: raw) { compare("written", row["normalized"] as? String, written) }
            if let written = VINValidator(mode: .auto).validate(raw, field: "vin").written(from: raw) {
                compare("written", row["normalized"] as? String, written)
            }
            compare("parses", parses, !["vin.length", "vin.chars"].contains(report.code ?? ""))
            if parses {
                compare("checksum", row["checksum"] as? Bool, report.checkDigitOK)
                compare("valid", row["checksum_and_year"] as? Bool, report.verdict == "valid")
                compare("region", row["region"] as? String, report.region)
                compare("country", row["country"] as? String, report.country)
                compare(
                    "years", (row["years"] as? [Int])?.map(String.init).joined(separator: ","),
                    report.modelYears?.map(String.init).joined(separator: ","))
            } else {
                compare("valid", false, report.verdict == "valid")
            }
            for (field, reference, ours) in fields {
                if let rule = Self.rule(for: field, row: row, rules: rules) {
                    used[rule, default: 0] += 1
                } else {
                    disagreements.append("\(raw.debugDescription) [\(row["kind"] ?? "")] \(field): vininfo \(reference), oemsync \(ours)")
                }
            }
        }
        if !disagreements.isEmpty {
            Issue.record("\(disagreements.count) disagreements with vininfo, e.g.\n\(disagreements.prefix(12).joined(separator: "\n"))")
        }
        for rule in rules.keys { #expect(used[rule, default: 0] > 0, "exception '\(rule)' explains nothing in the corpus: remove it") }
    }

    @Test("a typed O or I is never fixed silently; the fix is suggested when the check digit then passes")
    func suggestions() throws {
        let corpus = try Self.corpus()
        let strict = VINValidator(mode: .strict)
        var suggested = 0
        for row in corpus.rows where row["kind"] as? String == "typo" && row["parses"] as? Bool == false {
            let raw = try #require(row["raw"] as? String)
            let report = strict.inspect(raw, currentYear: corpus.year)
            #expect(report.code == "vin.chars")
            let fixed = raw.replacingOccurrences(of: "O", with: "0").replacingOccurrences(of: "I", with: "1")
            let fixedReport = strict.inspect(fixed, currentYear: corpus.year)
            if fixedReport.checkDigitOK == true {
                #expect(report.message?.hasSuffix("did you mean \(fixed)?") == true, "\(raw): \(report.message ?? "")")
                suggested += 1
            } else {
                #expect(report.message?.contains("did you mean") == false, "\(raw): \(report.message ?? "")")
            }
        }
        #expect(suggested > 100)
    }

    @Test("advisory mode writes a VIN with a wrong check digit, with a warning; strict rejects it")
    func advisory() throws {
        let corpus = try Self.corpus()
        let advisory = VINValidator(mode: .advisory)
        var warned = 0
        for row in corpus.rows where row["parses"] as? Bool == true && row["kind"] as? String != "placeholder" {
            let raw = try #require(row["raw"] as? String)
            let report = advisory.inspect(raw, currentYear: corpus.year)
            // (The check digit itself is compared with vininfo in `agreement`.)
            if report.checkDigitOK == false {
                #expect(report.verdict == "warning" && report.code == "vin.check_digit", "\(raw): \(report.verdict) \(report.code ?? "")")
                warned += 1
            } else {
                #expect(report.verdict == "valid", "\(raw): \(report.code ?? "")")
            }
        }
        #expect(warned > 2000)
    }

    @Test("model year: North America by position 7, elsewhere the latest year not after next year")
    func modelYear() {
        let v = VINValidator(mode: .strict)
        #expect(v.inspect("1HGCM82633A004352", currentYear: 2026).modelYear == 2003)  // position 7 '3': 1980-2009
        #expect(v.inspect("1HGCM8263KA004352", currentYear: 2026).modelYear == 1989)  // 'K' with a digit at 7: 1989, not 2019
        #expect(v.inspect("1HGCM8263KA004352", currentYear: 2026).modelYears == [2019, 1989])
        #expect(v.inspect("7SAYGDEE1NF000000", currentYear: 2026).modelYear == 2022)  // a letter at 7: the latest
        #expect(v.inspect("7SAYGDEE1NF000000", currentYear: 2026).modelYears == [2022, 1992])
        #expect(v.inspect("LSVAB2180E2100011", currentYear: 2026).modelYear == 2014)  // China: latest candidate
        #expect(v.inspect("LSVAB2180E2100011", currentYear: 2012).modelYear == 1984)  // 2014 was not yet possible
        #expect(v.inspect("WBA71DC010CH14720", currentYear: 2026).modelYears == [])  // '0': no model year
        #expect(v.inspect("SAJAA06E9Y8F12345", currentYear: 2026).smallManufacturer == false)
        #expect(v.inspect("LS9AB2180E2100011", currentYear: 2026).smallManufacturer == true)
    }
}
