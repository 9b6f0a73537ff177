import Foundation
import RecordkeeperCore

// Detentions and the addressee's personal data (CUSTODY.md §2 `detention`, `addressee_pii`; F5,
// F23, R8): an item held for a notice to its addressee, the notice, the answer, the disposition;
// the addressee's name and address sealed with a key the database never sees, every read audited,
// purged on its retention with a tombstone and a disposal certificate. The store keeps rows and
// writes each change with its audit entry in one transaction; sealing and the rules of who may
// read live in the `Custody` module.

public protocol CustodyPrivacyStore: Sendable {
    /// Detains an item in custody after its inspection (an outcome with a violation). Refused for
    /// a seized item or one already detained.
    func detain(_ draft: DetentionDraft, actor: String) async throws -> StoredDetention
    /// Records the notice sent to the addressee with the addressee's sealed particulars (once).
    func recordNotice(detentionID: Int64, addressee: SealedAddressee, responseDueAtMillis: Int64, atMillis: Int64, actor: String) async throws -> StoredDetention
    /// Records the addressee's answer (once): none, consent_abandon, petition, other.
    func recordResponse(detentionID: Int64, response: String, atMillis: Int64, actor: String) async throws -> StoredDetention
    /// Closes a detention: `released` or `forwarded` (the item may then leave custody by a scan),
    /// or `abandoned_destroyed` (a DESTROYED event, witnessed by another user, ends the episode).
    func disposeDetention(detentionID: Int64, disposition: String, witness: String?, atMillis: Int64, actor: String) async throws -> StoredDetention
    func detention(id: Int64) async throws -> StoredDetention?
    /// Detentions decided in [from, to), or still open at `to`.
    func detentions(from: Int64, to: Int64) async throws -> [StoredDetention]

    /// The sealed particulars of a detention's addressee, the read written to the audit log in
    /// the same transaction (`purpose` says why). `.purged` when a purge removed them.
    func readAddressee(detentionID: Int64, purpose: String, actor: String) async throws -> AddresseeRead
    /// Whether each of `detentionIDs` has live particulars, was purged, or has none (no read of
    /// the particulars themselves).
    func addresseeStatus(detentionIDs: [Int64]) async throws -> [Int64: AddresseeStatus]

    /// The days addressee particulars are kept after their detention's disposition (the latest
    /// setting; `PrivacyPolicy.defaultRetentionDays` until one is set).
    func addresseeRetentionDays() async throws -> Int
    func setAddresseeRetentionDays(_ days: Int, reason: String, atMillis: Int64, actor: String) async throws
    /// Purges the particulars of every detention disposed of at or before `disposedBy`: the rows
    /// go, each leaves a tombstone with the hash of what was sealed, and the purge's record with
    /// its digest and certificate is written with its audit entry, in one transaction. Nil when
    /// nothing is due.
    func purgeAddressees(disposedBy: Int64, retentionDays: Int, atMillis: Int64, actor: String) async throws -> StoredAddresseePurge?
    /// Detentions whose particulars a purge with this cutoff would remove, oldest disposition first.
    func addresseesDue(disposedBy: Int64) async throws -> [AddresseeTombstone]
    func addresseePurges() async throws -> [StoredAddresseePurge]
    func addresseeTombstones(purgeID: Int64) async throws -> [AddresseeTombstone]
    /// Counts for the privacy inventory: particulars held now, and purged.
    func addresseeCounts() async throws -> (held: Int, purged: Int)
    /// For verify: every sealed record held now (sealed: verify needs no key to check its hash).
    func addresseeSeals() async throws -> [(detentionID: Int64, addressee: SealedAddressee)]
}

public struct DetentionDraft: Sendable, Equatable {
    public var s10: String
    public var violationType: String
    /// personal_use_prohibited, license_required, prohibited_import, restricted_quantity, other
    public var reasonCode: String
    /// A closed vocabulary (medicine, not a brand or dose in free text).
    public var contentsCategory: String
    public var atMillis: Int64
    public init(s10: String, violationType: String, reasonCode: String, contentsCategory: String, atMillis: Int64) {
        self.s10 = s10; self.violationType = violationType; self.reasonCode = reasonCode; self.contentsCategory = contentsCategory; self.atMillis = atMillis
    }
}

public struct StoredDetention: Sendable, Equatable, Codable {
    public var id: Int64
    public var itemID: Int64
    public var s10: String
    public var inspectionID: Int64
    public var detainedAtMillis: Int64
    public var detainedBy: String
    public var violationType: String
    public var reasonCode: String
    public var contentsCategory: String
    public var noticeSentAtMillis: Int64?
    public var noticeSentBy: String?
    public var responseDueAtMillis: Int64?
    public var response: String?
    public var responseAtMillis: Int64?
    /// abandoned_destroyed, released, forwarded (nil: open)
    public var disposition: String?
    public var disposedAtMillis: Int64?
    public var disposedBy: String?
    public var witness: String?
    public init(id: Int64, itemID: Int64, s10: String, inspectionID: Int64, detainedAtMillis: Int64, detainedBy: String, violationType: String,
                reasonCode: String, contentsCategory: String, noticeSentAtMillis: Int64? = nil, noticeSentBy: String? = nil, responseDueAtMillis: Int64? = nil,
                response: String? = nil, responseAtMillis: Int64? = nil, disposition: String? = nil, disposedAtMillis: Int64? = nil, disposedBy: String? = nil,
                witness: String? = nil) {
        self.id = id; self.itemID = itemID; self.s10 = s10; self.inspectionID = inspectionID; self.detainedAtMillis = detainedAtMillis
        self.detainedBy = detainedBy; self.violationType = violationType; self.reasonCode = reasonCode; self.contentsCategory = contentsCategory
        self.noticeSentAtMillis = noticeSentAtMillis; self.noticeSentBy = noticeSentBy; self.responseDueAtMillis = responseDueAtMillis
        self.response = response; self.responseAtMillis = responseAtMillis; self.disposition = disposition; self.disposedAtMillis = disposedAtMillis
        self.disposedBy = disposedBy; self.witness = witness
    }

    public var isOpen: Bool { disposition == nil }

    public static let reasons = ["personal_use_prohibited", "license_required", "prohibited_import", "restricted_quantity", "other"]
    public static let contentsCategories = ["medicine", "supplements", "food", "plant_material", "animal_product", "cosmetics", "tobacco", "alcohol",
                                            "electronics", "documents", "currency", "other"]
    public static let responses = ["none", "consent_abandon", "petition", "other"]
    public static let dispositions = ["abandoned_destroyed", "released", "forwarded"]

    /// The steps after the detention itself, each written once (both stores read them so).
    public static let stepsSQL = """
        (SELECT s.at FROM custody_detention_step s WHERE s.detention_id = d.id AND s.step = 'notice') AS notice_at,
        (SELECT s.actor FROM custody_detention_step s WHERE s.detention_id = d.id AND s.step = 'notice') AS notice_by,
        (SELECT s.due_at FROM custody_detention_step s WHERE s.detention_id = d.id AND s.step = 'notice') AS due_at,
        (SELECT s.value FROM custody_detention_step s WHERE s.detention_id = d.id AND s.step = 'response') AS response,
        (SELECT s.at FROM custody_detention_step s WHERE s.detention_id = d.id AND s.step = 'response') AS response_at,
        (SELECT s.value FROM custody_detention_step s WHERE s.detention_id = d.id AND s.step = 'disposition') AS disposition,
        (SELECT s.at FROM custody_detention_step s WHERE s.detention_id = d.id AND s.step = 'disposition') AS disposed_at,
        (SELECT s.actor FROM custody_detention_step s WHERE s.detention_id = d.id AND s.step = 'disposition') AS disposed_by,
        (SELECT s.witness FROM custody_detention_step s WHERE s.detention_id = d.id AND s.step = 'disposition') AS witness
        """

    /// What a store checks before disposing of a detention (in the transaction).
    public func checkDisposal(_ disposition: String, witness: String?, atMillis: Int64, actor: String) throws {
        guard Self.dispositions.contains(disposition) else {
            throw ArchiveError(.invalid, "VALUE_UNKNOWN: disposition \(disposition) is not one of \(Self.dispositions.joined(separator: ", "))")
        }
        guard isOpen else { throw ArchiveError(.refused, "detention \(id) was disposed of already (\(self.disposition!))") }
        guard atMillis >= max(detainedAtMillis, noticeSentAtMillis ?? 0, responseAtMillis ?? 0) else {
            throw ArchiveError(.invalid, "DATE_ORDER: a disposition cannot precede the detention, its notice or the answer")
        }
        if disposition == "abandoned_destroyed" {
            // Abandoned: the addressee consented, or the notice went out and its answer period ran out unanswered.
            // "Answer by T": the answer period has run out only after T.
            let lapsed = noticeSentAtMillis != nil && (response == nil || response == "none") && (responseDueAtMillis.map { atMillis > $0 } ?? false)
            guard response == "consent_abandon" || lapsed else {
                throw ArchiveError(.refused, "detention \(id) is not abandoned: the addressee has not consented and the notice's answer period has not run out")
            }
            let w = (witness ?? "").trimmingCharacters(in: .whitespaces)
            guard !w.isEmpty, w.lowercased() != actor.lowercased() else {
                throw ArchiveError(.invalid, "WITNESS_REQUIRED: destroying an item needs a witness other than you")
            }
        }
    }
}

/// An addressee's particulars as the database holds them: sealed (AES-GCM) with a key outside it.
public struct SealedAddressee: Sendable, Equatable {
    /// Which key sealed it (the first 16 hex digits of the key's SHA-256).
    public var keyID: String
    /// The sealed box (nonce, ciphertext, tag), base64.
    public var sealed: String
    /// SHA-256 of the sealed box's bytes: what the audit log and a tombstone keep.
    public var sealedSHA256: String
    public init(keyID: String, sealed: String, sealedSHA256: String) { self.keyID = keyID; self.sealed = sealed; self.sealedSHA256 = sealedSHA256 }

    /// SHA-256 of the sealed box's bytes as they are now (nil: not base64): what verify compares
    /// with `sealedSHA256`, without the key.
    public var currentSHA256: String? { Data(base64Encoded: sealed).map { ContentHash.of($0).hex } }
}

public enum AddresseeStatus: String, Sendable, Codable { case held, purged, none }

public enum AddresseeRead: Sendable, Equatable {
    case sealed(SealedAddressee)
    case purged(AddresseeTombstone)
    /// No notice was recorded: there are no particulars.
    case none
}

public struct AddresseeTombstone: Sendable, Equatable, Codable {
    public var detentionID: Int64
    public var s10: String
    public var disposedAtMillis: Int64
    public var sealedSHA256: String
    /// Nil until purged.
    public var purgeID: Int64?
    public init(detentionID: Int64, s10: String, disposedAtMillis: Int64, sealedSHA256: String, purgeID: Int64?) {
        self.detentionID = detentionID; self.s10 = s10; self.disposedAtMillis = disposedAtMillis; self.sealedSHA256 = sealedSHA256; self.purgeID = purgeID
    }

    /// SHA-256 over "<detention id> <sealed hash>\n" of every tombstone in detention order: the
    /// purge records it, its certificate carries it, verify recomputes it.
    public static func digest(_ tombstones: [AddresseeTombstone]) -> String {
        var h = StreamingHasher()
        for t in tombstones.sorted(by: { $0.detentionID < $1.detentionID }) { h.update(Array("\(t.detentionID) \(t.sealedSHA256)\n".utf8)) }
        return h.finalize().hex
    }
}

public struct StoredAddresseePurge: Sendable, Equatable, Codable {
    public var id: Int64
    public var purgedAtMillis: Int64
    public var purgedBy: String
    public var retentionDays: Int
    /// Particulars of detentions disposed of at or before this time were purged.
    public var cutoffMillis: Int64
    public var count: Int
    public var digest: String
    /// The disposal certificate (JSON), written in the purge's transaction.
    public var certificate: String
    public init(id: Int64, purgedAtMillis: Int64, purgedBy: String, retentionDays: Int, cutoffMillis: Int64, count: Int, digest: String, certificate: String) {
        self.id = id; self.purgedAtMillis = purgedAtMillis; self.purgedBy = purgedBy; self.retentionDays = retentionDays; self.cutoffMillis = cutoffMillis
        self.count = count; self.digest = digest; self.certificate = certificate
    }

    /// The certificate of a purge: what was purged (by detention, item and hash of what was
    /// sealed; no personal data), under which retention, by whom, and the digest.
    public static func certificate(id: Int64, atMillis: Int64, actor: String, retentionDays: Int, cutoffMillis: Int64,
                                   tombstones: [AddresseeTombstone]) -> String {
        struct Record: Encodable {
            var detention: Int64
            var s10: String
            var disposed_at: String
            var sealed_sha256: String
        }
        struct Certificate: Encodable {
            var kind = "recordkeeper.custody.addressee-purge"
            var version = 1
            var purge: Int64
            var purged_at: String
            var purged_by: String
            var retention_days: Int
            var rule: String
            var cutoff: String
            var count: Int
            var digest: String
            var digest_rule = "SHA-256 over \"<detention id> <sealed_sha256>\\n\" for each record, in detention order"
            var records: [Record]
        }
        let sorted = tombstones.sorted { $0.detentionID < $1.detentionID }
        let c = Certificate(purge: id, purged_at: Timestamp.iso(millis: atMillis), purged_by: actor, retention_days: retentionDays,
                            rule: "addressee particulars are purged \(retentionDays) days after their detention's disposition",
                            cutoff: Timestamp.iso(millis: cutoffMillis), count: sorted.count, digest: AddresseeTombstone.digest(sorted),
                            records: sorted.map { Record(detention: $0.detentionID, s10: $0.s10, disposed_at: Timestamp.iso(millis: $0.disposedAtMillis),
                                                         sealed_sha256: $0.sealedSHA256) })
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? e.encode(c)) ?? Data(), as: UTF8.self)
    }
}

public enum PrivacyPolicy {
    /// Kept this long after the disposition unless a privacy officer sets another period: a notice's
    /// answer window (30 days) and a petition's (60 more), then nothing.
    public static let defaultRetentionDays = 90
    public static let retentionSetting = "addressee_retention_days"
}
