import Foundation
import GRDB
import RecordkeeperCore

extension SQLiteArchiveStore: CustodyPrivacyStore {
    /// Detentions, their steps (notice, answer, disposition; each once), the addressee's sealed
    /// particulars (removed only by a purge, which leaves a tombstone) and the privacy settings'
    /// history.
    static func migrateCustodyPrivacy(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE custody_detention (
                id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES custody_item(id), inspection_id INTEGER NOT NULL REFERENCES custody_inspection(id),
                detained_at INTEGER NOT NULL, detained_by TEXT NOT NULL,
                violation_type TEXT NOT NULL CHECK (violation_type IN ('narcotics', 'agriculture', 'ipr', 'currency', 'weapons', 'prohibited', 'revenue', 'other')),
                reason_code TEXT NOT NULL CHECK (reason_code IN ('personal_use_prohibited', 'license_required', 'prohibited_import', 'restricted_quantity', 'other')),
                contents_category TEXT NOT NULL CHECK (contents_category IN ('medicine', 'supplements', 'food', 'plant_material', 'animal_product', 'cosmetics',
                    'tobacco', 'alcohol', 'electronics', 'documents', 'currency', 'other'))
            );
            CREATE UNIQUE INDEX custody_detention_item ON custody_detention(item_id);
            CREATE INDEX custody_detention_at ON custody_detention(detained_at);
            CREATE TABLE custody_detention_step (
                detention_id INTEGER NOT NULL REFERENCES custody_detention(id),
                step TEXT NOT NULL CHECK (step IN ('notice', 'response', 'disposition')),
                at INTEGER NOT NULL, actor TEXT NOT NULL, value TEXT, due_at INTEGER, witness TEXT, event_id INTEGER REFERENCES custody_event(id),
                PRIMARY KEY (detention_id, step),
                CHECK (step <> 'notice' OR due_at IS NOT NULL),
                CHECK (step <> 'response' OR value IN ('none', 'consent_abandon', 'petition', 'other')),
                CHECK (step <> 'disposition' OR value IN ('abandoned_destroyed', 'released', 'forwarded')),
                CHECK (value IS NOT 'abandoned_destroyed' OR (witness IS NOT NULL AND witness <> actor AND event_id IS NOT NULL))
            );
            CREATE TABLE custody_pii_purge (
                id INTEGER PRIMARY KEY, purged_at INTEGER NOT NULL, purged_by TEXT NOT NULL, retention_days INTEGER NOT NULL, cutoff INTEGER NOT NULL,
                count INTEGER NOT NULL, digest TEXT NOT NULL, certificate TEXT NOT NULL
            );
            CREATE TABLE custody_addressee (
                detention_id INTEGER PRIMARY KEY REFERENCES custody_detention(id), key_id TEXT NOT NULL, sealed TEXT NOT NULL, sealed_sha256 TEXT NOT NULL,
                written_at INTEGER NOT NULL, written_by TEXT NOT NULL
            );
            CREATE TABLE custody_pii_tombstone (
                detention_id INTEGER PRIMARY KEY REFERENCES custody_detention(id), purge_id INTEGER NOT NULL REFERENCES custody_pii_purge(id),
                sealed_sha256 TEXT NOT NULL, disposed_at INTEGER NOT NULL
            );
            CREATE INDEX custody_pii_tombstone_purge ON custody_pii_tombstone(purge_id);
            CREATE TABLE custody_setting (
                id INTEGER PRIMARY KEY, key TEXT NOT NULL, value TEXT NOT NULL, reason TEXT NOT NULL, set_by TEXT NOT NULL, set_at INTEGER NOT NULL
            );
            CREATE TRIGGER custody_detention_kept BEFORE UPDATE ON custody_detention BEGIN SELECT RAISE(ABORT, 'detentions are kept as recorded'); END;
            CREATE TRIGGER custody_detention_not_deleted BEFORE DELETE ON custody_detention BEGIN SELECT RAISE(ABORT, 'detentions are kept'); END;
            CREATE TRIGGER custody_detention_step_kept BEFORE UPDATE ON custody_detention_step BEGIN SELECT RAISE(ABORT, 'a detention step is recorded once'); END;
            CREATE TRIGGER custody_detention_step_not_deleted BEFORE DELETE ON custody_detention_step BEGIN SELECT RAISE(ABORT, 'detention steps are kept'); END;
            CREATE TRIGGER custody_addressee_kept BEFORE UPDATE ON custody_addressee BEGIN SELECT RAISE(ABORT, 'addressee particulars are sealed once'); END;
            CREATE TRIGGER custody_addressee_purged_only BEFORE DELETE ON custody_addressee
                WHEN NOT EXISTS (SELECT 1 FROM custody_pii_tombstone t WHERE t.detention_id = OLD.detention_id AND t.sealed_sha256 = OLD.sealed_sha256)
                BEGIN SELECT RAISE(ABORT, 'addressee particulars leave only by a purge'); END;
            CREATE TRIGGER custody_pii_tombstone_kept BEFORE UPDATE ON custody_pii_tombstone BEGIN SELECT RAISE(ABORT, 'tombstones are kept'); END;
            CREATE TRIGGER custody_pii_tombstone_not_deleted BEFORE DELETE ON custody_pii_tombstone BEGIN SELECT RAISE(ABORT, 'tombstones are kept'); END;
            CREATE TRIGGER custody_pii_purge_kept BEFORE UPDATE ON custody_pii_purge BEGIN SELECT RAISE(ABORT, 'purges are kept'); END;
            CREATE TRIGGER custody_pii_purge_not_deleted BEFORE DELETE ON custody_pii_purge BEGIN SELECT RAISE(ABORT, 'purges are kept'); END;
            CREATE TRIGGER custody_setting_kept BEFORE UPDATE ON custody_setting BEGIN SELECT RAISE(ABORT, 'a setting is changed by a new row'); END;
            CREATE TRIGGER custody_setting_not_deleted BEFORE DELETE ON custody_setting BEGIN SELECT RAISE(ABORT, 'settings are kept'); END;
            """)
    }

    static let detentionSelect = "SELECT d.*, i.s10, \(StoredDetention.stepsSQL) FROM custody_detention d JOIN custody_item i ON i.id = d.item_id"

    static func decodeDetention(_ r: Row) -> StoredDetention {
        StoredDetention(id: r["id"], itemID: r["item_id"], s10: r["s10"], inspectionID: r["inspection_id"], detainedAtMillis: r["detained_at"],
                        detainedBy: r["detained_by"], violationType: r["violation_type"], reasonCode: r["reason_code"], contentsCategory: r["contents_category"],
                        noticeSentAtMillis: r["notice_at"], noticeSentBy: r["notice_by"], responseDueAtMillis: r["due_at"], response: r["response"],
                        responseAtMillis: r["response_at"], disposition: r["disposition"], disposedAtMillis: r["disposed_at"], disposedBy: r["disposed_by"],
                        witness: r["witness"])
    }

    static func detention(_ db: Database, id: Int64) throws -> StoredDetention? {
        try Row.fetchOne(db, sql: Self.detentionSelect + " WHERE d.id = ?", arguments: [id]).map(Self.decodeDetention)
    }

    public func detain(_ d: DetentionDraft, actor: String) async throws -> StoredDetention {
        try await write { db in
            guard let item = try Self.openItem(db, s10: d.s10) else { throw ArchiveError(.notFound, "REQUIRED_MISSING: \(d.s10) is not in custody") }
            guard let inspection = try Row.fetchOne(db, sql: "SELECT id, ended_at FROM custody_inspection WHERE item_id = ? ORDER BY id DESC LIMIT 1",
                                                    arguments: [item.id]) else {
                throw ArchiveError(.invalid, "REQUIRED_MISSING: \(d.s10) has no inspection; an outcome follows an inspection")
            }
            if item.lastInspection?.type == "INSPECT_START" { throw ArchiveError(.refused, "an inspection of \(d.s10) is open; end it first") }
            guard d.atMillis >= (inspection["ended_at"] as Int64) else {
                throw ArchiveError(.invalid, "DATE_ORDER: a detention cannot precede the end of the inspection that found it")
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM custody_seizure WHERE item_id = ?", arguments: [item.id]) != nil {
                throw ArchiveError(.refused, "\(d.s10) is seized; a seized item is not detained for a notice")
            }
            if let open = try Int64.fetchOne(db, sql: "SELECT id FROM custody_detention WHERE item_id = ?", arguments: [item.id]) {
                throw ArchiveError(.refused, "\(d.s10) is detained already (detention \(open))")
            }
            try db.execute(sql: """
                INSERT INTO custody_detention (item_id, inspection_id, detained_at, detained_by, violation_type, reason_code, contents_category)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [item.id, inspection["id"] as Int64, d.atMillis, actor, d.violationType, d.reasonCode, d.contentsCategory])
            let id = db.lastInsertedRowID
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.detain", target: "custody-detention:\(id)", detail: [
                "s10": d.s10, "violation": d.violationType, "reason": d.reasonCode, "contents": d.contentsCategory, "detained_at": String(d.atMillis)]))
            return try Self.detention(db, id: id)!
        }
    }

    public func recordNotice(detentionID: Int64, addressee: SealedAddressee, responseDueAtMillis: Int64, atMillis: Int64, actor: String) async throws -> StoredDetention {
        try await write { db in
            guard let d = try Self.detention(db, id: detentionID) else { throw ArchiveError(.notFound, "no detention \(detentionID)") }
            guard d.noticeSentAtMillis == nil else { throw ArchiveError(.refused, "the notice of detention \(detentionID) was recorded already") }
            guard d.isOpen else { throw ArchiveError(.refused, "detention \(detentionID) is disposed of; no notice now") }
            guard atMillis >= d.detainedAtMillis, responseDueAtMillis > atMillis else {
                throw ArchiveError(.invalid, "DATE_ORDER: a notice follows the detention and its answer is due after it is sent")
            }
            try db.execute(sql: "INSERT INTO custody_detention_step (detention_id, step, at, actor, due_at) VALUES (?, 'notice', ?, ?, ?)",
                           arguments: [detentionID, atMillis, actor, responseDueAtMillis])
            try db.execute(sql: "INSERT INTO custody_addressee (detention_id, key_id, sealed, sealed_sha256, written_at, written_by) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [detentionID, addressee.keyID, addressee.sealed, addressee.sealedSHA256, atMillis, actor])
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.detention.notice", target: "custody-detention:\(detentionID)", detail: [
                "s10": d.s10, "sent_at": String(atMillis), "due_at": String(responseDueAtMillis), "key": addressee.keyID, "sealed_sha256": addressee.sealedSHA256]))
            return try Self.detention(db, id: detentionID)!
        }
    }

    public func recordResponse(detentionID: Int64, response: String, atMillis: Int64, actor: String) async throws -> StoredDetention {
        try await write { db in
            guard let d = try Self.detention(db, id: detentionID) else { throw ArchiveError(.notFound, "no detention \(detentionID)") }
            guard StoredDetention.responses.contains(response) else {
                throw ArchiveError(.invalid, "VALUE_UNKNOWN: response \(response) is not one of \(StoredDetention.responses.joined(separator: ", "))")
            }
            guard let sent = d.noticeSentAtMillis else { throw ArchiveError(.invalid, "REQUIRED_MISSING: no notice was sent for detention \(detentionID)") }
            guard d.response == nil else { throw ArchiveError(.refused, "the answer to detention \(detentionID) was recorded already (\(d.response!))") }
            guard d.isOpen else { throw ArchiveError(.refused, "detention \(detentionID) is disposed of") }
            guard atMillis >= sent else { throw ArchiveError(.invalid, "DATE_ORDER: an answer cannot precede the notice") }
            try db.execute(sql: "INSERT INTO custody_detention_step (detention_id, step, at, actor, value) VALUES (?, 'response', ?, ?, ?)",
                           arguments: [detentionID, atMillis, actor, response])
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.detention.response", target: "custody-detention:\(detentionID)",
                                                detail: ["s10": d.s10, "response": response, "at": String(atMillis)]))
            return try Self.detention(db, id: detentionID)!
        }
    }

    public func disposeDetention(detentionID: Int64, disposition: String, witness: String?, atMillis: Int64, actor: String) async throws -> StoredDetention {
        try await write { db in
            guard let d = try Self.detention(db, id: detentionID) else { throw ArchiveError(.notFound, "no detention \(detentionID)") }
            try d.checkDisposal(disposition, witness: witness, atMillis: atMillis, actor: actor)
            var eventID: Int64?
            if disposition == "abandoned_destroyed" {
                guard try Int64.fetchOne(db, sql: "SELECT id FROM custody_item WHERE id = ? AND closed_at IS NULL", arguments: [d.itemID]) != nil else {
                    throw ArchiveError(.refused, "\(d.s10) is no longer in custody")
                }
                if let referral = try Self.openReferral(db, itemID: d.itemID) {
                    throw ArchiveError(.refused, "REFERRED: \(d.s10) is referred to an agency (referral \(referral)); record the agency's collection or refusal first")
                }
                let last = try Int64.fetchOne(db, sql: "SELECT max(at) FROM custody_event WHERE item_id = ?", arguments: [d.itemID]) ?? 0
                guard atMillis >= last else { throw ArchiveError(.invalid, "DATE_ORDER: a destruction cannot precede the item's last recorded event") }
                let w = witness!.trimmingCharacters(in: .whitespaces)
                let event = try Self.appendCustodyEvent(db, itemID: d.itemID, s10: d.s10, type: "DESTROYED", atMillis: atMillis, actor: actor, toLocation: nil,
                                                        station: nil, clientScanID: nil, detail: "abandoned detention=\(detentionID) witness=\(w)")
                try db.execute(sql: "UPDATE custody_item SET closed_at = ? WHERE id = ?", arguments: [atMillis, d.itemID])
                eventID = event.id
            }
            try db.execute(sql: "INSERT INTO custody_detention_step (detention_id, step, at, actor, value, witness, event_id) VALUES (?, 'disposition', ?, ?, ?, ?, ?)",
                           arguments: [detentionID, atMillis, actor, disposition, witness?.trimmingCharacters(in: .whitespaces), eventID])
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.detention.dispose", target: "custody-detention:\(detentionID)",
                                                detail: ["s10": d.s10, "disposition": disposition, "at": String(atMillis), "witness": witness ?? ""]))
            return try Self.detention(db, id: detentionID)!
        }
    }

    public func detention(id: Int64) async throws -> StoredDetention? {
        try await read { db in try Self.detention(db, id: id) }
    }

    public func detentions(from: Int64, to: Int64) async throws -> [StoredDetention] {
        try await read { db in
            try Row.fetchAll(db, sql: Self.detentionSelect + """
                 WHERE (d.detained_at >= ? AND d.detained_at < ?)
                    OR (d.detained_at < ? AND NOT EXISTS (SELECT 1 FROM custody_detention_step s WHERE s.detention_id = d.id AND s.step = 'disposition' AND s.at < ?))
                 ORDER BY d.detained_at, d.id
                """, arguments: [from, to, to, to]).map(Self.decodeDetention)
        }
    }

    public func readAddressee(detentionID: Int64, purpose: String, actor: String) async throws -> AddresseeRead {
        try await write { db in
            guard let d = try Self.detention(db, id: detentionID) else { throw ArchiveError(.notFound, "no detention \(detentionID)") }
            if let r = try Row.fetchOne(db, sql: "SELECT * FROM custody_addressee WHERE detention_id = ?", arguments: [detentionID]) {
                let sealed = SealedAddressee(keyID: r["key_id"], sealed: r["sealed"], sealedSHA256: r["sealed_sha256"])
                try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.pii.read", target: "custody-detention:\(detentionID)",
                                                    detail: ["s10": d.s10, "purpose": purpose, "sealed_sha256": sealed.sealedSHA256]))
                return .sealed(sealed)
            }
            if let t = try Row.fetchOne(db, sql: "SELECT * FROM custody_pii_tombstone WHERE detention_id = ?", arguments: [detentionID]) {
                return .purged(AddresseeTombstone(detentionID: detentionID, s10: d.s10, disposedAtMillis: t["disposed_at"], sealedSHA256: t["sealed_sha256"],
                                                  purgeID: t["purge_id"]))
            }
            return .none
        }
    }

    public func addresseeStatus(detentionIDs: [Int64]) async throws -> [Int64: AddresseeStatus] {
        try await read { db in
            var out: [Int64: AddresseeStatus] = [:]
            for id in detentionIDs { out[id] = AddresseeStatus.none }
            for chunk in stride(from: 0, to: detentionIDs.count, by: 500).map({ Array(detentionIDs[$0..<min(detentionIDs.count, $0 + 500)]) }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                for id in try Int64.fetchAll(db, sql: "SELECT detention_id FROM custody_addressee WHERE detention_id IN (\(marks))", arguments: StatementArguments(chunk)) {
                    out[id] = .held
                }
                for id in try Int64.fetchAll(db, sql: "SELECT detention_id FROM custody_pii_tombstone WHERE detention_id IN (\(marks))", arguments: StatementArguments(chunk)) {
                    out[id] = .purged
                }
            }
            return out
        }
    }

    public func addresseeRetentionDays() async throws -> Int {
        try await read { db in try Self.setting(db, PrivacyPolicy.retentionSetting).flatMap(Int.init) ?? PrivacyPolicy.defaultRetentionDays }
    }

    public func setAddresseeRetentionDays(_ days: Int, reason: String, atMillis: Int64, actor: String) async throws {
        try await write { db in
            try Self.changeSetting(db, PrivacyPolicy.retentionSetting, to: String(days), unset: String(PrivacyPolicy.defaultRetentionDays), reason: reason,
                                   atMillis: atMillis, actor: actor)
        }
    }

    /// A custody setting's value in force (at `asOf`, or now), nil when never set.
    static func setting(_ db: Database, _ key: String, asOf: Int64 = Int64.max) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM custody_setting WHERE key = ? AND set_at <= ? ORDER BY id DESC LIMIT 1", arguments: [key, asOf])
    }

    /// A new row for the setting, and its audit entry with the old value (`unset` when never set).
    static func changeSetting(_ db: Database, _ key: String, to value: String, unset: String, reason: String, atMillis: Int64, actor: String) throws {
        let old = try setting(db, key)
        try db.execute(sql: "INSERT INTO custody_setting (key, value, reason, set_by, set_at) VALUES (?, ?, ?, ?, ?)",
                       arguments: [key, value, reason, actor, atMillis])
        try appendAudit(db, AuditDraft(actor: actor, action: "custody.setting", target: "custody-setting:\(key)",
                                       detail: ["old": old ?? unset, "new": value, "reason": reason]))
    }

    static let dueSQL = """
        SELECT a.detention_id, i.s10, s.at AS disposed_at, a.sealed_sha256 FROM custody_addressee a
        JOIN custody_detention d ON d.id = a.detention_id JOIN custody_item i ON i.id = d.item_id
        JOIN custody_detention_step s ON s.detention_id = d.id AND s.step = 'disposition'
        WHERE s.at <= ? ORDER BY s.at, a.detention_id
        """

    static func due(_ db: Database, disposedBy: Int64) throws -> [AddresseeTombstone] {
        try Row.fetchAll(db, sql: Self.dueSQL, arguments: [disposedBy]).map {
            AddresseeTombstone(detentionID: $0["detention_id"], s10: $0["s10"], disposedAtMillis: $0["disposed_at"], sealedSHA256: $0["sealed_sha256"], purgeID: nil)
        }
    }

    public func addresseesDue(disposedBy: Int64) async throws -> [AddresseeTombstone] {
        try await read { db in try Self.due(db, disposedBy: disposedBy) }
    }

    public func purgeAddressees(disposedBy: Int64, retentionDays: Int, atMillis: Int64, actor: String) async throws -> StoredAddresseePurge? {
        try await write { db in
            var due = try Self.due(db, disposedBy: disposedBy)
            guard !due.isEmpty else { return nil }
            let id = (try Int64.fetchOne(db, sql: "SELECT max(id) FROM custody_pii_purge") ?? 0) + 1
            for i in due.indices { due[i].purgeID = id }
            let digest = AddresseeTombstone.digest(due)
            let certificate = StoredAddresseePurge.certificate(id: id, atMillis: atMillis, actor: actor, retentionDays: retentionDays, cutoffMillis: disposedBy,
                                                               tombstones: due)
            try db.execute(sql: """
                INSERT INTO custody_pii_purge (id, purged_at, purged_by, retention_days, cutoff, count, digest, certificate) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, atMillis, actor, retentionDays, disposedBy, due.count, digest, certificate])
            for t in due {
                try db.execute(sql: "INSERT INTO custody_pii_tombstone (detention_id, purge_id, sealed_sha256, disposed_at) VALUES (?, ?, ?, ?)",
                               arguments: [t.detentionID, id, t.sealedSHA256, t.disposedAtMillis])
                try db.execute(sql: "DELETE FROM custody_addressee WHERE detention_id = ?", arguments: [t.detentionID])
            }
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.pii.purge", target: "custody-pii-purge:\(id)", detail: [
                "count": String(due.count), "digest": digest, "retention_days": String(retentionDays), "cutoff": String(disposedBy)]))
            return StoredAddresseePurge(id: id, purgedAtMillis: atMillis, purgedBy: actor, retentionDays: retentionDays, cutoffMillis: disposedBy,
                                        count: due.count, digest: digest, certificate: certificate)
        }
    }

    static func decodePurge(_ r: Row) -> StoredAddresseePurge {
        StoredAddresseePurge(id: r["id"], purgedAtMillis: r["purged_at"], purgedBy: r["purged_by"], retentionDays: r["retention_days"], cutoffMillis: r["cutoff"],
                             count: r["count"], digest: r["digest"], certificate: r["certificate"])
    }

    public func addresseePurges() async throws -> [StoredAddresseePurge] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM custody_pii_purge ORDER BY id").map(Self.decodePurge) }
    }

    public func addresseeTombstones(purgeID: Int64) async throws -> [AddresseeTombstone] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT t.*, i.s10 FROM custody_pii_tombstone t JOIN custody_detention d ON d.id = t.detention_id JOIN custody_item i ON i.id = d.item_id
                WHERE t.purge_id = ? ORDER BY t.detention_id
                """, arguments: [purgeID]).map {
                AddresseeTombstone(detentionID: $0["detention_id"], s10: $0["s10"], disposedAtMillis: $0["disposed_at"], sealedSHA256: $0["sealed_sha256"],
                                   purgeID: $0["purge_id"])
            }
        }
    }

    public func addresseeCounts() async throws -> (held: Int, purged: Int) {
        try await read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM custody_addressee") ?? 0, try Int.fetchOne(db, sql: "SELECT count(*) FROM custody_pii_tombstone") ?? 0)
        }
    }

    public func addresseeSeals() async throws -> [(detentionID: Int64, addressee: SealedAddressee)] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT detention_id, key_id, sealed, sealed_sha256 FROM custody_addressee ORDER BY detention_id").map {
                ($0["detention_id"], SealedAddressee(keyID: $0["key_id"], sealed: $0["sealed"], sealedSHA256: $0["sealed_sha256"]))
            }
        }
    }
}
