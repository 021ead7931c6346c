extension Migration {
    /// What REST (and later SOAP) batches add to the ledger: the credentials and the number of
    /// requests a batch cost (the daily quota is counted from them), records dropped as duplicates,
    /// notes on retries, the OEM's message id; and the payload of a failed batch, kept for replay.
    static let httpSources = Migration(
        name: "0003-http-sources",
        sqlite: ledgerColumns + payloads(id: "INTEGER", bytes: "BLOB"),
        postgres: ledgerColumns + payloads(id: "BIGINT", bytes: "BYTEA"))

    private static let ledgerColumns = """
        ALTER TABLE oemsync_batches ADD COLUMN credentials TEXT;
        ALTER TABLE oemsync_batches ADD COLUMN requests INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE oemsync_batches ADD COLUMN duplicates INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE oemsync_batches ADD COLUMN notes TEXT;
        ALTER TABLE oemsync_batches ADD COLUMN message_id TEXT;
        CREATE INDEX oemsync_batches_quota ON oemsync_batches (credentials, started_at);

        """

    private static func payloads(id: String, bytes: String) -> String {
        """
        CREATE TABLE oemsync_payloads (
            batch_id \(id) PRIMARY KEY REFERENCES oemsync_batches (id),
            feed TEXT NOT NULL,
            request TEXT NOT NULL,
            status INTEGER,
            content_type TEXT,
            body \(bytes)
        );
        """
    }
}
