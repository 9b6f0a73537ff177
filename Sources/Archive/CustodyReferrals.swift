import Foundation
import RecordkeeperCore

// Referrals to other agencies (CUSTODY.md §2 `referral`, F7: the facility alerted FDA, USDA and
// the others by hand, and nobody knew which referrals were still waiting). An officer refers an
// inspected item; the agency's answer, its collection of the item (a TO_AGENCY custody event that
// ends the episode) or its refusal follow, each recorded once.

public protocol CustodyReferralStore: Sendable {
    /// Refers an item in custody, after its inspection, to an agency. Refused while the item has an
    /// open referral.
    func refer(_ draft: ReferralDraft, actor: String) async throws -> StoredReferral
    /// Records a step of a referral (once each): `response` (the agency answered), `collected`
    /// (the agency took the item: a TO_AGENCY event, witnessed when the item is seized) or
    /// `declined` (with the agency's reason in `note`).
    func recordReferralStep(referralID: Int64, step: String, note: String?, witness: String?, atMillis: Int64, actor: String) async throws -> StoredReferral
    func referral(id: Int64) async throws -> StoredReferral?
    /// Referrals notified in [from, to), or still open at `to`.
    func referrals(from: Int64, to: Int64) async throws -> [StoredReferral]
}

public struct ReferralDraft: Sendable, Equatable {
    public var s10: String
    /// FDA, USDA, USPIS, HSI, DEA, other
    public var agency: String
    /// phone, email, portal, in_person, other
    public var method: String
    /// Set when the referral is for a violation (it then counts as a hit).
    public var violationType: String?
    public var atMillis: Int64
    public init(s10: String, agency: String, method: String, violationType: String?, atMillis: Int64) {
        self.s10 = s10; self.agency = agency; self.method = method; self.violationType = violationType; self.atMillis = atMillis
    }
}

public struct StoredReferral: Sendable, Equatable, Codable {
    public var id: Int64
    public var itemID: Int64
    public var s10: String
    public var inspectionID: Int64
    public var agency: String
    public var method: String
    public var violationType: String?
    public var notifiedAtMillis: Int64
    public var notifiedBy: String
    public var respondedAtMillis: Int64?
    public var respondedBy: String?
    public var collectedAtMillis: Int64?
    public var collectedBy: String?
    public var declinedAtMillis: Int64?
    public var declinedBy: String?
    public var declineReason: String?
    public init(id: Int64, itemID: Int64, s10: String, inspectionID: Int64, agency: String, method: String, violationType: String?, notifiedAtMillis: Int64,
                notifiedBy: String, respondedAtMillis: Int64? = nil, respondedBy: String? = nil, collectedAtMillis: Int64? = nil, collectedBy: String? = nil,
                declinedAtMillis: Int64? = nil, declinedBy: String? = nil, declineReason: String? = nil) {
        self.id = id; self.itemID = itemID; self.s10 = s10; self.inspectionID = inspectionID; self.agency = agency; self.method = method
        self.violationType = violationType; self.notifiedAtMillis = notifiedAtMillis; self.notifiedBy = notifiedBy; self.respondedAtMillis = respondedAtMillis
        self.respondedBy = respondedBy; self.collectedAtMillis = collectedAtMillis; self.collectedBy = collectedBy; self.declinedAtMillis = declinedAtMillis
        self.declinedBy = declinedBy; self.declineReason = declineReason
    }

    /// Neither collected nor declined.
    public var isOpen: Bool { collectedAtMillis == nil && declinedAtMillis == nil }
    /// The time it closed, if it did.
    public var closedAtMillis: Int64? { collectedAtMillis ?? declinedAtMillis }

    public static let agencies = CustodyScanRules.agencies

    /// What the audit log keeps of a step's note (the agency's words may name the addressee): its
    /// SHA-256, empty for none.
    public static func noteHash(_ note: String?) -> String {
        guard let note, !note.isEmpty else { return "" }
        return ContentHash.of(Data(note.utf8)).hex
    }
    public static let methods = ["phone", "email", "portal", "in_person", "other"]
    public static let steps = ["response", "collected", "declined"]

    /// The steps both stores read a referral with.
    public static let stepsSQL = """
        (SELECT s.at FROM custody_referral_step s WHERE s.referral_id = r.id AND s.step = 'response') AS responded_at,
        (SELECT s.actor FROM custody_referral_step s WHERE s.referral_id = r.id AND s.step = 'response') AS responded_by,
        (SELECT s.at FROM custody_referral_step s WHERE s.referral_id = r.id AND s.step = 'collected') AS collected_at,
        (SELECT s.actor FROM custody_referral_step s WHERE s.referral_id = r.id AND s.step = 'collected') AS collected_by,
        (SELECT s.at FROM custody_referral_step s WHERE s.referral_id = r.id AND s.step = 'declined') AS declined_at,
        (SELECT s.actor FROM custody_referral_step s WHERE s.referral_id = r.id AND s.step = 'declined') AS declined_by,
        (SELECT s.note FROM custody_referral_step s WHERE s.referral_id = r.id AND s.step = 'declined') AS decline_reason
        """

    /// What a store checks before recording `step` (in the transaction); `seized` says whether the
    /// item is under seizure (a collection then needs a witness other than the actor).
    public func check(step: String, note: String?, witness: String?, atMillis: Int64, actor: String, seized: Bool) throws {
        guard Self.steps.contains(step) else { throw ArchiveError(.invalid, "VALUE_UNKNOWN: step \(step) is not one of \(Self.steps.joined(separator: ", "))") }
        guard isOpen else {
            throw ArchiveError(.refused, "referral \(id) is closed (\(collectedAtMillis != nil ? "collected" : "declined")); nothing more is recorded on it")
        }
        guard atMillis >= max(notifiedAtMillis, respondedAtMillis ?? 0) else {
            throw ArchiveError(.invalid, "DATE_ORDER: a referral's \(step) cannot precede its notification or the agency's answer")
        }
        switch step {
        case "response":
            guard respondedAtMillis == nil else { throw ArchiveError(.refused, "the agency's answer to referral \(id) was recorded already") }
        case "declined":
            guard !(note ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw ArchiveError(.invalid, "REQUIRED_MISSING: say why the agency declined (its reason)")
            }
        default: // collected
            if seized {
                let w = (witness ?? "").trimmingCharacters(in: .whitespaces)
                guard !w.isEmpty, w.lowercased() != actor.lowercased() else {
                    throw ArchiveError(.invalid, "WITNESS_REQUIRED: \(s10) is seized; its hand-over to \(agency) needs a witness other than you")
                }
            }
        }
    }
}
