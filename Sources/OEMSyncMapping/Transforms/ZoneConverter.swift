import Foundation
import OEMSyncCore

/// Turns a local date-time in an IANA zone into an instant, with defined daylight-saving behaviour.
///
/// - A local time that does not exist (the spring-forward gap, e.g. 02:30 on 2026-03-29 in
///   Europe/Berlin) is moved forward by the length of the gap (03:30 CEST), as `Calendar` does.
/// - A local time that occurs twice (the autumn fall-back hour) resolves to its first occurrence
///   (the earlier instant, still in summer time).
/// Asia/Shanghai has no DST since 1991, so neither case arises for Chinese OEM data.
public struct ZoneConverter: @unchecked Sendable, Hashable {
    public let identifier: String
    let zone: TimeZone

    public init?(identifier: String) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        self.identifier = identifier
        self.zone = zone
    }

    public static let utc = ZoneConverter(identifier: "UTC")!

    func offset(atUTCSeconds s: Int64) -> Int64 {
        Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(s))))
    }

    /// The instant of local wall-clock time `localSeconds` (seconds since 1970-01-01 as if the local
    /// time were UTC).
    public func instant(localSeconds t: Int64) -> Int64 {
        let early = offset(atUTCSeconds: t - 86_400)
        let late = offset(atUTCSeconds: t + 86_400)
        if early == late {
            // No transition within a day either side: one answer (the common case).
            let u = t - early
            let o = offset(atUTCSeconds: u)
            return o == early ? u : t - o
        }
        let candidates = [t - early, t - late].filter { offset(atUTCSeconds: $0) == t - $0 }
        if let first = candidates.min() { return first }
        return t - early  // in the gap: keep the offset before the transition, i.e. move forward
    }

    public static func == (a: ZoneConverter, b: ZoneConverter) -> Bool { a.identifier == b.identifier }
    public func hash(into hasher: inout Hasher) { hasher.combine(identifier) }
}
