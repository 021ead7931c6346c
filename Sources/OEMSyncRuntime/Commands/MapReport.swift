import OEMSyncCore
import OEMSyncMapping

/// The output of `oemsync map`: a readable table, or JSON for scripts.
enum MapReport {
    static func display(_ value: Value, column: String, masked: Set<String>) -> String? {
        guard let text = value.text else { return nil }
        return masked.contains(column) ? Masking.mask(text) : text
    }

    static func text(plan: MappingPlan, input: String, batch: MappedBatch, masked: Set<String>, limit: Int) -> String {
        var out = "mapping \(plan.name) version \(plan.version) (\(plan.file)), dictionary \(plan.dictionaryVersion)\n"
        out += "input \(input): \(Plural.count(batch.recordsIn, "record")) -> \(batch.written) written"
        if batch.superseded > 0 { out += " (\(batch.rows.count) rows; \(batch.superseded) superseded by a later record with the same key)" }
        out += ", \(batch.rejects.count) rejected, \(Plural.count(batch.warnings.count, "warning"))\n"
        out += "nothing was written.\n\n"

        // A CSV record is found by its line; a JSON record by its place among the payload's records.
        let unit = plan.source.format == .csv ? "line" : "record"
        let names = [unit] + plan.columns.map(\.name)
        var table: [[String]] = []
        for (i, row) in batch.rows.prefix(limit).enumerated() {
            table.append([String(batch.rowLines[i])] + zip(plan.columns, row).map { display($1, column: $0.name, masked: masked) ?? "∅" })
        }
        out += "rows for table \(plan.table) (key: \(plan.key.joined(separator: ", "))):\n"
        out += TextTable.render(header: names, rows: table)
        if batch.rows.count > limit { out += "... \(batch.rows.count - limit) more rows\n" }
        if !batch.rejects.isEmpty {
            out += "\nrejects:\n"
            for r in batch.rejects {
                for p in r.problems {
                    out += "  \(unit) \(r.line): \(p.field.map { "\($0): " } ?? "")\(p.code): \(p.message)"
                    if let raw = p.rawValue, let field = p.field {
                        out += " (value \(JSONText.quoted(masked.contains(field) ? Masking.mask(raw) : raw)))"
                    }
                    out += "\n"
                }
            }
        }
        if !batch.warnings.isEmpty {
            out += "\nwarnings:\n"
            for w in batch.warnings {
                let p = w.problem
                out += "  \(unit) \(w.line): \(p.field.map { "\($0): " } ?? "")\(p.code): \(p.message) -> \(w.action)\n"
            }
        }
        return out
    }

    static func json(plan: MappingPlan, batch: MappedBatch, masked: Set<String>) -> String {
        func str(_ s: String?) -> String { s.map(JSONText.quoted) ?? "null" }
        func problem(_ p: RecordProblem) -> String {
            let raw = p.rawValue.map { v in p.field.map { masked.contains($0) } == true ? Masking.mask(v) : v }
            return "{\"code\":\(str(p.code)),\"field\":\(str(p.field)),\"message\":\(str(p.message)),\"raw_value\":\(str(raw))}"
        }
        var out = "{\"mapping\":\(str(plan.name)),\"version\":\(str(plan.version)),\"table\":\(str(plan.table))"
        out += ",\"counts\":{\"records_in\":\(batch.recordsIn),\"written\":\(batch.written),\"superseded\":\(batch.superseded)"
        out += ",\"rejected\":\(batch.rejects.count),\"warnings\":\(batch.warnings.count)}"
        out += ",\"rows\":["
        for (i, row) in batch.rows.enumerated() {
            if i > 0 { out += "," }
            out += "{\"line\":\(batch.rowLines[i]),\"values\":{"
            out += zip(plan.columns, row).map { "\(JSONText.quoted($0.name)):\(str(display($1, column: $0.name, masked: masked)))" }
                .joined(separator: ",")
            out += "}}"
        }
        out += "],\"rejects\":["
        out += batch.rejects.map { "{\"line\":\($0.line),\"problems\":[\($0.problems.map(problem).joined(separator: ","))]}" }
            .joined(separator: ",")
        out += "],\"warnings\":["
        out += batch.warnings.map { "{\"line\":\($0.line),\"action\":\(str($0.action)),\"problem\":\(problem($0.problem))}" }
            .joined(separator: ",")
        out += "]}\n"
        return out
    }
}

enum Plural {
    /// `1 warning`, `2 warnings`.
    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
    /// `1 retry`, `2 retries`: nouns whose plural is not `+s`.
    static func count(_ n: Int, _ noun: String, _ plural: String) -> String { "\(n) \(n == 1 ? noun : plural)" }
}

/// Plain-text tables with columns padded to their widest cell (CJK counted as two cells).
enum TextTable {
    /// Columns padded to their widest cell. A cell never writes a control character to the
    /// terminal (a file name with an escape sequence, a carriage return): they are shown escaped.
    static func render(header: [String], rows: [[String]]) -> String {
        let rows = rows.map { $0.map(FileName.escapingControls) }
        var widths = header.map(width)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], width(cell)) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                i == cells.count - 1 ? c : c + String(repeating: " ", count: widths[i] - width(c))
            }.joined(separator: "  ") + "\n"
        }
        return ([line(header)] + rows.map(line)).joined()
    }

    static func width(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { n, u in
            switch u.value {
            case 0x1100...0x115F, 0x2E80...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFF00...0xFF60, 0xFFE0...0xFFE6: return n + 2
            default: return n + 1
            }
        }
    }
}
