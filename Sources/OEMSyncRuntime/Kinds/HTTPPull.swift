import Foundation
import Logging
import OEMSyncCore
import OEMSyncFeeds
import OEMSyncSinks

/// The settings of a kind that pulls over HTTP: where its requests go and with what.
public protocol HTTPFeedSettings: FeedSourceSettings {
    var endpointURL: String { get }
    /// The name of the credentials under `credentials:`.
    var credentials: String { get }
    var transport: TransportSettings { get }
    var clientKeyPassword: SecretSource? { get }
}

extension HTTPFeedSettings {
    public var http: HTTPEndpoint? {
        HTTPEndpoint(url: endpointURL, credentials: credentials, transport: transport, clientKeyPassword: clientKeyPassword)
    }
}

/// What the REST and SOAP sources share: the request runner of a feed's credentials.
enum HTTPPull {
    /// The runner for one run of a feed: the credentials' authenticator and limiter (the limiter's
    /// day counted from the ledger on first use), a libcurl transport with the feed's TLS, and the
    /// retry policy. Each retry is logged and told to the run's control.
    static func runner(
        credentials: String, retry: RetryPolicy, transport: TransportSettings, clientKeyPassword: SecretSource?, services: SourceServices,
        database: any DealerDatabase, logger: Logger, control: RunControl
    ) throws -> RequestRunner {
        let (authenticator, limiter) = try services.credentials(credentials)
        if limiter.needsLoad, let quota = limiter.quota {
            let day = quota.dayStart(of: services.clock.now())
            limiter.load(usedToday: try database.requestsUsed(credentials: credentials, since: day), dayStart: day)
        }
        var transport = transport
        if let clientKeyPassword { transport.tls.clientKeyPassword = try clientKeyPassword.read("client key passphrase").value }
        return RequestRunner(
            transport: try CurlTransport(settings: transport), authenticator: authenticator, limiter: limiter, breakers: services.breakers,
            policy: retry, clock: services.clock, random: services.random,
            onAttempt: { note in
                control.retried()
                if note.unreachable {
                    logger.warning("OEM unreachable, request retried", metadata: [LogKey.reason: .string(note.description)])
                } else {
                    logger.info("request retried", metadata: [LogKey.reason: .string(note.description)])
                }
            })
    }

    /// `/api/v1/dealers/D001/orders`: the path of a URL, how a pull is named in reports.
    static func path(of url: String) -> String {
        let host = RequestRunner.host(of: url)
        guard let r = url.range(of: host) else { return url }
        let path = url[r.upperBound...].prefix { $0 != "?" }
        return path.isEmpty ? "/" : String(path)
    }

    /// The steps of a pull that cannot start: its unit, failed with why (the database, the
    /// checkpoint or the credentials, the mapping).
    static func cannotStart(_ pull: FileReport, _ error: any Error, feed: String) -> [SourceStep] {
        let stop: FeedError
        switch error {
        case let e as FeedError: stop = e
        case let e as SinkError: stop = FeedError(.database, feed: feed, e.description)
        default: stop = FeedError(.source, feed: feed, "\(error)")
        }
        return [.begin(pull, file: nil), .stop(stop)]
    }
}
