extension Migration {
    /// What replay and the engineers' commands need: a replay's link to the batch it replays, rows
    /// the database refused, the attempts and resolution of each reject, payloads stored deflated
    /// with their size, first line, the lines of their records when not contiguous, and time (for retention), and a log of checkpoints set by hand.
    static let replay = Migration(
        name: "0004-replay",
        sqlite: """
            ALTER TABLE oemsync_batches ADD COLUMN replay_of INTEGER REFERENCES oemsync_batches (id);
            ALTER TABLE oemsync_batches ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE oemsync_batches ADD COLUMN newer INTEGER NOT NULL DEFAULT 0;
            CREATE INDEX oemsync_batches_replay ON oemsync_batches (replay_of);
            ALTER TABLE oemsync_rejects ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE oemsync_rejects ADD COLUMN resolved_by INTEGER REFERENCES oemsync_batches (id);
            ALTER TABLE oemsync_payloads ADD COLUMN encoding TEXT NOT NULL DEFAULT 'identity';
            ALTER TABLE oemsync_payloads ADD COLUMN size INTEGER;
            ALTER TABLE oemsync_payloads ADD COLUMN first_line INTEGER NOT NULL DEFAULT 1;
            ALTER TABLE oemsync_payloads ADD COLUMN stored_at TEXT;
            ALTER TABLE oemsync_payloads ADD COLUMN lines TEXT;
            CREATE TABLE oemsync_checkpoint_changes (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                feed TEXT NOT NULL,
                old_position TEXT,
                new_position TEXT,
                changed_at TEXT NOT NULL,
                reason TEXT NOT NULL
            );
            """,
        postgres: """
            ALTER TABLE oemsync_batches ADD COLUMN replay_of BIGINT REFERENCES oemsync_batches (id);
            ALTER TABLE oemsync_batches ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE oemsync_batches ADD COLUMN newer INTEGER NOT NULL DEFAULT 0;
            CREATE INDEX oemsync_batches_replay ON oemsync_batches (replay_of);
            ALTER TABLE oemsync_rejects ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE oemsync_rejects ADD COLUMN resolved_by BIGINT REFERENCES oemsync_batches (id);
            ALTER TABLE oemsync_payloads ADD COLUMN encoding TEXT NOT NULL DEFAULT 'identity';
            ALTER TABLE oemsync_payloads ADD COLUMN size INTEGER;
            ALTER TABLE oemsync_payloads ADD COLUMN first_line INTEGER NOT NULL DEFAULT 1;
            ALTER TABLE oemsync_payloads ADD COLUMN stored_at TIMESTAMPTZ;
            ALTER TABLE oemsync_payloads ADD COLUMN lines TEXT;
            CREATE TABLE oemsync_checkpoint_changes (
                id BIGSERIAL PRIMARY KEY,
                feed TEXT NOT NULL,
                old_position TEXT,
                new_position TEXT,
                changed_at TIMESTAMPTZ NOT NULL,
                reason TEXT NOT NULL
            );
            """)
}
