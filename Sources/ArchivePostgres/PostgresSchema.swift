import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

/// The PostgreSQL schema as a numbered history: each step runs once, in order, in its own
/// transaction, and is recorded in `schema_history`. Steps are never edited once released (once
/// `serve --database-url` ships, no archive can be on an older shape of a step); a change is a
/// new step.
///
/// Instances that start together serialize on an advisory lock, so exactly one applies each step
/// and the others find it done.
enum PostgresSchema {
    struct Step: Sendable {
        let version: Int
        let name: String
        let sql: [String]
        /// Rows computed in Swift (the first file plan), inserted after `sql`.
        var seed: (@Sendable (PostgresConnection, Logger) async throws -> Void)?
    }

    /// The advisory lock key for migrations (any constant no other lock uses).
    static let migrationLock: Int64 = 0x5245_434B_0001
    /// The advisory lock key that keeps the audit chain linear.
    static let auditLock: Int64 = 0x5245_434B_0002
    /// The advisory lock key under which capture makes a new year's partition of `message`.
    static let partitionLock: Int64 = 0x5245_434B_0003
    /// The advisory lock that orders placing and releasing holds against the steps that read
    /// them to decide what leaves the archive.
    static let holdLock: Int64 = 0x5245_434B_0004
    /// The archive-wide write lock (a session lock, held for a whole ingest or disposition).
    static let writeLock: Int64 = 0x5245_434B_0005
    /// With an identifier's hash: scans of one item queue, so its open custody episode is decided once.
    static let custodyItemLock: Int32 = 0x5243_0006

    static let steps: [Step] = [
        Step(version: 1, name: "audit log, leases, browser sessions", sql: [
            """
            CREATE TABLE audit_log (
                seq bigint PRIMARY KEY,
                at text NOT NULL,
                actor text NOT NULL,
                action text NOT NULL,
                target text NOT NULL,
                detail text NOT NULL,
                prev_hash text NOT NULL,
                hash text NOT NULL UNIQUE
            )
            """,
            "CREATE INDEX audit_log_target ON audit_log (target, seq)",
            "CREATE INDEX audit_log_actor ON audit_log (actor, seq)",
            "CREATE INDEX audit_log_action ON audit_log (action text_pattern_ops, seq)",
            """
            CREATE TABLE lease (
                name text PRIMARY KEY,
                holder text NOT NULL,
                expires_at bigint NOT NULL
            )
            """,
            """
            CREATE TABLE web_session (
                id_hash text PRIMARY KEY,
                user_name text NOT NULL,
                csrf text NOT NULL,
                created_ms bigint NOT NULL,
                last_seen_ms bigint NOT NULL
            )
            """,
            "CREATE INDEX web_session_user ON web_session (lower(user_name))",
            "CREATE TABLE login_failure (key text NOT NULL, at_ms bigint NOT NULL)",
            "CREATE INDEX login_failure_key ON login_failure (key, at_ms)",
            "CREATE INDEX login_failure_at ON login_failure (at_ms)",
            "CREATE TABLE login_claim (key text PRIMARY KEY, at_ms bigint NOT NULL)",
        ]),
        Step(version: 2, name: "custodians, conversations, capture", sql: [
            """
            CREATE TABLE custodian (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                email text NOT NULL,
                time_zone text,
                created_at text NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX custodian_email ON custodian (lower(email))",
            """
            CREATE TABLE conversation (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                key text NOT NULL UNIQUE,
                platform text NOT NULL,
                custodian_id bigint NOT NULL REFERENCES custodian(id),
                title text NOT NULL,
                created_at text NOT NULL
            )
            """,
            "CREATE INDEX conversation_custodian ON conversation (custodian_id)",
            """
            CREATE TABLE participant (
                conversation_id bigint NOT NULL REFERENCES conversation(id),
                sender_key text NOT NULL,
                name text NOT NULL,
                sender_raw text,
                PRIMARY KEY (conversation_id, sender_key)
            )
            """,
            // Messages are partitioned by the year they were sent (as written): a year's records
            // are retained, held and disposed of together, and an old year's partition is read
            // only. Identity is (sent_local, identity_key), which holds the partition key, so the
            // database itself keeps a message from being captured twice across concurrent
            // ingests. Partitions are made by capture as years appear.
            """
            CREATE TABLE message (
                id bigint NOT NULL,
                identity_key text NOT NULL,
                conversation_id bigint NOT NULL,
                batch_id bigint NOT NULL,
                platform text NOT NULL,
                conversation_key text NOT NULL,
                source_ordinal bigint NOT NULL,
                dup_ordinal integer NOT NULL,
                sent_local text COLLATE "C" NOT NULL,
                time_zone text NOT NULL,
                sent_at bigint NOT NULL,
                captured_at bigint NOT NULL,
                sender text,
                sender_raw text,
                sender_key text NOT NULL,
                body text NOT NULL,
                raw text NOT NULL,
                kind text NOT NULL,
                flags text NOT NULL,
                source_hash text NOT NULL,
                source_member text NOT NULL,
                source_line bigint NOT NULL,
                line_count integer NOT NULL,
                content_hash text NOT NULL,
                hash_version integer NOT NULL,
                search_key bigint NOT NULL,
                PRIMARY KEY (sent_local, identity_key)
            ) PARTITION BY RANGE (sent_local)
            """,
            "CREATE SEQUENCE message_id_seq AS bigint",
            "CREATE INDEX message_id ON message (id)",
            "CREATE INDEX message_conversation_sent ON message (conversation_id, sent_local, id)",
        ]),
        Step(version: 3, name: "people and sign-in: users, custodian profiles, accounts, designations, API tokens", sql: [
            """
            CREATE TABLE app_user (
                name text NOT NULL,
                display_name text NOT NULL,
                roles text NOT NULL,
                created_at text NOT NULL,
                custodian_email text,
                password_hash text
            )
            """,
            "CREATE UNIQUE INDEX app_user_name ON app_user (lower(name))",
            "ALTER TABLE custodian ADD COLUMN name text",
            "ALTER TABLE custodian ADD COLUMN office text",
            """
            CREATE TABLE custodian_account (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                custodian_id bigint NOT NULL REFERENCES custodian(id),
                platform text NOT NULL,
                address text NOT NULL,
                normalized text NOT NULL,
                official boolean NOT NULL,
                created_at text NOT NULL,
                UNIQUE (platform, normalized)
            )
            """,
            """
            CREATE TABLE role_designation (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                custodian_id bigint NOT NULL REFERENCES custodian(id),
                role text NOT NULL,
                capstone boolean NOT NULL,
                starts text NOT NULL,
                ends text,
                created_at text NOT NULL,
                created_by text NOT NULL
            )
            """,
            """
            CREATE TABLE api_token (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                user_name text NOT NULL,
                label text NOT NULL,
                secret_hash text NOT NULL UNIQUE,
                prefix text NOT NULL,
                created_at text NOT NULL,
                last_used_at text,
                revoked_at text
            )
            """,
            "CREATE INDEX api_token_user ON api_token (lower(user_name))",
        ]),
        Step(version: 4, name: "file plan, retention assignments, blobs, capture batches, attachments, defects, tombstones, guards", sql: [
            """
            CREATE TABLE file_plan (
                version integer PRIMARY KEY,
                document text NOT NULL,
                digest text NOT NULL,
                created_at text NOT NULL,
                created_by text NOT NULL,
                note text
            )
            """,
            """
            CREATE TABLE cutoff_event (
                conversation_id bigint NOT NULL REFERENCES conversation(id),
                name text NOT NULL,
                date text NOT NULL,
                recorded_at text NOT NULL,
                recorded_by text NOT NULL,
                PRIMARY KEY (conversation_id, name)
            )
            """,
            """
            CREATE TABLE retention_assignment (
                message_id bigint PRIMARY KEY,
                item_id text NOT NULL,
                rule_id text,
                action text NOT NULL,
                cutoff text,
                eligible text,
                plan_version integer NOT NULL,
                assigned_at text NOT NULL
            )
            """,
            """
            CREATE TABLE blob (
                hash text PRIMARY KEY,
                size bigint NOT NULL,
                first_seen_at text NOT NULL,
                destroyed_by bigint,
                destroyed_at text
            )
            """,
            """
            CREATE TABLE capture_batch (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                custodian_id bigint NOT NULL REFERENCES custodian(id),
                conversation_id bigint NOT NULL REFERENCES conversation(id),
                actor text NOT NULL,
                source_name text NOT NULL,
                source_hash text NOT NULL REFERENCES blob(hash),
                source_size bigint NOT NULL,
                platform text NOT NULL,
                format text NOT NULL,
                text_member text NOT NULL,
                date_order text,
                date_order_evidence text,
                time_zone text NOT NULL,
                time_zone_basis text NOT NULL,
                status text NOT NULL CHECK (status IN ('running', 'complete')),
                started_at text NOT NULL,
                finished_at text,
                messages_added bigint NOT NULL DEFAULT 0,
                duplicates bigint NOT NULL DEFAULT 0,
                attachments_stored bigint NOT NULL DEFAULT 0,
                attachments_missing bigint NOT NULL DEFAULT 0,
                defects bigint NOT NULL DEFAULT 0,
                conversation_title text
            )
            """,
            "CREATE INDEX capture_batch_source ON capture_batch (source_hash, custodian_id)",
            "CREATE INDEX message_batch ON message (batch_id, id)",
            """
            CREATE TABLE attachment (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                message_id bigint NOT NULL,
                position integer NOT NULL,
                file_name text NOT NULL,
                blob_hash text REFERENCES blob(hash),
                size bigint
            )
            """,
            "CREATE INDEX attachment_message ON attachment (message_id, position)",
            "CREATE INDEX attachment_blob ON attachment (blob_hash)",
            """
            CREATE TABLE defect (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                batch_id bigint NOT NULL REFERENCES capture_batch(id),
                file text NOT NULL,
                line bigint NOT NULL,
                code text NOT NULL,
                detail text NOT NULL,
                text text NOT NULL,
                UNIQUE (batch_id, line, code, file)
            )
            """,
            """
            CREATE TABLE tombstone (
                message_id bigint PRIMARY KEY,
                identity_key text NOT NULL UNIQUE,
                content_hash text NOT NULL,
                batch_id bigint NOT NULL REFERENCES capture_batch(id),
                conversation_id bigint NOT NULL REFERENCES conversation(id),
                conversation_key text NOT NULL,
                sent_local text COLLATE "C" NOT NULL,
                sent_at bigint NOT NULL,
                item_id text NOT NULL,
                authority text,
                disposition_id bigint NOT NULL,
                outcome text NOT NULL CHECK (outcome IN ('destroyed', 'transferred')),
                accession text,
                disposed_at text NOT NULL
            )
            """,
            "CREATE INDEX tombstone_batch ON tombstone (batch_id, message_id)",
            // The store itself refuses what the law forbids, whatever code path asks (the same
            // guards as SQLite's triggers): records and the audit log are never changed in
            // place, a record leaves only when its tombstone exists, tombstones and file plan
            // versions are kept forever.
            """
            CREATE FUNCTION rk_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation'; END $$
            """,
            """
            CREATE FUNCTION rk_message_leaves() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM tombstone WHERE message_id = OLD.id) THEN
                    RAISE EXCEPTION 'records leave the archive only through an approved disposition' USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                RETURN OLD;
            END $$
            """,
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION rk_refuse('the audit log is append-only')",
            "CREATE TRIGGER message_no_update BEFORE UPDATE ON message FOR EACH ROW EXECUTE FUNCTION rk_refuse('records are never changed in place')",
            "CREATE TRIGGER message_delete_only_by_disposition BEFORE DELETE ON message FOR EACH ROW EXECUTE FUNCTION rk_message_leaves()",
            "CREATE TRIGGER tombstone_kept BEFORE UPDATE OR DELETE ON tombstone FOR EACH ROW EXECUTE FUNCTION rk_refuse('tombstones are kept unchanged forever')",
            "CREATE TRIGGER file_plan_history BEFORE UPDATE OR DELETE ON file_plan FOR EACH ROW EXECUTE FUNCTION rk_refuse('file plan versions are history; save a new version')",
        ], seed: { conn, logger in
            // Version 1 of the file plan: the agency's messaging schedule, as on SQLite.
            let document = try StoredFilePlan.document(FilePlan.standard)
            try await conn.run("""
                INSERT INTO file_plan (version, document, digest, created_at, created_by, note)
                VALUES (1, \(document), \(ContentHash.of(document).hex), \(Timestamp.iso(millis: Timestamp.nowMillis())), 'system', \(StoredFilePlan.standardNote))
                """, logger: logger)
        }),
        Step(version: 5, name: "the search index: text search configuration, queue, index table", sql: [
            // Words as SQLite's unicode61 tokenizer sees them: the text is split on everything
            // that is not a letter or digit before PostgreSQL's parser reads it (so an address or
            // a phone number is its parts), diacritics are folded (unaccent), and nothing is
            // stemmed (names stay names).
            "CREATE EXTENSION IF NOT EXISTS unaccent",
            "CREATE TEXT SEARCH CONFIGURATION recordkeeper (COPY = simple)",
            """
            ALTER TEXT SEARCH CONFIGURATION recordkeeper ALTER MAPPING FOR
                asciiword, word, numword, asciihword, hword, numhword, hword_asciipart, hword_part, hword_numpart
                WITH unaccent, simple
            """,
            """
            CREATE FUNCTION rk_search_text(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
                SELECT regexp_replace(coalesce(t, ''), '[^[:alnum:]]+', ' ', 'g')
            $$
            """,
            // Capture queues every stored message in the same transaction; indexers on any
            // instance claim rows with SKIP LOCKED, so none is indexed twice or missed, whatever
            // order concurrent captures commit in.
            "CREATE TABLE index_queue (message_id bigint PRIMARY KEY, captured_at bigint NOT NULL)",
            """
            CREATE TABLE message_search (
                message_id bigint PRIMARY KEY,
                search_key bigint NOT NULL,
                conversation_id bigint NOT NULL,
                doc tsvector NOT NULL
            )
            """,
            "CREATE INDEX message_search_doc ON message_search USING gin (doc)",
            "CREATE INDEX message_search_key ON message_search (search_key DESC)",
        ]),
        Step(version: 6, name: "legal holds and dispositions", sql: [
            """
            CREATE TABLE legal_hold (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                name text NOT NULL,
                matter text NOT NULL,
                reference text,
                requested_by text NOT NULL,
                scope text NOT NULL,
                query text,
                created_by text NOT NULL,
                created_at text NOT NULL,
                released_by text,
                released_at text,
                release_reason text
            )
            """,
            "CREATE TRIGGER legal_hold_kept BEFORE DELETE ON legal_hold FOR EACH ROW EXECUTE FUNCTION rk_refuse('holds are kept forever, released ones too')",
            """
            CREATE TABLE disposition_batch (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                action text NOT NULL CHECK (action IN ('destroy', 'transfer')),
                status text NOT NULL CHECK (status IN ('proposed', 'approved', 'packaged', 'executed', 'cancelled')),
                as_of text NOT NULL,
                plan_version integer NOT NULL,
                note text,
                proposed_by text NOT NULL,
                proposed_at text NOT NULL,
                approved_by text,
                approved_at text,
                packaged_at text,
                bag_digest text,
                executed_by text,
                executed_at text,
                accession text,
                cancelled_by text,
                cancel_reason text,
                held_at_proposal bigint NOT NULL DEFAULT 0,
                certificate text,
                CHECK (approved_by IS NULL OR lower(approved_by) <> lower(proposed_by))
            )
            """,
            """
            CREATE TABLE disposition_member (
                disposition_id bigint NOT NULL REFERENCES disposition_batch(id),
                message_id bigint NOT NULL,
                item_id text NOT NULL,
                sent_local text COLLATE "C" NOT NULL,
                state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'disposed', 'withheld')),
                PRIMARY KEY (disposition_id, message_id)
            )
            """,
            "CREATE INDEX disposition_member_message ON disposition_member (message_id)",
            "ALTER TABLE tombstone ADD FOREIGN KEY (disposition_id) REFERENCES disposition_batch(id)",
            // A tombstone is written only by executing an approved disposition (two officers).
            """
            CREATE FUNCTION rk_tombstone_by_disposition() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM disposition_batch d JOIN disposition_member dm ON dm.disposition_id = d.id
                               WHERE d.id = NEW.disposition_id AND dm.message_id = NEW.message_id AND dm.state = 'pending'
                                 AND ((d.action = 'destroy' AND d.status = 'approved') OR (d.action = 'transfer' AND d.status = 'packaged'))
                                 AND d.approved_by IS NOT NULL AND lower(d.approved_by) <> lower(d.proposed_by)) THEN
                    RAISE EXCEPTION 'a tombstone is written only by executing an approved disposition' USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                RETURN NEW;
            END $$
            """,
            "CREATE TRIGGER tombstone_only_by_approved_disposition BEFORE INSERT ON tombstone FOR EACH ROW EXECUTE FUNCTION rk_tombstone_by_disposition()",
        ]),
        Step(version: 7, name: "external parties, e-mail carriage, live-capture transactions", sql: [
            """
            CREATE TABLE external_party (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                name text NOT NULL,
                organization text,
                note text,
                created_at text NOT NULL,
                created_by text NOT NULL
            )
            """,
            """
            CREATE TABLE party_account (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                party_id bigint NOT NULL REFERENCES external_party(id),
                platform text NOT NULL,
                address text NOT NULL,
                normalized text NOT NULL,
                created_at text NOT NULL,
                UNIQUE (platform, normalized)
            )
            """,
            """
            CREATE TABLE carriage (
                batch_id bigint PRIMARY KEY REFERENCES capture_batch(id),
                carrier_message_id bigint NOT NULL,
                forwarded_at bigint NOT NULL,
                attachment text NOT NULL,
                member text
            )
            """,
            "CREATE INDEX carriage_carrier ON carriage (carrier_message_id)",
            "CREATE TRIGGER carriage_kept BEFORE UPDATE ON carriage FOR EACH ROW EXECUTE FUNCTION rk_refuse('carriage links are never changed')",
            """
            CREATE TABLE live_transaction (
                source text NOT NULL,
                txn_id text NOT NULL,
                events integer NOT NULL,
                batches text NOT NULL,
                received_at text NOT NULL,
                PRIMARY KEY (source, txn_id)
            )
            """,
        ]),
        Step(version: 8, name: "oversight: unauthorized-disposition incidents, reminders, audit reports and recommendations", sql: [
            """
            CREATE TABLE ud_incident (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                source text NOT NULL,
                source_ref text UNIQUE,
                opened_at text NOT NULL,
                opened_by text NOT NULL,
                document text NOT NULL
            )
            """,
            """
            CREATE TABLE ud_incident_note (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                incident_id bigint NOT NULL REFERENCES ud_incident(id),
                at text NOT NULL,
                actor text NOT NULL,
                note text NOT NULL
            )
            """,
            "CREATE TRIGGER ud_incident_kept BEFORE DELETE ON ud_incident FOR EACH ROW EXECUTE FUNCTION rk_refuse('incidents are kept')",
            "CREATE TRIGGER ud_incident_note_kept BEFORE UPDATE OR DELETE ON ud_incident_note FOR EACH ROW EXECUTE FUNCTION rk_refuse('incident notes are kept unchanged')",
            """
            CREATE TABLE reminder_log (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                sent_at text NOT NULL,
                custodian text NOT NULL,
                period text NOT NULL,
                platforms text NOT NULL,
                subject text NOT NULL,
                status text NOT NULL CHECK (status IN ('sent', 'failed')),
                detail text NOT NULL,
                actor text NOT NULL
            )
            """,
            "CREATE INDEX reminder_log_custodian ON reminder_log (custodian, period)",
            "CREATE TRIGGER reminder_log_kept BEFORE UPDATE OR DELETE ON reminder_log FOR EACH ROW EXECUTE FUNCTION rk_refuse('the reminder log is kept unchanged')",
            """
            CREATE TABLE audit_report (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                reference text NOT NULL,
                title text NOT NULL,
                issuer text NOT NULL,
                issued text NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX audit_report_reference ON audit_report (lower(reference))",
            """
            CREATE TABLE recommendation (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                report_id bigint NOT NULL REFERENCES audit_report(id),
                number integer NOT NULL,
                document text NOT NULL,
                UNIQUE (report_id, number)
            )
            """,
            """
            CREATE TABLE recommendation_note (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                recommendation_id bigint NOT NULL REFERENCES recommendation(id),
                at text NOT NULL,
                actor text NOT NULL,
                note text NOT NULL
            )
            """,
            "CREATE TRIGGER recommendation_kept BEFORE DELETE ON recommendation FOR EACH ROW EXECUTE FUNCTION rk_refuse('recommendations are kept')",
            "CREATE TRIGGER recommendation_note_kept BEFORE UPDATE OR DELETE ON recommendation_note FOR EACH ROW EXECUTE FUNCTION rk_refuse('notes are kept unchanged')",
        ]),
        // `migrate` records, in the same transaction as each page of rows it copies, how far it got
        // in each table of the embedded archive, so an interrupted copy resumes where it stopped.
        Step(version: 9, name: "progress of a copy from an embedded archive", sql: [
            """
            CREATE TABLE import_progress (
                source_table text PRIMARY KEY,
                last_key text,
                copied bigint NOT NULL DEFAULT 0,
                done boolean NOT NULL DEFAULT false
            )
            """,
        ]),
        // What Object Lock was last told about each blob: a pass changes only what differs.
        Step(version: 10, name: "object lock state of blobs", sql: [
            "ALTER TABLE blob ADD COLUMN lock_until text",
            "ALTER TABLE blob ADD COLUMN lock_held boolean NOT NULL DEFAULT false",
        ]),
        // One GIN per year of sent time instead of one for the whole archive: a search reads the
        // posting lists of the years it needs, newest first, and stops (decision 0003). The key
        // index becomes unique on (search_key, message_id): the page order, and the table's key.
        Step(version: 11, name: "the search index partitioned by year", sql: [
            "ALTER TABLE message_search RENAME TO message_search_unpartitioned",
            "ALTER INDEX message_search_doc RENAME TO message_search_unpartitioned_doc",
            "ALTER INDEX message_search_key RENAME TO message_search_unpartitioned_key",
            "ALTER TABLE message_search_unpartitioned RENAME CONSTRAINT message_search_pkey TO message_search_unpartitioned_pkey",
            """
            CREATE TABLE message_search (
                message_id bigint NOT NULL,
                search_key bigint NOT NULL,
                conversation_id bigint NOT NULL,
                doc tsvector NOT NULL
            ) PARTITION BY RANGE (search_key)
            """,
        ], seed: { conn, logger in
            // A partition for every year `message` has (and the years beside it: a message's
            // UTC year can differ from its local one), the rows moved as they are (no
            // re-tokenizing), the indexes built after the load.
            let years = try await PostgresArchiveStore.partitionYears(of: "message", conn, logger: logger)
            try await PostgresArchiveStore.createSearchPartitions(Set(years), conn, logger: logger)
            try await conn.run("SET LOCAL maintenance_work_mem = '256MB'", logger: logger)
            try await conn.run("""
                INSERT INTO message_search (message_id, search_key, conversation_id, doc)
                SELECT message_id, search_key, conversation_id, doc FROM message_search_unpartitioned
                """, logger: logger)
            try await conn.run("DROP TABLE message_search_unpartitioned", logger: logger)
            try await conn.run("CREATE UNIQUE INDEX message_search_key ON message_search (search_key, message_id)", logger: logger)
            try await conn.run("CREATE INDEX message_search_id ON message_search (message_id)", logger: logger)
            try await conn.run("CREATE INDEX message_search_doc ON message_search USING gin (doc)", logger: logger)
        }),
        // The two things instances did that only a table's owner may do (add a year's partitions,
        // empty the search index for a rebuild) become functions the owner defines, so instances
        // can run as a role that owns nothing (`init --runtime-role`): it cannot drop or disable
        // the guard triggers, truncate the audit log or change the schema. The functions take
        // years only (never SQL), and check them; their search path is pg_catalog alone (every
        // table named with its schema), so no object another role creates is ever resolved in
        // them.
        Step(version: 12, name: "partitions and index resets through owner-defined functions, for a runtime role that owns nothing", sql: [
            """
            CREATE FUNCTION rk_year_key(y integer) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT
            SET search_path = pg_catalog AS $$ SELECT ((make_date(y, 1, 1) - date '1970-01-01')::bigint * 86400) << 24 $$
            """,
            """
            CREATE FUNCTION rk_add_year_partitions(message_years integer[], search_years integer[]) RETURNS void
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            DECLARE y integer;
            BEGIN
                PERFORM pg_advisory_xact_lock(\(partitionLock));
                FOREACH y IN ARRAY coalesce(message_years, '{}'::integer[]) LOOP
                    IF y IS NULL OR y < 1 OR y > 9998 THEN RAISE EXCEPTION 'no partition of message for year %', y; END IF;
                    EXECUTE format('CREATE TABLE IF NOT EXISTS public.%I PARTITION OF public.message FOR VALUES FROM (%L) TO (%L)',
                                   'message_y' || lpad(y::text, 4, '0'), lpad(y::text, 4, '0'), lpad((y + 1)::text, 4, '0'));
                END LOOP;
                FOREACH y IN ARRAY coalesce(search_years, '{}'::integer[]) LOOP
                    IF y IS NULL OR y < 1 OR y > 9999 THEN RAISE EXCEPTION 'no partition of message_search for year %', y; END IF;
                    EXECUTE format('CREATE TABLE IF NOT EXISTS public.%I PARTITION OF public.message_search FOR VALUES FROM (%s) TO (%s)',
                                   'message_search_y' || lpad(y::text, 4, '0'), public.rk_year_key(y), public.rk_year_key(y + 1));
                END LOOP;
            END $$
            """,
            """
            CREATE FUNCTION rk_reset_search_index() RETURNS void LANGUAGE sql SECURITY DEFINER
            SET search_path = pg_catalog, pg_temp AS $$ TRUNCATE public.message_search $$
            """,
            "REVOKE ALL ON FUNCTION rk_add_year_partitions(integer[], integer[]) FROM PUBLIC",
            "REVOKE ALL ON FUNCTION rk_reset_search_index() FROM PUBLIC",
        ]),
        // Custody of physical items (issue 15): the same tables and guards as SQLite's
        // `v13-custody-targets`.
        Step(version: 13, name: "custody: targeting rules, target list imports, rejected rows, targets", sql: [
            """
            CREATE TABLE custody_target_rule (
                code text NOT NULL, version integer NOT NULL CHECK (version > 0), category text NOT NULL, source text NOT NULL,
                description text NOT NULL, created_by text NOT NULL, created_at text NOT NULL,
                PRIMARY KEY (code, version)
            )
            """,
            """
            CREATE TABLE custody_import (
                id bigint PRIMARY KEY, kind text NOT NULL, file_name text NOT NULL, file_sha256 text NOT NULL,
                rows_total bigint NOT NULL, added bigint NOT NULL, rejected bigint NOT NULL, merged bigint NOT NULL,
                unknown_columns text NOT NULL, digest text NOT NULL, imported_by text NOT NULL, imported_at text NOT NULL,
                UNIQUE (kind, file_sha256)
            )
            """,
            """
            CREATE TABLE custody_import_rejection (
                import_id bigint NOT NULL REFERENCES custody_import(id) DEFERRABLE INITIALLY DEFERRED, line bigint NOT NULL, code text NOT NULL,
                detail text NOT NULL, raw text NOT NULL, PRIMARY KEY (import_id, line)
            )
            """,
            """
            CREATE TABLE custody_target (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, s10 text NOT NULL, rule_code text NOT NULL, rule_version integer NOT NULL,
                reason_code text NOT NULL, targeted_at bigint NOT NULL, targeted_by text NOT NULL, expected_arrival_at bigint, priority bigint,
                origin_country text, mail_class text, declared_desc text,
                hold_requested_at bigint CHECK (hold_requested_at IS NULL OR hold_requested_at >= targeted_at),
                import_id bigint REFERENCES custody_import(id) DEFERRABLE INITIALLY DEFERRED, line bigint,
                UNIQUE (s10, rule_code, rule_version),
                FOREIGN KEY (rule_code, rule_version) REFERENCES custody_target_rule(code, version)
            )
            """,
            "CREATE INDEX custody_target_expected ON custody_target (expected_arrival_at)",
            "CREATE TRIGGER custody_target_rule_kept BEFORE UPDATE OR DELETE ON custody_target_rule FOR EACH ROW EXECUTE FUNCTION rk_refuse('a rule version is never changed; register a new version')",
            "CREATE TRIGGER custody_import_kept BEFORE UPDATE OR DELETE ON custody_import FOR EACH ROW EXECUTE FUNCTION rk_refuse('imports are kept unchanged')",
            "CREATE TRIGGER custody_rejection_kept BEFORE UPDATE OR DELETE ON custody_import_rejection FOR EACH ROW EXECUTE FUNCTION rk_refuse('rejected rows are kept as written')",
            "CREATE TRIGGER custody_target_kept BEFORE UPDATE OR DELETE ON custody_target FOR EACH ROW EXECUTE FUNCTION rk_refuse('targets are not changed in place')",
        ]),
        // Receipts: locations, items (one per custody episode, at most one open per identifier)
        // and append-only custody events, as SQLite's `v14-custody-receipts`.
        Step(version: 14, name: "custody: locations, items, custody events, inspections", sql: [
            """
            CREATE TABLE custody_location (
                code text PRIMARY KEY, name text NOT NULL,
                kind text NOT NULL CHECK (kind IN ('receiving', 'holding', 'exam_station', 'enforcement_cage', 'registered_cage', 'seized_property', 'lab', 'return_dock')),
                secured boolean NOT NULL, alarmed boolean NOT NULL, cctv_covered boolean NOT NULL, max_dwell_h bigint,
                created_by text NOT NULL, created_at text NOT NULL
            )
            """,
            """
            CREATE TABLE custody_item (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, s10 text NOT NULL, episode text NOT NULL, first_arrival_at bigint NOT NULL,
                closed_at bigint, UNIQUE (s10, episode)
            )
            """,
            "CREATE UNIQUE INDEX custody_item_open ON custody_item (s10) WHERE closed_at IS NULL",
            """
            CREATE TABLE custody_event (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, item_id bigint NOT NULL REFERENCES custody_item(id), type text NOT NULL
                    CHECK (type IN ('RECEIVED', 'MOVED', 'INSPECT_START', 'INSPECT_END', 'SEALED', 'UNSEALED', 'TO_LAB', 'FROM_LAB', 'TO_AGENCY',
                                    'RETURNED_TO_CARRIER', 'DESTROYED', 'AUDIT_SEEN')),
                at bigint NOT NULL, client_ts bigint, actor text NOT NULL, witness text, from_location text REFERENCES custody_location(code),
                to_location text REFERENCES custody_location(code), station_id text, client_scan_uuid text UNIQUE, manual_entry boolean NOT NULL,
                detail text, note text, hash text NOT NULL
            )
            """,
            """
            CREATE TABLE custody_inspection (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, item_id bigint NOT NULL REFERENCES custody_item(id),
                method text NOT NULL CHECK (method IN ('xray', 'canine', 'manual_open', 'field_analyzer', 'lab')),
                started_at bigint NOT NULL, ended_at bigint NOT NULL CHECK (ended_at >= started_at), officer text NOT NULL, equipment text,
                result text NOT NULL CHECK (result IN ('no_anomaly', 'anomaly', 'alert', 'presumptive_positive', 'confirmed_positive', 'inconclusive')),
                substance text, actual_desc text CHECK (result = 'no_anomaly' OR actual_desc IS NOT NULL),
                start_event_id bigint NOT NULL UNIQUE REFERENCES custody_event(id), end_event_id bigint NOT NULL UNIQUE REFERENCES custody_event(id)
            )
            """,
            "CREATE INDEX custody_inspection_item ON custody_inspection (item_id)",
            "CREATE TRIGGER custody_inspection_kept BEFORE UPDATE OR DELETE ON custody_inspection FOR EACH ROW EXECUTE FUNCTION rk_refuse('inspections are kept as recorded')",
            "CREATE INDEX custody_event_item ON custody_event (item_id, id)",
            "CREATE INDEX custody_event_type_at ON custody_event (type, at)",
            "CREATE TRIGGER custody_location_kept BEFORE UPDATE OR DELETE ON custody_location FOR EACH ROW EXECUTE FUNCTION rk_refuse('locations are kept as registered')",
            """
            CREATE FUNCTION rk_custody_item_close_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND OLD.closed_at IS NULL AND NEW.closed_at IS NOT NULL AND NEW.id = OLD.id AND NEW.s10 = OLD.s10
                   AND NEW.episode = OLD.episode AND NEW.first_arrival_at = OLD.first_arrival_at THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'items are not changed in place (an episode is only closed, once)';
            END $$
            """,
            "CREATE TRIGGER custody_item_kept BEFORE UPDATE OR DELETE ON custody_item FOR EACH ROW EXECUTE FUNCTION rk_custody_item_close_only()",
            "CREATE TRIGGER custody_event_kept BEFORE UPDATE OR DELETE ON custody_event FOR EACH ROW EXECUTE FUNCTION rk_refuse('custody events are append-only')",
        ]),
        // Seizures and their SEACATS entries, as SQLite's `v15-custody-seizures`.
        Step(version: 15, name: "custody: seizures and their SEACATS entries", sql: [
            """
            CREATE TABLE custody_seizure (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, item_id bigint NOT NULL REFERENCES custody_item(id),
                inspection_id bigint NOT NULL REFERENCES custody_inspection(id), seized_at bigint NOT NULL, seizing_officer text NOT NULL,
                witness text NOT NULL CHECK (witness <> seizing_officer),
                violation_type text NOT NULL CHECK (violation_type IN ('narcotics', 'agriculture', 'ipr', 'currency', 'weapons', 'prohibited', 'revenue', 'other')),
                substance text NOT NULL, net_weight_g double precision NOT NULL CHECK (net_weight_g > 0), form_6051s_no text NOT NULL UNIQUE,
                storage_location text NOT NULL REFERENCES custody_location(code), event_id bigint NOT NULL UNIQUE REFERENCES custody_event(id)
            )
            """,
            "CREATE INDEX custody_seizure_at ON custody_seizure (seized_at)",
            """
            CREATE TABLE custody_seacats_entry (
                seizure_id bigint PRIMARY KEY REFERENCES custody_seizure(id), case_no text NOT NULL, recorded_at bigint NOT NULL,
                recorded_by text NOT NULL, late_reason text
            )
            """,
            "CREATE TRIGGER custody_seizure_kept BEFORE UPDATE OR DELETE ON custody_seizure FOR EACH ROW EXECUTE FUNCTION rk_refuse('seizures are kept as recorded')",
            "CREATE TRIGGER custody_seacats_kept BEFORE UPDATE OR DELETE ON custody_seacats_entry FOR EACH ROW EXECUTE FUNCTION rk_refuse('a SEACATS entry is recorded once')",
        ]),
        // Containers handed over by the carrier, and each item's container, as SQLite's
        // `v16-custody-presentations`.
        Step(version: 16, name: "custody: presentations (containers) and the item's container", sql: [
            """
            CREATE TABLE custody_presentation (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, container_id text NOT NULL, carrier text NOT NULL, seal_no text,
                declared_count bigint NOT NULL CHECK (declared_count >= 0), presented_by_name text NOT NULL, presented_by_badge text, received_by text NOT NULL,
                location text NOT NULL REFERENCES custody_location(code), station_id text, presented_at bigint NOT NULL,
                closed_at bigint, closed_by text, scanned_count bigint, discrepancy_note text,
                CHECK (closed_at IS NULL OR (scanned_count = declared_count OR discrepancy_note IS NOT NULL))
            )
            """,
            "CREATE UNIQUE INDEX custody_presentation_open ON custody_presentation (container_id) WHERE closed_at IS NULL",
            "CREATE INDEX custody_presentation_at ON custody_presentation (presented_at)",
            """
            CREATE FUNCTION rk_custody_presentation_close_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND OLD.closed_at IS NULL AND NEW.closed_at IS NOT NULL AND NEW.id = OLD.id AND NEW.container_id = OLD.container_id
                   AND NEW.declared_count = OLD.declared_count AND NEW.presented_at = OLD.presented_at AND NEW.location = OLD.location
                   AND NEW.received_by = OLD.received_by AND NEW.carrier = OLD.carrier AND NEW.seal_no IS NOT DISTINCT FROM OLD.seal_no THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'a presentation is only closed, once';
            END $$
            """,
            "CREATE TRIGGER custody_presentation_kept BEFORE UPDATE OR DELETE ON custody_presentation FOR EACH ROW EXECUTE FUNCTION rk_custody_presentation_close_only()",
            "ALTER TABLE custody_item ADD COLUMN presentation_id bigint REFERENCES custody_presentation(id)",
            "CREATE INDEX custody_item_presentation ON custody_item (presentation_id) WHERE presentation_id IS NOT NULL",
            "CREATE INDEX custody_item_closed ON custody_item (closed_at)",
            """
            CREATE OR REPLACE FUNCTION rk_custody_item_close_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND OLD.closed_at IS NULL AND NEW.closed_at IS NOT NULL AND NEW.id = OLD.id AND NEW.s10 = OLD.s10
                   AND NEW.episode = OLD.episode AND NEW.first_arrival_at = OLD.first_arrival_at
                   AND NEW.presentation_id IS NOT DISTINCT FROM OLD.presentation_id THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'items are not changed in place (an episode is only closed, once)';
            END $$
            """,
        ]),
        // Daily physical-security checks of locations, as SQLite's `v17-custody-security-checks`.
        Step(version: 17, name: "custody: daily security checks of locations", sql: [
            """
            CREATE TABLE custody_security_check (
                location text NOT NULL REFERENCES custody_location(code), day text NOT NULL, door_locked boolean NOT NULL, alarm_armed boolean NOT NULL,
                cctv_ok boolean NOT NULL, checked_by text NOT NULL, checked_at bigint NOT NULL, exceptions text, PRIMARY KEY (location, day)
            )
            """,
            "CREATE TRIGGER custody_security_check_kept BEFORE UPDATE OR DELETE ON custody_security_check FOR EACH ROW EXECUTE FUNCTION rk_refuse('a security check is kept as recorded')",
            "CREATE INDEX custody_event_to_location ON custody_event (to_location, at) WHERE to_location IS NOT NULL",
        ]),
        // Corrections of a seizure's time, as SQLite's `v18-custody-corrections`.
        Step(version: 18, name: "custody: corrections of a seizure's time", sql: [
            """
            CREATE TABLE custody_seizure_correction (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, seizure_id bigint NOT NULL REFERENCES custody_seizure(id),
                old_seized_at bigint NOT NULL, new_seized_at bigint NOT NULL, reason text NOT NULL CHECK (length(trim(reason)) > 0),
                corrected_by text NOT NULL, corrected_at bigint NOT NULL
            )
            """,
            "CREATE INDEX custody_seizure_correction_seizure ON custody_seizure_correction (seizure_id, id)",
            "CREATE TRIGGER custody_seizure_correction_kept BEFORE UPDATE OR DELETE ON custody_seizure_correction FOR EACH ROW EXECUTE FUNCTION rk_refuse('corrections are kept as recorded')",
        ]),
        // Detentions, the addressee's sealed particulars, their purges, as SQLite's `v19-custody-privacy`.
        Step(version: 19, name: "custody: detentions, sealed addressee particulars, purges", sql: [
            """
            CREATE TABLE custody_detention (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, item_id bigint NOT NULL REFERENCES custody_item(id),
                inspection_id bigint NOT NULL REFERENCES custody_inspection(id), detained_at bigint NOT NULL, detained_by text NOT NULL,
                violation_type text NOT NULL CHECK (violation_type IN ('narcotics', 'agriculture', 'ipr', 'currency', 'weapons', 'prohibited', 'revenue', 'other')),
                reason_code text NOT NULL CHECK (reason_code IN ('personal_use_prohibited', 'license_required', 'prohibited_import', 'restricted_quantity', 'other')),
                contents_category text NOT NULL CHECK (contents_category IN ('medicine', 'supplements', 'food', 'plant_material', 'animal_product', 'cosmetics',
                    'tobacco', 'alcohol', 'electronics', 'documents', 'currency', 'other'))
            )
            """,
            "CREATE UNIQUE INDEX custody_detention_item ON custody_detention (item_id)",
            "CREATE INDEX custody_detention_at ON custody_detention (detained_at)",
            """
            CREATE TABLE custody_detention_step (
                detention_id bigint NOT NULL REFERENCES custody_detention(id),
                step text NOT NULL CHECK (step IN ('notice', 'response', 'disposition')),
                at bigint NOT NULL, actor text NOT NULL, value text, due_at bigint, witness text, event_id bigint REFERENCES custody_event(id),
                PRIMARY KEY (detention_id, step),
                CHECK (step <> 'notice' OR due_at IS NOT NULL),
                CHECK (step <> 'response' OR value IN ('none', 'consent_abandon', 'petition', 'other')),
                CHECK (step <> 'disposition' OR value IN ('abandoned_destroyed', 'released', 'forwarded')),
                CHECK (value IS DISTINCT FROM 'abandoned_destroyed' OR (witness IS NOT NULL AND witness <> actor AND event_id IS NOT NULL))
            )
            """,
            """
            CREATE TABLE custody_pii_purge (
                id bigint PRIMARY KEY, purged_at bigint NOT NULL, purged_by text NOT NULL, retention_days integer NOT NULL, cutoff bigint NOT NULL,
                count integer NOT NULL, digest text NOT NULL, certificate text NOT NULL
            )
            """,
            """
            CREATE TABLE custody_addressee (
                detention_id bigint PRIMARY KEY REFERENCES custody_detention(id), key_id text NOT NULL, sealed text NOT NULL, sealed_sha256 text NOT NULL,
                written_at bigint NOT NULL, written_by text NOT NULL
            )
            """,
            """
            CREATE TABLE custody_pii_tombstone (
                detention_id bigint PRIMARY KEY REFERENCES custody_detention(id), purge_id bigint NOT NULL REFERENCES custody_pii_purge(id),
                sealed_sha256 text NOT NULL, disposed_at bigint NOT NULL
            )
            """,
            "CREATE INDEX custody_pii_tombstone_purge ON custody_pii_tombstone (purge_id)",
            """
            CREATE TABLE custody_setting (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, key text NOT NULL, value text NOT NULL, reason text NOT NULL,
                set_by text NOT NULL, set_at bigint NOT NULL
            )
            """,
            "CREATE TRIGGER custody_detention_kept BEFORE UPDATE OR DELETE ON custody_detention FOR EACH ROW EXECUTE FUNCTION rk_refuse('detentions are kept as recorded')",
            "CREATE TRIGGER custody_detention_step_kept BEFORE UPDATE OR DELETE ON custody_detention_step FOR EACH ROW EXECUTE FUNCTION rk_refuse('a detention step is recorded once')",
            "CREATE TRIGGER custody_addressee_kept BEFORE UPDATE ON custody_addressee FOR EACH ROW EXECUTE FUNCTION rk_refuse('addressee particulars are sealed once')",
            """
            CREATE FUNCTION rk_addressee_purged_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM custody_pii_tombstone t WHERE t.detention_id = OLD.detention_id AND t.sealed_sha256 = OLD.sealed_sha256) THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'addressee particulars leave only by a purge';
            END $$
            """,
            "CREATE TRIGGER custody_addressee_purged_only BEFORE DELETE ON custody_addressee FOR EACH ROW EXECUTE FUNCTION rk_addressee_purged_only()",
            "CREATE TRIGGER custody_pii_tombstone_kept BEFORE UPDATE OR DELETE ON custody_pii_tombstone FOR EACH ROW EXECUTE FUNCTION rk_refuse('tombstones are kept')",
            "CREATE TRIGGER custody_pii_purge_kept BEFORE UPDATE OR DELETE ON custody_pii_purge FOR EACH ROW EXECUTE FUNCTION rk_refuse('purges are kept')",
            "CREATE TRIGGER custody_setting_kept BEFORE UPDATE OR DELETE ON custody_setting FOR EACH ROW EXECUTE FUNCTION rk_refuse('a setting is changed by a new row')",
        ]),
        // Mapping profiles and the profile each import was read with, as SQLite's `v20-custody-mapping-profiles`.
        Step(version: 20, name: "custody: mapping profiles", sql: [
            """
            CREATE TABLE custody_mapping_profile (
                name text NOT NULL, version integer NOT NULL CHECK (version > 0), definition text NOT NULL, sha256 text NOT NULL,
                created_by text NOT NULL, created_at text NOT NULL, PRIMARY KEY (name, version)
            )
            """,
            "CREATE TRIGGER custody_mapping_profile_kept BEFORE UPDATE OR DELETE ON custody_mapping_profile FOR EACH ROW EXECUTE FUNCTION rk_refuse('profile versions are kept as registered')",
            "ALTER TABLE custody_import ADD COLUMN mapping_profile text",
        ]),
        // Referrals to other agencies, as SQLite's `v21-custody-referrals`.
        Step(version: 21, name: "custody: referrals to other agencies", sql: [
            """
            CREATE TABLE custody_referral (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, item_id bigint NOT NULL REFERENCES custody_item(id),
                inspection_id bigint NOT NULL REFERENCES custody_inspection(id),
                agency text NOT NULL CHECK (agency IN ('FDA', 'USDA', 'USPIS', 'HSI', 'DEA', 'other')),
                method text NOT NULL CHECK (method IN ('phone', 'email', 'portal', 'in_person', 'other')),
                violation_type text CHECK (violation_type IS NULL OR violation_type IN ('narcotics', 'agriculture', 'ipr', 'currency', 'weapons', 'prohibited', 'revenue', 'other')),
                notified_at bigint NOT NULL, notified_by text NOT NULL
            )
            """,
            "CREATE INDEX custody_referral_item ON custody_referral (item_id)",
            "CREATE INDEX custody_referral_at ON custody_referral (notified_at)",
            """
            CREATE TABLE custody_referral_step (
                referral_id bigint NOT NULL REFERENCES custody_referral(id),
                step text NOT NULL CHECK (step IN ('response', 'collected', 'declined')),
                at bigint NOT NULL, actor text NOT NULL, note text, witness text, event_id bigint REFERENCES custody_event(id),
                PRIMARY KEY (referral_id, step),
                CHECK (step <> 'declined' OR length(trim(note)) > 0),
                CHECK (step <> 'collected' OR event_id IS NOT NULL)
            )
            """,
            "CREATE UNIQUE INDEX custody_referral_closed_once ON custody_referral_step (referral_id) WHERE step IN ('collected', 'declined')",
            "CREATE TRIGGER custody_referral_kept BEFORE UPDATE OR DELETE ON custody_referral FOR EACH ROW EXECUTE FUNCTION rk_refuse('referrals are kept as recorded')",
            "CREATE TRIGGER custody_referral_step_kept BEFORE UPDATE OR DELETE ON custody_referral_step FOR EACH ROW EXECUTE FUNCTION rk_refuse('a referral step is recorded once')",
        ]),
        // Inspections by the time they ended (R-WORK, R-DQ), as SQLite's `v22-custody-inspection-end`.
        Step(version: 22, name: "custody: inspections by end time", sql: [
            "CREATE INDEX custody_inspection_ended ON custody_inspection (ended_at)",
        ]),
        // The volume funnel's inputs (R-FUN), as SQLite's `v23-custody-funnel`.
        Step(version: 23, name: "custody: category requests and carrier counts", sql: [
            """
            CREATE TABLE custody_bulk_request (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, day text NOT NULL, origin_country text NOT NULL,
                mail_class text NOT NULL CHECK (mail_class IN ('letter_post', 'registered', 'ems', 'parcel', 'other')),
                requested_count bigint CHECK (requested_count IS NULL OR requested_count > 0), reason text NOT NULL CHECK (length(trim(reason)) > 0),
                requested_by text NOT NULL, requested_at bigint NOT NULL
            )
            """,
            "CREATE INDEX custody_bulk_request_day ON custody_bulk_request (day)",
            """
            CREATE TABLE custody_carrier_count (
                import_id bigint NOT NULL REFERENCES custody_import(id) DEFERRABLE INITIALLY DEFERRED, line bigint NOT NULL, day text NOT NULL,
                origin_country text NOT NULL, mail_class text NOT NULL CHECK (mail_class IN ('letter_post', 'registered', 'ems', 'parcel', 'other')),
                pieces bigint NOT NULL CHECK (pieces >= 0),
                PRIMARY KEY (import_id, line), UNIQUE (import_id, day, origin_country, mail_class)
            )
            """,
            "CREATE INDEX custody_carrier_count_day ON custody_carrier_count (day, origin_country, mail_class, import_id)",
            "CREATE INDEX custody_item_first_arrival ON custody_item (first_arrival_at)",
            "CREATE INDEX custody_target_targeted ON custody_target (targeted_at)",
            "CREATE TRIGGER custody_bulk_request_kept BEFORE UPDATE OR DELETE ON custody_bulk_request FOR EACH ROW EXECUTE FUNCTION rk_refuse('category requests are kept as recorded')",
            "CREATE TRIGGER custody_carrier_count_kept BEFORE UPDATE OR DELETE ON custody_carrier_count FOR EACH ROW EXECUTE FUNCTION rk_refuse('carrier counts are kept as imported')",
        ]),
        // Duty and fee assessments (F16), as SQLite's `v24-custody-duties`.
        Step(version: 24, name: "custody: duty and fee assessments", sql: [
            """
            CREATE TABLE custody_duty (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, item_id bigint NOT NULL REFERENCES custody_item(id),
                inspection_id bigint NOT NULL UNIQUE REFERENCES custody_inspection(id),
                kind text NOT NULL CHECK (kind IN ('duty', 'fee', 'duty_and_fee')), amount_minor bigint NOT NULL CHECK (amount_minor > 0),
                currency text NOT NULL CHECK (length(currency) = 3), entry_ref text, assessed_at bigint NOT NULL, assessed_by text NOT NULL
            )
            """,
            "CREATE INDEX custody_duty_item ON custody_duty (item_id)",
            "CREATE INDEX custody_duty_at ON custody_duty (assessed_at)",
            "CREATE TRIGGER custody_duty_kept BEFORE UPDATE OR DELETE ON custody_duty FOR EACH ROW EXECUTE FUNCTION rk_refuse('assessments are kept as recorded')",
        ]),
        // Return batches, as SQLite's `v25-custody-return-batches`.
        Step(version: 25, name: "custody: return batches (presentations out) and their members", sql: [
            "ALTER TABLE custody_presentation ADD COLUMN direction text NOT NULL DEFAULT 'in' CHECK (direction IN ('in', 'out'))",
            """
            CREATE OR REPLACE FUNCTION rk_custody_presentation_close_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND OLD.closed_at IS NULL AND NEW.closed_at IS NOT NULL AND NEW.id = OLD.id AND NEW.container_id = OLD.container_id
                   AND NEW.declared_count = OLD.declared_count AND NEW.presented_at = OLD.presented_at AND NEW.location = OLD.location
                   AND NEW.received_by = OLD.received_by AND NEW.carrier = OLD.carrier AND NEW.seal_no IS NOT DISTINCT FROM OLD.seal_no
                   AND NEW.direction = OLD.direction THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'a presentation is only closed, once';
            END $$
            """,
            """
            CREATE TABLE custody_return_member (
                event_id bigint PRIMARY KEY REFERENCES custody_event(id), presentation_id bigint NOT NULL REFERENCES custody_presentation(id)
            )
            """,
            "CREATE INDEX custody_return_member_batch ON custody_return_member (presentation_id)",
            "CREATE TRIGGER custody_return_member_kept BEFORE UPDATE OR DELETE ON custody_return_member FOR EACH ROW EXECUTE FUNCTION rk_refuse('return batch members are kept')",
        ]),
        // Advance electronic data per piece (R-AED), as SQLite's `v26-custody-advance-data`.
        Step(version: 26, name: "custody: advance electronic data", sql: [
            """
            CREATE TABLE custody_aed (
                import_id bigint NOT NULL REFERENCES custody_import(id) DEFERRABLE INITIALLY DEFERRED, line bigint NOT NULL, item_id text NOT NULL,
                id_scheme text NOT NULL CHECK (id_scheme IN ('s10', 'other')), origin_country text NOT NULL, received_at bigint NOT NULL,
                content_lines bigint NOT NULL CHECK (content_lines >= 0), hs_coded_lines bigint NOT NULL CHECK (hs_coded_lines BETWEEN 0 AND content_lines),
                recipient boolean NOT NULL,
                PRIMARY KEY (import_id, line), UNIQUE (import_id, item_id)
            )
            """,
            "CREATE INDEX custody_aed_item ON custody_aed (item_id, import_id)",
            "CREATE INDEX custody_aed_received ON custody_aed (received_at)",
            "CREATE TRIGGER custody_aed_kept BEFORE UPDATE OR DELETE ON custody_aed FOR EACH ROW EXECUTE FUNCTION rk_refuse('advance data is kept as imported')",
        ]),
        // An item's seizures found by the item (R-EFF and R-NI asked per target; without it each
        // asked every seizure), as SQLite's `v27-custody-seizure-item`.
        Step(version: 27, name: "custody: seizures by item", sql: [
            "CREATE INDEX custody_seizure_item ON custody_seizure (item_id)",
        ]),
        // Carrier manifests per container (R-MAN), as SQLite's `v28-custody-manifests`.
        Step(version: 28, name: "custody: carrier manifests", sql: [
            """
            CREATE TABLE custody_manifest (
                import_id bigint NOT NULL REFERENCES custody_import(id) DEFERRABLE INITIALLY DEFERRED, line bigint NOT NULL,
                day text NOT NULL CHECK (length(day) = 10), container text NOT NULL CHECK (length(container) BETWEEN 1 AND 64),
                direction text NOT NULL CHECK (direction IN ('in', 'out')), s10 text NOT NULL CHECK (length(s10) = 13),
                PRIMARY KEY (import_id, line), UNIQUE (import_id, day, container, s10)
            )
            """,
            "CREATE INDEX custody_manifest_day ON custody_manifest (day, container)",
            "CREATE TRIGGER custody_manifest_kept BEFORE UPDATE OR DELETE ON custody_manifest FOR EACH ROW EXECUTE FUNCTION rk_refuse('manifests are kept as imported')",
        ]),
        // Each blob's data key, wrapped by the operator's key-encryption key, as SQLite's
        // `v30-blob-keys` (issue 16, decision 0009).
        Step(version: 29, name: "blob data keys (sealed blobs, cryptographic erase)", sql: [
            """
            CREATE TABLE blob_key (
                hash text PRIMARY KEY, key_id text NOT NULL CHECK (length(key_id) = 32), kek_id text NOT NULL,
                wrapped bytea NOT NULL, created_at text NOT NULL
            )
            """,
            """
            CREATE OR REPLACE FUNCTION rk_blob_key_guard() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    IF EXISTS (SELECT 1 FROM blob WHERE hash = OLD.hash AND destroyed_by IS NOT NULL) THEN RETURN OLD; END IF;
                    RAISE EXCEPTION 'a blob''s data key is destroyed only once a disposition has released the blob';
                END IF;
                IF NEW.hash = OLD.hash AND NEW.key_id = OLD.key_id THEN RETURN NEW; END IF;
                RAISE EXCEPTION 'a data key is never replaced, only re-wrapped';
            END $$
            """,
            "CREATE TRIGGER blob_key_guard BEFORE UPDATE OR DELETE ON blob_key FOR EACH ROW EXECUTE FUNCTION rk_blob_key_guard()",
        ]),
        // Sign-in identities that act as users (OS accounts for the CLI, OpenID Connect subjects),
        // as SQLite's `v31-user-logins` (issue 16).
        Step(version: 30, name: "sign-in identities: OS accounts and OpenID Connect subjects", sql: [
            """
            CREATE TABLE user_login (
                kind text NOT NULL CHECK (kind IN ('os', 'oidc')), subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 600),
                user_name text NOT NULL, created_at text NOT NULL, created_by text NOT NULL, PRIMARY KEY (kind, subject)
            )
            """,
            "CREATE INDEX user_login_user ON user_login (lower(user_name))",
        ]),
        // Single sign-ons between the redirect to the identity provider and its answer, as
        // SQLite's `v32-sign-in-pending` (issue 16).
        Step(version: 31, name: "pending single sign-ons", sql: [
            """
            CREATE TABLE sign_in_pending (
                state_hash text PRIMARY KEY, verifier text NOT NULL, nonce text NOT NULL, next text, created_ms bigint NOT NULL
            )
            """,
        ]),
    ]

    static func migrate(_ store: PostgresArchiveStore) async throws {
        try await store.transaction("bringing the schema up to date") { conn in
            try await conn.run("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: store.logger)
            // Looked up first: a runtime role may not create tables, even `IF NOT EXISTS`.
            let hasHistory = try await conn.column("SELECT to_regclass('schema_history') IS NOT NULL", as: Bool.self, logger: store.logger)
            if hasHistory.first != true {
                try await conn.run("""
                    CREATE TABLE schema_history (
                        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                    """, logger: store.logger)
            }
            let applied = Set(try await conn.column("SELECT version FROM schema_history", as: Int32.self, logger: store.logger).map { Int($0) })
            if let newest = applied.max(), newest > steps.count {
                throw ArchiveError(.invalid, "this database was migrated by a newer Recordkeeper (schema \(newest), this one knows \(steps.count)); upgrade this instance")
            }
            let pending = steps.filter { !applied.contains($0.version) }
            guard let first = pending.first else { return }
            let ownsSchema = try await conn.column("""
                SELECT pg_has_role(current_user, d.datdba, 'USAGE') FROM pg_database d WHERE d.datname = current_database()
                """, as: Bool.self, logger: store.logger).first ?? false
            guard ownsSchema || !hasHistory.contains(true) else {
                let role = try await conn.column("SELECT current_user::text", as: String.self, logger: store.logger).first ?? "?"
                throw ArchiveError(.invalid, """
                    this database needs schema step \(first.version) (\(first.name)) and role \(role) does not own it; \
                    run `recordkeeper init` once as the database's owner, then start the instances again
                    """)
            }
            for step in pending {
                for sql in step.sql { try await conn.run(PostgresQuery(unsafeSQL: sql), logger: store.logger) }
                try await step.seed?(conn, store.logger)
                try await conn.run("INSERT INTO schema_history (version, name) VALUES (\(Int32(step.version)), \(step.name))", logger: store.logger)
            }
        }
    }

    /// What an instance's runtime role needs, granted by the database's owner (`init
    /// --runtime-role`): reading and writing rows (the guard triggers still refuse what the
    /// records law forbids), the sequences, and the two owner-defined functions; nothing owned,
    /// so no trigger can be dropped or disabled and no table truncated or altered. Default
    /// privileges give it the same on the partitions the functions make later.
    static func runtimeGrants(role: String, database: String) -> [String] {
        func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        let r = quoted(role)
        return [
            "GRANT CONNECT, TEMPORARY ON DATABASE \(quoted(database)) TO \(r)",
            "GRANT USAGE ON SCHEMA public TO \(r)",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \(r)",
            "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO \(r)",
            "GRANT EXECUTE ON FUNCTION rk_add_year_partitions(integer[], integer[]), rk_reset_search_index() TO \(r)",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO \(r)",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO \(r)",
            // The schema's history is the owner's to write.
            "REVOKE INSERT, UPDATE, DELETE ON schema_history FROM \(r)",
        ]
    }
}

extension PostgresArchiveStore {
    /// Grants `role` what an instance needs to run, and nothing it could use to change the
    /// schema or the guards (`PostgresSchema.runtimeGrants`). Run as the database's owner;
    /// running it again changes nothing. The role must exist and must not be the owner.
    public func grantRuntimeRole(_ role: String) async throws {
        try await transaction("granting the runtime role") { conn in
            let facts = try await conn.all("""
                SELECT r.rolsuper, pg_has_role(\(role), d.datdba, 'USAGE'), current_database()::text,
                       pg_has_role(current_user, d.datdba, 'USAGE')
                FROM pg_roles r, pg_database d WHERE r.rolname = \(role) AND d.datname = current_database()
                """, as: (Bool, Bool, String, Bool).self, logger: self.logger)
            guard let f = facts.first else {
                throw ArchiveError(.notFound, "there is no role \(role) on this server; create it first (CREATE ROLE \(role) LOGIN PASSWORD '…')")
            }
            guard f.3 else { throw ArchiveError(.invalid, "only the database's owner can grant the runtime role; run this as the owner") }
            guard !f.0, !f.1 else {
                throw ArchiveError(.invalid, "\(role) owns this database or is a superuser: a runtime role must own nothing, so that it cannot drop the guard triggers")
            }
            // A role that can create objects in the schema could own tables of its own there
            // (and, on databases upgraded from PostgreSQL 14, every role can).
            let creates = try await conn.column("SELECT has_schema_privilege(\(role), 'public', 'CREATE')", as: Bool.self, logger: self.logger)
            guard creates.first == false else {
                throw ArchiveError(.invalid, """
                    \(role) can create objects in schema public; run REVOKE CREATE ON SCHEMA public FROM PUBLIC (and from \(role)) \
                    as the schema's owner first
                    """)
            }
            for sql in PostgresSchema.runtimeGrants(role: role, database: f.2) {
                try await conn.run(PostgresQuery(unsafeSQL: sql), logger: self.logger)
            }
        }
    }
}
