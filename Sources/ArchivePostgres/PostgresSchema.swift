import Archive
import Foundation
import Logging
import PostgresNIO

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
    }

    /// The advisory lock key for migrations (any constant no other lock uses).
    static let migrationLock: Int64 = 0x5245_434B_0001
    /// The advisory lock key that keeps the audit chain linear.
    static let auditLock: Int64 = 0x5245_434B_0002

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
                sent_local text NOT NULL,
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
    ]

    static func migrate(_ store: PostgresArchiveStore) async throws {
        try await store.transaction("bringing the schema up to date") { conn in
            try await conn.run("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: store.logger)
            try await conn.run("""
                CREATE TABLE IF NOT EXISTS schema_history (
                    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: store.logger)
            let applied = Set(try await conn.column("SELECT version FROM schema_history", as: Int32.self, logger: store.logger).map { Int($0) })
            if let newest = applied.max(), newest > steps.count {
                throw ArchiveError(.invalid, "this database was migrated by a newer Recordkeeper (schema \(newest), this one knows \(steps.count)); upgrade this instance")
            }
            for step in steps where !applied.contains(step.version) {
                for sql in step.sql { try await conn.run(PostgresQuery(unsafeSQL: sql), logger: store.logger) }
                try await conn.run("INSERT INTO schema_history (version, name) VALUES (\(Int32(step.version)), \(step.name))", logger: store.logger)
            }
        }
    }

    /// The schema versions applied, in order.
    static func applied(_ store: PostgresArchiveStore) async throws -> [Int] {
        try await store.column("reading the schema history", "SELECT version FROM schema_history ORDER BY version", as: Int32.self).map { Int($0) }
    }
}
