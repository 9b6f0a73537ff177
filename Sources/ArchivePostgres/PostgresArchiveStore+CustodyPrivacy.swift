import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

/// Detentions, sealed addressee particulars and their purges on PostgreSQL: the same rows, guards
/// and audit entries as SQLite's (`CustodyPrivacyStore` conformance suite).
extension PostgresArchiveStore: CustodyPrivacyStore {
    typealias DetentionRow = (Int64, Int64, Int64, Int64, String, String, String, String, String, Int64?, String?, Int64?, String?, Int64?, String?, Int64?,
                              String?, String?)

    static let detentionSelect = """
        SELECT d.id, d.item_id, d.inspection_id, d.detained_at, d.detained_by, d.violation_type, d.reason_code, d.contents_category, i.s10,
               \(StoredDetention.stepsSQL)
        FROM custody_detention d JOIN custody_item i ON i.id = d.item_id
        """

    static func decodeDetention(_ r: DetentionRow) -> StoredDetention {
        StoredDetention(id: r.0, itemID: r.1, s10: r.8, inspectionID: r.2, detainedAtMillis: r.3, detainedBy: r.4, violationType: r.5, reasonCode: r.6,
                        contentsCategory: r.7, noticeSentAtMillis: r.9, noticeSentBy: r.10, responseDueAtMillis: r.11, response: r.12, responseAtMillis: r.13,
                        disposition: r.14, disposedAtMillis: r.15, disposedBy: r.16, witness: r.17)
    }

    static func detention(_ conn: PostgresConnection, id: Int64, lock: Bool = false, logger: Logger) async throws -> StoredDetention? {
        if lock { try await conn.run("SELECT id FROM custody_detention WHERE id = \(id) FOR UPDATE", logger: logger) }
        return try await conn.all("\(unescaped: Self.detentionSelect) WHERE d.id = \(id)", as: DetentionRow.self, logger: logger).first.map(Self.decodeDetention)
    }

    public func detain(_ d: DetentionDraft, actor: String) async throws -> StoredDetention {
        try await transaction("recording a detention") { conn in
            let logger = self.logger
            try await conn.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.custodyItemLock), hashtext(\(d.s10)))", logger: logger)
            guard let item = try await Self.openItem(conn, s10: d.s10, logger: logger) else {
                throw ArchiveError(.notFound, "REQUIRED_MISSING: \(d.s10) is not in custody")
            }
            guard let inspection = try await conn.all("SELECT id, ended_at FROM custody_inspection WHERE item_id = \(item.id) ORDER BY id DESC LIMIT 1",
                                                      as: (Int64, Int64).self, logger: logger).first else {
                throw ArchiveError(.invalid, "REQUIRED_MISSING: \(d.s10) has no inspection; an outcome follows an inspection")
            }
            if item.lastInspection?.type == "INSPECT_START" { throw ArchiveError(.refused, "an inspection of \(d.s10) is open; end it first") }
            guard d.atMillis >= inspection.1 else { throw ArchiveError(.invalid, "DATE_ORDER: a detention cannot precede the end of the inspection that found it") }
            guard try await conn.count("SELECT count(*) FROM custody_seizure WHERE item_id = \(item.id)", logger: logger) == 0 else {
                throw ArchiveError(.refused, "\(d.s10) is seized; a seized item is not detained for a notice")
            }
            if let open = try await conn.column("SELECT id FROM custody_detention WHERE item_id = \(item.id)", as: Int64.self, logger: logger).first {
                throw ArchiveError(.refused, "\(d.s10) is detained already (detention \(open))")
            }
            let id = try await conn.column("""
                INSERT INTO custody_detention (item_id, inspection_id, detained_at, detained_by, violation_type, reason_code, contents_category)
                VALUES (\(item.id), \(inspection.0), \(d.atMillis), \(actor), \(d.violationType), \(d.reasonCode), \(d.contentsCategory)) RETURNING id
                """, as: Int64.self, logger: logger)[0]
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.detain", target: "custody-detention:\(id)", detail: [
                "s10": d.s10, "violation": d.violationType, "reason": d.reasonCode, "contents": d.contentsCategory, "detained_at": String(d.atMillis)]),
                                           logger: logger)
            return try await Self.detention(conn, id: id, logger: logger)!
        }
    }

    public func recordNotice(detentionID: Int64, addressee: SealedAddressee, responseDueAtMillis: Int64, atMillis: Int64, actor: String) async throws -> StoredDetention {
        try await transaction("recording a detention notice") { conn in
            let logger = self.logger
            guard let d = try await Self.detention(conn, id: detentionID, lock: true, logger: logger) else { throw ArchiveError(.notFound, "no detention \(detentionID)") }
            guard d.noticeSentAtMillis == nil else { throw ArchiveError(.refused, "the notice of detention \(detentionID) was recorded already") }
            guard d.isOpen else { throw ArchiveError(.refused, "detention \(detentionID) is disposed of; no notice now") }
            guard atMillis >= d.detainedAtMillis, responseDueAtMillis > atMillis else {
                throw ArchiveError(.invalid, "DATE_ORDER: a notice follows the detention and its answer is due after it is sent")
            }
            try await conn.run("""
                INSERT INTO custody_detention_step (detention_id, step, at, actor, due_at) VALUES (\(detentionID), 'notice', \(atMillis), \(actor), \(responseDueAtMillis))
                """, logger: logger)
            try await conn.run("""
                INSERT INTO custody_addressee (detention_id, key_id, sealed, sealed_sha256, written_at, written_by)
                VALUES (\(detentionID), \(addressee.keyID), \(addressee.sealed), \(addressee.sealedSHA256), \(atMillis), \(actor))
                """, logger: logger)
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.detention.notice", target: "custody-detention:\(detentionID)", detail: [
                "s10": d.s10, "sent_at": String(atMillis), "due_at": String(responseDueAtMillis), "key": addressee.keyID, "sealed_sha256": addressee.sealedSHA256]),
                                           logger: logger)
            return try await Self.detention(conn, id: detentionID, logger: logger)!
        }
    }

    public func recordResponse(detentionID: Int64, response: String, atMillis: Int64, actor: String) async throws -> StoredDetention {
        try await transaction("recording a detention's answer") { conn in
            let logger = self.logger
            guard let d = try await Self.detention(conn, id: detentionID, lock: true, logger: logger) else { throw ArchiveError(.notFound, "no detention \(detentionID)") }
            guard StoredDetention.responses.contains(response) else {
                throw ArchiveError(.invalid, "VALUE_UNKNOWN: response \(response) is not one of \(StoredDetention.responses.joined(separator: ", "))")
            }
            guard let sent = d.noticeSentAtMillis else { throw ArchiveError(.invalid, "REQUIRED_MISSING: no notice was sent for detention \(detentionID)") }
            guard d.response == nil else { throw ArchiveError(.refused, "the answer to detention \(detentionID) was recorded already (\(d.response!))") }
            guard d.isOpen else { throw ArchiveError(.refused, "detention \(detentionID) is disposed of") }
            guard atMillis >= sent else { throw ArchiveError(.invalid, "DATE_ORDER: an answer cannot precede the notice") }
            try await conn.run("""
                INSERT INTO custody_detention_step (detention_id, step, at, actor, value) VALUES (\(detentionID), 'response', \(atMillis), \(actor), \(response))
                """, logger: logger)
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.detention.response", target: "custody-detention:\(detentionID)",
                                                            detail: ["s10": d.s10, "response": response, "at": String(atMillis)]), logger: logger)
            return try await Self.detention(conn, id: detentionID, logger: logger)!
        }
    }

    public func disposeDetention(detentionID: Int64, disposition: String, witness: String?, atMillis: Int64, actor: String) async throws -> StoredDetention {
        try await transaction("disposing of a detention") { conn in
            let logger = self.logger
            guard let d = try await Self.detention(conn, id: detentionID, lock: true, logger: logger) else { throw ArchiveError(.notFound, "no detention \(detentionID)") }
            try d.checkDisposal(disposition, witness: witness, atMillis: atMillis, actor: actor)
            var eventID: Int64?
            if disposition == "abandoned_destroyed" {
                try await conn.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.custodyItemLock), hashtext(\(d.s10)))", logger: logger)
                guard try await conn.count("SELECT count(*) FROM custody_item WHERE id = \(d.itemID) AND closed_at IS NULL", logger: logger) == 1 else {
                    throw ArchiveError(.refused, "\(d.s10) is no longer in custody")
                }
                if let referral = try await Self.openReferral(conn, itemID: d.itemID, logger: logger) {
                    throw ArchiveError(.refused, "REFERRED: \(d.s10) is referred to an agency (referral \(referral)); record the agency's collection or refusal first")
                }
                let last = try await conn.column("SELECT coalesce(max(at), 0) FROM custody_event WHERE item_id = \(d.itemID)", as: Int64.self, logger: logger)[0]
                guard atMillis >= last else { throw ArchiveError(.invalid, "DATE_ORDER: a destruction cannot precede the item's last recorded event") }
                let w = witness!.trimmingCharacters(in: .whitespaces)
                let event = try await Self.appendCustodyEvent(conn, itemID: d.itemID, s10: d.s10, type: "DESTROYED", atMillis: atMillis, actor: actor, toLocation: nil,
                                                              station: nil, clientScanID: nil, detail: "abandoned detention=\(detentionID) witness=\(w)", logger: logger)
                try await conn.run("UPDATE custody_item SET closed_at = \(atMillis) WHERE id = \(d.itemID)", logger: logger)
                eventID = event.id
            }
            let w = witness?.trimmingCharacters(in: .whitespaces)
            try await conn.run("""
                INSERT INTO custody_detention_step (detention_id, step, at, actor, value, witness, event_id)
                VALUES (\(detentionID), 'disposition', \(atMillis), \(actor), \(disposition), \(w), \(eventID))
                """, logger: logger)
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.detention.dispose", target: "custody-detention:\(detentionID)",
                                                            detail: ["s10": d.s10, "disposition": disposition, "at": String(atMillis), "witness": witness ?? ""]),
                                           logger: logger)
            return try await Self.detention(conn, id: detentionID, logger: logger)!
        }
    }

    public func detention(id: Int64) async throws -> StoredDetention? {
        try await rows("reading a detention", "\(unescaped: Self.detentionSelect) WHERE d.id = \(id)", as: DetentionRow.self).first.map(Self.decodeDetention)
    }

    public func detentions(from: Int64, to: Int64) async throws -> [StoredDetention] {
        try await rows("reading detentions", """
            \(unescaped: Self.detentionSelect)
            WHERE (d.detained_at >= \(from) AND d.detained_at < \(to))
               OR (d.detained_at < \(to) AND NOT EXISTS (SELECT 1 FROM custody_detention_step s WHERE s.detention_id = d.id AND s.step = 'disposition' AND s.at < \(to)))
            ORDER BY d.detained_at, d.id
            """, as: DetentionRow.self).map(Self.decodeDetention)
    }

    public func readAddressee(detentionID: Int64, purpose: String, actor: String) async throws -> AddresseeRead {
        try await transaction("reading addressee particulars") { conn in
            let logger = self.logger
            guard let d = try await Self.detention(conn, id: detentionID, logger: logger) else { throw ArchiveError(.notFound, "no detention \(detentionID)") }
            if let r = try await conn.all("SELECT key_id, sealed, sealed_sha256 FROM custody_addressee WHERE detention_id = \(detentionID)",
                                          as: (String, String, String).self, logger: logger).first {
                let sealed = SealedAddressee(keyID: r.0, sealed: r.1, sealedSHA256: r.2)
                _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.pii.read", target: "custody-detention:\(detentionID)",
                                                                detail: ["s10": d.s10, "purpose": purpose, "sealed_sha256": sealed.sealedSHA256]), logger: logger)
                return .sealed(sealed)
            }
            if let t = try await conn.all("SELECT disposed_at, sealed_sha256, purge_id FROM custody_pii_tombstone WHERE detention_id = \(detentionID)",
                                          as: (Int64, String, Int64).self, logger: logger).first {
                return .purged(AddresseeTombstone(detentionID: detentionID, s10: d.s10, disposedAtMillis: t.0, sealedSHA256: t.1, purgeID: t.2))
            }
            return AddresseeRead.none
        }
    }

    public func addresseeStatus(detentionIDs: [Int64]) async throws -> [Int64: AddresseeStatus] {
        var out: [Int64: AddresseeStatus] = [:]
        for id in detentionIDs { out[id] = AddresseeStatus.none }
        guard !detentionIDs.isEmpty else { return out }
        for id in try await column("reading addressee particulars", "SELECT detention_id FROM custody_addressee WHERE detention_id = ANY(\(detentionIDs))",
                                   as: Int64.self) { out[id] = .held }
        for id in try await column("reading addressee tombstones", "SELECT detention_id FROM custody_pii_tombstone WHERE detention_id = ANY(\(detentionIDs))",
                                   as: Int64.self) { out[id] = .purged }
        return out
    }

    public func addresseeRetentionDays() async throws -> Int {
        try await setting(PrivacyPolicy.retentionSetting).flatMap(Int.init) ?? PrivacyPolicy.defaultRetentionDays
    }

    /// A custody setting's value in force (at `asOf`, or now), nil when never set.
    func setting(_ key: String, asOf: Int64 = Int64.max) async throws -> String? {
        try await column("reading the custody settings", """
            SELECT value FROM custody_setting WHERE key = \(key) AND set_at <= \(asOf) ORDER BY id DESC LIMIT 1
            """, as: String.self).first
    }

    /// A new row for the setting and its audit entry with the old value (`unset` when never set),
    /// one change at a time: the row read as "old" is the one replaced, and the newest row is the
    /// one the last audit entry names.
    static func changeSetting(_ conn: PostgresConnection, _ key: String, to value: String, unset: String, reason: String, atMillis: Int64, actor: String,
                              logger: Logger) async throws {
        try await conn.run("LOCK TABLE custody_setting IN SHARE ROW EXCLUSIVE MODE", logger: logger)
        let old = try await conn.column("SELECT value FROM custody_setting WHERE key = \(key) ORDER BY id DESC LIMIT 1", as: String.self, logger: logger).first
        try await conn.run("""
            INSERT INTO custody_setting (key, value, reason, set_by, set_at) VALUES (\(key), \(value), \(reason), \(actor), \(atMillis))
            """, logger: logger)
        _ = try await appendAudit(conn, AuditDraft(actor: actor, action: "custody.setting", target: "custody-setting:\(key)",
                                                   detail: ["old": old ?? unset, "new": value, "reason": reason]), logger: logger)
    }

    public func setAddresseeRetentionDays(_ days: Int, reason: String, atMillis: Int64, actor: String) async throws {
        try await transaction("changing a privacy setting") { conn in
            try await Self.changeSetting(conn, PrivacyPolicy.retentionSetting, to: String(days), unset: String(PrivacyPolicy.defaultRetentionDays),
                                         reason: reason, atMillis: atMillis, actor: actor, logger: self.logger)
        }
    }

    static func due(_ conn: PostgresConnection, disposedBy: Int64, logger: Logger) async throws -> [AddresseeTombstone] {
        try await conn.all("""
            SELECT a.detention_id, i.s10, s.at, a.sealed_sha256 FROM custody_addressee a
            JOIN custody_detention d ON d.id = a.detention_id JOIN custody_item i ON i.id = d.item_id
            JOIN custody_detention_step s ON s.detention_id = d.id AND s.step = 'disposition'
            WHERE s.at <= \(disposedBy) ORDER BY s.at, a.detention_id
            """, as: (Int64, String, Int64, String).self, logger: logger)
            .map { AddresseeTombstone(detentionID: $0.0, s10: $0.1, disposedAtMillis: $0.2, sealedSHA256: $0.3, purgeID: nil) }
    }

    public func addresseesDue(disposedBy: Int64) async throws -> [AddresseeTombstone] {
        try await transaction("reading addressee particulars due for purge") { conn in try await Self.due(conn, disposedBy: disposedBy, logger: self.logger) }
    }

    public func purgeAddressees(disposedBy: Int64, retentionDays: Int, atMillis: Int64, actor: String) async throws -> StoredAddresseePurge? {
        try await transaction("purging addressee particulars") { conn in
            let logger = self.logger
            // One purge at a time: its id is the next number, and two would race for the same rows.
            try await conn.run("LOCK TABLE custody_pii_purge IN EXCLUSIVE MODE", logger: logger)
            var due = try await Self.due(conn, disposedBy: disposedBy, logger: logger)
            guard !due.isEmpty else { return nil }
            let id = try await conn.column("SELECT coalesce(max(id), 0) + 1 FROM custody_pii_purge", as: Int64.self, logger: logger)[0]
            for i in due.indices { due[i].purgeID = id }
            let digest = AddresseeTombstone.digest(due)
            let certificate = StoredAddresseePurge.certificate(id: id, atMillis: atMillis, actor: actor, retentionDays: retentionDays, cutoffMillis: disposedBy,
                                                               tombstones: due)
            try await conn.run("""
                INSERT INTO custody_pii_purge (id, purged_at, purged_by, retention_days, cutoff, count, digest, certificate)
                VALUES (\(id), \(atMillis), \(actor), \(Int32(retentionDays)), \(disposedBy), \(Int32(due.count)), \(digest), \(certificate))
                """, logger: logger)
            try await conn.run("""
                INSERT INTO custody_pii_tombstone (detention_id, purge_id, sealed_sha256, disposed_at)
                SELECT t.d, \(id), t.h, t.at FROM unnest(\(due.map(\.detentionID))::bigint[], \(due.map(\.sealedSHA256))::text[], \(due.map(\.disposedAtMillis))::bigint[]) AS t(d, h, at)
                """, logger: logger)
            try await conn.run("DELETE FROM custody_addressee WHERE detention_id = ANY(\(due.map(\.detentionID)))", logger: logger)
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.pii.purge", target: "custody-pii-purge:\(id)", detail: [
                "count": String(due.count), "digest": digest, "retention_days": String(retentionDays), "cutoff": String(disposedBy)]), logger: logger)
            return StoredAddresseePurge(id: id, purgedAtMillis: atMillis, purgedBy: actor, retentionDays: retentionDays, cutoffMillis: disposedBy,
                                        count: due.count, digest: digest, certificate: certificate)
        }
    }

    public func addresseePurges() async throws -> [StoredAddresseePurge] {
        try await rows("reading purges", """
            SELECT id, purged_at, purged_by, retention_days, cutoff, count, digest, certificate FROM custody_pii_purge ORDER BY id
            """, as: (Int64, Int64, String, Int32, Int64, Int32, String, String).self)
            .map { StoredAddresseePurge(id: $0.0, purgedAtMillis: $0.1, purgedBy: $0.2, retentionDays: Int($0.3), cutoffMillis: $0.4, count: Int($0.5),
                                        digest: $0.6, certificate: $0.7) }
    }

    public func addresseeTombstones(purgeID: Int64) async throws -> [AddresseeTombstone] {
        try await rows("reading tombstones", """
            SELECT t.detention_id, i.s10, t.disposed_at, t.sealed_sha256, t.purge_id FROM custody_pii_tombstone t
            JOIN custody_detention d ON d.id = t.detention_id JOIN custody_item i ON i.id = d.item_id
            WHERE t.purge_id = \(purgeID) ORDER BY t.detention_id
            """, as: (Int64, String, Int64, String, Int64).self)
            .map { (r: (Int64, String, Int64, String, Int64)) in AddresseeTombstone(detentionID: r.0, s10: r.1, disposedAtMillis: r.2, sealedSHA256: r.3, purgeID: r.4) }
    }

    public func addresseeCounts() async throws -> (held: Int, purged: Int) {
        let r = try await rows("counting addressee particulars", """
            SELECT (SELECT count(*) FROM custody_addressee), (SELECT count(*) FROM custody_pii_tombstone)
            """, as: (Int64, Int64).self)[0]
        return (Int(r.0), Int(r.1))
    }

    public func addresseeSeals() async throws -> [(detentionID: Int64, addressee: SealedAddressee)] {
        try await rows("reading sealed particulars", "SELECT detention_id, key_id, sealed, sealed_sha256 FROM custody_addressee ORDER BY detention_id",
                       as: (Int64, String, String, String).self)
            .map { ($0.0, SealedAddressee(keyID: $0.1, sealed: $0.2, sealedSHA256: $0.3)) }
    }
}
