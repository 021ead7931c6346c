import OEMSyncCore

/// Applies a bound mapping to one raw record: a row in target-column order, or a reject listing
/// every problem found in the record (not only the first), plus warnings for nulled or defaulted values.
///
/// Per column, in this order: read the source field(s); `transforms`; empty becomes missing;
/// missing takes the `default`, or is a `value.required` problem if `required`; `lookup`; `validate`
/// (VIN, phone: the normalised value is what is written); type coercion; `length`, `range`,
/// `pattern`, `enum`. A problem is handled by the column's `on_error`.
public struct RecordMapper: Sendable {
    public let bound: BoundMapping

    public init(_ bound: BoundMapping) { self.bound = bound }

    public enum Outcome: Sendable {
        case row([Value], warnings: [Warning])
        case reject(Reject, warnings: [Warning])
    }

    public func map(_ record: RawRecord) -> Outcome {
        if let problem = record.problem {
            return .reject(Reject(line: record.line, problems: [problem], rawRecord: JSONText.array(record.fields)), warnings: [])
        }
        if let expected = bound.expectedFieldCount, record.fields.count != expected {
            let problem = RecordProblem(
                code: "csv.columns", message: "expected \(expected) fields, found \(record.fields.count)")
            return .reject(Reject(line: record.line, problems: [problem], rawRecord: JSONText.array(record.fields)), warnings: [])
        }
        let columns = bound.plan.columns
        var values: [Value] = []
        values.reserveCapacity(columns.count)
        var problems: [RecordProblem] = []
        var warnings: [Warning] = []
        for i in columns.indices {
            let column = columns[i]
            let raw = read(bound.inputs[i], record.fields)
            var warning: RecordProblem?
            switch evaluate(column, raw, warning: &warning) {
            case .success(let value):
                values.append(value)
                if var w = warning {
                    w.rawValue = raw
                    warnings.append(Warning(line: record.line, problem: w, action: "kept"))
                }
            case .failure(var problem):
                problem.rawValue = raw
                switch column.onError {
                case .reject:
                    problems.append(problem)
                    values.append(.null)
                case .null:
                    values.append(.null)
                    warnings.append(Warning(line: record.line, problem: problem, action: "null"))
                case .default:
                    values.append(column.defaultValue ?? .null)
                    warnings.append(Warning(line: record.line, problem: problem, action: "default"))
                }
            }
        }
        if !problems.isEmpty {
            return .reject(Reject(line: record.line, problems: problems, rawRecord: JSONText.array(record.fields)), warnings: warnings)
        }
        return .row(values, warnings: warnings)
    }

    @inline(__always)
    private func read(_ input: BoundMapping.BoundInput, _ fields: [String]) -> String? {
        switch input {
        case .index(let i): return i < fields.count ? fields[i] : nil
        case .constant(let c): return c
        case .concat(let indexes, let sep):
            let parts = indexes.compactMap { $0 < fields.count ? fields[$0] : nil }.filter { !$0.isEmpty }
            return parts.isEmpty ? nil : parts.joined(separator: sep)
        }
    }

    /// The value of one column, with an optional warning (a kept OEM code, an advisory VIN, a
    /// second phone number), or the problem that stops it.
    func evaluate(_ column: ColumnPlan, _ raw: String?, warning: inout RecordProblem?) -> Result<Value, RecordProblem> {
        var text = raw
        let transforms = column.transforms
        for i in transforms.indices {
            guard let s = text else { break }
            text = transforms[i].apply(s)
        }
        guard var text, !text.isEmpty else {
            if let d = column.defaultValue { return .success(d) }
            if column.required {
                return .failure(RecordProblem(code: "value.required", message: "required value is missing", field: column.name, rawValue: raw))
            }
            return .success(.null)
        }
        if let lookup = column.lookup {
            if let mapped = lookup.codes[text] {
                text = mapped
            } else if lookup.onMissing == .keep {
                warning = RecordProblem(code: "lookup.missing", message: "code not in table '\(lookup.table)', kept as is", field: column.name, rawValue: text)
            } else {
                return .failure(RecordProblem(code: "lookup.missing", message: "code not in table '\(lookup.table)'", field: column.name, rawValue: text))
            }
        }
        switch column.validator {
        case .vin(let v)?:
            switch v.validate(text, field: column.name) {
            case .validAsWritten: break
            case .valid(let vin): text = vin
            case .validWithWarning(let vin, let w):
                text = vin
                warning = w
            case .invalid(let p): return .failure(p)
            }
        case .phone(let v)?:
            switch v.validate(text, field: column.name) {
            case .valid(let e164): text = e164
            case .validWithWarning(let e164, let w):
                text = e164
                warning = w
            case .invalid(let p): return .failure(p)
            }
        case nil: break
        }
        let value: Value
        switch column.coercion.coerce(text, field: column.name) {
        case .success(let v): value = v
        case .failure(let p): return .failure(p)
        }
        if let p = check(column, value, text) { return .failure(p) }
        return .success(value)
    }

    private func check(_ column: ColumnPlan, _ value: Value, _ text: String) -> RecordProblem? {
        let checks = column.checks
        func problem(_ code: String, _ message: String) -> RecordProblem {
            RecordProblem(code: code, message: message, field: column.name, rawValue: text)
        }
        if let length = checks.length, case .string(let s) = value {
            let count = s.utf8.allSatisfy { $0 < 0x80 } ? s.utf8.count : s.count
            if !length.contains(count) {
                let expected = length.lowerBound == length.upperBound ? "\(length.lowerBound)" : "\(length.lowerBound) to \(length.upperBound)"
                return problem("value.length", "length \(count), expected \(expected)")
            }
        }
        if checks.minimum != nil || checks.maximum != nil {
            let comparable: RangeBound?
            switch value {
            case .int(let i): comparable = .number(Double(i))
            case .decimal(let d): comparable = Double(d).map { .number($0) }
            case .date(let d): comparable = .date(d)
            case .datetime(let t): comparable = .date(CivilDate(daysSinceEpoch: Int(t.microseconds.floorDiv(86_400_000_000))))
            default: comparable = nil
            }
            if let c = comparable {
                if let lo = checks.minimum, !RangeCheck.lessOrEqual(lo, c) { return problem("value.range", "below the minimum \(lo)") }
                if let hi = checks.maximum, !RangeCheck.lessOrEqual(c, hi) { return problem("value.range", "above the maximum \(hi)") }
            }
        }
        if let regex = column.pattern, let t = value.text, !regex.matchesWhole(t) {
            return problem("value.pattern", "does not match the pattern \(regex.text)")
        }
        if let allowed = checks.allowed, let t = value.text, !allowed.contains(t) {
            let list = allowed.count <= 8 ? allowed.joined(separator: ", ") : allowed.prefix(8).joined(separator: ", ") + ", ..."
            return problem("value.enum", "not one of \(list)")
        }
        return nil
    }
}
