import Foundation
import GRDB
import RecordkeeperCore

extension SQLiteArchiveStore: CustodyDutyStore {
    /// Duty and fee assessments, once per inspection, kept as recorded.
    static func migrateCustodyDuties(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE custody_duty (
                id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES custody_item(id),
                inspection_id INTEGER NOT NULL UNIQUE REFERENCES custody_inspection(id),
                kind TEXT NOT NULL CHECK (kind IN ('duty', 'fee', 'duty_and_fee')), amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
                currency TEXT NOT NULL CHECK (length(currency) = 3), entry_ref TEXT, assessed_at INTEGER NOT NULL, assessed_by TEXT NOT NULL
            );
            CREATE INDEX custody_duty_item ON custody_duty(item_id);
            CREATE INDEX custody_duty_at ON custody_duty(assessed_at);
            CREATE TRIGGER custody_duty_kept BEFORE UPDATE ON custody_duty BEGIN SELECT RAISE(ABORT, 'assessments are kept as recorded'); END;
            CREATE TRIGGER custody_duty_not_deleted BEFORE DELETE ON custody_duty BEGIN SELECT RAISE(ABORT, 'assessments are kept'); END;
            """)
    }

    static let dutySelect = """
        SELECT d.id, d.item_id, i.s10, d.inspection_id, d.kind, d.amount_minor, d.currency, d.entry_ref, d.assessed_at, d.assessed_by
        FROM custody_duty d JOIN custody_item i ON i.id = d.item_id
        """

    static func decodeDuty(_ r: Row) -> StoredDutyAssessment {
        StoredDutyAssessment(id: r["id"], itemID: r["item_id"], s10: r["s10"], inspectionID: r["inspection_id"], kind: r["kind"], amountMinor: r["amount_minor"],
                             currency: r["currency"], entryReference: r["entry_ref"], assessedAtMillis: r["assessed_at"], assessedBy: r["assessed_by"])
    }

    public func assessDuty(_ f: DutyDraft, actor: String) async throws -> StoredDutyAssessment {
        try await write { db in
            guard let item = try Self.openItem(db, s10: f.s10) else { throw ArchiveError(.notFound, "REQUIRED_MISSING: \(f.s10) is not in custody") }
            guard let inspection = try Row.fetchOne(db, sql: "SELECT id, ended_at FROM custody_inspection WHERE item_id = ? ORDER BY id DESC LIMIT 1",
                                                    arguments: [item.id]) else {
                throw ArchiveError(.invalid, "REQUIRED_MISSING: \(f.s10) has no inspection; an outcome follows an inspection")
            }
            if item.lastInspection?.type == "INSPECT_START" { throw ArchiveError(.refused, "an inspection of \(f.s10) is open; end it first") }
            guard f.atMillis >= (inspection["ended_at"] as Int64) else { throw ArchiveError(.invalid, "DATE_ORDER: an assessment cannot precede the end of the inspection") }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM custody_seizure WHERE item_id = ?", arguments: [item.id]) != nil {
                throw ArchiveError(.refused, "SEIZED: \(f.s10) is seized; duties are not assessed on seized property")
            }
            if try Self.openDetention(db, itemID: item.id) != nil {
                throw ArchiveError(.refused, "DETAINED: \(f.s10) is detained pending its notice; dispose of the detention first")
            }
            let inspectionID: Int64 = inspection["id"]
            if let done = try Int64.fetchOne(db, sql: "SELECT id FROM custody_duty WHERE inspection_id = ?", arguments: [inspectionID]) {
                throw ArchiveError(.refused, "the inspection of \(f.s10) has its assessment already (\(done)); a correction is a new inspection")
            }
            try db.execute(sql: """
                INSERT INTO custody_duty (item_id, inspection_id, kind, amount_minor, currency, entry_ref, assessed_at, assessed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [item.id, inspectionID, f.kind, f.amountMinor, f.currency, f.entryReference, f.atMillis, actor])
            let stored = Self.decodeDuty(try Row.fetchOne(db, sql: Self.dutySelect + " WHERE d.id = ?", arguments: [db.lastInsertedRowID])!)
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.duty", target: "custody-duty:\(stored.id)", detail: stored.auditDetail))
            return stored
        }
    }

    public func dutyAssessments(from: Int64, to: Int64) async throws -> [StoredDutyAssessment] {
        try await read { db in
            try Row.fetchAll(db, sql: Self.dutySelect + " WHERE d.assessed_at >= ? AND d.assessed_at < ? ORDER BY d.assessed_at, d.id", arguments: [from, to])
                .map(Self.decodeDuty)
        }
    }
}
