import Foundation
import GRDB
import RecordkeeperCore

extension SQLiteArchiveStore: CustodyReferralStore {
    /// Referrals and their steps (the agency's answer, its collection or refusal; each once).
    static func migrateCustodyReferrals(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE custody_referral (
                id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES custody_item(id), inspection_id INTEGER NOT NULL REFERENCES custody_inspection(id),
                agency TEXT NOT NULL CHECK (agency IN ('FDA', 'USDA', 'USPIS', 'HSI', 'DEA', 'other')),
                method TEXT NOT NULL CHECK (method IN ('phone', 'email', 'portal', 'in_person', 'other')),
                violation_type TEXT CHECK (violation_type IS NULL OR violation_type IN ('narcotics', 'agriculture', 'ipr', 'currency', 'weapons', 'prohibited', 'revenue', 'other')),
                notified_at INTEGER NOT NULL, notified_by TEXT NOT NULL
            );
            CREATE INDEX custody_referral_item ON custody_referral(item_id);
            CREATE INDEX custody_referral_at ON custody_referral(notified_at);
            CREATE TABLE custody_referral_step (
                referral_id INTEGER NOT NULL REFERENCES custody_referral(id),
                step TEXT NOT NULL CHECK (step IN ('response', 'collected', 'declined')),
                at INTEGER NOT NULL, actor TEXT NOT NULL, note TEXT, witness TEXT, event_id INTEGER REFERENCES custody_event(id),
                PRIMARY KEY (referral_id, step),
                CHECK (step <> 'declined' OR length(trim(note)) > 0),
                CHECK (step <> 'collected' OR event_id IS NOT NULL)
            );
            CREATE TRIGGER custody_referral_kept BEFORE UPDATE ON custody_referral BEGIN SELECT RAISE(ABORT, 'referrals are kept as recorded'); END;
            CREATE TRIGGER custody_referral_not_deleted BEFORE DELETE ON custody_referral BEGIN SELECT RAISE(ABORT, 'referrals are kept'); END;
            CREATE TRIGGER custody_referral_step_kept BEFORE UPDATE ON custody_referral_step BEGIN SELECT RAISE(ABORT, 'a referral step is recorded once'); END;
            CREATE TRIGGER custody_referral_step_not_deleted BEFORE DELETE ON custody_referral_step BEGIN SELECT RAISE(ABORT, 'referral steps are kept'); END;
            CREATE UNIQUE INDEX custody_referral_closed_once ON custody_referral_step(referral_id) WHERE step IN ('collected', 'declined');
            """)
    }

    static let referralSelect = "SELECT r.*, i.s10, \(StoredReferral.stepsSQL) FROM custody_referral r JOIN custody_item i ON i.id = r.item_id"

    static func decodeReferral(_ r: Row) -> StoredReferral {
        StoredReferral(id: r["id"], itemID: r["item_id"], s10: r["s10"], inspectionID: r["inspection_id"], agency: r["agency"], method: r["method"],
                       violationType: r["violation_type"], notifiedAtMillis: r["notified_at"], notifiedBy: r["notified_by"], respondedAtMillis: r["responded_at"],
                       respondedBy: r["responded_by"], collectedAtMillis: r["collected_at"], collectedBy: r["collected_by"], declinedAtMillis: r["declined_at"],
                       declinedBy: r["declined_by"], declineReason: r["decline_reason"])
    }

    static func referral(_ db: Database, id: Int64) throws -> StoredReferral? {
        try Row.fetchOne(db, sql: Self.referralSelect + " WHERE r.id = ?", arguments: [id]).map(Self.decodeReferral)
    }

    public func refer(_ f: ReferralDraft, actor: String) async throws -> StoredReferral {
        try await write { db in
            guard let item = try Self.openItem(db, s10: f.s10) else { throw ArchiveError(.notFound, "REQUIRED_MISSING: \(f.s10) is not in custody") }
            guard let inspection = try Row.fetchOne(db, sql: "SELECT id, ended_at FROM custody_inspection WHERE item_id = ? ORDER BY id DESC LIMIT 1",
                                                    arguments: [item.id]) else {
                throw ArchiveError(.invalid, "REQUIRED_MISSING: \(f.s10) has no inspection; an outcome follows an inspection")
            }
            if item.lastInspection?.type == "INSPECT_START" { throw ArchiveError(.refused, "an inspection of \(f.s10) is open; end it first") }
            guard f.atMillis >= (inspection["ended_at"] as Int64) else { throw ArchiveError(.invalid, "DATE_ORDER: a referral cannot precede the end of the inspection") }
            if try Self.openDetention(db, itemID: item.id) != nil {
                throw ArchiveError(.refused, "DETAINED: \(f.s10) is detained pending its notice; dispose of the detention first")
            }
            if let open = try Int64.fetchOne(db, sql: """
                SELECT r.id FROM custody_referral r WHERE r.item_id = ?
                AND NOT EXISTS (SELECT 1 FROM custody_referral_step s WHERE s.referral_id = r.id AND s.step IN ('collected', 'declined'))
                """, arguments: [item.id]) {
                throw ArchiveError(.refused, "\(f.s10) is referred already (referral \(open), open)")
            }
            try db.execute(sql: "INSERT INTO custody_referral (item_id, inspection_id, agency, method, violation_type, notified_at, notified_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [item.id, inspection["id"] as Int64, f.agency, f.method, f.violationType, f.atMillis, actor])
            let id = db.lastInsertedRowID
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.refer", target: "custody-referral:\(id)", detail: [
                "s10": f.s10, "agency": f.agency, "method": f.method, "violation": f.violationType ?? "", "notified_at": String(f.atMillis)]))
            return try Self.referral(db, id: id)!
        }
    }

    public func recordReferralStep(referralID: Int64, step: String, note: String?, witness: String?, atMillis: Int64, actor: String) async throws -> StoredReferral {
        try await write { db in
            guard let r = try Self.referral(db, id: referralID) else { throw ArchiveError(.notFound, "no referral \(referralID)") }
            let seized = try Bool.fetchOne(db, sql: "SELECT 1 FROM custody_seizure WHERE item_id = ?", arguments: [r.itemID]) != nil
            try r.check(step: step, note: note, witness: witness, atMillis: atMillis, actor: actor, seized: seized)
            var eventID: Int64?
            let w = witness?.trimmingCharacters(in: .whitespaces)
            if step == "collected" {
                guard try Int64.fetchOne(db, sql: "SELECT id FROM custody_item WHERE id = ? AND closed_at IS NULL", arguments: [r.itemID]) != nil else {
                    throw ArchiveError(.refused, "\(r.s10) is no longer in custody")
                }
                let last = try Int64.fetchOne(db, sql: "SELECT max(at) FROM custody_event WHERE item_id = ?", arguments: [r.itemID]) ?? 0
                guard atMillis >= last else { throw ArchiveError(.invalid, "DATE_ORDER: a hand-over cannot precede the item's last recorded event") }
                let open = try Row.fetchOne(db, sql: "SELECT type FROM custody_event WHERE item_id = ? AND type IN ('INSPECT_START', 'INSPECT_END', 'TO_LAB', 'FROM_LAB') ORDER BY id DESC LIMIT 1",
                                            arguments: [r.itemID]).map { $0["type"] as String }
                if open == "INSPECT_START" { throw ArchiveError(.refused, "an inspection of \(r.s10) is open; end it first") }
                if open == "TO_LAB" { throw ArchiveError(.refused, "\(r.s10) is at the lab; record its return first") }
                if try Self.openDetention(db, itemID: r.itemID) != nil {
                    throw ArchiveError(.refused, "DETAINED: \(r.s10) is detained pending its notice; dispose of the detention first")
                }
                let detail = "agency=\(r.agency) referral=\(referralID)" + (seized ? " witness=\(w ?? "")" : "")
                let event = try Self.appendCustodyEvent(db, itemID: r.itemID, s10: r.s10, type: "TO_AGENCY", atMillis: atMillis, actor: actor, toLocation: nil,
                                                        station: nil, clientScanID: nil, detail: detail)
                try db.execute(sql: "UPDATE custody_item SET closed_at = ? WHERE id = ?", arguments: [atMillis, r.itemID])
                eventID = event.id
            }
            try db.execute(sql: "INSERT INTO custody_referral_step (referral_id, step, at, actor, note, witness, event_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [referralID, step, atMillis, actor, note, w, eventID])
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.referral.\(step)", target: "custody-referral:\(referralID)",
                                                detail: ["s10": r.s10, "at": String(atMillis), "note_sha256": StoredReferral.noteHash(note), "witness": w ?? ""]))
            return try Self.referral(db, id: referralID)!
        }
    }

    public func referral(id: Int64) async throws -> StoredReferral? {
        try await read { db in try Self.referral(db, id: id) }
    }

    /// The open detention of an item, if any.
    static func openDetention(_ db: Database, itemID: Int64) throws -> Int64? {
        try Int64.fetchOne(db, sql: """
            SELECT d.id FROM custody_detention d WHERE d.item_id = ?
            AND NOT EXISTS (SELECT 1 FROM custody_detention_step s WHERE s.detention_id = d.id AND s.step = 'disposition')
            """, arguments: [itemID])
    }

    /// The open referral of an item, if any.
    static func openReferral(_ db: Database, itemID: Int64) throws -> Int64? {
        try Int64.fetchOne(db, sql: """
            SELECT r.id FROM custody_referral r WHERE r.item_id = ?
            AND NOT EXISTS (SELECT 1 FROM custody_referral_step s WHERE s.referral_id = r.id AND s.step IN ('collected', 'declined'))
            """, arguments: [itemID])
    }

    public func referrals(from: Int64, to: Int64) async throws -> [StoredReferral] {
        try await read { db in
            try Row.fetchAll(db, sql: Self.referralSelect + """
                 WHERE (r.notified_at >= ? AND r.notified_at < ?)
                    OR (r.notified_at < ? AND NOT EXISTS (SELECT 1 FROM custody_referral_step s WHERE s.referral_id = r.id
                                                          AND s.step IN ('collected', 'declined') AND s.at < ?))
                 ORDER BY r.notified_at, r.id
                """, arguments: [from, to, to, to]).map(Self.decodeReferral)
        }
    }
}
