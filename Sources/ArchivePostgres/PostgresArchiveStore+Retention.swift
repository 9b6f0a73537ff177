import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

/// SQL with bound values, built piece by piece (`bind` returns the placeholder).
struct SQLBuilder {
    var binds = PostgresBindings()
    mutating func bind(_ v: some PostgresDynamicTypeEncodable) -> String {
        binds.append(v)
        return "$\(binds.count)"
    }
    func query(_ sql: String) -> PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}

extension PostgresArchiveStore: RetentionStore {
    // MARK: File plan and events

    static let planColumns = "version, document, digest, created_at, created_by, note"

    static func decodePlan(_ r: (Int32, String, String, String, String, String?)) throws -> StoredFilePlan {
        StoredFilePlan(version: Int(r.0), plan: try JSONDecoder().decode(FilePlan.self, from: Data(r.1.utf8)), createdAt: r.3, createdBy: r.4,
                       note: r.5, digest: r.2)
    }

    static func currentPlan(_ conn: PostgresConnection, logger: Logger) async throws -> StoredFilePlan? {
        try await conn.all("SELECT \(unescaped: planColumns) FROM file_plan ORDER BY version DESC LIMIT 1",
                           as: (Int32, String, String, String, String, String?).self, logger: logger).first.map(decodePlan)
    }

    public func currentFilePlan() async throws -> StoredFilePlan? {
        try await transaction("reading the file plan") { conn in try await Self.currentPlan(conn, logger: self.logger) }
    }

    public func filePlanHistory() async throws -> [StoredFilePlan] {
        try await rows("reading the file plan's history", "SELECT \(unescaped: Self.planColumns) FROM file_plan ORDER BY version",
                       as: (Int32, String, String, String, String, String?).self).map(Self.decodePlan)
    }

    public func cutoffEvents() async throws -> [String: [String: CivilDate]] {
        var out: [String: [String: CivilDate]] = [:]
        for e in try await rows("reading cutoff events", "SELECT c.key, e.name, e.date FROM cutoff_event e JOIN conversation c ON c.id = e.conversation_id",
                                as: (String, String, String).self) {
            if let d = CivilDate(e.2) { out[e.0, default: [:]][e.1.lowercased()] = d }
        }
        return out
    }

    // MARK: Changes

    public func applyRetentionChange(_ change: RetentionChange, audit: AuditDraft, reason: String) async throws -> RetentionChangeResult {
        try await transaction("changing retention") { conn in
            let logger = self.logger
            let now = Timestamp.iso(millis: Timestamp.nowMillis())
            var draft = audit
            var result = RetentionChangeResult(diff: RetentionDiff())
            switch change {
            case .filePlan(let plan, let note):
                // One new version at a time, whichever instance saves it.
                try await conn.run("LOCK TABLE file_plan IN EXCLUSIVE MODE", logger: logger)
                let previous = try await Self.currentPlan(conn, logger: logger)
                if previous?.plan == plan {
                    throw ArchiveError(.invalid, "the file plan is the same as version \(previous?.version ?? 0); nothing to apply")
                }
                let document = try StoredFilePlan.document(plan)
                let version = Int32((previous?.version ?? 0) + 1)
                try await conn.run("""
                    INSERT INTO file_plan (version, document, digest, created_at, created_by, note)
                    VALUES (\(version), \(document), \(ContentHash.of(document).hex), \(now), \(audit.actor), \(note))
                    """, logger: logger)
                let saved = try await Self.currentPlan(conn, logger: logger)!
                draft.target = "file-plan:\(saved.version)"
                draft.detail["version"] = String(saved.version)
                draft.detail["digest"] = saved.digest
                draft.detail["previous_version"] = previous.map { String($0.version) } ?? ""
                draft.detail["previous_digest"] = previous?.digest ?? ""
                result.filePlan = saved
            case .profile(let email, let name, let office):
                let before = try await Self.fetchProfiles(conn, email: email, logger: logger).first
                draft.action = before == nil ? "custodian.add" : "custodian.update"
                draft.detail["previous_office"] = before?.office ?? ""
                draft.detail["previous_name"] = before?.name ?? ""
                try await conn.run("""
                    INSERT INTO custodian (email, created_at) VALUES (lower(\(email)), \(now)) ON CONFLICT (lower(email)) DO NOTHING
                    """, logger: logger)
                if let name { try await conn.run("UPDATE custodian SET name = \(name) WHERE lower(email) = lower(\(email))", logger: logger) }
                if let office { try await conn.run("UPDATE custodian SET office = \(office) WHERE lower(email) = lower(\(email))", logger: logger) }
                result.profile = try await Self.fetchProfiles(conn, email: email, logger: logger).first
            case .account(let email, let account):
                let p = try await Self.requireProfile(conn, email: email, logger: logger)
                result.account = try await Self.addAccount(conn, custodianID: p.id, account: account, at: now, logger: logger)
            case .designation(let email, let d):
                let p = try await Self.requireProfile(conn, email: email, logger: logger)
                let id = try await conn.column("""
                    INSERT INTO role_designation (custodian_id, role, capstone, starts, ends, created_at, created_by)
                    VALUES (\(p.id), \(d.role), \(d.capstone), \(d.starts.description), \(d.ends?.description), \(now), \(audit.actor)) RETURNING id
                    """, as: Int64.self, logger: logger)[0]
                draft.detail["designation"] = String(id)
                result.designation = StoredDesignation(id: id, custodianEmail: p.email, designation: d, createdAt: now, createdBy: audit.actor)
            case .endDesignation(let id, let ends):
                guard let row = try await conn.all("""
                    SELECT d.role, d.capstone, d.starts, d.ends, d.created_at, d.created_by, cu.email
                    FROM role_designation d JOIN custodian cu ON cu.id = d.custodian_id WHERE d.id = \(id)
                    """, as: (String, Bool, String, String?, String, String, String).self, logger: logger).first else {
                    throw ArchiveError(.notFound, "no designation with id \(id); `recordkeeper custodian show EMAIL` lists them")
                }
                guard ends.description >= row.2 else { throw ArchiveError(.invalid, "designation \(id) starts on \(row.2); it cannot end before that") }
                try await conn.run("UPDATE role_designation SET ends = \(ends.description) WHERE id = \(id)", logger: logger)
                draft.detail["previous_ends"] = row.3 ?? ""
                result.designation = StoredDesignation(id: id, custodianEmail: row.6,
                                                       designation: RoleDesignation(role: row.0, capstone: row.1, starts: CivilDate(row.2)!, ends: ends),
                                                       createdAt: row.4, createdBy: row.5)
            case .cutoffEvent(let conversationID, let name, let date):
                guard try await conn.count("SELECT count(*) FROM conversation WHERE id = \(conversationID)", logger: logger) == 1 else {
                    throw ArchiveError(.notFound, "no conversation with id \(conversationID); `recordkeeper show conversations` lists them")
                }
                try await conn.run("""
                    INSERT INTO cutoff_event (conversation_id, name, date, recorded_at, recorded_by)
                    VALUES (\(conversationID), \(name.lowercased()), \(date.description), \(now), \(audit.actor))
                    ON CONFLICT (conversation_id, name) DO UPDATE SET date = excluded.date, recorded_at = excluded.recorded_at,
                        recorded_by = excluded.recorded_by
                    """, logger: logger)
            case .recompute:
                break
            }
            _ = try await Self.appendAudit(conn, draft, logger: logger)
            let (context, version) = try await Self.storedContext(conn, logger: logger)
            result.diff = try await Self.recompute(conn, context: context, planVersion: version, scope: .all, apply: true, logger: logger)
            _ = try await Self.appendAudit(conn, result.diff.auditDraft(actor: audit.actor, action: "retention.recompute",
                                                                         target: "file-plan:\(version)", reason: reason), logger: logger)
            return result
        }
    }

    static func requireProfile(_ conn: PostgresConnection, email: String, logger: Logger) async throws -> CustodianProfile {
        guard let p = try await fetchProfiles(conn, email: email, logger: logger).first else {
            throw ArchiveError(.notFound, "no custodian \(email); add one with `recordkeeper custodian add \(email)`")
        }
        return p
    }

    static func addAccount(_ conn: PostgresConnection, custodianID: Int64, account: PlatformAccount, at: String, logger: Logger) async throws -> PlatformAccount {
        if let owner = try await conn.column("""
            SELECT cu.email FROM custodian_account a JOIN custodian cu ON cu.id = a.custodian_id
            WHERE a.platform = \(account.platform) AND a.normalized = \(account.normalized)
            """, as: String.self, logger: logger).first {
            throw ArchiveError(.invalid, "the \(account.platform) account \(account.address) is already registered to \(owner)")
        }
        if account.normalized.hasPrefix("tel:") {
            // The same number written another way ("619.555.0134", "+1 (619) 555-0134") is the same account.
            for row in try await conn.all("""
                SELECT a.normalized, a.address, cu.email FROM custodian_account a JOIN custodian cu ON cu.id = a.custodian_id
                WHERE a.platform = \(account.platform) AND a.normalized LIKE 'tel:%'
                """, as: (String, String, String).self, logger: logger) where AccountAddress.same(row.0, account.normalized) {
                throw ArchiveError(.invalid, "the \(account.platform) number \(account.address) is the same as \(row.1), already registered to \(row.2)")
            }
        }
        var saved = account
        saved.id = try await conn.column("""
            INSERT INTO custodian_account (custodian_id, platform, address, normalized, official, created_at)
            VALUES (\(custodianID), \(account.platform), \(account.address), \(account.normalized), \(account.official), \(at)) RETURNING id
            """, as: Int64.self, logger: logger)[0]
        return saved
    }

    // MARK: Recomputation

    static let factsSelect = """
        SELECT m.id, m.sent_local, m.platform, m.conversation_key, c.title, cu.email, m.sender, m.sender_raw,
               a.item_id, a.rule_id, a.action, a.cutoff, a.eligible, a.plan_version
        FROM message m JOIN conversation c ON c.id = m.conversation_id JOIN custodian cu ON cu.id = c.custodian_id
        LEFT JOIN retention_assignment a ON a.message_id = m.id
        """
    typealias FactsRow = (Int64, String, String, String, String, String, String?, String?, String?, String?, String?, String?, String?, Int32?)

    static func facts(_ r: FactsRow, directory: inout IdentityDirectory) -> RecordFacts? {
        guard let date = CivilDate(String(r.1.prefix(10))) else { return nil }
        return RecordFacts(messageID: r.0, sentDate: date, platform: r.2, conversationKey: r.3, conversationTitle: r.4, custodianEmail: r.5,
                           senderCustodianEmail: directory.custodian(sender: r.6, senderRaw: r.7, platform: r.2))
    }

    static func oldAssignment(_ r: FactsRow) -> RetentionAssignment? {
        r.8.map { item in
            RetentionAssignment(itemID: item, ruleID: r.9, action: RetentionAction(rawValue: r.10 ?? "") ?? .retain,
                                cutoff: r.11.flatMap { CivilDate($0) }, eligible: r.12.flatMap { CivilDate($0) })
        }
    }

    /// Pages through the records in id order (10,000 at a time, so memory stays flat), each
    /// page's new assignments written before the next is read, all in the caller's transaction.
    static func recompute(_ conn: PostgresConnection, context: RetentionContext, planVersion: Int, scope: AssignmentScope, apply: Bool,
                          logger: Logger) async throws -> RetentionDiff {
        var directory = try await identityDirectory(conn, logger: logger)
        var pass = RetentionRecomputation(context: context, planVersion: planVersion, apply: apply)
        let stamp = Timestamp.iso(millis: Timestamp.nowMillis())
        var after: Int64 = 0
        while true {
            var q = SQLBuilder()
            let scopeSQL: String
            switch scope {
            case .all: scopeSQL = "true"
            case .batch(let id): scopeSQL = "m.batch_id = \(q.bind(id))"
            case .unassigned: scopeSQL = "a.message_id IS NULL"
            case .pendingMembers(let id):
                scopeSQL = "m.id IN (SELECT message_id FROM disposition_member WHERE disposition_id = \(q.bind(id)) AND state = 'pending')"
            }
            // Built before `q.query` reads the bindings (an argument that binds would be evaluated after).
            let sql = "\(factsSelect) WHERE \(scopeSQL) AND m.id > \(q.bind(after)) ORDER BY m.id LIMIT 10000"
            let page = try await conn.all(q.query(sql), as: FactsRow.self, logger: logger)
            guard let last = page.last else { break }
            after = last.0
            var writes: [[Bind]] = []
            for r in page {
                let facts = Self.facts(r, directory: &directory)
                if let a = pass.examine(facts, old: oldAssignment(r), oldVersion: r.13.map { Int($0) }) {
                    writes.append([.int(r.0), .text(a.itemID), .text(a.ruleID), .text(a.action.rawValue), .text(a.cutoff?.description),
                                   .text(a.eligible?.description), .int(Int64(planVersion)), .text(stamp)])
                }
            }
            if !writes.isEmpty {
                _ = try await conn.insertRows("retention_assignment", columns: ["message_id", "item_id", "rule_id", "action", "cutoff", "eligible",
                                                                                "plan_version", "assigned_at"], rows: writes, suffix: """
                    ON CONFLICT (message_id) DO UPDATE SET item_id = excluded.item_id, rule_id = excluded.rule_id, action = excluded.action,
                        cutoff = excluded.cutoff, eligible = excluded.eligible, plan_version = excluded.plan_version, assigned_at = excluded.assigned_at
                    """, logger: logger) { _ in () }
            }
        }
        return pass.result
    }

    public func recomputeAssignments(context: RetentionContext?, scope: AssignmentScope, apply: Bool) async throws -> RetentionDiff {
        if let context, apply {
            throw ArchiveError(.invalid, "a change is applied through applyRetentionChange, not with a supplied context")
        }
        return try await transaction("recomputing retention") { conn in
            if let context {
                return try await Self.recompute(conn, context: context, planVersion: 0, scope: scope, apply: false, logger: self.logger)
            }
            let (stored, version) = try await Self.storedContext(conn, logger: self.logger)
            return try await Self.recompute(conn, context: stored, planVersion: version, scope: scope, apply: apply, logger: self.logger)
        }
    }

    public func assignment(messageID: Int64) async throws -> StoredAssignment? {
        try await rows("reading an assignment", """
            SELECT item_id, rule_id, action, cutoff, eligible, plan_version, assigned_at FROM retention_assignment WHERE message_id = \(messageID)
            """, as: (String, String?, String, String?, String?, Int32, String).self).first.map { r in
            StoredAssignment(assignment: RetentionAssignment(itemID: r.0, ruleID: r.1, action: RetentionAction(rawValue: r.2) ?? .retain,
                                                             cutoff: r.3.flatMap { CivilDate($0) }, eligible: r.4.flatMap { CivilDate($0) }),
                             planVersion: Int(r.5), assignedAt: r.6)
        }
    }

    public func retentionFacts(messageID: Int64) async throws -> RecordFacts? {
        try await transaction("reading a record's retention facts") { conn in
            var directory = try await Self.identityDirectory(conn, logger: self.logger)
            return try await conn.all("\(unescaped: Self.factsSelect) WHERE m.id = \(messageID)", as: FactsRow.self, logger: self.logger)
                .first.flatMap { Self.facts($0, directory: &directory) }
        }
    }

    public func due(asOf: CivilDate) async throws -> [DueGroup] {
        try await transaction("reading what is due") { conn in
            var q = SQLBuilder()
            let held = try await Self.heldPredicate(try await Self.activeHoldFilters(conn, logger: self.logger), &q)
            let sql = """
                SELECT a.item_id, a.action, count(*), count(*) FILTER (WHERE \(held)), min(m.sent_local), max(m.sent_local), min(a.eligible)
                FROM retention_assignment a JOIN message m ON m.id = a.message_id
                WHERE a.action IN ('destroy', 'transfer') AND a.eligible <= \(q.bind(asOf.description))
                GROUP BY a.item_id, a.action ORDER BY a.item_id
                """
            return try await conn.all(q.query(sql), as: DueRow.self, logger: self.logger).map(Self.decodeDue)
        }
    }

    typealias DueRow = (String, String, Int64, Int64, String?, String?, String?)

    static func decodeDue(_ r: DueRow) -> DueGroup {
        DueGroup(itemID: r.0, action: RetentionAction(rawValue: r.1) ?? .retain, records: Int(r.2), held: Int(r.3), firstSent: r.4, lastSent: r.5,
                 firstEligible: r.6)
    }

    public func retentionSummary() async throws -> [DueGroup] {
        try await transaction("summarizing retention") { conn in
            var q = SQLBuilder()
            let held = try await Self.heldPredicate(try await Self.activeHoldFilters(conn, logger: self.logger), &q)
            var groups = try await conn.all(q.query("""
                SELECT a.item_id, a.action, count(*), count(*) FILTER (WHERE \(held)), min(m.sent_local), max(m.sent_local), min(a.eligible)
                FROM retention_assignment a JOIN message m ON m.id = a.message_id GROUP BY a.item_id, a.action ORDER BY a.item_id
                """), as: DueRow.self, logger: self.logger).map(Self.decodeDue)
            let unassigned = try await conn.count("""
                SELECT count(*) FROM message m WHERE NOT EXISTS (SELECT 1 FROM retention_assignment a WHERE a.message_id = m.id)
                """, logger: self.logger)
            if unassigned > 0 {
                groups.append(DueGroup(itemID: "(not yet assigned)", action: .retain, records: unassigned, held: 0, firstSent: nil, lastSent: nil,
                                       firstEligible: nil))
            }
            return groups
        }
    }
}
