import OEMSyncCore

/// The figures of a sync, as a table for people or JSON for scripts. Every line obeys
/// records = written + rejected.
enum SyncReportFormat {
    static func text(_ reports: [FeedReport], database: DatabaseSettings) -> String {
        var rows: [[String]] = []
        for r in reports {
            if r.files.isEmpty {
                rows.append([r.feed, r.error == nil ? "(no new files)" : "-", "0", "0", "0", r.error == nil ? "idle" : "failed", Redact.scrub(r.error?.message ?? "")])
            }
            for f in r.files {
                var note = ""
                switch f.outcome {
                case .quarantined(_, let reason): note = Redact.scrub(reason)
                case .failed(let message): note = Redact.scrub(message)
                case .parked(let reason): note = Redact.scrub(reason)
                case .archived, .completed:
                    var parts: [String] = []
                    if f.requests > 0 {
                        var fetched = "\(Plural.count(f.batches, "page")), \(Plural.count(f.requests, "request"))"
                        if f.retries > 0 { fetched += " (\(Plural.count(f.retries, "retry", "retries")))" }
                        parts.append(fetched)
                    }
                    if f.failedBatches > 0 { parts.append("\(Plural.count(f.failedBatches, "failed page")) skipped, kept for replay") }
                    if let n = f.note { parts.append(n) }
                    if f.resumedFrom != nil { parts.append("resumed at \(f.resumedFrom!)") }
                    if f.inserted + f.updated + f.unchanged > 0 {
                        parts.append("\(f.inserted) new, \(f.updated) updated, \(f.unchanged) unchanged")
                    }
                    if !f.rejectReasons.isEmpty {
                        var reasons = f.rejectReasons.prefix(4).map { "\($0.code) \($0.count)" }.joined(separator: ", ")
                        if f.rejectReasons.count > 4 { reasons += ", " + Plural.count(f.rejectReasons.count - 4, "more reason") }
                        parts.append(reasons)
                    }
                    if f.warnings > 0 { parts.append(Plural.count(f.warnings, "warning")) }
                    if f.duplicates > 0 { parts.append("\(f.duplicates) already delivered") }
                    note = parts.joined(separator: "; ")
                }
                rows.append([r.feed, f.name, String(f.recordsIn), String(f.written), String(f.rejected), f.status, note])
            }
        }
        var out = TextTable.render(header: ["feed", "source", "records", "written", "rejected", "status", "notes"], rows: rows)
        let kind: String
        switch database.kind {
        case .sqlite: kind = "sqlite"
        case .postgres: kind = "postgresql"
        }
        let total = reports.reduce((0, 0, 0)) { ($0.0 + $1.recordsIn, $0.1 + $1.written, $0.2 + $1.rejected) }
        out += "total: \(total.0) records, \(total.1) written, \(total.2) rejected; database \(database.displayName) (\(kind))\n"
        return out
    }

    static func json(_ reports: [FeedReport], database: DatabaseSettings) -> String {
        func str(_ s: String?) -> String { s.map(JSONText.quoted) ?? "null" }
        /// Free text (an error, a reason) scrubbed of personal data and secrets.
        func text(_ s: String?) -> String { str(s.map(Redact.scrub)) }
        var out = "{\"database\":\(str(database.displayName)),\"feeds\":["
        out += reports.map { r in
            var f = "{\"feed\":\(str(r.feed)),\"error\":\(text(r.error?.description)),\"records_in\":\(r.recordsIn),"
            f += "\"written\":\(r.written),\"rejected\":\(r.rejected),\"files\":["
            f += r.files.map { file in
                var reason: String?
                var path: String?
                switch file.outcome {
                case .archived(let p): path = p
                case .quarantined(let p, let why): path = p; reason = why
                case .failed(let m), .parked(let m): reason = m
                case .completed: break
                }
                var s = "{\"file\":\(str(file.name)),\"claimed_as\":\(str(file.claimedName)),\"status\":\(str(file.status))"
                s += ",\"path\":\(str(path)),\"reason\":\(text(reason)),\"resumed_from\":\(str(file.resumedFrom)),\"note\":\(str(file.note)),\"batches\":\(file.batches)"
                s += ",\"records_in\":\(file.recordsIn),\"written\":\(file.written),\"inserted\":\(file.inserted),\"updated\":\(file.updated)"
                s += ",\"unchanged\":\(file.unchanged),\"superseded\":\(file.superseded),\"rejected\":\(file.rejected),\"warnings\":\(file.warnings)"
                s += ",\"requests\":\(file.requests),\"retries\":\(file.retries),\"duplicates\":\(file.duplicates),\"failed_batches\":\(file.failedBatches)"
                s += ",\"reject_reasons\":{" + file.rejectReasons.map { "\(str($0.code)):\($0.count)" }.joined(separator: ",") + "}}"
                return s
            }.joined(separator: ",")
            return f + "]}"
        }.joined(separator: ",")
        return out + "]}\n"
    }
}
