import OEMSyncCore

/// Maps a batch of raw records and folds repeated natural keys so that each key is written once,
/// with the values of its last occurrence (what sequential upserts would leave).
public struct BatchMapper: Sendable {
    public let mapper: RecordMapper
    let keyIndexes: [Int]

    public init(_ bound: BoundMapping) {
        mapper = RecordMapper(bound)
        keyIndexes = bound.plan.targetTable.keyIndexes
    }

    public func map(_ records: [RawRecord]) -> MappedBatch {
        var batch = MappedBatch(recordsIn: records.count)
        batch.rows.reserveCapacity(records.count)
        batch.rowLines.reserveCapacity(records.count)
        var seen: [[Value]: Int] = [:]
        seen.reserveCapacity(records.count)
        for record in records {
            switch mapper.map(record) {
            case .row(let values, let warnings):
                batch.warnings += warnings
                let key = keyIndexes.map { values[$0] }
                if let existing = seen[key] {
                    batch.rows[existing] = values
                    batch.rowLines[existing] = record.line
                    batch.superseded += 1
                } else {
                    seen[key] = batch.rows.count
                    batch.rows.append(values)
                    batch.rowLines.append(record.line)
                }
            case .reject(let reject, _):
                // The record is not written, so what would have been nulled or kept does not matter:
                // its problems are all in the reject.
                batch.rejects.append(reject)
            }
        }
        return batch
    }
}
