import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

extension PostgresArchiveStore: AuditLog {
    public func appendAudit(_ draft: AuditDraft) async throws -> AuditEntry {
        try await transaction("appending to the audit log") { conn in try await Self.appendAudit(conn, draft, logger: self.logger) }
    }

    /// Appends inside the caller's transaction. The transaction-scoped advisory lock makes every
    /// writer, on every instance, wait for the one before it to commit or roll back, so the chain
    /// stays linear (each entry names the hash of the one before) however many append at once.
    static func appendAudit(_ conn: PostgresConnection, _ draft: AuditDraft, logger: Logger) async throws -> AuditEntry {
        try await conn.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.auditLock))", logger: logger)
        let last = try await conn.all("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", as: (Int64, String).self, logger: logger).first
        let entry = AuditEntry(sequence: (last?.0 ?? 0) + 1, at: Timestamp.iso(millis: Timestamp.nowMillis()), actor: draft.actor,
                               action: draft.action, target: draft.target, detail: draft.detailJSON,
                               previousHash: last.flatMap { ContentHash(hex: $0.1) } ?? AuditEntry.genesis)
        try await conn.run("""
            INSERT INTO audit_log (seq, at, actor, action, target, detail, prev_hash, hash)
            VALUES (\(entry.sequence), \(entry.at), \(entry.actor), \(entry.action), \(entry.target), \(entry.detail),
                    \(entry.previousHash.hex), \(entry.hash.hex))
            """, logger: logger)
        return entry
    }

    /// Appends entries in order with one statement (a batch of scans writes its entries together).
    static func appendAudits(_ conn: PostgresConnection, _ drafts: [AuditDraft], logger: Logger) async throws {
        guard !drafts.isEmpty else { return }
        try await conn.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.auditLock))", logger: logger)
        let last = try await conn.all("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", as: (Int64, String).self, logger: logger).first
        var previous = last.flatMap { ContentHash(hex: $0.1) } ?? AuditEntry.genesis
        var sequence = last?.0 ?? 0
        let at = Timestamp.iso(millis: Timestamp.nowMillis())
        var entries: [AuditEntry] = []
        for d in drafts {
            sequence += 1
            let e = AuditEntry(sequence: sequence, at: at, actor: d.actor, action: d.action, target: d.target, detail: d.detailJSON, previousHash: previous)
            entries.append(e)
            previous = e.hash
        }
        try await conn.run("""
            INSERT INTO audit_log (seq, at, actor, action, target, detail, prev_hash, hash)
            SELECT * FROM unnest(\(entries.map(\.sequence))::bigint[], \(entries.map(\.at))::text[], \(entries.map(\.actor))::text[],
                                 \(entries.map(\.action))::text[], \(entries.map(\.target))::text[], \(entries.map(\.detail))::text[],
                                 \(entries.map(\.previousHash.hex))::text[], \(entries.map(\.hash.hex))::text[])
            """, logger: logger)
    }

    typealias AuditRow = (Int64, String, String, String, String, String, String, String)
    static let auditColumns = "seq, at, actor, action, target, detail, prev_hash, hash"

    static func decodeAudit(_ r: AuditRow) -> AuditEntry {
        AuditEntry(sequence: r.0, at: r.1, actor: r.2, action: r.3, target: r.4, detail: r.5,
                   previousHash: ContentHash(hex: r.6) ?? AuditEntry.genesis, hash: ContentHash(hex: r.7) ?? AuditEntry.genesis)
    }

    public func auditEntries(afterSequence: Int64, limit: Int) async throws -> [AuditEntry] {
        try await rows("reading the audit log", """
            SELECT \(unescaped: Self.auditColumns) FROM audit_log WHERE seq > \(afterSequence) ORDER BY seq LIMIT \(Int64(limit))
            """, as: AuditRow.self).map(Self.decodeAudit)
    }

    public func auditEntries(target: String, limit: Int) async throws -> [AuditEntry] {
        try await rows("reading the audit log", """
            SELECT \(unescaped: Self.auditColumns) FROM (
                SELECT \(unescaped: Self.auditColumns) FROM audit_log WHERE target = \(target) ORDER BY seq DESC LIMIT \(Int64(limit))
            ) newest ORDER BY seq
            """, as: AuditRow.self).map(Self.decodeAudit)
    }

    public func auditEntries(_ f: AuditFilter) async throws -> [AuditEntry] {
        var q = PostgresQuery(unsafeSQL: "SELECT \(Self.auditColumns) FROM audit_log WHERE true")
        var sql = q.sql
        var binds = PostgresBindings()
        func bind(_ clause: (Int) -> String, _ value: some PostgresDynamicTypeEncodable) {
            binds.append(value)
            sql += " AND " + clause(binds.count)
        }
        if let v = f.actor, !v.isEmpty { bind({ "actor = $\($0)" }, v) }
        if let v = f.action, !v.isEmpty {
            if v.hasSuffix(".") { bind({ "left(action, length($\($0))) = $\($0)" }, v) } else { bind({ "action = $\($0)" }, v) }
        }
        if let v = f.target, !v.isEmpty { bind({ "target = $\($0)" }, v) }
        if let v = f.from, !v.isEmpty { bind({ "at >= $\($0)" }, v) }
        if let v = f.to, !v.isEmpty { bind({ "at < $\($0)" }, v + "T99") }
        if let v = f.beforeSequence { bind({ "seq < $\($0)" }, v) }
        binds.append(Int64(max(1, min(f.limit, 1000))))
        sql += " ORDER BY seq DESC LIMIT $\(binds.count)"
        q = PostgresQuery(unsafeSQL: sql, binds: binds)
        return try await rows("reading the audit log", q, as: AuditRow.self).map(Self.decodeAudit)
    }
}

extension PostgresArchiveStore: LeaseStore {
    public func acquireLease(_ name: String, holder: String, ttlMillis: Int64) async throws -> Bool {
        try await transaction("taking a lease") { conn in
            let now = Timestamp.nowMillis()
            try await conn.run("""
                INSERT INTO lease (name, holder, expires_at) VALUES (\(name), \(holder), \(now + ttlMillis))
                ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                WHERE lease.holder = excluded.holder OR lease.expires_at < \(now)
                """, logger: self.logger)
            return try await conn.column("SELECT holder FROM lease WHERE name = \(name)", as: String.self, logger: self.logger).first == holder
        }
    }

    public func releaseLease(_ name: String, holder: String) async throws {
        try await transaction("giving up a lease") { conn in
            try await conn.run("DELETE FROM lease WHERE name = \(name) AND holder = \(holder)", logger: self.logger)
        }
    }

    public func leaseHolder(_ name: String) async throws -> String? {
        try await column("reading a lease", "SELECT holder FROM lease WHERE name = \(name) AND expires_at >= \(Timestamp.nowMillis())",
                       as: String.self).first
    }
}

extension PostgresArchiveStore: WebSessionStore {
    public func createSession(_ s: WebSession) async throws {
        try await transaction("starting a session") { conn in
            try await conn.run("""
                INSERT INTO web_session (id_hash, user_name, csrf, created_ms, last_seen_ms)
                VALUES (\(s.idHash), \(s.user), \(s.csrf), \(s.createdMillis), \(s.lastSeenMillis))
                """, logger: self.logger)
        }
    }

    static func fetchSession(_ conn: PostgresConnection, idHash: String, logger: Logger) async throws -> WebSession? {
        try await conn.all("SELECT user_name, csrf, created_ms, last_seen_ms FROM web_session WHERE id_hash = \(idHash)",
                           as: (String, String, Int64, Int64).self, logger: logger).first.map {
            WebSession(idHash: idHash, user: $0.0, csrf: $0.1, createdMillis: $0.2, lastSeenMillis: $0.3)
        }
    }

    public func liveSession(idHash: String, nowMillis: Int64, limits: SessionLimits, touchAfterMillis: Int64) async throws -> WebSession? {
        try await transaction("reading a session") { conn in
            guard var s = try await Self.fetchSession(conn, idHash: idHash, logger: self.logger) else { return nil }
            if limits.expired(s, nowMillis: nowMillis) {
                try await conn.run("DELETE FROM web_session WHERE id_hash = \(idHash)", logger: self.logger)
                return nil
            }
            guard nowMillis - s.lastSeenMillis > touchAfterMillis else { return s }
            s.lastSeenMillis = nowMillis
            try await conn.run("UPDATE web_session SET last_seen_ms = greatest(last_seen_ms, \(nowMillis)) WHERE id_hash = \(idHash)",
                               logger: self.logger)
            return s
        }
    }

    public func endSession(idHash: String) async throws {
        try await transaction("ending a session") { conn in
            try await conn.run("DELETE FROM web_session WHERE id_hash = \(idHash)", logger: self.logger)
        }
    }

    public func endSessions(user: String, exceptIDHash: String?) async throws -> Int {
        try await transaction("ending sessions") { conn in
            try await conn.count("""
                WITH ended AS (
                    DELETE FROM web_session WHERE lower(user_name) = lower(\(user)) AND id_hash IS DISTINCT FROM \(exceptIDHash) RETURNING 1
                ) SELECT count(*) FROM ended
                """, logger: self.logger)
        }
    }

    public func purgeSessions(nowMillis: Int64, limits: SessionLimits) async throws -> Int {
        try await transaction("ending expired sessions") { conn in
            try await conn.count("""
                WITH ended AS (
                    DELETE FROM web_session
                    WHERE \(nowMillis) - last_seen_ms > \(limits.idleMillis) OR \(nowMillis) - created_ms > \(limits.absoluteMillis)
                    RETURNING 1
                ) SELECT count(*) FROM ended
                """, logger: self.logger)
        }
    }

    public func recordLoginFailure(keys: [String], atMillis: Int64) async throws {
        try await transaction("counting a failed sign-in") { conn in
            for key in keys { try await conn.run("INSERT INTO login_failure (key, at_ms) VALUES (\(key), \(atMillis))", logger: self.logger) }
        }
    }

    public func loginFailures(key: String, sinceMillis: Int64) async throws -> [Int64] {
        try await transaction("reading failed sign-ins") { conn in
            try await conn.run("DELETE FROM login_failure WHERE at_ms < \(sinceMillis)", logger: self.logger)
            return try await conn.column("SELECT at_ms FROM login_failure WHERE key = \(key) ORDER BY at_ms", as: Int64.self, logger: self.logger)
        }
    }

    public func clearLoginFailures(key: String) async throws {
        try await transaction("clearing failed sign-ins") { conn in
            try await conn.run("DELETE FROM login_failure WHERE key = \(key)", logger: self.logger)
        }
    }

    public func claimOncePerWindow(key: String, atMillis: Int64, windowMillis: Int64) async throws -> Bool {
        try await transaction("noting a refused sign-in") { conn in
            try await conn.run("DELETE FROM login_claim WHERE at_ms <= \(atMillis - windowMillis)", logger: self.logger)
            return try await conn.count("""
                WITH claimed AS (
                    INSERT INTO login_claim (key, at_ms) VALUES (\(key), \(atMillis)) ON CONFLICT (key) DO NOTHING RETURNING 1
                ) SELECT count(*) FROM claimed
                """, logger: self.logger) == 1
        }
    }

    public func savePendingSignIn(_ p: PendingSignIn) async throws {
        try await transaction("noting a single sign-on") { conn in
            try await conn.run("""
                INSERT INTO sign_in_pending (state_hash, verifier, nonce, next, created_ms)
                VALUES (\(p.stateHash), \(p.verifier), \(p.nonce), \(p.next), \(p.createdMillis))
                """, logger: self.logger)
        }
    }

    public func takePendingSignIn(stateHash: String, notBeforeMillis: Int64) async throws -> PendingSignIn? {
        try await transaction("finishing a single sign-on") { conn in
            // Deleted in the same statement that reads it: two instances given the same answer
            // cannot both finish it.
            let taken = try await conn.all("""
                DELETE FROM sign_in_pending WHERE state_hash = \(stateHash) RETURNING verifier, nonce, next, created_ms
                """, as: (String, String, String?, Int64).self, logger: self.logger)
            try await conn.run("DELETE FROM sign_in_pending WHERE created_ms <= \(notBeforeMillis)", logger: self.logger)
            guard let t = taken.first, t.3 > notBeforeMillis else { return nil }
            return PendingSignIn(stateHash: stateHash, verifier: t.0, nonce: t.1, next: t.2, createdMillis: t.3)
        }
    }
}
