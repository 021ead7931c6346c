extension Migration {
    /// Where each feed stands in the daemon (`oemsync run`): its state, why, when it runs next, and
    /// which process says so. `oemsync status` reads it from any host that reaches the database.
    static let daemon = Migration(
        name: "0005-daemon",
        sqlite: """
            CREATE TABLE oemsync_feed_states (
                feed TEXT PRIMARY KEY,
                state TEXT NOT NULL,
                detail TEXT,
                next_run TEXT,
                window_open INTEGER NOT NULL DEFAULT 1,
                process TEXT NOT NULL,
                updated_at TEXT NOT NULL
            );
            """,
        postgres: """
            CREATE TABLE oemsync_feed_states (
                feed TEXT PRIMARY KEY,
                state TEXT NOT NULL,
                detail TEXT,
                next_run TIMESTAMPTZ,
                window_open BOOLEAN NOT NULL DEFAULT TRUE,
                process TEXT NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL
            );
            """)
}
