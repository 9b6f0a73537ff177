import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

/// Duty and fee assessments on PostgreSQL: the same rows, guards and audit entries as SQLite's.
extension PostgresArchiveStore: CustodyDutyStore {
    typealias DutyRow = (Int64, Int64, String, Int64, String, Int64, String, String?, Int64, String)
    static let dutySelect = """
        SELECT d.id, d.item_id, i.s10, d.inspection_id, d.kind, d.amount_minor, d.currency, d.entry_ref, d.assessed_at, d.assessed_by
        FROM custody_duty d JOIN custody_item i ON i.id = d.item_id
        """

    static func decodeDuty(_ r: DutyRow) -> StoredDutyAssessment {
        StoredDutyAssessment(id: r.0, itemID: r.1, s10: r.2, inspectionID: r.3, kind: r.4, amountMinor: r.5, currency: r.6, entryReference: r.7,
                             assessedAtMillis: r.8, assessedBy: r.9)
    }

    public func assessDuty(_ f: DutyDraft, actor: String) async throws -> StoredDutyAssessment {
        try await transaction("recording a duty assessment") { conn in
            let logger = self.logger
            try await conn.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.custodyItemLock), hashtext(\(f.s10)))", logger: logger)
            guard let item = try await Self.openItem(conn, s10: f.s10, logger: logger) else {
                throw ArchiveError(.notFound, "REQUIRED_MISSING: \(f.s10) is not in custody")
            }
            guard let inspection = try await conn.all("SELECT id, ended_at FROM custody_inspection WHERE item_id = \(item.id) ORDER BY id DESC LIMIT 1",
                                                      as: (Int64, Int64).self, logger: logger).first else {
                throw ArchiveError(.invalid, "REQUIRED_MISSING: \(f.s10) has no inspection; an outcome follows an inspection")
            }
            if item.lastInspection?.type == "INSPECT_START" { throw ArchiveError(.refused, "an inspection of \(f.s10) is open; end it first") }
            guard f.atMillis >= inspection.1 else { throw ArchiveError(.invalid, "DATE_ORDER: an assessment cannot precede the end of the inspection") }
            if try await conn.count("SELECT count(*) FROM custody_seizure WHERE item_id = \(item.id)", logger: logger) > 0 {
                throw ArchiveError(.refused, "SEIZED: \(f.s10) is seized; duties are not assessed on seized property")
            }
            if try await Self.openDetention(conn, itemID: item.id, logger: logger) != nil {
                throw ArchiveError(.refused, "DETAINED: \(f.s10) is detained pending its notice; dispose of the detention first")
            }
            if let done = try await conn.column("SELECT id FROM custody_duty WHERE inspection_id = \(inspection.0)", as: Int64.self, logger: logger).first {
                throw ArchiveError(.refused, "the inspection of \(f.s10) has its assessment already (\(done)); a correction is a new inspection")
            }
            let id = try await conn.column("""
                INSERT INTO custody_duty (item_id, inspection_id, kind, amount_minor, currency, entry_ref, assessed_at, assessed_by)
                VALUES (\(item.id), \(inspection.0), \(f.kind), \(f.amountMinor), \(f.currency), \(f.entryReference), \(f.atMillis), \(actor)) RETURNING id
                """, as: Int64.self, logger: logger)[0]
            let stored = Self.decodeDuty(try await conn.all("\(unescaped: Self.dutySelect) WHERE d.id = \(id)", as: DutyRow.self, logger: logger)[0])
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.duty", target: "custody-duty:\(id)", detail: stored.auditDetail),
                                           logger: logger)
            return stored
        }
    }

    public func dutyAssessments(from: Int64, to: Int64) async throws -> [StoredDutyAssessment] {
        try await rows("reading duty assessments", """
            \(unescaped: Self.dutySelect) WHERE d.assessed_at >= \(from) AND d.assessed_at < \(to) ORDER BY d.assessed_at, d.id
            """, as: DutyRow.self).map(Self.decodeDuty)
    }
}
