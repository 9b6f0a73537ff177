import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

/// Referrals to other agencies on PostgreSQL: the same rows, guards and audit entries as SQLite's.
extension PostgresArchiveStore: CustodyReferralStore {
    typealias ReferralRow = (Int64, Int64, Int64, String, String, String?, Int64, String, String, Int64?, String?, Int64?, String?, Int64?, String?, String?)

    static let referralSelect = """
        SELECT r.id, r.item_id, r.inspection_id, r.agency, r.method, r.violation_type, r.notified_at, r.notified_by, i.s10, \(StoredReferral.stepsSQL)
        FROM custody_referral r JOIN custody_item i ON i.id = r.item_id
        """

    static func decodeReferral(_ r: ReferralRow) -> StoredReferral {
        StoredReferral(id: r.0, itemID: r.1, s10: r.8, inspectionID: r.2, agency: r.3, method: r.4, violationType: r.5, notifiedAtMillis: r.6, notifiedBy: r.7,
                       respondedAtMillis: r.9, respondedBy: r.10, collectedAtMillis: r.11, collectedBy: r.12, declinedAtMillis: r.13, declinedBy: r.14,
                       declineReason: r.15)
    }

    static func referral(_ conn: PostgresConnection, id: Int64, lock: Bool = false, logger: Logger) async throws -> StoredReferral? {
        if lock { try await conn.run("SELECT id FROM custody_referral WHERE id = \(id) FOR UPDATE", logger: logger) }
        return try await conn.all("\(unescaped: Self.referralSelect) WHERE r.id = \(id)", as: ReferralRow.self, logger: logger).first.map(Self.decodeReferral)
    }

    public func refer(_ f: ReferralDraft, actor: String) async throws -> StoredReferral {
        try await transaction("recording a referral") { conn in
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
            guard f.atMillis >= inspection.1 else { throw ArchiveError(.invalid, "DATE_ORDER: a referral cannot precede the end of the inspection") }
            if try await Self.openDetention(conn, itemID: item.id, logger: logger) != nil {
                throw ArchiveError(.refused, "DETAINED: \(f.s10) is detained pending its notice; dispose of the detention first")
            }
            if let open = try await conn.column("""
                SELECT r.id FROM custody_referral r WHERE r.item_id = \(item.id)
                AND NOT EXISTS (SELECT 1 FROM custody_referral_step s WHERE s.referral_id = r.id AND s.step IN ('collected', 'declined'))
                """, as: Int64.self, logger: logger).first {
                throw ArchiveError(.refused, "\(f.s10) is referred already (referral \(open), open)")
            }
            let id = try await conn.column("""
                INSERT INTO custody_referral (item_id, inspection_id, agency, method, violation_type, notified_at, notified_by)
                VALUES (\(item.id), \(inspection.0), \(f.agency), \(f.method), \(f.violationType), \(f.atMillis), \(actor)) RETURNING id
                """, as: Int64.self, logger: logger)[0]
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.refer", target: "custody-referral:\(id)", detail: [
                "s10": f.s10, "agency": f.agency, "method": f.method, "violation": f.violationType ?? "", "notified_at": String(f.atMillis)]), logger: logger)
            return try await Self.referral(conn, id: id, logger: logger)!
        }
    }

    public func recordReferralStep(referralID: Int64, step: String, note: String?, witness: String?, atMillis: Int64, actor: String) async throws -> StoredReferral {
        try await transaction("recording a referral's \(step)") { conn in
            let logger = self.logger
            guard let first = try await Self.referral(conn, id: referralID, logger: logger) else { throw ArchiveError(.notFound, "no referral \(referralID)") }
            // The item's lock first (as scans take it), then the referral's row.
            try await conn.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.custodyItemLock), hashtext(\(first.s10)))", logger: logger)
            let r = try await Self.referral(conn, id: referralID, lock: true, logger: logger)!
            let seized = try await conn.count("SELECT count(*) FROM custody_seizure WHERE item_id = \(r.itemID)", logger: logger) > 0
            try r.check(step: step, note: note, witness: witness, atMillis: atMillis, actor: actor, seized: seized)
            var eventID: Int64?
            let w = witness?.trimmingCharacters(in: .whitespaces)
            if step == "collected" {
                guard try await conn.count("SELECT count(*) FROM custody_item WHERE id = \(r.itemID) AND closed_at IS NULL", logger: logger) == 1 else {
                    throw ArchiveError(.refused, "\(r.s10) is no longer in custody")
                }
                let last = try await conn.column("SELECT coalesce(max(at), 0) FROM custody_event WHERE item_id = \(r.itemID)", as: Int64.self, logger: logger)[0]
                guard atMillis >= last else { throw ArchiveError(.invalid, "DATE_ORDER: a hand-over cannot precede the item's last recorded event") }
                let open = try await conn.column("""
                    SELECT type FROM custody_event WHERE item_id = \(r.itemID) AND type IN ('INSPECT_START', 'INSPECT_END', 'TO_LAB', 'FROM_LAB') ORDER BY id DESC LIMIT 1
                    """, as: String.self, logger: logger).first
                if open == "INSPECT_START" { throw ArchiveError(.refused, "an inspection of \(r.s10) is open; end it first") }
                if open == "TO_LAB" { throw ArchiveError(.refused, "\(r.s10) is at the lab; record its return first") }
                if try await Self.openDetention(conn, itemID: r.itemID, logger: logger) != nil {
                    throw ArchiveError(.refused, "DETAINED: \(r.s10) is detained pending its notice; dispose of the detention first")
                }
                let detail = "agency=\(r.agency) referral=\(referralID)" + (seized ? " witness=\(w ?? "")" : "")
                let event = try await Self.appendCustodyEvent(conn, itemID: r.itemID, s10: r.s10, type: "TO_AGENCY", atMillis: atMillis, actor: actor, toLocation: nil,
                                                              station: nil, clientScanID: nil, detail: detail, logger: logger)
                try await conn.run("UPDATE custody_item SET closed_at = \(atMillis) WHERE id = \(r.itemID)", logger: logger)
                eventID = event.id
            }
            try await conn.run("""
                INSERT INTO custody_referral_step (referral_id, step, at, actor, note, witness, event_id)
                VALUES (\(referralID), \(step), \(atMillis), \(actor), \(note), \(w), \(eventID))
                """, logger: logger)
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.referral.\(step)", target: "custody-referral:\(referralID)",
                                                            detail: ["s10": r.s10, "at": String(atMillis), "note_sha256": StoredReferral.noteHash(note), "witness": w ?? ""]), logger: logger)
            return try await Self.referral(conn, id: referralID, logger: logger)!
        }
    }

    static func openDetention(_ conn: PostgresConnection, itemID: Int64, logger: Logger) async throws -> Int64? {
        try await conn.column("""
            SELECT d.id FROM custody_detention d WHERE d.item_id = \(itemID)
            AND NOT EXISTS (SELECT 1 FROM custody_detention_step s WHERE s.detention_id = d.id AND s.step = 'disposition')
            """, as: Int64.self, logger: logger).first
    }

    static func openReferral(_ conn: PostgresConnection, itemID: Int64, logger: Logger) async throws -> Int64? {
        try await conn.column("""
            SELECT r.id FROM custody_referral r WHERE r.item_id = \(itemID)
            AND NOT EXISTS (SELECT 1 FROM custody_referral_step s WHERE s.referral_id = r.id AND s.step IN ('collected', 'declined'))
            """, as: Int64.self, logger: logger).first
    }

    public func referral(id: Int64) async throws -> StoredReferral? {
        try await rows("reading a referral", "\(unescaped: Self.referralSelect) WHERE r.id = \(id)", as: ReferralRow.self).first.map(Self.decodeReferral)
    }

    public func referrals(from: Int64, to: Int64) async throws -> [StoredReferral] {
        try await rows("reading referrals", """
            \(unescaped: Self.referralSelect)
            WHERE (r.notified_at >= \(from) AND r.notified_at < \(to))
               OR (r.notified_at < \(to) AND NOT EXISTS (SELECT 1 FROM custody_referral_step s WHERE s.referral_id = r.id
                                                         AND s.step IN ('collected', 'declined') AND s.at < \(to)))
            ORDER BY r.notified_at, r.id
            """, as: ReferralRow.self).map(Self.decodeReferral)
    }
}
