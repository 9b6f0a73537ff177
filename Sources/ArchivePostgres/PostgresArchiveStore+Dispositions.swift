import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

extension PostgresArchiveStore: DispositionStore {
    /// Placing or releasing a hold and every step that reads holds to decide what leaves the
    /// archive take this lock, so a hold placed through one instance while another executes a
    /// destruction is either seen by it or placed after it: never lost between the two.
    static func lockHolds(_ conn: PostgresConnection, logger: Logger) async throws {
        try await conn.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.holdLock))", logger: logger)
    }

    static let batchSelect = """
        SELECT id, action, status, as_of, plan_version, note, proposed_by, proposed_at, approved_by, approved_at, packaged_at, bag_digest,
               executed_by, executed_at, accession, cancelled_by, cancel_reason, held_at_proposal
        FROM disposition_batch
        """

    static func fetchDisposition(_ conn: PostgresConnection, id: Int64, logger: Logger) async throws -> DispositionBatch? {
        var found: PostgresRandomAccessRow?
        for try await row in try await conn.query("\(unescaped: batchSelect) WHERE id = \(id)", logger: logger) { found = row.makeRandomAccess() }
        guard let r = found else { return nil }
        let itemRows: [(String, Int64, String, String)] = try await conn.all("""
            SELECT item_id, count(*), min(sent_local), max(sent_local) FROM disposition_member
            WHERE disposition_id = \(id) AND state <> 'withheld' GROUP BY item_id ORDER BY item_id
            """, as: (String, Int64, String, String).self, logger: logger)
        let items = itemRows.map { (r: (String, Int64, String, String)) -> DispositionBatch.ItemCount in
            DispositionBatch.ItemCount(itemID: r.0, records: Int(r.1), firstSent: r.2, lastSent: r.3)
        }
        let withheld = try await conn.count("SELECT count(*) FROM disposition_member WHERE disposition_id = \(id) AND state = 'withheld'", logger: logger)
        return DispositionBatch(
            id: id, action: DispositionAction(rawValue: try r[1].decode(String.self)) ?? .destroy,
            status: DispositionBatch.Status(rawValue: try r[2].decode(String.self)) ?? .proposed, asOf: CivilDate(try r[3].decode(String.self))!,
            planVersion: Int(try r[4].decode(Int32.self)), note: try r[5].decode(String?.self), proposedBy: try r[6].decode(String.self),
            proposedAt: try r[7].decode(String.self), approvedBy: try r[8].decode(String?.self), approvedAt: try r[9].decode(String?.self),
            packagedAt: try r[10].decode(String?.self), bagDigest: try r[11].decode(String?.self), executedBy: try r[12].decode(String?.self),
            executedAt: try r[13].decode(String?.self), accession: try r[14].decode(String?.self), cancelledBy: try r[15].decode(String?.self),
            cancelReason: try r[16].decode(String?.self), items: items, withheld: withheld, heldAtProposal: Int(try r[17].decode(Int64.self)))
    }

    static func requireDisposition(_ conn: PostgresConnection, _ id: Int64, logger: Logger) async throws -> DispositionBatch {
        guard let b = try await fetchDisposition(conn, id: id, logger: logger) else {
            throw ArchiveError(.notFound, "no disposition batch with id \(id); `recordkeeper dispose list` lists them")
        }
        return b
    }

    public func disposition(id: Int64) async throws -> DispositionBatch? {
        try await transaction("reading a disposition") { conn in try await Self.fetchDisposition(conn, id: id, logger: self.logger) }
    }

    public func dispositions() async throws -> [DispositionBatch] {
        try await transaction("listing dispositions") { conn in
            var out: [DispositionBatch] = []
            for id in try await conn.column("SELECT id FROM disposition_batch ORDER BY id", as: Int64.self, logger: self.logger) {
                if let b = try await Self.fetchDisposition(conn, id: id, logger: self.logger) { out.append(b) }
            }
            return out
        }
    }

    public func proposeDisposition(_ p: DispositionProposal, audit: AuditDraft) async throws -> DispositionBatch {
        try await transaction("proposing a disposition") { conn in
            let logger = self.logger
            try await Self.lockHolds(conn, logger: logger)
            let plan = try await Self.currentPlan(conn, logger: logger)?.version ?? 0
            var q = SQLBuilder()
            let held = try await Self.heldPredicate(try await Self.activeHoldFilters(conn, logger: logger), &q)
            var filter = "a.action = \(q.bind(p.action == .destroy ? RetentionAction.destroy.rawValue : RetentionAction.transfer.rawValue))"
                + " AND a.eligible <= \(q.bind(p.asOf.description))"
            if let items = p.items, !items.isEmpty { filter += " AND a.item_id = ANY(\(q.bind(items)))" }
            filter += """
                 AND a.message_id NOT IN (SELECT dm.message_id FROM disposition_member dm JOIN disposition_batch d ON d.id = dm.disposition_id
                                          WHERE d.status IN ('proposed', 'approved', 'packaged') AND dm.state = 'pending')
                """
            let heldSQL = "SELECT count(*) FROM retention_assignment a JOIN message m ON m.id = a.message_id WHERE \(filter) AND \(held)"
            let heldCount = try await conn.count(q.query(heldSQL), logger: logger)
            let id = try await conn.column("""
                INSERT INTO disposition_batch (action, status, as_of, plan_version, note, proposed_by, proposed_at, held_at_proposal)
                VALUES (\(p.action.rawValue), 'proposed', \(p.asOf.description), \(Int32(plan)), \(p.note), \(p.actor),
                        \(Timestamp.iso(millis: p.atMillis)), \(Int64(heldCount)))
                RETURNING id
                """, as: Int64.self, logger: logger)[0]
            let insertSQL = """
                WITH added AS (
                    INSERT INTO disposition_member (disposition_id, message_id, item_id, sent_local)
                    SELECT \(q.bind(id)), a.message_id, a.item_id, m.sent_local FROM retention_assignment a JOIN message m ON m.id = a.message_id
                    WHERE \(filter) AND NOT \(held)
                    RETURNING 1
                ) SELECT count(*) FROM added
                """
            if try await conn.count(q.query(insertSQL), logger: logger) == 0 {
                throw ArchiveError(.notFound, "no records are due for \(p.action == .destroy ? "destruction" : "transfer") by \(p.asOf) "
                    + "that are not already in an open batch or under a legal hold\(heldCount > 0 ? " (\(TextRecipes.grouped(heldCount)) due records are held)" : ""); nothing to propose")
            }
            let batch = try await Self.requireDisposition(conn, id, logger: logger)
            var draft = audit
            draft.target = "disposition:\(id)"
            draft.detail["records"] = String(batch.records)
            draft.detail["held_at_proposal"] = String(batch.heldAtProposal)
            draft.detail["items"] = batch.items.map { "\($0.itemID):\($0.records)" }.joined(separator: ",")
            _ = try await Self.appendAudit(conn, draft, logger: logger)
            return batch
        }
    }

    public func dispositionReview(id: Int64, itemID: String?, offset: Int, limit: Int, randomSample: Bool) async throws -> (total: Int, members: [DispositionReviewRow]) {
        try await transaction("reading a disposition's records") { conn in
            var q = SQLBuilder()
            var filter = "dm.disposition_id = \(q.bind(id))"
            if let itemID { filter += " AND dm.item_id = \(q.bind(itemID))" }
            let total = try await conn.count(q.query("SELECT count(*) FROM disposition_member dm WHERE \(filter)"), logger: self.logger)
            let order = randomSample ? "random()" : "dm.sent_local, dm.message_id"
            let sql = """
                SELECT dm.message_id, dm.item_id, dm.sent_local, dm.state, coalesce(m.conversation_id, t.conversation_id), c.title, m.sender,
                       left(m.body, 160)
                FROM disposition_member dm LEFT JOIN message m ON m.id = dm.message_id LEFT JOIN tombstone t ON t.message_id = dm.message_id
                LEFT JOIN conversation c ON c.id = coalesce(m.conversation_id, t.conversation_id)
                WHERE \(filter) ORDER BY \(order) LIMIT \(limit) OFFSET \(randomSample ? 0 : offset)
                """
            let rows = try await conn.all(q.query(sql), as: (Int64, String, String, String, Int64?, String?, String?, String?).self, logger: self.logger)
            return (total, rows.map {
                DispositionReviewRow(messageID: $0.0, itemID: $0.1, sentLocal: $0.2, state: $0.3, conversationID: $0.4, conversationTitle: $0.5,
                                     sender: $0.6, excerpt: $0.7)
            })
        }
    }

    public func approveDisposition(id: Int64, actor: String, atMillis: Int64, audit: AuditDraft) async throws -> DispositionBatch {
        try await transaction("approving a disposition") { conn in
            try await conn.run("SELECT 1 FROM disposition_batch WHERE id = \(id) FOR UPDATE", logger: self.logger)
            let b = try await Self.requireDisposition(conn, id, logger: self.logger)
            guard b.status == .proposed else { throw ArchiveError(.refused, "disposition \(id) is \(b.status.rawValue), not proposed; it cannot be approved") }
            guard b.proposedBy.lowercased() != actor.lowercased() else {
                throw ArchiveError(.refused, "\(actor) proposed disposition \(id); another records officer must approve it")
            }
            try await conn.run("""
                UPDATE disposition_batch SET status = 'approved', approved_by = \(actor), approved_at = \(Timestamp.iso(millis: atMillis)) WHERE id = \(id)
                """, logger: self.logger)
            var draft = audit
            draft.detail["records"] = String(b.records)
            draft.detail["proposed_by"] = b.proposedBy
            _ = try await Self.appendAudit(conn, draft, logger: self.logger)
            return try await Self.requireDisposition(conn, id, logger: self.logger)
        }
    }

    public func cancelDisposition(id: Int64, actor: String, reason: String, atMillis: Int64, audit: AuditDraft) async throws -> DispositionBatch {
        try await transaction("cancelling a disposition") { conn in
            try await conn.run("SELECT 1 FROM disposition_batch WHERE id = \(id) FOR UPDATE", logger: self.logger)
            let b = try await Self.requireDisposition(conn, id, logger: self.logger)
            guard [.proposed, .approved, .packaged].contains(b.status) else {
                throw ArchiveError(.refused, "disposition \(id) is \(b.status.rawValue); only open batches can be cancelled")
            }
            try await conn.run("UPDATE disposition_batch SET status = 'cancelled', cancelled_by = \(actor), cancel_reason = \(reason) WHERE id = \(id)",
                               logger: self.logger)
            _ = try await Self.appendAudit(conn, audit, logger: self.logger)
            return try await Self.requireDisposition(conn, id, logger: self.logger)
        }
    }

    public func markPackaged(id: Int64, bagDigest: String, atMillis: Int64, audit: AuditDraft) async throws -> DispositionBatch {
        try await transaction("marking a transfer packaged") { conn in
            try await conn.run("SELECT 1 FROM disposition_batch WHERE id = \(id) FOR UPDATE", logger: self.logger)
            let b = try await Self.requireDisposition(conn, id, logger: self.logger)
            guard b.action == .transfer, b.status == .approved else {
                throw ArchiveError(.refused, "disposition \(id) is a \(b.action.rawValue) batch in state \(b.status.rawValue); only approved transfers are packaged")
            }
            try await conn.run("""
                UPDATE disposition_batch SET status = 'packaged', packaged_at = \(Timestamp.iso(millis: atMillis)), bag_digest = \(bagDigest) WHERE id = \(id)
                """, logger: self.logger)
            _ = try await Self.appendAudit(conn, audit, logger: self.logger)
            return try await Self.requireDisposition(conn, id, logger: self.logger)
        }
    }

    public func dispositionMembers(id: Int64) async throws -> [DispositionMember] {
        try await rows("reading a disposition's records", """
            SELECT dm.message_id, m.conversation_id, m.sent_local, dm.item_id
            FROM disposition_member dm JOIN message m ON m.id = dm.message_id
            WHERE dm.disposition_id = \(id) AND dm.state = 'pending' ORDER BY m.conversation_id, m.sent_local, m.id
            """, as: (Int64, Int64, String, String).self).map { DispositionMember(messageID: $0.0, conversationID: $0.1, sentLocal: $0.2, itemID: $0.3) }
    }

    /// Reassigns the pending members with the archive's current context, then marks withheld
    /// those not due on `today`, assigned another item, or under an active hold.
    static func withhold(_ conn: PostgresConnection, id: Int64, action: DispositionAction, today: CivilDate, logger: Logger) async throws -> Int {
        let (context, version) = try await storedContext(conn, logger: logger)
        _ = try await recompute(conn, context: context, planVersion: version, scope: .pendingMembers(id), apply: true, logger: logger)
        var q = SQLBuilder()
        let held = try await heldPredicate(try await activeHoldFilters(conn, logger: logger), &q)
        let expected = action == .destroy ? RetentionAction.destroy.rawValue : RetentionAction.transfer.rawValue
        let sql = """
            WITH withheld AS (
                UPDATE disposition_member dm SET state = 'withheld'
                WHERE dm.disposition_id = \(q.bind(id)) AND dm.state = 'pending' AND NOT EXISTS (
                    SELECT 1 FROM retention_assignment a JOIN message m ON m.id = a.message_id
                    WHERE a.message_id = dm.message_id AND a.action = \(q.bind(expected)) AND a.item_id = dm.item_id
                      AND a.eligible <= \(q.bind(today.description)) AND NOT \(held))
                RETURNING 1
            ) SELECT count(*) FROM withheld
            """
        return try await conn.count(q.query(sql), logger: logger)
    }

    public func withholdIneligible(id: Int64, today: CivilDate) async throws -> Int {
        try await transaction("checking a transfer before packaging") { conn in
            try await Self.lockHolds(conn, logger: self.logger)
            let b = try await Self.requireDisposition(conn, id, logger: self.logger)
            guard b.action == .transfer, b.status == .approved else {
                throw ArchiveError(.refused, b.status == .packaged
                    ? "transfer \(id) is already packaged; a bag once handed over is not rebuilt: cancel the batch (`dispose cancel \(id)`) and propose again"
                    : "disposition \(id) is a \(b.action.rawValue) batch in state \(b.status.rawValue); only approved transfers are packaged")
            }
            return try await Self.withhold(conn, id: id, action: .transfer, today: today, logger: self.logger)
        }
    }

    public func executeDisposition(id: Int64, actor: String, atMillis: Int64, today: CivilDate, accession: String?,
                                   auditAction: String) async throws -> DispositionExecution {
        try await transaction("executing a disposition") { conn in
            let logger = self.logger
            try await Self.lockHolds(conn, logger: logger)
            try await conn.run("SELECT 1 FROM disposition_batch WHERE id = \(id) FOR UPDATE", logger: logger)
            let b = try await Self.requireDisposition(conn, id, logger: logger)
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
            let withheld = try await Self.withhold(conn, id: id, action: b.action, today: today, logger: logger)
            if b.action == .transfer, withheld > 0 {
                throw ArchiveError(.refused, "\(TextRecipes.grouped(withheld)) record(s) in transfer \(id) came under a legal hold or are no longer due since the bag was made; "
                    + "nothing was changed: cancel this transfer (`dispose cancel \(id)`), tell NARA the bag is withdrawn, and propose again")
            }
            let remaining = try await conn.count("SELECT count(*) FROM disposition_member WHERE disposition_id = \(id) AND state = 'pending'", logger: logger)
            if remaining == 0 {
                let next = try await conn.column("""
                    SELECT min(a.eligible) FROM disposition_member dm JOIN retention_assignment a ON a.message_id = dm.message_id
                    WHERE dm.disposition_id = \(id) AND a.eligible > \(today.description)
                    """, as: String?.self, logger: logger).first ?? nil
                throw ArchiveError(.refused, "none of the \(TextRecipes.grouped(withheld)) records of disposition \(id) may leave the archive on \(today): "
                    + (next.map { "the first becomes eligible on \($0)" } ?? "they are under a legal hold or no longer due") + "; nothing was changed")
            }
            let planRows: [(Int32, String, String, String, String, String?)] = try await conn.all(
                "SELECT \(unescaped: Self.planColumns) FROM file_plan WHERE version = \(Int32(b.planVersion))",
                as: (Int32, String, String, String, String, String?).self, logger: logger)
            let plan = try planRows.first.map { try Self.decodePlan($0) }?.plan
            let fallback = plan == nil ? try await Self.currentPlan(conn, logger: logger)?.plan : nil
            let disposedAt = Timestamp.iso(millis: atMillis)
            let outcome = b.action == .destroy ? "destroyed" : "transferred"
            // The tombstones first (the guard trigger checks each against its approved batch), in
            // message-id order, then the records and everything that named them.
            let members = try await conn.all("""
                SELECT m.id, m.identity_key, m.content_hash, m.batch_id, m.conversation_id, m.conversation_key, m.sent_local, m.sent_at,
                       m.source_hash, dm.item_id
                FROM disposition_member dm JOIN message m ON m.id = dm.message_id
                WHERE dm.disposition_id = \(id) AND dm.state = 'pending' ORDER BY m.id
                """, as: (Int64, String, String, Int64, Int64, String, String, Int64, String, String).self, logger: logger)
            var digest = DisposalDigest()
            var candidates = Set<String>()
            var tombstones: [[Bind]] = []
            for m in members {
                tombstones.append([.int(m.0), .text(m.1), .text(m.2), .int(m.3), .int(m.4), .text(m.5), .text(m.6), .int(m.7), .text(m.9),
                                   .text((plan ?? fallback)?.item(m.9)?.authority), .int(id), .text(outcome), .text(accession), .text(disposedAt)])
                digest.add(identityKey: m.1, contentHash: m.2)
                candidates.insert(m.8)
            }
            _ = try await conn.insertRows("tombstone", columns: ["message_id", "identity_key", "content_hash", "batch_id", "conversation_id",
                                                                 "conversation_key", "sent_local", "sent_at", "item_id", "authority", "disposition_id",
                                                                 "outcome", "accession", "disposed_at"], rows: tombstones, suffix: "", logger: logger) { _ in () }
            let ids = members.map(\.0)
            for hash in try await conn.column("SELECT blob_hash FROM attachment WHERE message_id = ANY(\(ids)) AND blob_hash IS NOT NULL",
                                              as: String.self, logger: logger) { candidates.insert(hash) }
            try await conn.run("DELETE FROM message_search WHERE message_id = ANY(\(ids))", logger: logger)
            try await conn.run("DELETE FROM index_queue WHERE message_id = ANY(\(ids))", logger: logger)
            try await conn.run("DELETE FROM attachment WHERE message_id = ANY(\(ids))", logger: logger)
            try await conn.run("DELETE FROM retention_assignment WHERE message_id = ANY(\(ids))", logger: logger)
            try await conn.run("DELETE FROM message WHERE id = ANY(\(ids))", logger: logger)
            try await conn.run("UPDATE disposition_member SET state = 'disposed' WHERE disposition_id = \(id) AND state = 'pending'", logger: logger)
            // A blob goes when no surviving record uses it, as an attachment or as its original export.
            var released: [ContentHash] = []
            for hash in candidates.sorted() {
                let used = try await conn.count("""
                    SELECT count(*) FROM (SELECT 1 FROM attachment WHERE blob_hash = \(hash)
                        UNION ALL SELECT 1 FROM capture_batch b WHERE b.source_hash = \(hash) AND EXISTS (SELECT 1 FROM message m WHERE m.batch_id = b.id)
                        LIMIT 1) u
                    """, logger: logger) > 0
                if !used, let h = ContentHash(hex: hash) {
                    try await conn.run("UPDATE blob SET destroyed_by = \(id), destroyed_at = \(disposedAt) WHERE hash = \(hash)", logger: logger)
                    released.append(h)
                }
            }
            // The released files' data keys go in this transaction: the records and every copy of
            // their sealed files become unreadable at one commit (a crash after it leaves only
            // ciphertext to remove).
            let releasedHex = released.map(\.hex)
            let sealed = releasedHex.isEmpty ? 0 : try await conn.count("SELECT count(*) FROM blob_key WHERE hash = ANY(\(releasedHex))", logger: logger)
            if !releasedHex.isEmpty { try await conn.run("DELETE FROM blob_key WHERE hash = ANY(\(releasedHex))", logger: logger) }
            try await conn.run("""
                UPDATE disposition_batch SET status = 'executed', executed_by = \(actor), executed_at = \(disposedAt), accession = \(accession) WHERE id = \(id)
                """, logger: logger)
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: auditAction, target: "disposition:\(id)", detail: [
                "records": String(members.count), "withheld": String(withheld), "disposed_digest": digest.hex,
                "blobs_released": String(released.count), "blobs_sealed": String(sealed), "accession": accession ?? "", "approved_by": approver,
                "proposed_by": b.proposedBy,
            ]), logger: logger)
            return DispositionExecution(batch: try await Self.requireDisposition(conn, id, logger: logger), disposed: members.count, withheld: withheld,
                                        releasedBlobs: released)
        }
    }

    static let tombstoneColumns = """
        message_id, identity_key, content_hash, batch_id, conversation_key, sent_local, item_id, authority, disposition_id, outcome, accession, disposed_at
        """
    typealias TombstoneRow = (Int64, String, String, Int64, String, String, String, String?, Int64, String, String?, String)

    static func decodeTombstone(_ r: TombstoneRow) -> Tombstone {
        Tombstone(messageID: r.0, identityKey: r.1, contentHash: r.2, captureBatchID: r.3, conversationKey: r.4, sentLocal: r.5, itemID: r.6,
                  authority: r.7, dispositionID: r.8, outcome: r.9, accession: r.10, disposedAt: r.11)
    }

    public func tombstones(dispositionID: Int64) async throws -> [Tombstone] {
        try await rows("reading tombstones", """
            SELECT \(unescaped: Self.tombstoneColumns) FROM tombstone WHERE disposition_id = \(dispositionID) ORDER BY message_id
            """, as: TombstoneRow.self).map(Self.decodeTombstone)
    }

    public func tombstone(messageID: Int64) async throws -> Tombstone? {
        try await rows("reading a tombstone", "SELECT \(unescaped: Self.tombstoneColumns) FROM tombstone WHERE message_id = \(messageID)",
                       as: TombstoneRow.self).first.map(Self.decodeTombstone)
    }

    public func tombstones(conversationID: Int64, limit: Int) async throws -> [Tombstone] {
        try await rows("reading tombstones", """
            SELECT \(unescaped: Self.tombstoneColumns) FROM tombstone WHERE conversation_id = \(conversationID) ORDER BY sent_local, message_id LIMIT \(Int64(limit))
            """, as: TombstoneRow.self).map(Self.decodeTombstone)
    }

    public func destroyedBlobs(dispositionID: Int64?) async throws -> [ContentHash] {
        try await column("listing destroyed blobs", """
            SELECT hash FROM blob WHERE destroyed_by IS NOT NULL AND (\(dispositionID)::bigint IS NULL OR destroyed_by = \(dispositionID)) ORDER BY hash
            """, as: String.self).compactMap { ContentHash(hex: $0) }
    }

    /// PostgreSQL never overwrites a deleted row version: (auto)vacuum only lets its space be
    /// reused, and an instance running as a role that owns nothing may not VACUUM. The
    /// certificate says so, and what remains is the operator's (docs/records/trust.md).
    public func purgeResidue() async throws -> ResiduePurge {
        ResiduePurge(
            steps: ["rows and search-index entries deleted (PostgreSQL autovacuum makes their space reusable)"],
            remaining: ["PostgreSQL keeps deleted row versions in its data files until their space is reused, and in its write-ahead "
                        + "log archive and base backups: their retention and encryption are the operator's (docs/records/trust.md)"])
    }

    public func saveCertificate(dispositionID: Int64, json: String, audit: AuditDraft) async throws {
        try await transaction("saving a disposition certificate") { conn in
            let saved = try await conn.count("""
                WITH saved AS (UPDATE disposition_batch SET certificate = \(json)
                               WHERE id = \(dispositionID) AND status = 'executed' AND certificate IS NULL RETURNING 1)
                SELECT count(*) FROM saved
                """, logger: self.logger)
            if saved == 0 { throw ArchiveError(.refused, "disposition \(dispositionID) is not executed or already has its certificate") }
            _ = try await Self.appendAudit(conn, audit, logger: self.logger)
        }
    }

    public func certificate(dispositionID: Int64) async throws -> String? {
        try await column("reading a certificate", "SELECT certificate FROM disposition_batch WHERE id = \(dispositionID)", as: String?.self).first ?? nil
    }

    public func tombstonesWithRecords(limit: Int) async throws -> [Int64] {
        try await column("checking tombstones", """
            SELECT t.message_id FROM tombstone t JOIN message m ON m.id = t.message_id ORDER BY 1 LIMIT \(Int64(limit))
            """, as: Int64.self)
    }

    public func tombstonesOutsideExecutedDispositions(limit: Int) async throws -> [Int64] {
        try await column("checking tombstones", """
            SELECT t.message_id FROM tombstone t LEFT JOIN disposition_batch d ON d.id = t.disposition_id
            WHERE d.id IS NULL OR d.status <> 'executed' ORDER BY 1 LIMIT \(Int64(limit))
            """, as: Int64.self)
    }
}
