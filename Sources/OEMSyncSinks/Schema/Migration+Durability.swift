extension Migration {
    /// What makes a long-running install safe: every dropped file's outcome keyed by its content
    /// (a file dropped again is recognised; an archived file the database does not know is loaded
    /// again), and each daemon's heartbeat (`status` tells a dead daemon's `running` from a live one).
    static let durability = Migration(
        name: "0006-files-and-heartbeats",
        sqlite: """
            CREATE TABLE oemsync_files (
                feed TEXT NOT NULL,
                claimed_name TEXT NOT NULL,
                original_name TEXT NOT NULL,
                size INTEGER NOT NULL,
                sha256 TEXT,
                outcome TEXT NOT NULL CHECK (outcome IN ('loaded', 'skipped', 'quarantined')),
                batch_id INTEGER REFERENCES oemsync_batches (id),
                same_as INTEGER REFERENCES oemsync_batches (id),
                reason TEXT,
                finished_at TEXT NOT NULL,
                PRIMARY KEY (feed, claimed_name)
            );
            CREATE INDEX oemsync_files_content ON oemsync_files (feed, sha256);
            CREATE TABLE oemsync_daemons (
                process TEXT PRIMARY KEY,
                version TEXT NOT NULL,
                started_at TEXT NOT NULL,
                heartbeat_at TEXT NOT NULL,
                stopped_at TEXT
            );
            """,
        postgres: """
            CREATE TABLE oemsync_files (
                feed TEXT NOT NULL,
                claimed_name TEXT NOT NULL,
                original_name TEXT NOT NULL,
                size BIGINT NOT NULL,
                sha256 TEXT,
                outcome TEXT NOT NULL CHECK (outcome IN ('loaded', 'skipped', 'quarantined')),
                batch_id BIGINT REFERENCES oemsync_batches (id),
                same_as BIGINT REFERENCES oemsync_batches (id),
                reason TEXT,
                finished_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (feed, claimed_name)
            );
            CREATE INDEX oemsync_files_content ON oemsync_files (feed, sha256);
            CREATE TABLE oemsync_daemons (
                process TEXT PRIMARY KEY,
                version TEXT NOT NULL,
                started_at TIMESTAMPTZ NOT NULL,
                heartbeat_at TIMESTAMPTZ NOT NULL,
                stopped_at TIMESTAMPTZ
            );
            """)
}
