extension Migration {
    /// oemsync's own tables: checkpoints, the batch ledger, rejects and warnings.
    ///
    /// `oemsync_batches` enforces the conservation law itself: `records_in = written + rejected`.
    static let ledger = Migration(
        name: "0001-oemsync-ledger",
        sqlite: """
            CREATE TABLE oemsync_checkpoints (
                feed TEXT PRIMARY KEY,
                position TEXT NOT NULL,
                batch_id INTEGER,
                updated_at TEXT NOT NULL
            );
            CREATE TABLE oemsync_batches (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                feed TEXT NOT NULL,
                source TEXT NOT NULL,
                source_ref TEXT NOT NULL,
                position_start TEXT NOT NULL,
                position_end TEXT NOT NULL,
                records_in INTEGER NOT NULL,
                written INTEGER NOT NULL,
                inserted INTEGER NOT NULL DEFAULT 0,
                updated INTEGER NOT NULL DEFAULT 0,
                unchanged INTEGER NOT NULL DEFAULT 0,
                superseded INTEGER NOT NULL DEFAULT 0,
                rejected INTEGER NOT NULL,
                warnings INTEGER NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('ok', 'partial', 'failed')),
                mapping TEXT NOT NULL,
                mapping_version TEXT NOT NULL,
                dictionary_version TEXT NOT NULL,
                started_at TEXT NOT NULL,
                finished_at TEXT NOT NULL,
                error TEXT,
                CHECK (records_in = written + rejected)
            );
            CREATE INDEX oemsync_batches_feed ON oemsync_batches (feed, id);
            CREATE TABLE oemsync_rejects (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                batch_id INTEGER NOT NULL REFERENCES oemsync_batches (id),
                feed TEXT NOT NULL,
                source TEXT NOT NULL,
                line INTEGER NOT NULL,
                field TEXT,
                reason TEXT NOT NULL,
                message TEXT NOT NULL,
                raw_value TEXT,
                problems TEXT NOT NULL,
                raw_record TEXT NOT NULL
            );
            CREATE INDEX oemsync_rejects_batch ON oemsync_rejects (batch_id);
            CREATE INDEX oemsync_rejects_reason ON oemsync_rejects (feed, reason);
            CREATE TABLE oemsync_warnings (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                batch_id INTEGER NOT NULL REFERENCES oemsync_batches (id),
                feed TEXT NOT NULL,
                source TEXT NOT NULL,
                line INTEGER NOT NULL,
                field TEXT,
                reason TEXT NOT NULL,
                message TEXT NOT NULL,
                raw_value TEXT,
                action TEXT NOT NULL
            );
            CREATE INDEX oemsync_warnings_batch ON oemsync_warnings (batch_id);
            """,
        postgres: """
            CREATE TABLE oemsync_checkpoints (
                feed TEXT PRIMARY KEY,
                position TEXT NOT NULL,
                batch_id BIGINT,
                updated_at TIMESTAMPTZ NOT NULL
            );
            CREATE TABLE oemsync_batches (
                id BIGSERIAL PRIMARY KEY,
                feed TEXT NOT NULL,
                source TEXT NOT NULL,
                source_ref TEXT NOT NULL,
                position_start TEXT NOT NULL,
                position_end TEXT NOT NULL,
                records_in INTEGER NOT NULL,
                written INTEGER NOT NULL,
                inserted INTEGER NOT NULL DEFAULT 0,
                updated INTEGER NOT NULL DEFAULT 0,
                unchanged INTEGER NOT NULL DEFAULT 0,
                superseded INTEGER NOT NULL DEFAULT 0,
                rejected INTEGER NOT NULL,
                warnings INTEGER NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('ok', 'partial', 'failed')),
                mapping TEXT NOT NULL,
                mapping_version TEXT NOT NULL,
                dictionary_version TEXT NOT NULL,
                started_at TIMESTAMPTZ NOT NULL,
                finished_at TIMESTAMPTZ NOT NULL,
                error TEXT,
                CHECK (records_in = written + rejected)
            );
            CREATE INDEX oemsync_batches_feed ON oemsync_batches (feed, id);
            CREATE TABLE oemsync_rejects (
                id BIGSERIAL PRIMARY KEY,
                batch_id BIGINT NOT NULL REFERENCES oemsync_batches (id),
                feed TEXT NOT NULL,
                source TEXT NOT NULL,
                line INTEGER NOT NULL,
                field TEXT,
                reason TEXT NOT NULL,
                message TEXT NOT NULL,
                raw_value TEXT,
                problems TEXT NOT NULL,
                raw_record TEXT NOT NULL
            );
            CREATE INDEX oemsync_rejects_batch ON oemsync_rejects (batch_id);
            CREATE INDEX oemsync_rejects_reason ON oemsync_rejects (feed, reason);
            CREATE TABLE oemsync_warnings (
                id BIGSERIAL PRIMARY KEY,
                batch_id BIGINT NOT NULL REFERENCES oemsync_batches (id),
                feed TEXT NOT NULL,
                source TEXT NOT NULL,
                line INTEGER NOT NULL,
                field TEXT,
                reason TEXT NOT NULL,
                message TEXT NOT NULL,
                raw_value TEXT,
                action TEXT NOT NULL
            );
            CREATE INDEX oemsync_warnings_batch ON oemsync_warnings (batch_id);
            """)
}
