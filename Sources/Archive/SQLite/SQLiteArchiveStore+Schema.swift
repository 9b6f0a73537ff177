import GRDB

extension SQLiteArchiveStore {
    /// Schema history. Migrations are history: never edit a shipped one, add the next.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-archive-foundation") { db in
            try db.execute(sql: """
                CREATE TABLE custodian (
                    id INTEGER PRIMARY KEY,
                    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    time_zone TEXT,
                    created_at TEXT NOT NULL
                );
                CREATE TABLE blob (
                    hash TEXT PRIMARY KEY,
                    size INTEGER NOT NULL,
                    first_seen_at TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE conversation (
                    id INTEGER PRIMARY KEY,
                    key TEXT NOT NULL UNIQUE,
                    platform TEXT NOT NULL,
                    custodian_id INTEGER NOT NULL REFERENCES custodian(id),
                    title TEXT NOT NULL,
                    created_at TEXT NOT NULL
                );
                CREATE TABLE participant (
                    conversation_id INTEGER NOT NULL REFERENCES conversation(id),
                    sender_key TEXT NOT NULL,
                    name TEXT NOT NULL,
                    PRIMARY KEY (conversation_id, sender_key)
                ) WITHOUT ROWID;
                CREATE TABLE capture_batch (
                    id INTEGER PRIMARY KEY,
                    custodian_id INTEGER NOT NULL REFERENCES custodian(id),
                    conversation_id INTEGER NOT NULL REFERENCES conversation(id),
                    actor TEXT NOT NULL,
                    source_name TEXT NOT NULL,
                    source_hash TEXT NOT NULL REFERENCES blob(hash),
                    source_size INTEGER NOT NULL,
                    platform TEXT NOT NULL,
                    format TEXT NOT NULL,
                    text_member TEXT NOT NULL,
                    date_order TEXT,
                    date_order_evidence TEXT,
                    time_zone TEXT NOT NULL,
                    time_zone_basis TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('running', 'complete')),
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    messages_added INTEGER NOT NULL DEFAULT 0,
                    duplicates INTEGER NOT NULL DEFAULT 0,
                    attachments_stored INTEGER NOT NULL DEFAULT 0,
                    attachments_missing INTEGER NOT NULL DEFAULT 0,
                    defects INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX capture_batch_source ON capture_batch(source_hash, custodian_id);
                CREATE TABLE message (
                    id INTEGER PRIMARY KEY,
                    identity_key TEXT NOT NULL UNIQUE,
                    conversation_id INTEGER NOT NULL REFERENCES conversation(id),
                    batch_id INTEGER NOT NULL REFERENCES capture_batch(id),
                    platform TEXT NOT NULL,
                    conversation_key TEXT NOT NULL,
                    source_ordinal INTEGER NOT NULL,
                    dup_ordinal INTEGER NOT NULL,
                    sent_local TEXT NOT NULL,
                    time_zone TEXT NOT NULL,
                    sent_at INTEGER NOT NULL,
                    captured_at INTEGER NOT NULL,
                    sender TEXT,
                    sender_raw TEXT,
                    sender_key TEXT NOT NULL,
                    body TEXT NOT NULL,
                    raw TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    flags TEXT NOT NULL,
                    source_hash TEXT NOT NULL,
                    source_member TEXT NOT NULL,
                    source_line INTEGER NOT NULL,
                    line_count INTEGER NOT NULL,
                    content_hash TEXT NOT NULL,
                    hash_version INTEGER NOT NULL,
                    -- time-ordered key of the search index: sent instant << 24 | 24 identity bits
                    search_key INTEGER NOT NULL UNIQUE
                );
                CREATE INDEX message_conversation_sent ON message(conversation_id, sent_local, id);
                CREATE TABLE attachment (
                    id INTEGER PRIMARY KEY,
                    message_id INTEGER NOT NULL REFERENCES message(id),
                    position INTEGER NOT NULL,
                    file_name TEXT NOT NULL,
                    blob_hash TEXT REFERENCES blob(hash),
                    size INTEGER
                );
                CREATE INDEX attachment_message ON attachment(message_id);
                CREATE TABLE defect (
                    id INTEGER PRIMARY KEY,
                    batch_id INTEGER NOT NULL REFERENCES capture_batch(id),
                    file TEXT NOT NULL,
                    line INTEGER NOT NULL,
                    code TEXT NOT NULL,
                    detail TEXT NOT NULL,
                    text TEXT NOT NULL
                );
                CREATE UNIQUE INDEX defect_batch ON defect(batch_id, line, code, file);
                CREATE TABLE audit_log (
                    seq INTEGER PRIMARY KEY,
                    at TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    target TEXT NOT NULL,
                    detail TEXT NOT NULL,
                    prev_hash TEXT NOT NULL,
                    hash TEXT NOT NULL
                );
                CREATE INDEX audit_target ON audit_log(target);
                CREATE VIRTUAL TABLE message_fts USING fts5(
                    body, sender, content='message', content_rowid='search_key',
                    tokenize='unicode61 remove_diacritics 2'
                );
                """)
        }
        m.registerMigration("v2-records-law") { db in try Self.migrateRecordsLaw(db) }
        m.registerMigration("v3-web-access") { db in try Self.migrateWebAccess(db) }
        m.registerMigration("v4-identity-carriage") { db in try Self.migrateIdentity(db) }
        m.registerMigration("v5-oversight") { db in try Self.migrateOversight(db) }
        m.registerMigration("v6-reminders") { db in try Self.migrateReminders(db) }
        m.registerMigration("v7-audit-tracker") { db in try Self.migrateTracker(db) }
        m.registerMigration("v8-deferred-index") { db in try Self.migrateDeferredIndex(db) }
        m.registerMigration("v9-time-ordered-identity") { db in try Self.migrateTimeOrderedIdentity(db) }
        // A search that filters by custodian, conversation or participant joins every match it
        // ranks or counts to its conversation: this narrow index answers that from ~20 bytes a
        // message instead of the message row (~600 bytes, read again after every commit
        // invalidates a reader's page cache). Keys are time-ordered: capture appends to it.
        m.registerMigration("v10-search-key-conversation") { db in
            try db.execute(sql: "CREATE INDEX message_search_conversation ON message(search_key, conversation_id)")
        }
        // Browser sessions and sign-in throttling move from one process's memory into the
        // archive, so that several `serve` instances share them and a restart signs nobody out.
        m.registerMigration("v11-web-sessions") { db in try Self.migrateWebSessions(db) }
        // What Object Lock was last told about each blob (used with an object store; kept here
        // too so that both backends share one shape and `migrate` carries it over).
        m.registerMigration("v12-blob-lock") { db in
            try db.execute(sql: """
                ALTER TABLE blob ADD COLUMN lock_until TEXT;
                ALTER TABLE blob ADD COLUMN lock_held INTEGER NOT NULL DEFAULT 0;
                """)
        }
        // Custody of physical items (issue 15): targeting rules, target lists and their imports.
        m.registerMigration("v13-custody-targets") { db in try Self.migrateCustodyTargets(db) }
        m.registerMigration("v14-custody-receipts") { db in try Self.migrateCustodyReceipts(db) }
        m.registerMigration("v15-custody-seizures") { db in try Self.migrateCustodySeizures(db) }
        m.registerMigration("v16-custody-presentations") { db in try Self.migrateCustodyPresentations(db) }
        m.registerMigration("v17-custody-security-checks") { db in try Self.migrateCustodySecurityChecks(db) }
        m.registerMigration("v18-custody-corrections") { db in try Self.migrateCustodyCorrections(db) }
        m.registerMigration("v19-custody-privacy") { db in try Self.migrateCustodyPrivacy(db) }
        m.registerMigration("v20-custody-mapping-profiles") { db in try Self.migrateCustodyProfiles(db) }
        m.registerMigration("v21-custody-referrals") { db in try Self.migrateCustodyReferrals(db) }
        m.registerMigration("v22-custody-inspection-end") { db in
            try db.execute(sql: "CREATE INDEX custody_inspection_ended ON custody_inspection(ended_at)")
        }
        m.registerMigration("v23-custody-funnel") { db in try Self.migrateCustodyFunnel(db) }
        m.registerMigration("v24-custody-duties") { db in try Self.migrateCustodyDuties(db) }
        m.registerMigration("v25-custody-return-batches") { db in try Self.migrateCustodyReturnBatches(db) }
        m.registerMigration("v26-custody-advance-data") { db in try Self.migrateCustodyAdvanceData(db) }
        // Seizures by item: R-EFF and R-NI ask per target, and without it each asked every seizure.
        // An index only: foreign keys stay on, so the upgrade does not check every row of the
        // archive's foreign keys afterwards (37 s at 50M custody events).
        m.registerMigration("v27-custody-seizure-item", foreignKeyChecks: .immediate) { db in
            try db.execute(sql: "CREATE INDEX custody_seizure_item ON custody_seizure(item_id)")
        }
        m.registerMigration("v28-custody-manifests", foreignKeyChecks: .immediate) { db in try Self.migrateCustodyManifests(db) }
        // From here on every connection deletes with secure_delete (issue 16). An archive that held
        // records before may keep deleted text in free pages and slack from earlier deletes and
        // index merges: its first destruction rewrites the file once (`purgeResidue`).
        m.registerMigration("v29-secure-delete", foreignKeyChecks: .immediate) { db in
            let existing = try Int.fetchOne(db, sql: "SELECT count(*) FROM (SELECT 1 FROM message LIMIT 1)") ?? 0
                + (Int.fetchOne(db, sql: "SELECT count(*) FROM (SELECT 1 FROM tombstone LIMIT 1)") ?? 0)
            try db.execute(sql: """
                CREATE TABLE storage_scrub (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    needs_rewrite INTEGER NOT NULL,
                    rewritten_at TEXT
                );
                INSERT INTO storage_scrub (id, needs_rewrite) VALUES (1, ?);
                """, arguments: [existing > 0 ? 1 : 0])
        }
        // Each blob's data key, wrapped by the operator's key-encryption key (issue 16, decision
        // 0009). Destroying the row is the blob's cryptographic erase: only for a released blob.
        m.registerMigration("v30-blob-keys", foreignKeyChecks: .immediate) { db in
            try db.execute(sql: """
                CREATE TABLE blob_key (
                    hash TEXT PRIMARY KEY,
                    key_id TEXT NOT NULL CHECK (length(key_id) = 32),
                    kek_id TEXT NOT NULL,
                    wrapped BLOB NOT NULL,
                    created_at TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE TRIGGER blob_key_destroyed_only_when_released BEFORE DELETE ON blob_key
                WHEN NOT EXISTS (SELECT 1 FROM blob WHERE hash = OLD.hash AND destroyed_by IS NOT NULL)
                BEGIN SELECT RAISE(ABORT, 'a blob''s data key is destroyed only once a disposition has released the blob'); END;
                CREATE TRIGGER blob_key_never_replaced BEFORE UPDATE OF hash, key_id ON blob_key
                BEGIN SELECT RAISE(ABORT, 'a data key is never replaced, only re-wrapped'); END;
                """)
        }
        // Sign-in identities that act as users: OS accounts for the CLI, OpenID Connect subjects
        // (issue 16).
        m.registerMigration("v31-user-logins", foreignKeyChecks: .immediate) { db in try Self.migrateUserLogins(db) }
        // Single sign-ons between the redirect to the identity provider and its answer (issue 16).
        m.registerMigration("v32-sign-in-pending", foreignKeyChecks: .immediate) { db in try Self.migratePendingSignIns(db) }
        // How far each read-audit journal is chained into the audit log (decision 0011).
        m.registerMigration("v33-read-audit-mark", foreignKeyChecks: .immediate) { db in
            try db.execute(sql: "CREATE TABLE read_audit_mark (journal TEXT PRIMARY KEY, last_id INTEGER NOT NULL)")
        }
        return m
    }
}
