import Foundation
import GRDB
import RecordkeeperCore

extension SQLiteArchiveStore {
    /// Guards that make the store itself refuse what the law forbids, whatever code path asks:
    /// a record leaves only when its tombstone exists (which only an approved disposition
    /// writes), records and the audit log are never changed in place, holds and tombstones are
    /// kept forever. (That a disposed record is never captured again is checked in `append`: a
    /// BEFORE INSERT trigger on `message` halved ingest throughput.)
    static let guardTriggers = [
        "message_no_update", "message_delete_only_by_disposition",
        "audit_log_no_update", "audit_log_no_delete", "tombstone_only_by_approved_disposition", "tombstone_no_update", "tombstone_no_delete",
        "legal_hold_no_delete", "file_plan_no_update", "file_plan_no_delete",
    ]

    static func migrateRecordsLaw(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE custodian ADD COLUMN name TEXT;
            ALTER TABLE custodian ADD COLUMN office TEXT;
            ALTER TABLE blob ADD COLUMN destroyed_by INTEGER;
            ALTER TABLE blob ADD COLUMN destroyed_at TEXT;
            CREATE TABLE app_user (
                name TEXT PRIMARY KEY COLLATE NOCASE,
                display_name TEXT NOT NULL,
                roles TEXT NOT NULL,
                created_at TEXT NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE custodian_account (
                id INTEGER PRIMARY KEY,
                custodian_id INTEGER NOT NULL REFERENCES custodian(id),
                platform TEXT NOT NULL,
                address TEXT NOT NULL,
                normalized TEXT NOT NULL,
                official INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                UNIQUE (platform, normalized)
            );
            CREATE TABLE role_designation (
                id INTEGER PRIMARY KEY,
                custodian_id INTEGER NOT NULL REFERENCES custodian(id),
                role TEXT NOT NULL,
                capstone INTEGER NOT NULL,
                starts TEXT NOT NULL,
                ends TEXT,
                created_at TEXT NOT NULL,
                created_by TEXT NOT NULL
            );
            CREATE TABLE file_plan (
                version INTEGER PRIMARY KEY,
                document TEXT NOT NULL,
                digest TEXT NOT NULL,
                created_at TEXT NOT NULL,
                created_by TEXT NOT NULL,
                note TEXT
            );
            CREATE TABLE cutoff_event (
                conversation_id INTEGER NOT NULL REFERENCES conversation(id),
                name TEXT NOT NULL COLLATE NOCASE,
                date TEXT NOT NULL,
                recorded_at TEXT NOT NULL,
                recorded_by TEXT NOT NULL,
                PRIMARY KEY (conversation_id, name)
            ) WITHOUT ROWID;
            CREATE TABLE retention_assignment (
                message_id INTEGER PRIMARY KEY,
                item_id TEXT NOT NULL,
                rule_id TEXT,
                action TEXT NOT NULL,
                cutoff TEXT,
                eligible TEXT,
                plan_version INTEGER NOT NULL,
                assigned_at TEXT NOT NULL
            );
            -- No index on (action, eligible): maintained inside ingest's transactions it cost 5 s per
            -- 100,000 messages on the project machine; `due` scans the assignments instead.
            CREATE TABLE legal_hold (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                matter TEXT NOT NULL,
                reference TEXT,
                requested_by TEXT NOT NULL,
                scope TEXT NOT NULL,
                -- the scope's query translated for the search index (evaluated inside the
                -- transactions that check holds)
                fts_match TEXT,
                created_by TEXT NOT NULL,
                created_at TEXT NOT NULL,
                released_by TEXT,
                released_at TEXT,
                release_reason TEXT
            );
            CREATE TABLE disposition_batch (
                id INTEGER PRIMARY KEY,
                action TEXT NOT NULL CHECK (action IN ('destroy', 'transfer')),
                status TEXT NOT NULL CHECK (status IN ('proposed', 'approved', 'packaged', 'executed', 'cancelled')),
                as_of TEXT NOT NULL,
                plan_version INTEGER NOT NULL,
                note TEXT,
                proposed_by TEXT NOT NULL,
                proposed_at TEXT NOT NULL,
                approved_by TEXT,
                approved_at TEXT,
                packaged_at TEXT,
                bag_digest TEXT,
                executed_by TEXT,
                executed_at TEXT,
                accession TEXT,
                cancelled_by TEXT,
                cancel_reason TEXT,
                held_at_proposal INTEGER NOT NULL DEFAULT 0,
                certificate TEXT,
                CHECK (approved_by IS NULL OR approved_by <> proposed_by COLLATE NOCASE)
            );
            CREATE TABLE disposition_member (
                disposition_id INTEGER NOT NULL REFERENCES disposition_batch(id),
                message_id INTEGER NOT NULL,
                item_id TEXT NOT NULL,
                sent_local TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'disposed', 'withheld')),
                PRIMARY KEY (disposition_id, message_id)
            ) WITHOUT ROWID;
            CREATE INDEX disposition_member_message ON disposition_member(message_id);
            CREATE TABLE tombstone (
                message_id INTEGER PRIMARY KEY,
                identity_key TEXT NOT NULL UNIQUE,
                content_hash TEXT NOT NULL,
                batch_id INTEGER NOT NULL REFERENCES capture_batch(id),
                conversation_id INTEGER NOT NULL REFERENCES conversation(id),
                conversation_key TEXT NOT NULL,
                sent_local TEXT NOT NULL,
                sent_at INTEGER NOT NULL,
                item_id TEXT NOT NULL,
                authority TEXT,
                disposition_id INTEGER NOT NULL REFERENCES disposition_batch(id),
                outcome TEXT NOT NULL CHECK (outcome IN ('destroyed', 'transferred')),
                accession TEXT,
                disposed_at TEXT NOT NULL
            );
            CREATE INDEX tombstone_batch ON tombstone(batch_id, message_id);
            CREATE INDEX tombstone_disposition ON tombstone(disposition_id);
            CREATE INDEX attachment_blob ON attachment(blob_hash);

            CREATE TRIGGER message_no_update BEFORE UPDATE ON message
            BEGIN SELECT RAISE(ABORT, 'records are never changed in place'); END;
            CREATE TRIGGER message_delete_only_by_disposition BEFORE DELETE ON message
            WHEN NOT EXISTS (SELECT 1 FROM tombstone WHERE message_id = OLD.id)
            BEGIN SELECT RAISE(ABORT, 'records leave the archive only through an approved disposition'); END;
            CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
            CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
            CREATE TRIGGER tombstone_only_by_approved_disposition BEFORE INSERT ON tombstone
            WHEN NOT EXISTS (SELECT 1 FROM disposition_batch d JOIN disposition_member dm ON dm.disposition_id = d.id
                             WHERE d.id = NEW.disposition_id AND dm.message_id = NEW.message_id AND dm.state = 'pending'
                               AND ((d.action = 'destroy' AND d.status = 'approved') OR (d.action = 'transfer' AND d.status = 'packaged'))
                               AND d.approved_by IS NOT NULL AND d.approved_by <> d.proposed_by COLLATE NOCASE)
            BEGIN SELECT RAISE(ABORT, 'a tombstone is written only by executing an approved disposition'); END;
            CREATE TRIGGER tombstone_no_update BEFORE UPDATE ON tombstone
            BEGIN SELECT RAISE(ABORT, 'tombstones are kept unchanged forever'); END;
            CREATE TRIGGER tombstone_no_delete BEFORE DELETE ON tombstone
            BEGIN SELECT RAISE(ABORT, 'tombstones are kept unchanged forever'); END;
            CREATE TRIGGER legal_hold_no_delete BEFORE DELETE ON legal_hold
            BEGIN SELECT RAISE(ABORT, 'holds are kept forever, released ones too'); END;
            CREATE TRIGGER file_plan_no_update BEFORE UPDATE ON file_plan
            BEGIN SELECT RAISE(ABORT, 'file plan versions are history; save a new version'); END;
            CREATE TRIGGER file_plan_no_delete BEFORE DELETE ON file_plan
            BEGIN SELECT RAISE(ABORT, 'file plan versions are history; save a new version'); END;
            """)
        // Version 1 of the file plan: the agency's messaging schedule (see FilePlan.standard).
        let document = try Self.encodePlan(FilePlan.standard)
        try db.execute(sql: "INSERT INTO file_plan (version, document, digest, created_at, created_by, note) VALUES (1, ?, ?, ?, 'system', ?)",
                       arguments: [document, ContentHash.of(document).hex, Timestamp.iso(millis: Timestamp.nowMillis()),
                                   StoredFilePlan.standardNote])
    }

    static func encodePlan(_ plan: FilePlan) throws -> String { try StoredFilePlan.document(plan) }
}
