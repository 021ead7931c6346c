import OEMSyncCore
import OEMSyncFeeds
import OEMSyncMapping

/// A CSV file opened with a mapping's format, its header row read and the mapping bound to it:
/// what `oemsync map` and a replay of a stored CSV payload start from. Each caller words the
/// problems for its own input. (A drop's load does more between these steps: resume checks,
/// quarantine.)
struct BoundCSV {
    let reader: CSVReader
    let header: [String]?
    let bound: BoundMapping

    enum Problem: Error {
        case read(CSVReader.IOError)
        case empty
        case noHeader
        case header(RecordProblem)
        case binding(BoundMapping.BindingError)
    }

    /// - Parameter encoding: overrides the mapping's (a stored payload knows the one it was read with).
    init(path: String, plan: MappingPlan, encoding: TextEncoding? = nil) throws(Problem) {
        let row: RawRecord?
        do {
            reader = try CSVReader(
                path: path,
                format: CSVFormat(delimiter: plan.source.delimiter, header: plan.source.header, encoding: encoding ?? plan.source.encoding))
            row = reader.fileSize > 0 && plan.source.header ? try reader.readHeader() : nil
        } catch {
            throw .read(error)
        }
        if reader.fileSize == 0 { throw .empty }
        if plan.source.header {
            guard let row else { throw .noHeader }
            if let p = row.problem { throw .header(p) }
            header = row.fields
        } else {
            header = nil
        }
        do {
            bound = try BoundMapping(plan: plan, header: header)
        } catch {
            throw .binding(error)
        }
    }
}
