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
        /// The number's region (`001` for +800 and the other non-geographic codes).
        public var region: String?
        /// libphonenumber's number type: mobile, fixed_line, fixed_line_or_mobile, toll_free, …
        public var type: String?
        public var code: String?
        public var message: String?
    }

    public static func phone(
        _ values: [String], region: String, multiple: PhoneValidator.Multiple, types: Set<PhoneNumberType>? = nil, json: Bool, console: Console
    ) -> Int32 {
        guard PhoneValidator.supports(region: region) else {
            console.err("oemsync validate phone: region '\(region)' is not a region libphonenumber knows\n")
            return ExitStatus.usage
        }
        let validator = PhoneValidator(region: region, multiple: multiple, types: types)
        let reports = values.map { raw -> PhoneReport in
            switch validator.inspect(raw, field: "phone") {
            case .success(let r):
                return PhoneReport(
                    raw: raw, verdict: r.warning == nil ? "valid" : "warning", e164: r.value, region: r.region, type: r.type.rawValue,
                    code: r.warning?.code, message: r.warning?.message)
            case .failure(let p):
                return PhoneReport(raw: raw, verdict: "invalid", code: p.code, message: p.message)
            }
        }
        if json {
            console.out(CommandJSON.encode(reports))
        } else {
            let rows = reports.map { r in
                let about = [r.region.map { "\($0) \(r.type ?? "")" }, r.code.map { "\($0): \(r.message ?? "")" }].compactMap { $0 }
                return [r.raw.trimmingCharacters(in: .whitespaces), r.verdict, r.e164 ?? "", about.joined(separator: "; ")]
            }
            console.out(TextTable.render(header: ["input", "verdict", "e164", "notes"], rows: rows))
        }
        return reports.allSatisfy { $0.verdict != "invalid" } ? ExitStatus.ok : ExitStatus.failure
    }
}
