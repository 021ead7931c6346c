/// How the simulated OEM behaves: who may call it, how its tokens age, which faults it injects.
/// The defaults are the demo's: one dealer client, no faults.
public struct SimulatorConfig: Sendable {
    /// OAuth2 clients (client credentials): id -> secret.
    public var clients: [String: String] = ["dealer-d001": "s3cret-d001"]
    /// Accepted `X-Api-Key` values.
    public var apiKeys: Set<String> = ["key-d001"]
    /// Accepted basic-auth users: name -> password.
    public var basicUsers: [String: String] = ["d001": "pw-d001"]
    /// WS-Security users of the SOAP service: name -> password.
    public var soapUsers: [String: String] = ["D001": "star-pw-d001"]
    /// The lifetime a token is issued with (`expires_in`), in seconds.
    public var tokenLifetime: Int = 3600
    /// A token stops being accepted after this many data requests (it "expires mid-sync"); nil: never.
    public var tokenUses: Int?
    public var faults: [Fault] = []
    /// The largest page an endpoint serves; a larger `pageSize`/`limit` is cut to it.
    public var maxPageSize = 500
    /// After this many data requests, the orders listed change (new `updatedAt`, new status) and so
    /// move to the end of every listing: records updated while a client is paging.
    public var updateDuringPull: (afterRequests: Int, orderNos: [String])?
    /// The OEM's own rate limit: requests per second and burst. Past it, 429 with `Retry-After: 1`.
    public var rateLimit: (perSecond: Double, burst: Int)?

    public init() {}
}

/// One request the simulator answered, for tests to look at.
public struct SimRequest: Sendable, Hashable {
    /// Seconds since the simulator started (monotonic).
    public var at: Double
    public var method: String
    public var path: String
    public var query: [String: String]
    public var status: Int
    /// The fault injected, if any.
    public var fault: String?
}
