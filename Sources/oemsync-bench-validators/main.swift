// Times the VIN and phone validators on one core: `oemsync-bench-validators VINS PHONES [SECONDS]`,
// each file one input per line. Prints validations per second, the median of 5 timed rounds after
// a warm-up round, for `scripts/bench-validators`, which runs the reference beside it.
import Foundation
import OEMSyncMapping

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: oemsync-bench-validators VINS PHONES [SECONDS]\n".utf8))
    exit(64)
}
func lines(_ path: String) -> [String] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
        exit(1)
    }
    return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
}
let vins = lines(arguments[1])
let phones = lines(arguments[2])
let seconds = arguments.count > 3 ? Double(arguments[3]) ?? 1 : 1

/// Validations per second of `body` over `inputs`: rounds of at least `seconds`, median of 5.
func rate(_ inputs: [String], _ body: (String) -> Bool) -> (perSecond: Double, valid: Int) {
    var rates: [Double] = []
    var valid = 0
    for round in 0..<6 {
        var n = 0
        var ok = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        repeat {
            for s in inputs where body(s) { ok += 1 }
            n += inputs.count
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < seconds
        if round > 0 { rates.append(Double(n) / elapsed) }  // round 0 warms up
        valid = ok * inputs.count / n
    }
    rates.sort()
    return (rates[rates.count / 2], valid)
}

let vin = VINValidator(mode: .auto)
let v = rate(vins) { if case .invalid = vin.validate($0, field: "vin") { return false } else { return true } }
let phone = PhoneValidator(region: "CN")
let p = rate(phones) { if case .invalid = phone.validate($0, field: "phone") { return false } else { return true } }
print("vin\t\(Int(v.perSecond))\t\(vins.count)\t\(v.valid)")
print("phone\t\(Int(p.perSecond))\t\(phones.count)\t\(p.valid)")
