import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

extension PostgresArchiveStore: HoldStore {
    static let holdColumns = "id, name, matter, reference, requested_by, scope, query, created_by, created_at, released_by, released_at, release_reason"
    typealias HoldRow = (Int64, String, String, String?, String, String, String?, String, String, String?, String?, String?)

    static func decodeHold(_ r: HoldRow) throws -> LegalHold {
        LegalHold(id: r.0, name: r.1, matter: MatterType(rawValue: r.2) ?? .other, reference: r.3, requestedBy: r.4,
                  scope: try JSONDecoder().decode(HoldScope.self, from: Data(r.5.utf8)), createdBy: r.7, createdAt: r.8, releasedBy: r.9,
                  releasedAt: r.10, releaseReason: r.11)
    }

    /// A hold row as the filter the predicate is built from. A hold whose query cannot be read
    /// stops the operation rather than protecting less than it should.
    static func filter(_ r: HoldRow) throws -> HoldFilter {
        let hold = try decodeHold(r)
        let match = try r.6.map { text in
            do { return try SearchExpression.parse(text) } catch {
                throw ArchiveError(.storage, "legal hold \(hold.id)'s query cannot be read (\(error)); fix it before anything is destroyed")
            }
        }
        let s = hold.scope
        return HoldFilter(holdID: hold.id, custodians: s.custodians ?? [], conversationKeys: s.conversations ?? [],
                          fromLocal: s.from?.description, toLocalExclusive: s.to.map { $0.addingDays(1).description },
                          match: match, everything: s.everything == true)
    }

    static func activeHoldFilters(_ conn: PostgresConnection, logger: Logger) async throws -> [HoldFilter] {
        let rows = try await conn.all("SELECT \(unescaped: holdColumns) FROM legal_hold WHERE released_at IS NULL ORDER BY id",
                                      as: HoldRow.self, logger: logger)
        return try await resolved(conn, try rows.map(filter), logger: logger)
    }

    /// A hold on a custodian also covers what that custodian sent into other custodians'
    /// conversations: participants resolved to custodians through the registered accounts.
    static func resolved(_ conn: PostgresConnection, _ filters: [HoldFilter], logger: Logger) async throws -> [HoldFilter] {
        var filters = filters
        guard filters.contains(where: { !$0.custodians.isEmpty }) else { return filters }
        var directory = try await identityDirectory(conn, logger: logger)
        guard !directory.isEmpty else { return filters }
        var byCustodian: [String: [ParticipantRef]] = [:]
        for p in try await conn.all("""
            SELECT p.conversation_id, p.sender_key, p.name, p.sender_raw, c.platform, cu.email
            FROM participant p JOIN conversation c ON c.id = p.conversation_id JOIN custodian cu ON cu.id = c.custodian_id
            """, as: (Int64, String, String, String?, String, String).self, logger: logger) {
            guard let email = directory.custodian(sender: p.2, senderRaw: p.3, platform: p.4), email != p.5.lowercased() else { continue }
            byCustodian[email, default: []].append(ParticipantRef(conversationID: p.0, senderKey: p.1))
        }
        for i in filters.indices where !filters[i].custodians.isEmpty {
            filters[i].sentBy = filters[i].custodians.flatMap { byCustodian[$0.lowercased()] ?? [] }
        }
        return filters
    }

    /// A predicate over `m` (a message) true when any of the holds covers it, with its values
    /// bound in `q`. A hold by query matches through the index, and also the records still
    /// waiting for the indexer, matched directly: a hold never misses a record because the
    /// indexer is behind (unlike SQLite, which refuses a destructive step until it has caught up).
    static func heldPredicate(_ holds: [HoldFilter], _ q: inout SQLBuilder) async throws -> String {
        guard !holds.isEmpty else { return "false" }
        var clauses: [String] = []
        for h in holds {
            if h.everything { return "true" }
            var parts: [String] = []
            if !h.custodians.isEmpty {
                var owned = """
                    m.conversation_id IN (SELECT c.id FROM conversation c JOIN custodian cu ON cu.id = c.custodian_id
                                          WHERE lower(cu.email) = ANY(\(q.bind(h.custodians.map { $0.lowercased() }))))
                    """
                if !h.sentBy.isEmpty {
                    owned = "(" + owned + " OR (m.conversation_id, m.sender_key) IN (SELECT * FROM unnest(\(q.bind(h.sentBy.map(\.conversationID))), "
                        + "\(q.bind(h.sentBy.map(\.senderKey))))))"
                }
                parts.append(owned)
            }
            if !h.conversationKeys.isEmpty { parts.append("m.conversation_key = ANY(\(q.bind(h.conversationKeys)))") }
            if let from = h.fromLocal { parts.append("m.sent_local >= \(q.bind(from))") }
            if let to = h.toLocalExclusive { parts.append("m.sent_local < \(q.bind(to))") }
            if let match = h.match {
                if let tsquery = TSQuery.compile(match) {
                    let t = "to_tsquery('recordkeeper', \(q.bind(tsquery)))"
                    parts.append("""
                        (m.id IN (SELECT message_id FROM message_search WHERE doc @@ \(t))
                         OR (m.id IN (SELECT message_id FROM index_queue)
                             AND (to_tsvector('recordkeeper', rk_search_text(m.body)) || to_tsvector('recordkeeper', rk_search_text(m.sender))) @@ \(t)))
                        """)
                } else {
                    parts.append("false")
                }
            }
            clauses.append(parts.isEmpty ? "false" : "(" + parts.joined(separator: " AND ") + ")")
        }
        return "(" + clauses.joined(separator: " OR ") + ")"
    }

    public func createHold(_ h: NewHold, audit: AuditDraft) async throws -> LegalHold {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let scope = String(decoding: try encoder.encode(h.scope), as: UTF8.self)
        return try await transaction("placing a legal hold") { conn in
            try await Self.lockHolds(conn, logger: self.logger)
            let row = try await conn.all("""
                INSERT INTO legal_hold (name, matter, reference, requested_by, scope, query, created_by, created_at)
                VALUES (\(h.name), \(h.matter.rawValue), \(h.reference), \(h.requestedBy), \(scope), \(h.match?.description), \(h.actor),
                        \(Timestamp.iso(millis: h.createdAtMillis)))
                RETURNING \(unescaped: Self.holdColumns)
                """, as: HoldRow.self, logger: self.logger)
            let hold = try Self.decodeHold(row[0])
            var draft = audit
            draft.target = "hold:\(hold.id)"
            _ = try await Self.appendAudit(conn, draft, logger: self.logger)
            return hold
        }
    }

    public func holds(includeReleased: Bool) async throws -> [LegalHold] {
        try await rows("listing legal holds", """
            SELECT \(unescaped: Self.holdColumns) FROM legal_hold WHERE \(includeReleased) OR released_at IS NULL ORDER BY id
            """, as: HoldRow.self).map(Self.decodeHold)
    }

    public func hold(id: Int64) async throws -> LegalHold? {
        try await rows("reading a legal hold", "SELECT \(unescaped: Self.holdColumns) FROM legal_hold WHERE id = \(id)", as: HoldRow.self)
            .first.map(Self.decodeHold)
    }

    public func releaseHold(id: Int64, actor: String, reason: String, atMillis: Int64, audit: AuditDraft) async throws -> LegalHold {
        try await transaction("releasing a legal hold") { conn in
            try await Self.lockHolds(conn, logger: self.logger)
            guard let row = try await conn.all("SELECT \(unescaped: Self.holdColumns) FROM legal_hold WHERE id = \(id) FOR UPDATE", as: HoldRow.self,
                                               logger: self.logger).first else {
                throw ArchiveError(.notFound, "no hold with id \(id); `recordkeeper hold list --all` lists them")
            }
            if let at = row.10 { throw ArchiveError(.refused, "hold \(id) was already released on \(at)") }
            let updated = try await conn.all("""
                UPDATE legal_hold SET released_by = \(actor), released_at = \(Timestamp.iso(millis: atMillis)), release_reason = \(reason)
                WHERE id = \(id) RETURNING \(unescaped: Self.holdColumns)
                """, as: HoldRow.self, logger: self.logger)
            _ = try await Self.appendAudit(conn, audit, logger: self.logger)
            return try Self.decodeHold(updated[0])
        }
    }

    /// Count and newest ids of the records `filters` cover.
    func covered(_ what: String, filters: (PostgresConnection) async throws -> [HoldFilter], sample: Int) async throws -> (count: Int, sample: [Int64]) {
        try await transaction(what) { conn in
            var q = SQLBuilder()
            let pred = try await Self.heldPredicate(try await filters(conn), &q)
            let count = try await conn.count(q.query("SELECT count(*) FROM message m WHERE \(pred)"), logger: self.logger)
            let ids = try await conn.column(q.query("SELECT m.id FROM message m WHERE \(pred) ORDER BY m.sent_at DESC, m.id DESC LIMIT \(sample)"),
                                            as: Int64.self, logger: self.logger)
            return (count, ids)
        }
    }

    public func heldRecords(holdID: Int64, sample: Int) async throws -> (count: Int, sample: [Int64]) {
        try await covered("counting what a hold keeps", filters: { conn in
            guard let row = try await conn.all("SELECT \(unescaped: Self.holdColumns) FROM legal_hold WHERE id = \(holdID)", as: HoldRow.self,
                                               logger: self.logger).first else {
                throw ArchiveError(.notFound, "no hold with id \(holdID)")
            }
            return try await Self.resolved(conn, [try Self.filter(row)], logger: self.logger)
        }, sample: sample)
    }

    public func previewHold(scope: HoldScope, match: SearchExpression?, sample: Int) async throws -> HoldScopePreview {
        try await transaction("previewing a hold") { conn in
            let filter = HoldFilter(holdID: 0, custodians: scope.custodians ?? [], conversationKeys: scope.conversations ?? [],
                                    fromLocal: scope.from?.description, toLocalExclusive: scope.to.map { $0.addingDays(1).description },
                                    match: match, everything: scope.everything == true)
            var q = SQLBuilder()
            let pred = try await Self.heldPredicate(try await Self.resolved(conn, [filter], logger: self.logger), &q)
            let total = try await conn.count(q.query("SELECT count(*) FROM message m WHERE \(pred)"), logger: self.logger)
            let byCustodian = try await conn.all(q.query("""
                SELECT cu.email, count(*) AS n FROM message m JOIN conversation c ON c.id = m.conversation_id JOIN custodian cu ON cu.id = c.custodian_id
                WHERE \(pred) GROUP BY cu.email ORDER BY n DESC, cu.email LIMIT 50
                """), as: (String, Int64).self, logger: self.logger).map { HoldScopePreview.Group(key: $0.0, label: $0.0, records: Int($0.1)) }
            let byConversation = try await conn.all(q.query("""
                SELECT c.id, c.title, count(*) AS n FROM message m JOIN conversation c ON c.id = m.conversation_id
                WHERE \(pred) GROUP BY c.id, c.title ORDER BY n DESC, c.id LIMIT 50
                """), as: (Int64, String, Int64).self, logger: self.logger).map { HoldScopePreview.Group(key: String($0.0), label: $0.1, records: Int($0.2)) }
            let ids = try await conn.column(q.query("SELECT m.id FROM message m WHERE \(pred) ORDER BY m.sent_at DESC, m.id DESC LIMIT \(sample)"),
                                            as: Int64.self, logger: self.logger)
            return HoldScopePreview(records: total, byCustodian: byCustodian, byConversation: byConversation, sample: ids)
        }
    }

    public func holdsCovering(messageID: Int64) async throws -> [Int64] {
        try await transaction("finding the holds on a record") { conn in
            var out: [Int64] = []
            for f in try await Self.activeHoldFilters(conn, logger: self.logger) {
                var q = SQLBuilder()
                let pred = try await Self.heldPredicate([f], &q)
                let sql = "SELECT count(*) FROM message m WHERE m.id = \(q.bind(messageID)) AND \(pred)"
                if try await conn.count(q.query(sql), logger: self.logger) > 0 {
                    out.append(f.holdID)
                }
            }
            return out
        }
    }
}
