import Foundation
import OEMSyncCore
import OEMSyncMapping
import Yams

/// The daemon's own settings (`daemon:`) and each feed's `schedule:`.
///
/// ```yaml
/// daemon:
///   metrics: 127.0.0.1:9464     # Prometheus /metrics, /healthz, /readyz; off unless set; loopback only
///   max_parallel: 2             # feeds syncing at the same time
///   stall_timeout: 30m          # a sync without progress this long: unhealthy (the watchdog stops)
/// feeds:
///   acme-orders:
///     schedule:
///       every: 15m              # or cron: "*/15 6-22 * * MON-FRI"
///       timezone: Asia/Shanghai # the zone of cron and windows; default UTC
///       blackout: ["02:00-04:00", "Sun 00:00-06:00"]
///       allowed: ["22:00-06:00"]
///       drain_margin: 10m       # or auto: the longest recent batch (default)
/// ```
extension ConfigurationLoader {
    static let daemonKeys = ["metrics", "max_parallel", "stall_timeout", "control"]
    static let scheduleKeys = ["every", "cron", "timezone", "blackout", "allowed", "drain_margin"]

    func readDaemon(_ node: Node, reader: inout YAMLReader) -> DaemonSettings {
        var settings = DaemonSettings()
        guard let keys = reader.entries(node, what: "daemon", allowed: Self.daemonKeys) else { return settings }
        for k in keys {
            switch k.key {
            case "metrics":
                guard let text = reader.nonEmptyString(k.value, what: "metrics") else { continue }
                if let endpoint = MetricsEndpoint(text) {
                    settings.metrics = endpoint
                } else {
                    reader.error(
                        "104", "metrics must be a loopback address and port (127.0.0.1:9464, [::1]:9464, localhost:9464), found '\(text)'",
                        at: k.value, notes: ["the metrics endpoint has no authentication; put a reverse proxy in front to expose it"])
                }
            case "control":
                guard let text = reader.nonEmptyString(k.value, what: "control") else { continue }
                if text == "off" {
                    settings.control = nil
                } else if text.hasPrefix("/"), text.utf8.count < 108 {
                    settings.control = text
                } else {
                    reader.error("104", "control is an absolute socket path of at most 107 bytes, or off; found '\(text)'", at: k.value)
                }
            case "max_parallel":
                if let n = reader.int(k.value, what: "max_parallel", range: 1...64) { settings.maxParallel = n }
            case "stall_timeout":
                if let d = readDuration(k.value, what: "stall_timeout", reader: &reader) {
                    if d >= .seconds(1) { settings.stallTimeout = d } else { reader.error("104", "stall_timeout must be at least 1s", at: k.value) }
                }
            default: break
            }
        }
        return settings
    }

    func readSchedule(_ node: Node, feed: String, reader: inout YAMLReader) -> FeedSchedule? {
        let what = "the schedule of feed '\(feed)'"
        guard let keys = reader.entries(node, what: what, allowed: Self.scheduleKeys) else { return nil }
        var schedule = FeedSchedule()
        var ok = true
        switch (keys["every"], keys["cron"]) {
        case (let e?, nil):
            if let d = readDuration(e.value, what: "every", reader: &reader) {
                if d >= .seconds(1) { schedule.trigger = .every(d) } else {
                    reader.error("104", "every must be at least 1s", at: e.value)
                    ok = false
                }
            } else {
                ok = false
            }
        case (nil, let c?):
            if let text = reader.nonEmptyString(c.value, what: "cron") {
                do {
                    schedule.trigger = .cron(try CronExpression(text))
                } catch {
                    reader.error("104", error.description, at: c.value, help: "minute hour day-of-month month day-of-week, e.g. \"*/15 6-22 * * MON-FRI\"")
                    ok = false
                }
            }
        case (.some, .some(let c)):
            reader.error("104", "give either every or cron in \(what), not both", at: c.keyNode)
            ok = false
        case (nil, nil):
            reader.error("102", "\(what) needs every (an interval) or cron", at: node, help: "every: 15m, or cron: \"0 * * * *\"")
            ok = false
        }
        if let z = keys["timezone"], let id = reader.nonEmptyString(z.value, what: "timezone") {
            if let zone = TimeZone(identifier: id) {
                schedule.clock = ZoneClock(zone)
            } else {
                reader.error("104", "unknown time zone '\(id)'", at: z.value, help: "an IANA zone name such as Asia/Shanghai, Europe/Berlin, America/New_York")
                ok = false
            }
        }
        for key in ["blackout", "allowed"] {
            guard let entry = keys[key], let items = reader.sequence(entry.value, what: key, allowScalar: true) else { continue }
            for item in items {
                guard let text = reader.nonEmptyString(item, what: "each \(key) window") else { continue }
                do {
                    let w = try TimeWindow(text)
                    if key == "blackout" { schedule.blackouts.append(w) } else { schedule.allowed.append(w) }
                } catch {
                    reader.error("104", error.description, at: item, help: "HH:MM-HH:MM in the feed's timezone, optionally after weekdays: \"Mon-Fri 02:00-04:00\"")
                    ok = false
                }
            }
        }
        if let m = keys["drain_margin"] {
            if case .scalar(let s) = m.value, s.string == "auto" {
                schedule.drainMargin = .auto
            } else if let d = readDuration(m.value, what: "drain_margin", reader: &reader) {
                schedule.drainMargin = .fixed(d)
            }
        }
        if ok, schedule.hasWindows, schedule.nextOpen(from: Timestamp(seconds: 1_767_225_600)) == nil {  // 2026-01-01
            reader.error("104", "\(what) is never open: its blackouts cover all of its allowed windows", at: node)
            ok = false
        }
        return ok ? schedule : nil
    }
}

/// What `oemsync run` itself is configured with.
public struct DaemonSettings: Sendable {
    /// Where Prometheus metrics, /healthz and /readyz are served; nil: not served.
    public var metrics: MetricsEndpoint?
    /// How many feeds sync at the same time.
    public var maxParallel = 2
    /// A running sync without progress (a committed batch, a retried request) for this long makes
    /// the daemon unhealthy: the watchdog pings stop (systemd restarts it) and /healthz answers 503.
    public var stallTimeout = Duration.seconds(1800)
    /// The control socket (`oemsync trigger`); nil: none.
    public var control: String? = DaemonSettings.defaultControl

    /// In the service's runtime directory (systemd's `RuntimeDirectory=oemsync`).
    public static let defaultControl = "/run/oemsync/control.sock"

    public init() {}
}

/// A loopback address and port (0: any free one, logged at start): the metrics endpoint has no
/// authentication, so it never listens on a network interface.
public struct MetricsEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init?(_ text: String) {
        var host: Substring
        var port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        if host == "localhost" { host = "127.0.0.1" }
        guard host == "::1" || host.hasPrefix("127."), let p = UInt16(port) else { return nil }
        self.host = String(host)
        self.port = p
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
