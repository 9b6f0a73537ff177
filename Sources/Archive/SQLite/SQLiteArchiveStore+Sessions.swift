import Foundation
import GRDB

extension SQLiteArchiveStore {
    static func migrateWebSessions(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE web_session (
                id_hash TEXT PRIMARY KEY,
                user_name TEXT NOT NULL,
                csrf TEXT NOT NULL,
                created_ms INTEGER NOT NULL,
                last_seen_ms INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE INDEX web_session_user ON web_session(user_name COLLATE NOCASE);
            CREATE TABLE login_failure (
                key TEXT NOT NULL,
                at_ms INTEGER NOT NULL
            );
            CREATE INDEX login_failure_key ON login_failure(key, at_ms);
            CREATE TABLE login_claim (
                key TEXT PRIMARY KEY,
                at_ms INTEGER NOT NULL
            ) WITHOUT ROWID;
            """)
    }
}

extension SQLiteArchiveStore {
    public func createSession(_ s: WebSession) async throws {
        try await write { db in
            try db.execute(sql: "INSERT INTO web_session (id_hash, user_name, csrf, created_ms, last_seen_ms) VALUES (?, ?, ?, ?, ?)",
                           arguments: [s.idHash, s.user, s.csrf, s.createdMillis, s.lastSeenMillis])
        }
    }

    public func liveSession(idHash: String, nowMillis: Int64, limits: SessionLimits, touchAfterMillis: Int64) async throws -> WebSession? {
        let found = try await read { db in try Self.fetchSession(db, idHash: idHash) }
        guard let found else { return nil }
        if limits.expired(found, nowMillis: nowMillis) {
            try await endSession(idHash: idHash)
            return nil
        }
        guard nowMillis - found.lastSeenMillis > touchAfterMillis else { return found }
        // The touch does not hold up the request (it waited for the write lock whenever an ingest
        // in another process held it); a session ended meanwhile is not brought back by it.
        await writeSoon { db in
            try db.execute(sql: "UPDATE web_session SET last_seen_ms = max(last_seen_ms, ?) WHERE id_hash = ?", arguments: [nowMillis, idHash])
        }
        var touched = found
        touched.lastSeenMillis = max(found.lastSeenMillis, nowMillis)
        return touched
    }

    static func fetchSession(_ db: Database, idHash: String) throws -> WebSession? {
        try Row.fetchOne(db, sql: "SELECT user_name, csrf, created_ms, last_seen_ms FROM web_session WHERE id_hash = ?", arguments: [idHash]).map {
            WebSession(idHash: idHash, user: $0[0], csrf: $0[1], createdMillis: $0[2], lastSeenMillis: $0[3])
        }
    }

    public func endSession(idHash: String) async throws {
        try await write { db in try db.execute(sql: "DELETE FROM web_session WHERE id_hash = ?", arguments: [idHash]) }
    }

    public func endSessions(user: String, exceptIDHash: String?) async throws -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM web_session WHERE user_name = ? COLLATE NOCASE AND id_hash IS NOT ?", arguments: [user, exceptIDHash])
            return db.changesCount
        }
    }

    public func purgeSessions(nowMillis: Int64, limits: SessionLimits) async throws -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM web_session WHERE ? - last_seen_ms > ? OR ? - created_ms > ?",
                           arguments: [nowMillis, limits.idleMillis, nowMillis, limits.absoluteMillis])
            return db.changesCount
        }
    }

    public func recordLoginFailure(keys: [String], atMillis: Int64) async throws {
        try await write { db in
            for key in keys { try db.execute(sql: "INSERT INTO login_failure (key, at_ms) VALUES (?, ?)", arguments: [key, atMillis]) }
        }
    }

    public func loginFailures(key: String, sinceMillis: Int64) async throws -> [Int64] {
        try await write { db in
            // Forget what has aged out, everywhere (the table stays as small as the window).
            try db.execute(sql: "DELETE FROM login_failure WHERE at_ms < ?", arguments: [sinceMillis])
            return try Int64.fetchAll(db, sql: "SELECT at_ms FROM login_failure WHERE key = ? ORDER BY at_ms", arguments: [key])
        }
    }

    public func clearLoginFailures(key: String) async throws {
        try await write { db in try db.execute(sql: "DELETE FROM login_failure WHERE key = ?", arguments: [key]) }
    }

    public func claimOncePerWindow(key: String, atMillis: Int64, windowMillis: Int64) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM login_claim WHERE at_ms <= ?", arguments: [atMillis - windowMillis])
            try db.execute(sql: "INSERT INTO login_claim (key, at_ms) VALUES (?, ?) ON CONFLICT(key) DO NOTHING", arguments: [key, atMillis])
            return db.changesCount == 1
        }
    }

    static func migratePendingSignIns(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE sign_in_pending (
                state_hash TEXT PRIMARY KEY,
                verifier TEXT NOT NULL,
                nonce TEXT NOT NULL,
                next TEXT,
                created_ms INTEGER NOT NULL
            ) WITHOUT ROWID;
            """)
    }

    public func savePendingSignIn(_ p: PendingSignIn) async throws {
        try await write { db in
            try db.execute(sql: "INSERT INTO sign_in_pending (state_hash, verifier, nonce, next, created_ms) VALUES (?, ?, ?, ?, ?)",
                           arguments: [p.stateHash, p.verifier, p.nonce, p.next, p.createdMillis])
        }
    }

    public func takePendingSignIn(stateHash: String, notBeforeMillis: Int64) async throws -> PendingSignIn? {
        try await write { db in
            let row = try Row.fetchOne(db, sql: "SELECT * FROM sign_in_pending WHERE state_hash = ? AND created_ms > ?",
                                       arguments: [stateHash, notBeforeMillis])
            try db.execute(sql: "DELETE FROM sign_in_pending WHERE state_hash = ? OR created_ms <= ?", arguments: [stateHash, notBeforeMillis])
            return row.map { PendingSignIn(stateHash: $0["state_hash"], verifier: $0["verifier"], nonce: $0["nonce"], next: $0["next"],
                                           createdMillis: $0["created_ms"]) }
        }
    }
}
