import Foundation
import GRDB
import RecordkeeperCore

extension SQLiteArchiveStore {
    static func now() -> String { Timestamp.iso(millis: Timestamp.nowMillis()) }

    /// 1234567 → "1,234,567" (for messages people read).
    static func grouped(_ n: Int) -> String { TextRecipes.grouped(n) }

    // MARK: Users

    public func saveUser(_ user: UserAccount) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO app_user (name, display_name, roles, created_at, custodian_email) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET display_name = excluded.display_name, roles = excluded.roles,
                    custodian_email = excluded.custodian_email
                """, arguments: [user.name, user.displayName, user.roles.map(\.rawValue).joined(separator: ","), user.createdAt,
                                 user.custodianEmail?.lowercased()])
        }
    }

    static func decodeUser(_ row: Row) -> UserAccount {
        UserAccount(name: row["name"], displayName: row["display_name"],
                    roles: (row["roles"] as String).split(separator: ",").compactMap { UserRole(rawValue: String($0)) },
                    createdAt: row["created_at"], custodianEmail: row["custodian_email"])
    }

    public func user(name: String) async throws -> UserAccount? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM app_user WHERE name = ?", arguments: [name]).map(Self.decodeUser) }
    }

    public func users() async throws -> [UserAccount] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM app_user ORDER BY name").map(Self.decodeUser) }
    }

    // MARK: Custodians

    static func fetchProfile(_ db: Database, where clause: String, _ args: StatementArguments) throws -> [CustodianProfile] {
        try Row.fetchAll(db, sql: "SELECT id, email, name, office FROM custodian WHERE \(clause) ORDER BY email", arguments: args).map { row in
            let id: Int64 = row["id"]
            let email: String = row["email"]
            let accounts = try Row.fetchAll(db, sql: "SELECT * FROM custodian_account WHERE custodian_id = ? ORDER BY id", arguments: [id]).map { a in
                var acc = PlatformAccount(id: a["id"], platform: a["platform"], address: a["address"], official: a["official"])
                acc.normalized = a["normalized"]
                return acc
            }
            let designations = try Row.fetchAll(db, sql: "SELECT * FROM role_designation WHERE custodian_id = ? ORDER BY starts, id", arguments: [id])
                .map { Self.decodeDesignation($0, email: email) }
            return CustodianProfile(id: id, email: email, name: row["name"], office: row["office"], accounts: accounts, designations: designations)
        }
    }

    static func decodeDesignation(_ d: Row, email: String) -> StoredDesignation {
        StoredDesignation(id: d["id"], custodianEmail: email,
                          designation: RoleDesignation(role: d["role"], capstone: d["capstone"], starts: CivilDate(d["starts"] as String)!,
                                                       ends: (d["ends"] as String?).flatMap { CivilDate($0) }),
                          createdAt: d["created_at"], createdBy: d["created_by"])
    }

    static func saveProfile(_ db: Database, email: String, name: String?, office: String?) throws -> CustodianProfile {
        try db.execute(sql: "INSERT INTO custodian (email, created_at) VALUES (?, ?) ON CONFLICT(email) DO NOTHING",
                       arguments: [email.lowercased(), Self.now()])
        if let name { try db.execute(sql: "UPDATE custodian SET name = ? WHERE email = ? COLLATE NOCASE", arguments: [name, email]) }
        if let office { try db.execute(sql: "UPDATE custodian SET office = ? WHERE email = ? COLLATE NOCASE", arguments: [office, email]) }
        return try Self.fetchProfile(db, where: "email = ? COLLATE NOCASE", [email])[0]
    }

    static func requireProfile(_ db: Database, email: String) throws -> CustodianProfile {
        guard let p = try Self.fetchProfile(db, where: "email = ? COLLATE NOCASE", [email]).first else {
            throw ArchiveError(.notFound, "no custodian \(email); add one with `recordkeeper custodian add \(email)`")
        }
        return p
    }

    public func custodianProfiles() async throws -> [CustodianProfile] {
        try await read { db in try Self.fetchProfile(db, where: "1", []) }
    }

    public func custodianProfile(email: String) async throws -> CustodianProfile? {
        try await read { db in try Self.fetchProfile(db, where: "email = ? COLLATE NOCASE", [email]).first }
    }

    static func addAccount(_ db: Database, custodianID: Int64, account: PlatformAccount) throws -> PlatformAccount {
        if let owner = try String.fetchOne(db, sql: """
            SELECT cu.email FROM custodian_account a JOIN custodian cu ON cu.id = a.custodian_id WHERE a.platform = ? AND a.normalized = ?
            """, arguments: [account.platform, account.normalized]) {
            throw ArchiveError(.invalid, "the \(account.platform) account \(account.address) is already registered to \(owner)")
        }
        if account.normalized.hasPrefix("tel:") {
            // The same number written another way ("619.555.0134", "+1 (619) 555-0134") is the same account.
            for row in try Row.fetchAll(db, sql: """
                SELECT a.normalized, a.address, cu.email FROM custodian_account a JOIN custodian cu ON cu.id = a.custodian_id
                WHERE a.platform = ? AND a.normalized LIKE 'tel:%'
                """, arguments: [account.platform]) where AccountAddress.same(row["normalized"], account.normalized) {
                throw ArchiveError(.invalid, "the \(account.platform) number \(account.address) is the same as \(row["address"] as String), already registered to \(row["email"] as String)")
            }
        }
        try db.execute(sql: """
            INSERT INTO custodian_account (custodian_id, platform, address, normalized, official, created_at) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [custodianID, account.platform, account.address, account.normalized, account.official, Self.now()])
        var saved = account
        saved.id = db.lastInsertedRowID
        return saved
    }

    static func addDesignation(_ db: Database, custodianID: Int64, email: String, designation d: RoleDesignation, actor: String) throws -> StoredDesignation {
        try db.execute(sql: """
            INSERT INTO role_designation (custodian_id, role, capstone, starts, ends, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [custodianID, d.role, d.capstone, d.starts.description, d.ends?.description, Self.now(), actor])
        return Self.decodeDesignation(try Row.fetchOne(db, sql: "SELECT * FROM role_designation WHERE id = ?", arguments: [db.lastInsertedRowID])!, email: email)
    }

    static func endDesignation(_ db: Database, id: Int64, ends: CivilDate) throws -> StoredDesignation {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT d.*, cu.email FROM role_designation d JOIN custodian cu ON cu.id = d.custodian_id WHERE d.id = ?
            """, arguments: [id]) else {
            throw ArchiveError(.notFound, "no designation with id \(id); `recordkeeper custodian show EMAIL` lists them")
        }
        let starts: String = row["starts"]
        guard ends.description >= starts else {
            throw ArchiveError(.invalid, "designation \(id) starts on \(starts); it cannot end before that")
        }
        try db.execute(sql: "UPDATE role_designation SET ends = ? WHERE id = ?", arguments: [ends.description, id])
        return Self.decodeDesignation(try Row.fetchOne(db, sql: "SELECT * FROM role_designation WHERE id = ?", arguments: [id])!, email: row["email"])
    }

    // MARK: File plan

    static func decodePlan(_ row: Row) throws -> StoredFilePlan {
        let plan = try JSONDecoder().decode(FilePlan.self, from: Data((row["document"] as String).utf8))
        return StoredFilePlan(version: row["version"], plan: plan, createdAt: row["created_at"], createdBy: row["created_by"],
                              note: row["note"], digest: row["digest"])
    }

    static func fetchCurrentPlan(_ db: Database) throws -> StoredFilePlan? {
        try Row.fetchOne(db, sql: "SELECT * FROM file_plan ORDER BY version DESC LIMIT 1").map(decodePlan)
    }

    public func currentFilePlan() async throws -> StoredFilePlan? {
        try await read { db in try Self.fetchCurrentPlan(db) }
    }

    public func filePlanHistory() async throws -> [StoredFilePlan] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM file_plan ORDER BY version").map(Self.decodePlan) }
    }

    static func saveFilePlan(_ db: Database, _ plan: FilePlan, actor: String, note: String?) throws -> StoredFilePlan {
        let document = try Self.encodePlan(plan)
        let version = (try Int.fetchOne(db, sql: "SELECT max(version) FROM file_plan") ?? 0) + 1
        try db.execute(sql: "INSERT INTO file_plan (version, document, digest, created_at, created_by, note) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [version, document, ContentHash.of(document).hex, Self.now(), actor, note])
        return try Self.fetchCurrentPlan(db)!
    }

    static func recordCutoffEvent(_ db: Database, conversationID: Int64, name: String, date: CivilDate, actor: String) throws {
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM conversation WHERE id = ?)", arguments: [conversationID]) == true else {
            throw ArchiveError(.notFound, "no conversation with id \(conversationID); `recordkeeper show conversations` lists them")
        }
        try db.execute(sql: """
            INSERT INTO cutoff_event (conversation_id, name, date, recorded_at, recorded_by) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(conversation_id, name) DO UPDATE SET date = excluded.date, recorded_at = excluded.recorded_at,
                recorded_by = excluded.recorded_by
            """, arguments: [conversationID, name, date.description, Self.now(), actor])
    }

    static func fetchEvents(_ db: Database) throws -> [String: [String: CivilDate]] {
        var out: [String: [String: CivilDate]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT c.key, e.name, e.date FROM cutoff_event e JOIN conversation c ON c.id = e.conversation_id") {
            if let d = CivilDate(row["date"] as String) { out[row["key"], default: [:]][(row["name"] as String).lowercased()] = d }
        }
        return out
    }

    /// The archive's own retention context, read inside the caller's transaction.
    static func storedContext(_ db: Database) throws -> (RetentionContext, Int) {
        guard let plan = try fetchCurrentPlan(db) else { throw ArchiveError(.storage, "the archive has no file plan; run `recordkeeper verify`") }
        let custodians = try fetchProfile(db, where: "1", []).map(\.facts)
        return (RetentionContext(plan: plan.plan, custodians: custodians, events: try fetchEvents(db)), plan.version)
    }

    public func applyRetentionChange(_ change: RetentionChange, audit: AuditDraft, reason: String) async throws -> RetentionChangeResult {
        try await write { db in
            var draft = audit
            var result = RetentionChangeResult(diff: RetentionDiff())
            switch change {
            case .filePlan(let plan, let note):
                let previous = try Self.fetchCurrentPlan(db)
                if previous?.plan == plan {
                    throw ArchiveError(.invalid, "the file plan is the same as version \(previous?.version ?? 0); nothing to apply")
                }
                let saved = try Self.saveFilePlan(db, plan, actor: audit.actor, note: note)
                draft.target = "file-plan:\(saved.version)"
                draft.detail["version"] = String(saved.version)
                draft.detail["digest"] = saved.digest
                draft.detail["previous_version"] = previous.map { String($0.version) } ?? ""
                draft.detail["previous_digest"] = previous?.digest ?? ""
                result.filePlan = saved
            case .profile(let email, let name, let office):
                let before = try Self.fetchProfile(db, where: "email = ? COLLATE NOCASE", [email]).first
                draft.action = before == nil ? "custodian.add" : "custodian.update"
                draft.detail["previous_office"] = before?.office ?? ""
                draft.detail["previous_name"] = before?.name ?? ""
                result.profile = try Self.saveProfile(db, email: email, name: name, office: office)
            case .account(let email, let account):
                let p = try Self.requireProfile(db, email: email)
                result.account = try Self.addAccount(db, custodianID: p.id, account: account)
            case .designation(let email, let designation):
                let p = try Self.requireProfile(db, email: email)
                let saved = try Self.addDesignation(db, custodianID: p.id, email: p.email, designation: designation, actor: audit.actor)
                draft.detail["designation"] = String(saved.id)
                result.designation = saved
            case .endDesignation(let id, let ends):
                let before = try Row.fetchOne(db, sql: "SELECT ends FROM role_designation WHERE id = ?", arguments: [id])
                result.designation = try Self.endDesignation(db, id: id, ends: ends)
                draft.detail["previous_ends"] = (before?["ends"] as String?) ?? ""
            case .cutoffEvent(let conversationID, let name, let date):
                try Self.recordCutoffEvent(db, conversationID: conversationID, name: name, date: date, actor: audit.actor)
            case .recompute:
                break
            }
            try Self.appendAudit(db, draft)
            let (context, version) = try Self.storedContext(db)
            result.diff = try Self.recompute(db, context: context, planVersion: version, scope: .all, apply: true)
            try Self.appendAudit(db, Self.recomputeAudit(result.diff, actor: audit.actor, action: "retention.recompute",
                                                         target: "file-plan:\(version)", reason: reason))
            return result
        }
    }

    static func recomputeAudit(_ diff: RetentionDiff, actor: String, action: String, target: String, reason: String) -> AuditDraft {
        diff.auditDraft(actor: actor, action: action, target: target, reason: reason)
    }

    public func cutoffEvents() async throws -> [String: [String: CivilDate]] {
        try await read { db in try Self.fetchEvents(db) }
    }

    // MARK: Retention

    /// Resolves a message's sender through the registered accounts: to a custodian (retention,
    /// holds) or, with `parties`, to a known external party too (participants).
    struct SenderResolver {
        var directory: IdentityDirectory

        init(_ db: Database, parties: Bool = false) throws {
            var entries: [(platform: String, normalized: String, owner: IdentityOwner)] = []
            for row in try Row.fetchAll(db, sql: """
                SELECT a.platform, a.normalized, cu.email FROM custodian_account a JOIN custodian cu ON cu.id = a.custodian_id ORDER BY a.id
                """) {
                entries.append((row["platform"], row["normalized"], .custodian(email: row["email"])))
            }
            if parties {
                for row in try Row.fetchAll(db, sql: "SELECT platform, normalized, party_id FROM party_account ORDER BY id") {
                    entries.append((row["platform"], row["normalized"], .party(id: row["party_id"])))
                }
            }
            directory = IdentityDirectory(entries: entries)
        }

        var isEmpty: Bool { directory.isEmpty }

        mutating func custodian(sender: String?, senderRaw: String?, platform: String) -> String? {
            directory.custodian(sender: sender, senderRaw: senderRaw, platform: platform)
        }

        mutating func owner(sender: String?, senderRaw: String?, platform: String) -> IdentityOwner? {
            directory.owner(sender: sender, senderRaw: senderRaw, platform: platform)
        }
    }

    static let factsSelect = """
        SELECT m.id, m.sent_local, m.platform, m.conversation_key, c.title, cu.email, m.sender, m.sender_raw,
               a.item_id, a.rule_id, a.action, a.cutoff, a.eligible, a.plan_version
        FROM message m JOIN conversation c ON c.id = m.conversation_id JOIN custodian cu ON cu.id = c.custodian_id
        LEFT JOIN retention_assignment a ON a.message_id = m.id
        """

    public func recomputeAssignments(context: RetentionContext?, scope: AssignmentScope, apply: Bool) async throws -> RetentionDiff {
        if let context {
            guard !apply else { throw ArchiveError(.invalid, "a change is applied through applyRetentionChange, not with a supplied context") }
            return try await read { db in try Self.recompute(db, context: context, planVersion: 0, scope: scope, apply: false) }
        }
        let body: @Sendable (Database) throws -> RetentionDiff = { db in
            let (ctx, version) = try Self.storedContext(db)
            return try Self.recompute(db, context: ctx, planVersion: version, scope: scope, apply: apply)
        }
        return apply ? try await write(body) : try await read(body)
    }

    /// The one statement that stores an assignment (insert, or replace the previous one).
    static let assignmentUpsert = """
        INSERT INTO retention_assignment (message_id, item_id, rule_id, action, cutoff, eligible, plan_version, assigned_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(message_id) DO UPDATE SET item_id = excluded.item_id, rule_id = excluded.rule_id, action = excluded.action,
            cutoff = excluded.cutoff, eligible = excluded.eligible, plan_version = excluded.plan_version, assigned_at = excluded.assigned_at
        """

    static func writeAssignment(_ statement: Statement, _ db: Database, messageID: Int64, _ a: RetentionAssignment, planVersion: Int, at: String) throws {
        var b = RawBinder(statement, db)
        b.bind(messageID); b.bind(a.itemID); b.bind(a.ruleID); b.bind(a.action.rawValue); b.bind(a.cutoff?.description)
        b.bind(a.eligible?.description); b.bind(Int64(planVersion)); b.bind(at)
        _ = try b.step()
    }

    static func recompute(_ db: Database, context: RetentionContext, planVersion: Int, scope: AssignmentScope, apply: Bool) throws -> RetentionDiff {
        var resolver = try SenderResolver(db)
        let whereClause: String
        let args: StatementArguments
        switch scope {
        case .all: whereClause = "1"; args = []
        case .batch(let id): whereClause = "m.batch_id = ?"; args = [id]
        case .unassigned: whereClause = "a.message_id IS NULL"; args = []
        case .pendingMembers(let id):
            whereClause = "m.id IN (SELECT message_id FROM disposition_member WHERE disposition_id = ? AND state = 'pending')"; args = [id]
        }
        let upsert = try db.cachedStatement(sql: Self.assignmentUpsert)
        let stamp = Self.now()
        var pending: [(Int64, RetentionAssignment)] = []
        pending.reserveCapacity(10_000)
        // Written every 10,000 rows so memory stays flat on any archive; each write is to a row
        // the cursor has already passed.
        func flush() throws {
            for (id, a) in pending { try Self.writeAssignment(upsert, db, messageID: id, a, planVersion: planVersion, at: stamp) }
            pending.removeAll(keepingCapacity: true)
        }
        var pass = RetentionRecomputation(context: context, planVersion: planVersion, apply: apply)
        let cursor = try Row.fetchCursor(db, sql: Self.factsSelect + " WHERE \(whereClause) ORDER BY m.id", arguments: args)
        while let row = try cursor.next() {
            let facts = Self.facts(row, resolver: &resolver)
            let oldItem: String? = row[8]
            let old = oldItem.map { item in
                RetentionAssignment(itemID: item, ruleID: row[9], action: RetentionAction(rawValue: row[10]) ?? .retain,
                                    cutoff: (row[11] as String?).flatMap { CivilDate($0) },
                                    eligible: (row[12] as String?).flatMap { CivilDate($0) })
            }
            if let write = pass.examine(facts, old: old, oldVersion: row[13]), let facts { pending.append((facts.messageID, write)) }
            if pending.count >= 10_000 { try flush() }
        }
        try flush()
        return pass.result
    }

    /// Reads `factsSelect`'s columns by position (name lookups cost more than the engine).
    static func facts(_ row: Row, resolver: inout SenderResolver) -> RecordFacts? {
        guard let date = CivilDate(row[1] as String) else { return nil }
        let platform: String = row[2]
        return RecordFacts(messageID: row[0], sentDate: date, platform: platform, conversationKey: row[3],
                           conversationTitle: row[4], custodianEmail: row[5],
                           senderCustodianEmail: resolver.custodian(sender: row[6], senderRaw: row[7], platform: platform))
    }

    public func retentionFacts(messageID: Int64) async throws -> RecordFacts? {
        try await read { db in
            var resolver = try SenderResolver(db)
            return try Row.fetchOne(db, sql: Self.factsSelect + " WHERE m.id = ?", arguments: [messageID]).flatMap { Self.facts($0, resolver: &resolver) }
        }
    }

    public func assignment(messageID: Int64) async throws -> StoredAssignment? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM retention_assignment WHERE message_id = ?", arguments: [messageID]).map { row in
                StoredAssignment(assignment: RetentionAssignment(itemID: row["item_id"], ruleID: row["rule_id"],
                                                                 action: RetentionAction(rawValue: row["action"]) ?? .retain,
                                                                 cutoff: (row["cutoff"] as String?).flatMap { CivilDate($0) },
                                                                 eligible: (row["eligible"] as String?).flatMap { CivilDate($0) }),
                                 planVersion: row["plan_version"], assignedAt: row["assigned_at"])
            }
        }
    }

    /// A SQL predicate (over `m`, a message) true when any of the holds covers the record.
    static func heldPredicate(_ holds: [HoldFilter]) -> (String, [any DatabaseValueConvertible]) {
        guard !holds.isEmpty else { return ("0", []) }
        var clauses: [String] = []
        var args: [any DatabaseValueConvertible] = []
        for h in holds {
            if h.everything { return ("1", []) }
            var parts: [String] = []
            if !h.custodians.isEmpty {
                var owned = "m.conversation_id IN (SELECT c.id FROM conversation c JOIN custodian cu ON cu.id = c.custodian_id WHERE cu.email IN (\(Array(repeating: "?", count: h.custodians.count).joined(separator: ","))))"
                args.append(contentsOf: h.custodians.map { $0.lowercased() })
                if !h.sentBy.isEmpty {
                    owned = "(" + owned + " OR (m.conversation_id, m.sender_key) IN (VALUES " + Array(repeating: "(?, ?)", count: h.sentBy.count).joined(separator: ", ") + "))"
                    for ref in h.sentBy { args.append(ref.conversationID); args.append(ref.senderKey) }
                }
                parts.append(owned)
            }
            if !h.conversationKeys.isEmpty {
                parts.append("m.conversation_key IN (\(Array(repeating: "?", count: h.conversationKeys.count).joined(separator: ",")))")
                args.append(contentsOf: h.conversationKeys)
            }
            if let from = h.fromLocal { parts.append("m.sent_local >= ?"); args.append(from) }
            if let to = h.toLocalExclusive { parts.append("m.sent_local < ?"); args.append(to) }
            if let match = h.match {
                parts.append("m.search_key IN (SELECT rowid FROM message_fts WHERE message_fts MATCH ?)")
                args.append(FTS5Query.compile(match))
            }
            clauses.append(parts.isEmpty ? "0" : "(" + parts.joined(separator: " AND ") + ")")
        }
        return ("(" + clauses.joined(separator: " OR ") + ")", args)
    }

    public func due(asOf: CivilDate) async throws -> [DueGroup] {
        try await read { db in
            let (held, heldArgs) = Self.heldPredicate(try Self.activeHoldFilters(db))
            let args = StatementArguments(heldArgs) + [asOf.description]
            return try Row.fetchAll(db, sql: """
                SELECT a.item_id, a.action, count(*) AS n, sum(CASE WHEN \(held) THEN 1 ELSE 0 END) AS held,
                       min(m.sent_local) AS first_sent, max(m.sent_local) AS last_sent, min(a.eligible) AS first_eligible
                FROM retention_assignment a JOIN message m ON m.id = a.message_id
                WHERE a.action IN ('destroy', 'transfer') AND a.eligible <= ?
                GROUP BY a.item_id, a.action ORDER BY a.item_id
                """, arguments: args).map(Self.decodeDue)
        }
    }

    /// Every active hold as a filter, read inside the caller's transaction.
    static func activeHoldFilters(_ db: Database) throws -> [HoldFilter] {
        try holdFilters(db, rows: try Row.fetchAll(db, sql: "SELECT * FROM legal_hold WHERE released_at IS NULL ORDER BY id"))
    }

    /// Filters for the given hold rows. A hold on a custodian also covers what that custodian
    /// sent into other custodians' conversations: participants are resolved to custodians
    /// through the registered accounts, inside the caller's transaction.
    static func holdFilters(_ db: Database, rows: [Row]) throws -> [HoldFilter] {
        try resolved(db, try rows.map { row in
            let hold = try Self.decodeHold(row)
            // The column holds the query's canonical text (before schema v11 it held the FTS5
            // form, which the same parser reads to the same tree). A hold whose query cannot be
            // read stops the operation rather than protecting less than it should.
            let match = try (row["fts_match"] as String?).map { text in
                do { return try SearchExpression.parse(text) } catch {
                    throw ArchiveError(.storage, "legal hold \(hold.id)'s query cannot be read (\(error)); fix it before anything is destroyed")
                }
            }
            return Self.filter(hold, match: match)
        })
    }

    /// The filters with what their custodians sent into other custodians' conversations added.
    static func resolved(_ db: Database, _ filters: [HoldFilter]) throws -> [HoldFilter] {
        var filters = filters
        guard filters.contains(where: { !$0.custodians.isEmpty }) else { return filters }
        var resolver = try SenderResolver(db)
        guard !resolver.isEmpty else { return filters }
        var byCustodian: [String: [ParticipantRef]] = [:]
        for p in try Row.fetchAll(db, sql: """
            SELECT p.conversation_id, p.sender_key, p.name, p.sender_raw, c.platform, cu.email AS owner
            FROM participant p JOIN conversation c ON c.id = p.conversation_id JOIN custodian cu ON cu.id = c.custodian_id
            """) {
            guard let email = resolver.custodian(sender: p["name"], senderRaw: p["sender_raw"], platform: p["platform"]),
                  email != (p["owner"] as String).lowercased() else { continue }
            byCustodian[email, default: []].append(ParticipantRef(conversationID: p["conversation_id"], senderKey: p["sender_key"]))
        }
        for i in filters.indices where !filters[i].custodians.isEmpty {
            filters[i].sentBy = filters[i].custodians.flatMap { byCustodian[$0.lowercased()] ?? [] }
        }
        return filters
    }

    static func filter(_ hold: LegalHold, match: SearchExpression?) -> HoldFilter {
        let s = hold.scope
        return HoldFilter(holdID: hold.id, custodians: s.custodians ?? [], conversationKeys: s.conversations ?? [],
                          fromLocal: s.from?.description, toLocalExclusive: s.to.map { $0.addingDays(1).description },
                          match: match, everything: s.everything == true)
    }

    static func decodeDue(_ row: Row) -> DueGroup {
        DueGroup(itemID: row["item_id"], action: RetentionAction(rawValue: row["action"]) ?? .retain, records: row["n"], held: row["held"] ?? 0,
                 firstSent: row["first_sent"], lastSent: row["last_sent"], firstEligible: row["first_eligible"])
    }

    public func retentionSummary() async throws -> [DueGroup] {
        try await read { db in
            let (held, heldArgs) = Self.heldPredicate(try Self.activeHoldFilters(db))
            var groups = try Row.fetchAll(db, sql: """
                SELECT a.item_id, a.action, count(*) AS n, sum(CASE WHEN \(held) THEN 1 ELSE 0 END) AS held, min(m.sent_local) AS first_sent,
                       max(m.sent_local) AS last_sent, min(a.eligible) AS first_eligible
                FROM retention_assignment a JOIN message m ON m.id = a.message_id GROUP BY a.item_id, a.action ORDER BY a.item_id
                """, arguments: StatementArguments(heldArgs)).map(Self.decodeDue)
            let unassigned = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM message m LEFT JOIN retention_assignment a ON a.message_id = m.id WHERE a.message_id IS NULL
                """) ?? 0
            if unassigned > 0 {
                groups.append(DueGroup(itemID: "(not yet assigned)", action: .retain, records: unassigned, held: 0, firstSent: nil, lastSent: nil, firstEligible: nil))
            }
            return groups
        }
    }

    // MARK: Holds

    static func decodeHold(_ row: Row) throws -> LegalHold {
        LegalHold(id: row["id"], name: row["name"], matter: MatterType(rawValue: row["matter"]) ?? .other, reference: row["reference"],
                  requestedBy: row["requested_by"], scope: try JSONDecoder().decode(HoldScope.self, from: Data((row["scope"] as String).utf8)),
                  createdBy: row["created_by"], createdAt: row["created_at"], releasedBy: row["released_by"], releasedAt: row["released_at"],
                  releaseReason: row["release_reason"])
    }

    public func createHold(_ h: NewHold, audit: AuditDraft) async throws -> LegalHold {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let scope = String(decoding: try encoder.encode(h.scope), as: UTF8.self)
        return try await write { db in
            try db.execute(sql: """
                INSERT INTO legal_hold (name, matter, reference, requested_by, scope, fts_match, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [h.name, h.matter.rawValue, h.reference, h.requestedBy, scope, h.match?.description, h.actor, Timestamp.iso(millis: h.createdAtMillis)])
            let hold = try Self.decodeHold(try Row.fetchOne(db, sql: "SELECT * FROM legal_hold WHERE id = ?", arguments: [db.lastInsertedRowID])!)
            var draft = audit
            draft.target = "hold:\(hold.id)"
            try Self.appendAudit(db, draft)
            return hold
        }
    }

    public func holds(includeReleased: Bool) async throws -> [LegalHold] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM legal_hold \(includeReleased ? "" : "WHERE released_at IS NULL") ORDER BY id").map(Self.decodeHold)
        }
    }

    public func hold(id: Int64) async throws -> LegalHold? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM legal_hold WHERE id = ?", arguments: [id]).map(Self.decodeHold) }
    }

    public func releaseHold(id: Int64, actor: String, reason: String, atMillis: Int64, audit: AuditDraft) async throws -> LegalHold {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM legal_hold WHERE id = ?", arguments: [id]) else {
                throw ArchiveError(.notFound, "no hold with id \(id); `recordkeeper hold list --all` lists them")
            }
            if let at = row["released_at"] as String? {
                throw ArchiveError(.refused, "hold \(id) was already released on \(at)")
            }
            try db.execute(sql: "UPDATE legal_hold SET released_by = ?, released_at = ?, release_reason = ? WHERE id = ?",
                           arguments: [actor, Timestamp.iso(millis: atMillis), reason, id])
            try Self.appendAudit(db, audit)
            return try Self.decodeHold(try Row.fetchOne(db, sql: "SELECT * FROM legal_hold WHERE id = ?", arguments: [id])!)
        }
    }

    public func heldRecords(holdID: Int64, sample: Int) async throws -> (count: Int, sample: [Int64]) {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM legal_hold WHERE id = ?", arguments: [holdID]) else {
                throw ArchiveError(.notFound, "no hold with id \(holdID)")
            }
            let (pred, args) = Self.heldPredicate(try Self.holdFilters(db, rows: [row]))
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM message m WHERE \(pred)", arguments: StatementArguments(args)) ?? 0
            let ids = try Int64.fetchAll(db, sql: "SELECT m.id FROM message m WHERE \(pred) ORDER BY m.sent_at DESC, m.id DESC LIMIT ?",
                                         arguments: StatementArguments(args) + [sample])
            return (count, ids)
        }
    }

    public func previewHold(scope: HoldScope, match: SearchExpression?, sample: Int) async throws -> HoldScopePreview {
        try await read { db in
            let filter = HoldFilter(holdID: 0, custodians: scope.custodians ?? [], conversationKeys: scope.conversations ?? [],
                                    fromLocal: scope.from?.description, toLocalExclusive: scope.to.map { $0.addingDays(1).description },
                                    match: match, everything: scope.everything == true)
            let (pred, args) = Self.heldPredicate(try Self.resolved(db, [filter]))
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM message m WHERE \(pred)", arguments: StatementArguments(args)) ?? 0
            let byCustodian = try Row.fetchAll(db, sql: """
                SELECT cu.email, count(*) AS n FROM message m JOIN conversation c ON c.id = m.conversation_id JOIN custodian cu ON cu.id = c.custodian_id
                WHERE \(pred) GROUP BY cu.email ORDER BY n DESC, cu.email LIMIT 50
                """, arguments: StatementArguments(args)).map { HoldScopePreview.Group(key: $0[0], label: $0[0], records: $0[1]) }
            let byConversation = try Row.fetchAll(db, sql: """
                SELECT c.id, c.title, count(*) AS n FROM message m JOIN conversation c ON c.id = m.conversation_id
                WHERE \(pred) GROUP BY c.id ORDER BY n DESC, c.id LIMIT 50
                """, arguments: StatementArguments(args)).map { HoldScopePreview.Group(key: String($0[0] as Int64), label: $0[1], records: $0[2]) }
            let ids = try Int64.fetchAll(db, sql: "SELECT m.id FROM message m WHERE \(pred) ORDER BY m.sent_at DESC, m.id DESC LIMIT ?",
                                         arguments: StatementArguments(args) + [sample])
            return HoldScopePreview(records: total, byCustodian: byCustodian, byConversation: byConversation, sample: ids)
        }
    }

    public func holdsCovering(messageID: Int64) async throws -> [Int64] {
        try await read { db in
            try Self.activeHoldFilters(db).filter { f in
                let (pred, args) = Self.heldPredicate([f])
                return try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM message m WHERE m.id = ? AND \(pred))",
                                         arguments: StatementArguments([messageID] + args)) ?? false
            }.map(\.holdID)
        }
    }

    // MARK: Disposition

    public func dispositionReview(id: Int64, itemID: String?, offset: Int, limit: Int, randomSample: Bool) async throws -> (total: Int, members: [DispositionReviewRow]) {
        try await read { db in
            var filter = "dm.disposition_id = ?"
            var args: [any DatabaseValueConvertible] = [id]
            if let itemID { filter += " AND dm.item_id = ?"; args.append(itemID) }
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM disposition_member dm WHERE \(filter)", arguments: StatementArguments(args)) ?? 0
            let order = randomSample ? "random()" : "dm.sent_local, dm.message_id"
            let rows = try Row.fetchAll(db, sql: """
                SELECT dm.message_id, dm.item_id, dm.sent_local, dm.state, coalesce(m.conversation_id, t.conversation_id) AS conversation_id,
                       c.title, m.sender, substr(m.body, 1, 160) AS excerpt
                FROM disposition_member dm LEFT JOIN message m ON m.id = dm.message_id LEFT JOIN tombstone t ON t.message_id = dm.message_id
                LEFT JOIN conversation c ON c.id = coalesce(m.conversation_id, t.conversation_id)
                WHERE \(filter) ORDER BY \(order) LIMIT ? OFFSET ?
                """, arguments: StatementArguments(args + [limit, randomSample ? 0 : offset]))
            return (total, rows.map {
                DispositionReviewRow(messageID: $0["message_id"], itemID: $0["item_id"], sentLocal: $0["sent_local"], state: $0["state"],
                                  conversationID: $0["conversation_id"], conversationTitle: $0["title"], sender: $0["sender"], excerpt: $0["excerpt"])
            })
        }
    }

    static func fetchDisposition(_ db: Database, id: Int64) throws -> DispositionBatch? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM disposition_batch WHERE id = ?", arguments: [id]) else { return nil }
        let items = try Row.fetchAll(db, sql: """
            SELECT item_id, count(*) AS n, min(sent_local) AS first_sent, max(sent_local) AS last_sent
            FROM disposition_member WHERE disposition_id = ? AND state <> 'withheld' GROUP BY item_id ORDER BY item_id
            """, arguments: [id]).map { DispositionBatch.ItemCount(itemID: $0["item_id"], records: $0["n"], firstSent: $0["first_sent"], lastSent: $0["last_sent"]) }
        let withheld = try Int.fetchOne(db, sql: "SELECT count(*) FROM disposition_member WHERE disposition_id = ? AND state = 'withheld'", arguments: [id]) ?? 0
        return DispositionBatch(
            id: id, action: DispositionAction(rawValue: row["action"]) ?? .destroy,
            status: DispositionBatch.Status(rawValue: row["status"]) ?? .proposed, asOf: CivilDate(row["as_of"] as String)!,
            planVersion: row["plan_version"], note: row["note"], proposedBy: row["proposed_by"], proposedAt: row["proposed_at"],
            approvedBy: row["approved_by"], approvedAt: row["approved_at"], packagedAt: row["packaged_at"], bagDigest: row["bag_digest"],
            executedBy: row["executed_by"], executedAt: row["executed_at"], accession: row["accession"], cancelledBy: row["cancelled_by"],
            cancelReason: row["cancel_reason"], items: items, withheld: withheld, heldAtProposal: row["held_at_proposal"])
    }

    public func proposeDisposition(_ p: DispositionProposal, audit: AuditDraft) async throws -> DispositionBatch {
        try await write { db in
            try Self.requireIndexCoversHolds(db)
            let plan = try Self.fetchCurrentPlan(db)?.version ?? 0
            let (held, heldArgs) = Self.heldPredicate(try Self.activeHoldFilters(db))
            var filter = "a.action = ? AND a.eligible <= ?"
            var filterArgs: [any DatabaseValueConvertible] = [p.action == .destroy ? RetentionAction.destroy.rawValue : RetentionAction.transfer.rawValue,
                                                              p.asOf.description]
            if let items = p.items, !items.isEmpty {
                filter += " AND a.item_id IN (\(Array(repeating: "?", count: items.count).joined(separator: ",")))"
                filterArgs += items as [any DatabaseValueConvertible]
            }
            filter += """
                 AND a.message_id NOT IN (SELECT dm.message_id FROM disposition_member dm JOIN disposition_batch d ON d.id = dm.disposition_id
                                          WHERE d.status IN ('proposed', 'approved', 'packaged') AND dm.state = 'pending')
                """
            let heldCount = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM retention_assignment a JOIN message m ON m.id = a.message_id WHERE \(filter) AND \(held)
                """, arguments: StatementArguments(filterArgs + heldArgs)) ?? 0
            try db.execute(sql: """
                INSERT INTO disposition_batch (action, status, as_of, plan_version, note, proposed_by, proposed_at, held_at_proposal)
                VALUES (?, 'proposed', ?, ?, ?, ?, ?, ?)
                """, arguments: [p.action.rawValue, p.asOf.description, plan, p.note, p.actor, Timestamp.iso(millis: p.atMillis), heldCount])
            let id = db.lastInsertedRowID
            try db.execute(sql: """
                INSERT INTO disposition_member (disposition_id, message_id, item_id, sent_local)
                SELECT ?, a.message_id, a.item_id, m.sent_local FROM retention_assignment a JOIN message m ON m.id = a.message_id
                WHERE \(filter) AND NOT \(held)
                """, arguments: StatementArguments([id] + filterArgs + heldArgs))
            if db.changesCount == 0 {
                throw ArchiveError(.notFound, "no records are due for \(p.action == .destroy ? "destruction" : "transfer") by \(p.asOf) "
                    + "that are not already in an open batch or under a legal hold\(heldCount > 0 ? " (\(Self.grouped(heldCount)) due records are held)" : ""); nothing to propose")
            }
            let batch = try Self.fetchDisposition(db, id: id)!
            var draft = audit
            draft.target = "disposition:\(id)"
            draft.detail["records"] = String(batch.records)
            draft.detail["held_at_proposal"] = String(batch.heldAtProposal)
            draft.detail["items"] = batch.items.map { "\($0.itemID):\($0.records)" }.joined(separator: ",")
            try Self.appendAudit(db, draft)
            return batch
        }
    }

    public func disposition(id: Int64) async throws -> DispositionBatch? {
        try await read { db in try Self.fetchDisposition(db, id: id) }
    }

    public func dispositions() async throws -> [DispositionBatch] {
        try await read { db in try Int64.fetchAll(db, sql: "SELECT id FROM disposition_batch ORDER BY id").compactMap { try Self.fetchDisposition(db, id: $0) } }
    }

    static func requireDisposition(_ db: Database, _ id: Int64) throws -> DispositionBatch {
        guard let b = try fetchDisposition(db, id: id) else {
            throw ArchiveError(.notFound, "no disposition batch with id \(id); `recordkeeper dispose list` lists them")
        }
        return b
    }

    public func approveDisposition(id: Int64, actor: String, atMillis: Int64, audit: AuditDraft) async throws -> DispositionBatch {
        try await write { db in
            let b = try Self.requireDisposition(db, id)
            guard b.status == .proposed else { throw ArchiveError(.refused, "disposition \(id) is \(b.status.rawValue), not proposed; it cannot be approved") }
            guard b.proposedBy.lowercased() != actor.lowercased() else {
                throw ArchiveError(.refused, "\(actor) proposed disposition \(id); another records officer must approve it")
            }
            try db.execute(sql: "UPDATE disposition_batch SET status = 'approved', approved_by = ?, approved_at = ? WHERE id = ?",
                           arguments: [actor, Timestamp.iso(millis: atMillis), id])
            var draft = audit
            draft.detail["records"] = String(b.records)
            draft.detail["proposed_by"] = b.proposedBy
            try Self.appendAudit(db, draft)
            return try Self.requireDisposition(db, id)
        }
    }

    public func cancelDisposition(id: Int64, actor: String, reason: String, atMillis: Int64, audit: AuditDraft) async throws -> DispositionBatch {
        try await write { db in
            let b = try Self.requireDisposition(db, id)
            guard [.proposed, .approved, .packaged].contains(b.status) else {
                throw ArchiveError(.refused, "disposition \(id) is \(b.status.rawValue); only open batches can be cancelled")
            }
            try db.execute(sql: "UPDATE disposition_batch SET status = 'cancelled', cancelled_by = ?, cancel_reason = ? WHERE id = ?",
                           arguments: [actor, reason, id])
            try Self.appendAudit(db, audit)
            return try Self.requireDisposition(db, id)
        }
    }

    public func markPackaged(id: Int64, bagDigest: String, atMillis: Int64, audit: AuditDraft) async throws -> DispositionBatch {
        try await write { db in
            let b = try Self.requireDisposition(db, id)
            guard b.action == .transfer, b.status == .approved else {
                throw ArchiveError(.refused, "disposition \(id) is a \(b.action.rawValue) batch in state \(b.status.rawValue); only approved transfers are packaged")
            }
            try db.execute(sql: "UPDATE disposition_batch SET status = 'packaged', packaged_at = ?, bag_digest = ? WHERE id = ?",
                           arguments: [Timestamp.iso(millis: atMillis), bagDigest, id])
            try Self.appendAudit(db, audit)
            return try Self.requireDisposition(db, id)
        }
    }

    public func dispositionMembers(id: Int64) async throws -> [DispositionMember] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT dm.message_id, m.conversation_id, m.sent_local, dm.item_id
                FROM disposition_member dm JOIN message m ON m.id = dm.message_id
                WHERE dm.disposition_id = ? AND dm.state = 'pending' ORDER BY m.conversation_id, m.sent_local, m.id
                """, arguments: [id]).map { DispositionMember(messageID: $0[0], conversationID: $0[1], sentLocal: $0[2], itemID: $0[3]) }
        }
    }

    /// Reassigns the pending members of a batch with the archive's current context, then marks
    /// withheld those not due on `today`, assigned another item, or under an active hold.
    static func withhold(_ db: Database, id: Int64, action: DispositionAction, today: CivilDate) throws -> Int {
        let (context, version) = try storedContext(db)
        _ = try recompute(db, context: context, planVersion: version, scope: .pendingMembers(id), apply: true)
        let expected = action == .destroy ? RetentionAction.destroy.rawValue : RetentionAction.transfer.rawValue
        let (held, heldArgs) = heldPredicate(try activeHoldFilters(db))
        try db.execute(sql: """
            UPDATE disposition_member SET state = 'withheld'
            WHERE disposition_id = ? AND state = 'pending' AND NOT EXISTS (
                SELECT 1 FROM retention_assignment a JOIN message m ON m.id = a.message_id
                WHERE a.message_id = disposition_member.message_id AND a.action = ? AND a.item_id = disposition_member.item_id
                  AND a.eligible <= ? AND NOT \(held))
            """, arguments: StatementArguments([id, expected, today.description] + heldArgs))
        return db.changesCount
    }

    public func withholdIneligible(id: Int64, today: CivilDate) async throws -> Int {
        try await write { db in
            let b = try Self.requireDisposition(db, id)
            guard b.action == .transfer, b.status == .approved else {
                throw ArchiveError(.refused, b.status == .packaged
                    ? "transfer \(id) is already packaged; a bag once handed over is not rebuilt: cancel the batch (`dispose cancel \(id)`) and propose again"
                    : "disposition \(id) is a \(b.action.rawValue) batch in state \(b.status.rawValue); only approved transfers are packaged")
            }
            return try Self.withhold(db, id: id, action: .transfer, today: today)
        }
    }

    public func executeDisposition(id: Int64, actor: String, atMillis: Int64, today: CivilDate, accession: String?,
                                   auditAction: String) async throws -> DispositionExecution {
        try await write { db in
            let b = try Self.requireDisposition(db, id)
            switch (b.action, b.status) {
            case (.destroy, .approved): break
            case (.transfer, .packaged):
                guard let accession, !accession.isEmpty else { throw ArchiveError(.invalid, "a transfer is confirmed with the accession number NARA assigned") }
            case (.transfer, .approved):
                throw ArchiveError(.refused, "transfer \(id) has not been packaged; run `recordkeeper transfer package \(id)` first")
            case (_, .proposed):
                throw ArchiveError(.refused, "disposition \(id) has not been approved; a records officer other than \(b.proposedBy) must approve it first")
            default:
                throw ArchiveError(.refused, "disposition \(id) is \(b.status.rawValue); it cannot be executed")
            }
            guard let approver = b.approvedBy, approver.lowercased() != b.proposedBy.lowercased() else {
                throw ArchiveError(.refused, "disposition \(id) was not approved by a second records officer; it cannot be executed")
            }
            try Self.requireIndexCoversHolds(db)
            let withheld = try Self.withhold(db, id: id, action: b.action, today: today)
            if b.action == .transfer, withheld > 0 {
                throw ArchiveError(.refused, "\(Self.grouped(withheld)) record(s) in transfer \(id) came under a legal hold or are no longer due since the bag was made; "
                    + "nothing was changed: cancel this transfer (`dispose cancel \(id)`), tell NARA the bag is withdrawn, and propose again")
            }
            let remaining = try Int.fetchOne(db, sql: "SELECT count(*) FROM disposition_member WHERE disposition_id = ? AND state = 'pending'", arguments: [id]) ?? 0
            if remaining == 0 {
                let next = try String.fetchOne(db, sql: """
                    SELECT min(a.eligible) FROM disposition_member dm JOIN retention_assignment a ON a.message_id = dm.message_id
                    WHERE dm.disposition_id = ? AND a.eligible > ?
                    """, arguments: [id, today.description])
                throw ArchiveError(.refused, "none of the \(Self.grouped(withheld)) records of disposition \(id) may leave the archive on \(today): "
                    + (next.map { "the first becomes eligible on \($0)" } ?? "they are under a legal hold or no longer due") + "; nothing was changed")
            }
            let plan = try Row.fetchOne(db, sql: "SELECT * FROM file_plan WHERE version = ?", arguments: [b.planVersion]).map(Self.decodePlan)?.plan
                ?? Self.fetchCurrentPlan(db)?.plan
            let disposedAt = Timestamp.iso(millis: atMillis)
            let outcome = b.action == .destroy ? "destroyed" : "transferred"
            var candidateBlobs = Set<String>()
            let tomb = try db.makeStatement(sql: """
                INSERT INTO tombstone (message_id, identity_key, content_hash, batch_id, conversation_id, conversation_key, sent_local, sent_at,
                    item_id, authority, disposition_id, outcome, accession, disposed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let ftsDelete = try db.makeStatement(sql: "INSERT INTO message_fts (message_fts, rowid, body, sender) VALUES ('delete', ?, ?, ?)")
            // Only what the index holds is deleted from it: a message beyond the mark was never added.
            let indexMark = try Self.indexMark(db)
            let attachments = try db.makeStatement(sql: "SELECT blob_hash FROM attachment WHERE message_id = ? AND blob_hash IS NOT NULL")
            let deleteAttachments = try db.makeStatement(sql: "DELETE FROM attachment WHERE message_id = ?")
            let deleteAssignment = try db.makeStatement(sql: "DELETE FROM retention_assignment WHERE message_id = ?")
            let deleteMessage = try db.makeStatement(sql: "DELETE FROM message WHERE id = ?")
            var digest = DisposalDigest()
            var disposed = 0
            // One row at a time (bodies are not all held in memory), in message-id order.
            let rows = try Row.fetchCursor(db, sql: """
                SELECT m.id, m.identity_key, m.content_hash, m.batch_id, m.conversation_id, m.conversation_key, m.sent_local, m.sent_at,
                       m.search_key, m.body, m.sender, m.source_hash, dm.item_id
                FROM disposition_member dm JOIN message m ON m.id = dm.message_id
                WHERE dm.disposition_id = ? AND dm.state = 'pending' ORDER BY m.id
                """, arguments: [id])
            var ids: [Int64] = []
            while let row = try rows.next() {
                let messageID: Int64 = row["id"]
                let item: String = row["item_id"]
                let identity: String = row["identity_key"], content: String = row["content_hash"]
                try tomb.execute(arguments: [messageID, identity, content, row["batch_id"], row["conversation_id"],
                                             row["conversation_key"], row["sent_local"], row["sent_at"], item, plan?.item(item)?.authority,
                                             id, outcome, accession, disposedAt])
                if messageID <= indexMark { try ftsDelete.execute(arguments: [row["search_key"], row["body"], row["sender"]]) }
                candidateBlobs.insert(row["source_hash"])
                for hash in try String.fetchAll(attachments, arguments: [messageID]) { candidateBlobs.insert(hash) }
                digest.add(identityKey: identity, contentHash: content)
                disposed += 1
                ids.append(messageID)
            }
            for messageID in ids {
                try deleteAttachments.execute(arguments: [messageID])
                try deleteAssignment.execute(arguments: [messageID])
                try deleteMessage.execute(arguments: [messageID])
            }
            try db.execute(sql: "UPDATE disposition_member SET state = 'disposed' WHERE disposition_id = ? AND state = 'pending'", arguments: [id])
            // A blob goes when no surviving record uses it, as an attachment or as its original export.
            var released: [ContentHash] = []
            for hash in candidateBlobs.sorted() {
                let used = try Bool.fetchOne(db, sql: """
                    SELECT EXISTS (SELECT 1 FROM attachment WHERE blob_hash = ?1)
                        OR EXISTS (SELECT 1 FROM capture_batch b WHERE b.source_hash = ?1 AND EXISTS (SELECT 1 FROM message m WHERE m.batch_id = b.id))
                    """, arguments: [hash]) ?? true
                if !used, let h = ContentHash(hex: hash) {
                    try db.execute(sql: "UPDATE blob SET destroyed_by = ?, destroyed_at = ? WHERE hash = ?", arguments: [id, disposedAt, hash])
                    released.append(h)
                }
            }
            // The released files' data keys go in this transaction: the records and every copy of
            // their sealed files become unreadable at one commit (a crash after it leaves only
            // ciphertext to remove).
            var sealed = 0
            for hash in released {
                try db.execute(sql: "DELETE FROM blob_key WHERE hash = ?", arguments: [hash.hex])
                sealed += db.changesCount
            }
            try db.execute(sql: "UPDATE disposition_batch SET status = 'executed', executed_by = ?, executed_at = ?, accession = ? WHERE id = ?",
                           arguments: [actor, disposedAt, accession, id])
            try Self.appendAudit(db, AuditDraft(actor: actor, action: auditAction, target: "disposition:\(id)", detail: [
                "records": String(disposed), "withheld": String(withheld), "disposed_digest": digest.hex,
                "blobs_released": String(released.count), "blobs_sealed": String(sealed), "accession": accession ?? "", "approved_by": approver,
                "proposed_by": b.proposedBy,
            ]))
            return DispositionExecution(batch: try Self.requireDisposition(db, id), disposed: disposed, withheld: withheld, releasedBlobs: released)
        }
    }

    static func decodeTombstone(_ row: Row) -> Tombstone {
        Tombstone(messageID: row["message_id"], identityKey: row["identity_key"], contentHash: row["content_hash"], captureBatchID: row["batch_id"],
                  conversationKey: row["conversation_key"], sentLocal: row["sent_local"], itemID: row["item_id"], authority: row["authority"],
                  dispositionID: row["disposition_id"], outcome: row["outcome"], accession: row["accession"], disposedAt: row["disposed_at"])
    }

    public func tombstones(dispositionID: Int64) async throws -> [Tombstone] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tombstone WHERE disposition_id = ? ORDER BY message_id", arguments: [dispositionID]).map(Self.decodeTombstone)
        }
    }

    public func tombstones(conversationID: Int64, limit: Int) async throws -> [Tombstone] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tombstone WHERE conversation_id = ? ORDER BY sent_local, message_id LIMIT ?",
                             arguments: [conversationID, limit]).map(Self.decodeTombstone)
        }
    }

    public func tombstone(messageID: Int64) async throws -> Tombstone? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM tombstone WHERE message_id = ?", arguments: [messageID]).map(Self.decodeTombstone) }
    }

    public func destroyedBlobs(dispositionID: Int64?) async throws -> [ContentHash] {
        try await read { db in
            try String.fetchAll(db, sql: "SELECT hash FROM blob WHERE destroyed_by IS NOT NULL AND (?1 IS NULL OR destroyed_by = ?1) ORDER BY hash",
                                arguments: [dispositionID]).compactMap { ContentHash(hex: $0) }
        }
    }

    public func saveCertificate(dispositionID: Int64, json: String, audit: AuditDraft) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE disposition_batch SET certificate = ? WHERE id = ? AND status = 'executed' AND certificate IS NULL",
                           arguments: [json, dispositionID])
            if db.changesCount == 0 { throw ArchiveError(.refused, "disposition \(dispositionID) is not executed or already has its certificate") }
            try Self.appendAudit(db, audit)
        }
    }

    public func certificate(dispositionID: Int64) async throws -> String? {
        try await read { db in try String.fetchOne(db, sql: "SELECT certificate FROM disposition_batch WHERE id = ?", arguments: [dispositionID]) }
    }

    public func tombstonesOutsideExecutedDispositions(limit: Int) async throws -> [Int64] {
        try await read { db in
            try Int64.fetchAll(db, sql: """
                SELECT t.message_id FROM tombstone t LEFT JOIN disposition_batch d ON d.id = t.disposition_id
                WHERE d.id IS NULL OR d.status <> 'executed' ORDER BY 1 LIMIT ?
                """, arguments: [limit])
        }
    }

    public func tombstonesWithRecords(limit: Int) async throws -> [Int64] {
        try await read { db in
            try Int64.fetchAll(db, sql: "SELECT t.message_id FROM tombstone t JOIN message m ON m.id = t.message_id ORDER BY 1 LIMIT ?", arguments: [limit])
        }
    }
}
