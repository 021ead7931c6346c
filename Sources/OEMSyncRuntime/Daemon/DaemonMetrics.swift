import Foundation

/// The daemon's metrics, in Prometheus' text format (served by ``MetricsServer``).
///
/// A small registry of its own: counters, gauges and one histogram, labelled by feed (or
/// credentials, or host). It costs nothing to build, where swift-metrics and swift-prometheus add
/// two packages to every clean build for the same dozen series.
public final class DaemonMetrics: @unchecked Sendable {
    public enum Kind: String, Sendable { case counter, gauge, histogram }

    public struct Family: Sendable {
        public let name: String
        public let help: String
        public let kind: Kind
    }

    public static let recordsIn = Family(name: "oemsync_records_in_total", help: "Records read from the feed's source.", kind: .counter)
    public static let written = Family(name: "oemsync_rows_written_total", help: "Rows written to the dealer database.", kind: .counter)
    public static let rejected = Family(name: "oemsync_records_rejected_total", help: "Records rejected (kept in oemsync_rejects).", kind: .counter)
    public static let batches = Family(name: "oemsync_batches_total", help: "Batches committed, by status (ok, partial, failed).", kind: .counter)
    public static let batchDuration = Family(name: "oemsync_batch_duration_seconds", help: "Time from a batch's start to its commit.", kind: .histogram)
    public static let retries = Family(name: "oemsync_request_retries_total", help: "OEM requests retried.", kind: .counter)
    public static let runs = Family(name: "oemsync_runs_total", help: "Feed runs, by outcome (ok, held, parked, failed).", kind: .counter)
    public static let circuit = Family(name: "oemsync_circuit_open", help: "1 while the circuit breaker of an OEM host is open.", kind: .gauge)
    public static let window = Family(name: "oemsync_window_open", help: "1 while the feed's windows let it run, 0 in a blackout or outside its allowed windows.", kind: .gauge)
    public static let state = Family(name: "oemsync_feed_state", help: "1 for the feed's current state (idle, running, in window, parked on quota, failing, stopped), 0 for the others.", kind: .gauge)
    public static let lag = Family(name: "oemsync_checkpoint_lag_seconds", help: "How far the feed's last committed batch lies behind now.", kind: .gauge)
    public static let quotaLeft = Family(name: "oemsync_quota_remaining", help: "Requests left today under the credentials' daily quota.", kind: .gauge)
    public static let nextRun = Family(name: "oemsync_next_run_timestamp_seconds", help: "When the feed runs next (Unix time).", kind: .gauge)
    public static let up = Family(name: "oemsync_ready", help: "1 once config, mappings and database are usable.", kind: .gauge)

    static let families = [recordsIn, written, rejected, batches, batchDuration, retries, runs, circuit, window, state, lag, quotaLeft, nextRun, up]
    /// Batch durations, in seconds: from a small REST page to a large CSV batch.
    static let buckets: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

    struct Histogram {
        var counts: [Int]
        var sum = 0.0
        var count = 0
    }

    private let lock = NSLock()
    private var values: [String: [[String]: Double]] = [:]
    private var histograms: [String: [[String]: Histogram]] = [:]
    /// Label names per family, in the order values are given.
    private var labelNames: [String: [String]] = [:]

    public init() {}

    public func add(_ family: Family, _ labels: KeyValuePairs<String, String>, _ amount: Double = 1) {
        update(family, labels) { $0 += amount }
    }

    public func set(_ family: Family, _ labels: KeyValuePairs<String, String>, _ value: Double) {
        update(family, labels) { $0 = value }
    }

    /// Sets one label value's series to 1 and the others given to 0 (a state gauge).
    public func select(_ family: Family, _ labels: KeyValuePairs<String, String>, key: String, value: String, among all: [String]) {
        for candidate in all {
            var pairs = labels.map { ($0.key, $0.value) }
            pairs.append((key, candidate))
            update(family, pairs) { $0 = candidate == value ? 1 : 0 }
        }
    }

    /// Stops reporting one series.
    public func remove(_ family: Family, _ labels: KeyValuePairs<String, String>) {
        let key = labels.map(\.value)
        lock.withLock { _ = values[family.name]?.removeValue(forKey: key) }
    }

    /// Stops reporting every series of a feed (one removed from the config).
    public func removeFeed(_ feed: String) {
        lock.withLock {
            for (family, names) in labelNames {
                guard let i = names.firstIndex(of: "feed") else { continue }
                values[family] = values[family]?.filter { $0.key[i] != feed }
                histograms[family] = histograms[family]?.filter { $0.key[i] != feed }
            }
        }
    }

    public func observe(_ family: Family, _ labels: KeyValuePairs<String, String>, _ value: Double) {
        lock.withLock {
            labelNames[family.name] = labels.map(\.key)
            let key = labels.map(\.value)
            var h = histograms[family.name, default: [:]][key] ?? Histogram(counts: Array(repeating: 0, count: Self.buckets.count))
            for (i, bound) in Self.buckets.enumerated() where value <= bound { h.counts[i] += 1 }
            h.sum += value
            h.count += 1
            histograms[family.name, default: [:]][key] = h
        }
    }

    private func update(_ family: Family, _ labels: KeyValuePairs<String, String>, _ change: (inout Double) -> Void) {
        update(family, labels.map { ($0.key, $0.value) }, change)
    }

    private func update(_ family: Family, _ labels: [(String, String)], _ change: (inout Double) -> Void) {
        lock.withLock {
            labelNames[family.name] = labels.map(\.0)
            let key = labels.map(\.1)
            var v = values[family.name, default: [:]][key] ?? 0
            change(&v)
            values[family.name, default: [:]][key] = v
        }
    }

    /// A series' current value.
    public func value(_ family: Family, _ labelValues: [String]) -> Double? {
        lock.withLock { values[family.name]?[labelValues] }
    }

    /// The exposition, text format 0.0.4.
    public func render() -> String {
        lock.withLock {
            var out = ""
            for family in Self.families {
                let names = labelNames[family.name] ?? []
                func labels(_ values: [String], extra: (String, String)? = nil) -> String {
                    var pairs = zip(names, values).map { "\($0)=\"\(Self.escape($1))\"" }
                    if let extra { pairs.append("\(extra.0)=\"\(extra.1)\"") }
                    return pairs.isEmpty ? "" : "{" + pairs.joined(separator: ",") + "}"
                }
                if family.kind == .histogram {
                    guard let series = histograms[family.name], !series.isEmpty else { continue }
                    out += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) histogram\n"
                    for key in series.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                        let h = series[key]!
                        for (i, bound) in Self.buckets.enumerated() {
                            out += "\(family.name)_bucket\(labels(key, extra: ("le", Self.number(bound)))) \(h.counts[i])\n"
                        }
                        out += "\(family.name)_bucket\(labels(key, extra: ("le", "+Inf"))) \(h.count)\n"
                        out += "\(family.name)_sum\(labels(key)) \(Self.number(h.sum))\n"
                        out += "\(family.name)_count\(labels(key)) \(h.count)\n"
                    }
                    continue
                }
                guard let series = values[family.name], !series.isEmpty else { continue }
                out += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.kind.rawValue)\n"
                for key in series.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                    out += "\(family.name)\(labels(key)) \(Self.number(series[key]!))\n"
                }
            }
            return out
        }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}
