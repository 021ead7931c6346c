import Foundation
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping
import OEMSyncSinks

/// The records of a stored payload, read again with the feed's current mapping: what a replay maps.
///
/// A CSV payload is the file's header row and the batch's bytes; it is read by the same
/// ``CSVReader`` as a drop (from a private temporary file), and its records keep the line numbers
/// of the original file. A JSON payload is the page as the OEM sent it.
struct PayloadRecords {
    var records: [RawRecord]
    var bound: BoundMapping
    /// A reject's raw text for JSON records (their exact JSON), by record index; nil for CSV.
    var jsonPage: JSONRecordReader.Page?
    var body: [UInt8]

    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ payload: BatchPayload, plan: MappingPlan) throws(Unreadable) -> PayloadRecords {
        switch plan.source.format {
        case .json: return try json(payload, plan: plan)
        case .xml: return try xmlFields(payload, plan: plan)
        case .csv: return try csv(payload, plan: plan)
        }
    }

    private static func json(_ payload: BatchPayload, plan: MappingPlan) throws(Unreadable) -> PayloadRecords {
        guard let path = plan.source.records else { throw Unreadable(description: "mapping '\(plan.file)' has no records path") }
        let bound = BoundMapping(json: plan)
        let reader = JSONRecordReader(records: path, fields: bound.paths.map { JSONRecordReader.Field(path: $0.path, join: $0.join) })
        do {
            let page = try reader.read(payload.body, firstLine: payload.firstLine)
            var records = page.records
            // A page whose batch left out records delivered before lists the lines it kept.
            if let lines = payload.lines.map(Set.init) { records = records.filter { lines.contains($0.line) } }
            return PayloadRecords(records: records, bound: bound, jsonPage: page, body: payload.body)
        } catch {
            let status = payload.status.map { " (the response was HTTP \($0))" } ?? ""
            throw Unreadable(description: "the stored payload is not a page of records\(status): \(error.description)")
        }
    }

    private static func csv(_ payload: BatchPayload, plan: MappingPlan) throws(Unreadable) -> PayloadRecords {
        // The charset the drop was read with travels in the content type.
        var encoding = plan.source.encoding
        if let charset = payload.contentType?.components(separatedBy: "charset=").dropFirst().first,
            let stored = TextEncoding(rawValue: charset.trimmingCharacters(in: .whitespaces))
        {
            encoding = stored
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("oemsync-replay-\(UUID().uuidString).csv").path
        guard FileManager.default.createFile(atPath: file, contents: Data(payload.body), attributes: [.posixPermissions: 0o600]) else {
            throw Unreadable(description: "cannot write a temporary file in \(FileManager.default.temporaryDirectory.path)")
        }
        defer { try? FileManager.default.removeItem(atPath: file) }
        do {
            let csv: BoundCSV
            do {
                csv = try BoundCSV(path: file, plan: plan, encoding: encoding)
            } catch {
                switch error {
                case .read(let e): throw Unreadable(description: e.description)
                case .empty, .noHeader, .header: throw Unreadable(description: "the stored header row cannot be read")
                case .binding(let e):
                    throw Unreadable(description: "the stored header row does not fit mapping '\(plan.file)': \(e.description)")
                }
            }
            let (reader, bound) = (csv.reader, csv.bound)
            // Lines in the payload -> lines in the original file: listed, or following from the first.
            let shift = payload.firstLine - reader.position.line
            var records: [RawRecord] = []
            while var r = try reader.next() {
                if let lines = payload.lines {
                    guard records.count < lines.count else { throw Unreadable(description: "the stored payload has more records than lines") }
                    r.line = lines[records.count]
                } else {
                    r.line += shift
                }
                records.append(r)
            }
            if let lines = payload.lines, lines.count != records.count {
                throw Unreadable(description: "the stored payload has \(records.count) records for \(lines.count) lines")
            }
            return PayloadRecords(records: records, bound: bound, jsonPage: nil, body: payload.body)
        } catch let e as Unreadable {
            throw e
        } catch {
            throw Unreadable(description: "\(error)")
        }
    }

    /// A SOAP batch's payload: its rejected records as the fields the mapping read, by path
    /// (``SOAPFeedSource/fieldsPayload(_:)``): `[{"line": 7, "fields": {"star:Vehicle/star:VehicleID": "…"}}]`.
    /// A path the mapping reads now and the batch's did not is empty (missing).
    private static func xmlFields(_ payload: BatchPayload, plan: MappingPlan) throws(Unreadable) -> PayloadRecords {
        guard payload.contentType == SOAPFeedSource.fieldsContentType else {
            let status = payload.status.map { " (HTTP \($0))" } ?? ""
            throw Unreadable(description: "the stored payload is the OEM's answer\(status), not records: the batch failed before any record was read")
        }
        guard let items = (try? JSONSerialization.jsonObject(with: Data(payload.body))) as? [[String: Any]] else {
            throw Unreadable(description: "the stored payload is not a list of XML records")
        }
        let bound = BoundMapping(xml: plan)
        var records: [RawRecord] = []
        for item in items {
            guard let line = item["line"] as? Int, let fields = item["fields"] as? [String: String] else {
                throw Unreadable(description: "a stored XML record has no line or fields")
            }
            records.append(RawRecord(line: line, fields: bound.xmlPaths.map { fields[$0.path.text] ?? "" }))
        }
        return PayloadRecords(records: records, bound: bound, jsonPage: nil, body: payload.body)
    }

    /// The raw text of the JSON record at `line` (replayed rejects keep it, as first ones do).
    func rawJSON(line: Int, firstLine: Int) -> String? {
        guard let page = jsonPage else { return nil }
        let index = line - firstLine
        guard index >= 0, index < page.rawRanges.count else { return nil }
        return page.rawText(index, in: body)
    }
}
