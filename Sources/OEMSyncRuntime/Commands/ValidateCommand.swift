import Foundation
import OEMSyncCore
import OEMSyncMapping

/// `oemsync validate vin VIN…` and `oemsync validate phone NUMBER… --region CN`: the validators the
/// mappings use, on values typed or piped in (one per line). Exit 0 when every value is valid (a
/// warning, such as a wrong check digit in advisory mode, counts as valid), 1 otherwise.
public enum ValidateCommand {
    public static func vin(_ values: [String], mode: VINValidator.Mode, json: Bool, console: Console, currentYear: Int? = nil) -> Int32 {
        let year = currentYear ?? Calendar(identifier: .gregorian).component(.year, from: Date())
        let validator = VINValidator(mode: mode)
        let reports = values.map { validator.inspect($0, currentYear: year) }
        if json {
            console.out(CommandJSON.encode(reports))
        } else {
            var rows: [[String]] = []
            for r in reports {
                var about: [String] = []
                if let code = r.code { about.append("\(code): \(r.message ?? "")") }
                if let country = r.country ?? r.region { about.append(r.region.map { $0 == country ? country : "\(country), \($0)" } ?? country) }
                if let year = r.modelYear { about.append("model year \(year)") }
                if r.smallManufacturer == true { about.append("small manufacturer") }
                rows.append([r.raw.trimmingCharacters(in: .whitespaces), r.verdict, r.verdict == "invalid" ? "" : r.normalized, about.joined(separator: "; ")])
            }
            console.out(TextTable.render(header: ["input", "verdict", "vin", "notes"], rows: rows))
        }
        return reports.allSatisfy { $0.verdict != "invalid" } ? ExitStatus.ok : ExitStatus.failure
    }

    public struct PhoneReport: Sendable, Codable {
        public var raw: String
        public var verdict: String
        /// E.164, with `;ext=…` when the input had an extension.
        public var e164: String?
        public var code: String?
        public var message: String?
    }

    public static func phone(_ values: [String], region: String, multiple: PhoneValidator.Multiple, json: Bool, console: Console) -> Int32 {
        guard PhoneValidator.supportedRegions.contains(region) else {
            console.err("oemsync validate phone: region '\(region)' is not supported (\(PhoneValidator.supportedRegions.joined(separator: ", ")))\n")
            return ExitStatus.usage
        }
        let validator = PhoneValidator(region: region, multiple: multiple)
        let reports = values.map { raw -> PhoneReport in
            switch validator.validate(raw, field: "phone") {
            case .valid(let v): return PhoneReport(raw: raw, verdict: "valid", e164: v)
            case .validWithWarning(let v, let p): return PhoneReport(raw: raw, verdict: "warning", e164: v, code: p.code, message: p.message)
            case .invalid(let p): return PhoneReport(raw: raw, verdict: "invalid", code: p.code, message: p.message)
            }
        }
        if json {
            console.out(CommandJSON.encode(reports))
        } else {
            let rows = reports.map { r in
                [r.raw.trimmingCharacters(in: .whitespaces), r.verdict, r.e164 ?? "", r.code.map { "\($0): \(r.message ?? "")" } ?? ""]
            }
            console.out(TextTable.render(header: ["input", "verdict", "e164", "notes"], rows: rows))
        }
        return reports.allSatisfy { $0.verdict != "invalid" } ? ExitStatus.ok : ExitStatus.failure
    }
}
