import OEMSyncCore
import Yams

/// Compiles one entry of a mapping's `columns:` into a ``ColumnPlan``, merging in the dictionary
/// field it names (explicitly with `field:`, or implicitly by having that field's name).
struct ColumnCompiler {
    let name: String
    let keyNode: Node
    let dictionary: DataDictionary
    let mappingZone: ZoneConverter?
    let headerless: Bool
    /// For a JSON source, the number of `[*]` in its records path (how far `^` may reach); nil for CSV.
    let json: Int?
    /// For an XML source: the prefixes its field paths use.
    var xml: [String: String]? = nil
    /// Key columns are always required: a record without its key cannot be written.
    let isKey: Bool

    static let keys = [
        "source", "sources", "join", "value", "field", "type", "formats", "timezone", "scale", "true_values",
        "false_values", "transforms", "default", "required", "length", "range", "pattern", "enum", "lookup",
        "validate", "on_error", "personal", "description",
    ]
    static let transformNames = ["trim", "upper", "lower", "nfkc", "collapse_spaces"]
    static let transformKeys = ["replace", "extract", "split", "remove_prefix", "remove_suffix"]

    mutating func compile(_ node: Node, reader: inout YAMLReader) -> ColumnPlan? {
        let before = reader.diagnostics.errors.count
        let what = "column '\(name)'"
        guard let entries = reader.entries(node, what: what, allowed: Self.keys) else { return nil }
        func entry(_ key: String) -> YAMLReader.Entry? { entries.first { $0.key == key } }

        // The dictionary field this column stands for.
        var field: FieldDefinition?
        if let e = entry("field") {
            if let f = reader.nonEmptyString(e.value, what: "field") {
                field = dictionary.fields[f]
                if field == nil {
                    let help = Suggestion.closest(to: f, in: dictionary.fields.keys).map { "did you mean '\($0)'?" }
                    reader.error("402", "unknown dictionary field '\(f)'", at: e.value, help: help)
                }
            }
        } else {
            field = dictionary.fields[name]
        }

        // Input: exactly one of source, sources, value.
        let inputs = ["source", "sources", "value"].compactMap(entry)
        var input: ColumnPlan.Input?
        if inputs.count != 1 {
            reader.error(
                inputs.isEmpty ? "102" : "104",
                inputs.isEmpty ? "\(what) needs one of source, sources or value" : "\(what) has more than one of source, sources, value",
                at: inputs.count > 1 ? inputs[1].keyNode : keyNode)
        } else {
            let e = inputs[0]
            switch e.key {
            case "source":
                let separator = entry("join").flatMap { reader.string($0.value, what: "join") } ?? ","
                input = fieldReference(e.value, join: separator, reader: &reader).map { .field($0) }
            case "sources":
                if let items = reader.sequence(e.value, what: "sources") {
                    let refs = items.compactMap { fieldReference($0, reader: &reader) }
                    if items.count < 2 { reader.error("104", "sources needs at least two fields (use source for one)", at: e.value) }
                    let separator = entry("join").flatMap { reader.string($0.value, what: "join") } ?? ""
                    if refs.count == items.count { input = .concat(refs, separator: separator) }
                }
            default:
                if case .scalar(let s) = e.value { input = .constant(s.string) } else {
                    reader.error("103", "value must be a constant (a string or a number)", at: e.value)
                }
            }
        }
        var joinsValues = false  // a JSON path with [*], or any XML element (it may repeat): join separates its values
        if case .field(.path(let p, _))? = input { joinsValues = p.hasWildcard }
        if case .field(.xml(let p, _))? = input { joinsValues = p.attribute == nil }
        if let j = entry("join"), entry("sources") == nil, !joinsValues {
            reader.error("104", "join only applies to sources, to a JSON source path with [*], or to an XML element path", at: j.keyNode)
        }

        // Type, taken from the dictionary when the mapping does not say.
        var type = field?.type ?? .string
        if let e = entry("type"),
            let t = reader.choice(e.value, what: "type", allowed: ColumnType.allCases.map(\.rawValue)).flatMap(ColumnType.init)
        {
            if let field, field.type != t {
                reader.error(
                    "403", "\(what) is \(t) but dictionary field '\(field.name)' is \(field.type)", at: e.value,
                    notes: ["'\(field.name)' is defined at \(field.location)"])
            }
            type = t
        }

        var coercion = Coercion(type: type)
        coercion.scale = field?.scale
        compileTypeOptions(entry, type: type, into: &coercion, reader: &reader)

        let transforms = entry("transforms").map { compileTransforms($0.value, reader: &reader) } ?? []

        var checks = ValueChecks()
        for e in entries where CheckReader.keys.contains(e.key) {
            CheckReader.read(e, into: &checks, reader: &reader)
            if let problem = Self.checkMismatch(e.key, checks, type) {
                reader.error("209", "\(problem) \(type) column '\(name)'", at: e.keyNode)
            }
        }
        checks = checks.overriding(field?.checks ?? ValueChecks())
        let pattern = checks.pattern.flatMap { try? ValuePattern($0) }

        let required = isKey || (entry("required").flatMap { reader.bool($0.value, what: "required") } ?? false)
        let personal = entry("personal").flatMap { reader.bool($0.value, what: "personal") } ?? field?.personal ?? false
        var onError = ColumnPlan.OnError.reject
        if let e = entry("on_error"),
            let o = reader.choice(e.value, what: "on_error", allowed: ColumnPlan.OnError.allCases.map(\.rawValue))
        {
            onError = ColumnPlan.OnError(rawValue: o)!
            if required, !isKey, onError == .null {
                reader.error("208", "\(what) is required, so on_error: null cannot apply", at: e.value)
            }
        }

        var defaultValue: Value?
        if let e = entry("default") {
            if case .scalar(let s) = e.value {
                switch coercion.coerce(s.string, field: name) {
                case .success(let v): defaultValue = v
                case .failure(let p): reader.error("204", "default '\(s.string)' is not a valid \(type): \(p.message)", at: e.value)
                }
            } else {
                reader.error("103", "default must be a single value", at: e.value)
            }
        }
        if onError == .default, defaultValue == nil, entry("default") == nil {
            reader.error("207", "\(what) uses on_error: default but has no default", at: entry("on_error")!.value)
        }

        let lookup = entry("lookup").flatMap { compileLookup($0.value, reader: &reader) }
        var validator: ColumnPlan.Validator?
        if let e = entry("validate") {
            validator = compileValidator(e.value, reader: &reader)
        } else if let format = field?.format {
            switch format {
            case .vin: validator = .vin(VINValidator(mode: .auto))
            case .phone:
                reader.error(
                    "404", "dictionary field '\(field!.name)' is a phone number; \(what) must say its region",
                    at: keyNode, help: "add validate: {phone: {region: CN}}")
            }
        }
        if validator != nil, type != .string {
            reader.error("209", "validate applies to string columns; \(what) is \(type)", at: entry("validate")?.value ?? keyNode)
        }
        if lookup != nil, type == .bool {
            reader.error("209", "lookup does not apply to bool columns", at: entry("lookup")!.value)
        }

        guard reader.diagnostics.errors.count == before, let input else { return nil }
        return ColumnPlan(
            name: name, input: input, transforms: transforms, defaultValue: defaultValue, required: required, lookup: lookup,
            validator: validator, coercion: coercion, checks: checks, pattern: pattern, onError: onError, personal: personal,
            location: reader.location(keyNode))
    }

    /// Why a check cannot apply to a column of `type`, or nil when it can.
    static func checkMismatch(_ key: String, _ checks: ValueChecks, _ type: ColumnType) -> String? {
        switch key {
        case "length" where type != .string: return "length applies to string columns, not to"
        case "range":
            let bounds = [checks.minimum, checks.maximum].compactMap { $0 }
            switch type {
            case .int, .decimal:
                if bounds.contains(where: { if case .date = $0 { return true } else { return false } }) { return "a date bound does not apply to" }
            case .date, .datetime:
                if bounds.contains(where: { if case .number = $0 { return true } else { return false } }) { return "a number bound does not apply to" }
            case .string, .bool: return "range does not apply to"
            }
        default: break
        }
        return nil
    }

    private func fieldReference(_ node: Node, join: String = ",", reader: inout YAMLReader) -> FieldReference? {
        if let namespaces = xml {
            guard let text = reader.nonEmptyString(node, what: "an XML path") else { return nil }
            do {
                let path = try XMLPath(text, namespaces: namespaces)
                guard !path.absolute else {
                    reader.error("210", "an XML field path is relative to the record: '\(text)' starts at the document root", at: node, help: MappingCompiler.xmlPathHelp)
                    return nil
                }
                return .xml(path, join: join)
            } catch {
                reader.error("210", error.description, at: node, help: MappingCompiler.xmlPathHelp)
                return nil
            }
        }
        if let depth = json {
            guard let text = reader.nonEmptyString(node, what: "a JSON path") else { return nil }
            do {
                let path = try JSONPath(parsing: text)
                if case .parent(let levels) = path.anchor, levels >= depth {
                    reader.error(
                        "210", "'\(text)' reaches \(levels) level\(levels == 1 ? "" : "s") up, but the records path has \(max(0, depth - 1)) enclosing record\(depth == 2 ? "" : "s")",
                        at: node, help: "'^' is the record of the previous [*] in records:, e.g. records: $.orders[*].lines[*] with ^.orderNo")
                    return nil
                }
                return .path(path, join: join)
            } catch {
                reader.error("210", "invalid JSON path '\(text)': \(error)", at: node, help: MappingCompiler.pathHelp)
                return nil
            }
        }
        if YAMLReader.isPlainInt(node) {
            guard let i = reader.int(node, what: "a column number", range: 1...100_000) else { return nil }
            return .index(i - 1)
        }
        if headerless {
            reader.error("104", "the source has no header row, so columns are numbers (source: 3)", at: node)
            return nil
        }
        return reader.nonEmptyString(node, what: "a source field").map { .header($0) }
    }

    private func compileTypeOptions(
        _ entry: (String) -> YAMLReader.Entry?, type: ColumnType, into coercion: inout Coercion, reader: inout YAMLReader
    ) {
        if let e = entry("formats") {
            if type == .date || type == .datetime, let list = reader.stringList(e.value, what: "formats", allowScalar: true) {
                let items = reader.sequence(e.value, what: "formats", allowScalar: true) ?? []
                for (text, node) in zip(list, items) {
                    do {
                        let p = try DatePattern(text)
                        if type == .date, p.hasTime, text != "iso8601", text != "epoch_s", text != "epoch_ms" {
                            reader.error("201", "date format '\(text)' has a time; use type: datetime", at: node)
                        }
                        coercion.formats.append(p)
                    } catch {
                        reader.error("201", "invalid date format '\(text)': \(error.description)", at: node)
                    }
                }
            } else if type != .date && type != .datetime {
                reader.error("209", "formats only apply to date and datetime columns", at: e.keyNode)
            }
        }
        if coercion.formats.isEmpty {
            let defaults = type == .datetime ? DatePattern.defaultDateTimeFormats : DatePattern.defaultDateFormats
            coercion.formats = defaults.map { try! DatePattern($0) }
        }
        if let e = entry("timezone") {
            if type == .datetime {
                coercion.zone = MappingCompiler().readZone(e.value, reader: &reader)
            } else {
                reader.error("209", "timezone only applies to datetime columns", at: e.keyNode)
            }
        } else if type == .datetime {
            coercion.zone = mappingZone
            if mappingZone == nil {
                reader.error(
                    "206", "datetime column '\(name)' needs a time zone for times without an offset", at: keyNode,
                    help: "set timezone: Asia/Shanghai on the column or at the top of the mapping")
            }
        }
        if let e = entry("scale") {
            if type == .decimal {
                coercion.scale = reader.int(e.value, what: "scale", range: 0...18)
            } else {
                reader.error("209", "scale only applies to decimal columns", at: e.keyNode)
            }
        }
        for (key, isTrue) in [("true_values", true), ("false_values", false)] {
            guard let e = entry(key) else { continue }
            guard type == .bool else {
                reader.error("209", "\(key) only applies to bool columns", at: e.keyNode)
                continue
            }
            if let list = reader.stringList(e.value, what: key) {
                let set = Set(list.map { HalfWidth.fold($0).lowercased() })
                if isTrue { coercion.trueValues = set } else { coercion.falseValues = set }
            }
        }
        if !coercion.trueValues.isDisjoint(with: coercion.falseValues) {
            reader.error("104", "a value cannot be both true and false", at: entry("true_values")?.value ?? keyNode)
        }
    }

    private func compileTransforms(_ node: Node, reader: inout YAMLReader) -> [Transform] {
        guard let items = reader.sequence(node, what: "transforms") else { return [] }
        var result: [Transform] = []
        for item in items {
            if case .scalar(let s) = item {
                switch s.string {
                case "trim": result.append(.trim)
                case "upper": result.append(.upper)
                case "lower": result.append(.lower)
                case "nfkc": result.append(.nfkc)
                case "collapse_spaces": result.append(.collapseSpaces)
                default:
                    let all = Self.transformNames + Self.transformKeys
                    let help = Suggestion.closest(to: s.string, in: all).map { "did you mean '\($0)'?" }
                    reader.error("104", "unknown transform '\(s.string)'", at: item, notes: ["transforms: \(all.joined(separator: ", "))"], help: help)
                }
                continue
            }
            guard let entries = reader.entries(item, what: "a transform", allowed: Self.transformKeys) else { continue }
            guard entries.count == 1 else {
                reader.error("104", "a transform has exactly one name", at: item)
                continue
            }
            let e = entries[0]
            switch e.key {
            case "replace":
                guard let args = reader.entries(e.value, what: "replace", allowed: ["pattern", "with"]) else { continue }
                reader.require(["pattern", "with"], in: args, of: e.value, what: "replace")
                let with = args.first { $0.key == "with" }.flatMap { reader.string($0.value, what: "with") }
                if let regex = regexArgument(args, reader: &reader), let with { result.append(.replace(regex, with: with)) }
            case "extract":
                guard let args = reader.entries(e.value, what: "extract", allowed: ["pattern", "group"]) else { continue }
                reader.require(["pattern"], in: args, of: e.value, what: "extract")
                var group = 1
                if let g = args.first(where: { $0.key == "group" }) { group = reader.int(g.value, what: "group", range: 0...99) ?? 1 }
                if let regex = regexArgument(args, reader: &reader) {
                    if group > regex.captureGroups {
                        reader.error("203", "the pattern has \(regex.captureGroups) capture group(s), not \(group)", at: e.value)
                    } else {
                        result.append(.extract(regex, group: group))
                    }
                }
            case "split":
                guard let args = reader.entries(e.value, what: "split", allowed: ["separator", "index"]) else { continue }
                reader.require(["separator", "index"], in: args, of: e.value, what: "split")
                let sep = args.first { $0.key == "separator" }.flatMap { reader.nonEmptyString($0.value, what: "separator") }
                let index = args.first { $0.key == "index" }.flatMap { reader.int($0.value, what: "index", range: -100...100) }
                if let sep, let index { result.append(.split(separator: sep, index: index)) }
            case "remove_prefix":
                if let p = reader.nonEmptyString(e.value, what: "remove_prefix") { result.append(.removePrefix(p)) }
            case "remove_suffix":
                if let p = reader.nonEmptyString(e.value, what: "remove_suffix") { result.append(.removeSuffix(p)) }
            default: break
            }
        }
        return result
    }

    private func regexArgument(_ args: [YAMLReader.Entry], reader: inout YAMLReader) -> CompiledRegex? {
        guard let e = args.first(where: { $0.key == "pattern" }), let p = reader.nonEmptyString(e.value, what: "pattern") else {
            return nil
        }
        do {
            return try CompiledRegex(p)
        } catch {
            reader.error("203", "invalid regular expression '\(p)'", at: e.value)
            return nil
        }
    }

    private func compileLookup(_ node: Node, reader: inout YAMLReader) -> ColumnPlan.Lookup? {
        var tableName: String?
        var tableNode = node
        var onMissing = ColumnPlan.Lookup.OnMissing.reject
        if case .scalar = node {
            tableName = reader.nonEmptyString(node, what: "lookup")
        } else if let args = reader.entries(node, what: "lookup", allowed: ["table", "on_missing"]) {
            reader.require(["table"], in: args, of: node, what: "lookup")
            for a in args {
                if a.key == "table" {
                    tableName = reader.nonEmptyString(a.value, what: "lookup table")
                    tableNode = a.value
                }
                if a.key == "on_missing",
                    let o = reader.choice(a.value, what: "on_missing", allowed: ColumnPlan.Lookup.OnMissing.allCases.map(\.rawValue))
                {
                    onMissing = .init(rawValue: o)!
                }
            }
        }
        guard let tableName else { return nil }
        guard let table = dictionary.codeTables[tableName] else {
            let help = Suggestion.closest(to: tableName, in: dictionary.codeTables.keys).map { "did you mean '\($0)'?" }
            let known = dictionary.codeTables.keys.sorted()
            reader.error(
                "401", "unknown code table '\(tableName)'", at: tableNode,
                notes: known.isEmpty ? ["the dictionary has no code tables"] : ["code tables: \(known.joined(separator: ", "))"], help: help)
            return nil
        }
        return ColumnPlan.Lookup(table: tableName, codes: table.codes, onMissing: onMissing)
    }

    private func compileValidator(_ node: Node, reader: inout YAMLReader) -> ColumnPlan.Validator? {
        if case .scalar(let s) = node {
            switch s.string {
            case "vin": return .vin(VINValidator(mode: .auto))
            case "phone":
                reader.error("205", "a phone validator needs a region", at: node, help: "write validate: {phone: {region: CN}}")
            default:
                reader.error("104", "unknown validator '\(s.string)'", at: node, notes: ["validators: vin, phone"])
            }
            return nil
        }
        guard let entries = reader.entries(node, what: "validate", allowed: ["vin", "phone"]), entries.count == 1 else {
            if case .mapping = node { reader.error("104", "validate names exactly one validator", at: node) }
            return nil
        }
        let e = entries[0]
        if e.key == "vin" {
            let modes = VINValidator.Mode.allCases.map(\.rawValue)
            return reader.choice(e.value, what: "vin mode", allowed: modes).map { .vin(VINValidator(mode: .init(rawValue: $0)!)) }
        }
        var region: String?
        var regionNode = e.value
        var multiple = PhoneValidator.Multiple.first
        var types: Set<PhoneNumberType>?
        if case .scalar = e.value {
            region = reader.nonEmptyString(e.value, what: "phone region")
        } else if let args = reader.entries(e.value, what: "phone", allowed: ["region", "multiple", "types"]) {
            reader.require(["region"], in: args, of: e.value, what: "phone")
            for a in args {
                if a.key == "region" {
                    region = reader.nonEmptyString(a.value, what: "phone region")
                    regionNode = a.value
                }
                if a.key == "multiple",
                    let m = reader.choice(a.value, what: "multiple", allowed: PhoneValidator.Multiple.allCases.map(\.rawValue))
                {
                    multiple = .init(rawValue: m)!
                }
                if a.key == "types", let items = reader.sequence(a.value, what: "phone types", allowScalar: true) {
                    let names = PhoneNumberType.allCases.filter { $0 != .unknown }.map(\.rawValue)
                    types = Set(items.compactMap { reader.choice($0, what: "phone type", allowed: names).flatMap(PhoneNumberType.init(rawValue:)) })
                }
            }
        }
        guard let region else { return nil }
        guard PhoneValidator.supports(region: region) else {
            reader.error(
                "205", "phone region '\(region)' is not a region libphonenumber knows", at: regionNode,
                notes: ["a region is an ISO 3166 code in capitals: CN, US, DE, GB, JP, KR, HK, TW, ..."],
                help: PhoneValidator.regionHint(region).map { "did you mean '\($0)'?" })
            return nil
        }
        return .phone(PhoneValidator(region: region, multiple: multiple, types: types))
    }
}
