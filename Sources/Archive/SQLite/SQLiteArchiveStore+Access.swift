import Foundation
import GRDB
import RecordkeeperCore

extension SQLiteArchiveStore {
    /// Sign-in for the web UI and API: password hashes on users, a custodian link for the
    /// custodian role, API tokens (hashes only), and an index for the audit viewer's actor filter.
    static func migrateWebAccess(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE app_user ADD COLUMN password_hash TEXT;
            ALTER TABLE app_user ADD COLUMN custodian_email TEXT;
            CREATE TABLE api_token (
                id INTEGER PRIMARY KEY,
                user_name TEXT NOT NULL COLLATE NOCASE REFERENCES app_user(name),
                label TEXT NOT NULL,
                secret_hash TEXT NOT NULL UNIQUE,
                prefix TEXT NOT NULL,
                created_at TEXT NOT NULL,
                last_used_at TEXT,
                revoked_at TEXT
            );
            CREATE INDEX audit_actor ON audit_log(actor, seq);
            """)
    }

    public func setPasswordHash(user: String, hash: String) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE app_user SET password_hash = ? WHERE name = ?", arguments: [hash, user])
            guard db.changesCount == 1 else { throw ArchiveError(.notFound, "no user named \(user)") }
        }
    }

    public func passwordHash(user: String) async throws -> String? {
        try await read { db in try String.fetchOne(db, sql: "SELECT password_hash FROM app_user WHERE name = ?", arguments: [user]) }
    }

    static func decodeToken(_ row: Row) -> APIToken {
        APIToken(id: row["id"], user: row["user_name"], label: row["label"], prefix: row["prefix"], createdAt: row["created_at"],
                 lastUsedAt: row["last_used_at"], revokedAt: row["revoked_at"])
    }

    public func createToken(_ t: NewAPIToken) async throws -> APIToken {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM app_user WHERE name = ?", arguments: [t.user]) == true else {
                throw ArchiveError(.notFound, "no user named \(t.user)")
            }
            try db.execute(sql: "INSERT INTO api_token (user_name, label, secret_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [t.user, t.label, t.secretHash, t.prefix, t.createdAt])
            return try Row.fetchOne(db, sql: "SELECT * FROM api_token WHERE id = ?", arguments: [db.lastInsertedRowID]).map(Self.decodeToken)!
        }
    }

    public func tokens(user: String?) async throws -> [APIToken] {
        try await read { db in
            if let user {
                return try Row.fetchAll(db, sql: "SELECT * FROM api_token WHERE user_name = ? ORDER BY id", arguments: [user]).map(Self.decodeToken)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM api_token ORDER BY id").map(Self.decodeToken)
        }
    }

    public func useToken(secretHash: String, at: String) async throws -> APIToken? {
        let found = try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_token WHERE secret_hash = ? AND revoked_at IS NULL", arguments: [secretHash])
                .map(Self.decodeToken)
        }
        guard var token = found else { return nil }
        // Once a minute is enough to tell an owner a token is in use; the request does not wait for it.
        if token.lastUsedAt.map({ $0.prefix(16) != at.prefix(16) }) ?? true {
            let id = token.id
            await writeSoon { db in
                try db.execute(sql: "UPDATE api_token SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
                               arguments: [at, id, at])
            }
            token.lastUsedAt = at
        }
        return token
    }

    public func revokeToken(id: Int64, user: String?, at: String) async throws -> APIToken {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM api_token WHERE id = ?", arguments: [id]),
                  user.map({ ($0.lowercased()) == (row["user_name"] as String).lowercased() }) ?? true else {
                throw ArchiveError(.notFound, "no API token \(id)")
            }
            try db.execute(sql: "UPDATE api_token SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", arguments: [at, id])
            return try Row.fetchOne(db, sql: "SELECT * FROM api_token WHERE id = ?", arguments: [id]).map(Self.decodeToken)!
        }
    }

    /// Sign-in identities that act as users (issue 16): OS accounts for the CLI, OpenID Connect
    /// subjects for single sign-on.
    static func migrateUserLogins(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE user_login (
                kind TEXT NOT NULL CHECK (kind IN ('os', 'oidc')),
                subject TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 600),
                user_name TEXT NOT NULL COLLATE NOCASE REFERENCES app_user(name),
                created_at TEXT NOT NULL,
                created_by TEXT NOT NULL,
                PRIMARY KEY (kind, subject)
            ) WITHOUT ROWID;
            CREATE INDEX user_login_user ON user_login(user_name);
            """)
    }

    static func decodeLogin(_ row: Row) -> UserLogin {
        UserLogin(kind: UserLogin.Kind(rawValue: row["kind"]) ?? .osAccount, subject: row["subject"], user: row["user_name"],
                  createdAt: row["created_at"], createdBy: row["created_by"])
    }

    public func linkLogin(_ link: UserLogin) async throws {
        try await write { db in
            guard let user = try String.fetchOne(db, sql: "SELECT name FROM app_user WHERE name = ?", arguments: [link.user]) else {
                throw ArchiveError(.notFound, "no user named \(link.user)")
            }
            if let existing = try String.fetchOne(db, sql: "SELECT user_name FROM user_login WHERE kind = ? AND subject = ?",
                                                  arguments: [link.kind.rawValue, link.subject]) {
                guard existing.lowercased() == user.lowercased() else {
                    throw ArchiveError(.refused, "\(link.subject) already acts as \(existing); unlink it first")
                }
                return
            }
            try db.execute(sql: "INSERT INTO user_login (kind, subject, user_name, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                           arguments: [link.kind.rawValue, link.subject, user, link.createdAt, link.createdBy])
        }
    }

    public func unlinkLogin(kind: UserLogin.Kind, subject: String) async throws -> UserLogin? {
        try await write { db in
            let row = try Row.fetchOne(db, sql: "SELECT * FROM user_login WHERE kind = ? AND subject = ?", arguments: [kind.rawValue, subject])
            try db.execute(sql: "DELETE FROM user_login WHERE kind = ? AND subject = ?", arguments: [kind.rawValue, subject])
            return row.map(Self.decodeLogin)
        }
    }

    public func login(kind: UserLogin.Kind, subject: String) async throws -> UserLogin? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM user_login WHERE kind = ? AND subject = ?", arguments: [kind.rawValue, subject]).map(Self.decodeLogin)
        }
    }

    public func logins(user: String?) async throws -> [UserLogin] {
        try await read { db in
            if let user {
                return try Row.fetchAll(db, sql: "SELECT * FROM user_login WHERE user_name = ? ORDER BY kind, subject", arguments: [user]).map(Self.decodeLogin)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM user_login ORDER BY user_name, kind, subject").map(Self.decodeLogin)
        }
    }

    public func auditEntries(_ f: AuditFilter) async throws -> [AuditEntry] {
        // Shown on pages: chained first when the write lock is free, else what is chained (the
        // rest follows within seconds); `afterSequence` (verify, checkpoints, copies) always waits.
        try await settleReadAudits(waiting: false)
        return try await read { db in
            var clauses: [String] = []
            var args: [any DatabaseValueConvertible] = []
            if let v = f.actor, !v.isEmpty { clauses.append("actor = ?"); args.append(v) }
            if let v = f.action, !v.isEmpty {
                if v.hasSuffix(".") { clauses.append("substr(action, 1, ?) = ?"); args.append(v.count); args.append(v) } else {
                    clauses.append("action = ?"); args.append(v)
                }
            }
            if let v = f.target, !v.isEmpty { clauses.append("target = ?"); args.append(v) }
            if let v = f.from, !v.isEmpty { clauses.append("at >= ?"); args.append(v) }
            if let v = f.to, !v.isEmpty { clauses.append("at < ?"); args.append(v + "T99") }
            if let v = f.beforeSequence { clauses.append("seq < ?"); args.append(v) }
            let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
            args.append(max(1, min(f.limit, 1000)))
            return try Row.fetchAll(db, sql: "SELECT * FROM audit_log \(whereSQL) ORDER BY seq DESC LIMIT ?",
                                    arguments: StatementArguments(args)).map(Self.decodeAudit)
        }
    }
}
