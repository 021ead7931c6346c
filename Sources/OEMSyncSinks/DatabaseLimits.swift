/// How long oemsync waits for the dealer database, and how it keeps connections honest. Every wait
/// is bounded: a database that is down, frozen (a stopped server process, a VM paused) or cut off
/// by the network ends the sync with a clear error instead of hanging it.
///
/// ```yaml
/// database:
///   url: postgresql://oemsync@db.internal/dealer
///   connect_timeout: 10s      # connecting, TLS and login (default 10s)
///   statement_timeout: 10m    # the longest statement; the server ends it (default 10m)
///   keepalive: 30s            # TCP keepalive after this much silence (default 30s)
///   busy_timeout: 30s         # SQLite only: waiting for another process's write lock (default 30s)
/// ```
public struct DatabaseLimits: Sendable, Hashable {
    /// Connecting, TLS and authentication included (libpq `connect_timeout`). Default 10 s.
    public var connectTimeout: Duration = .seconds(10)
    /// The longest statement (PostgreSQL `statement_timeout`, which the server enforces). An answer
    /// that has not come ``answerMargin`` after it (the server cannot end anything when it is
    /// frozen) abandons the connection, and with it the open transaction. Default 10 min.
    public var statementTimeout: Duration = .seconds(600)
    /// TCP keepalive: probes after this much silence, 3 probes 10 s apart, and sent data left
    /// unacknowledged this long plus 30 s ends the connection (a host gone, a cable cut). Default 30 s.
    public var keepalive: Duration = .seconds(30)
    /// SQLite: how long a writer waits for another process's lock (`sqlite3_busy_timeout`). Default 30 s.
    public var busyTimeout: Duration = .seconds(30)

    /// The time a server gets, after ``statementTimeout``, to report its own timeout before the
    /// client gives up on it: as long again, at most 10 s.
    public var answerMargin: Duration { min(statementTimeout, .seconds(10)) }

    public init() {}

    /// The longest wait for any answer of the server.
    public var answerTimeout: Duration { statementTimeout + answerMargin }
}

extension Duration {
    /// Whole milliseconds, at least 1.
    var milliseconds: Int64 {
        let c = components
        return max(1, c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000)
    }
}
