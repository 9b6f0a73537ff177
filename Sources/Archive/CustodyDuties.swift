import Foundation
import RecordkeeperCore

// Duties and fees assessed on an inspected item (CUSTODY.md §2 outcome `duty_assessed`, finding F16:
// the facility did not target mail owing duties and fees, and nothing recorded the revenue an
// examination found). An assessment follows the end of an inspection, once per inspection, and
// counts as a hit with violation `revenue`.

public protocol CustodyDutyStore: Sendable {
    /// Records a duty or fee assessed on an item in custody after its inspection. Refused for a
    /// seized or detained item, during an open inspection, and twice for one inspection.
    func assessDuty(_ draft: DutyDraft, actor: String) async throws -> StoredDutyAssessment
    /// Assessments made in [from, to), oldest first.
    func dutyAssessments(from: Int64, to: Int64) async throws -> [StoredDutyAssessment]
}

public struct DutyDraft: Sendable, Equatable {
    public var s10: String
    /// duty, fee, duty_and_fee
    public var kind: String
    /// In the currency's minor unit (cents).
    public var amountMinor: Int64
    /// ISO 4217, upper case.
    public var currency: String
    /// The entry or receipt the assessment was made under (a mail entry number), if any.
    public var entryReference: String?
    public var atMillis: Int64
    public init(s10: String, kind: String, amountMinor: Int64, currency: String, entryReference: String?, atMillis: Int64) {
        self.s10 = s10; self.kind = kind; self.amountMinor = amountMinor; self.currency = currency; self.entryReference = entryReference; self.atMillis = atMillis
    }
}

public struct StoredDutyAssessment: Sendable, Equatable, Codable {
    public var id: Int64
    public var itemID: Int64
    public var s10: String
    public var inspectionID: Int64
    public var kind: String
    public var amountMinor: Int64
    public var currency: String
    public var entryReference: String?
    public var assessedAtMillis: Int64
    public var assessedBy: String
    public init(id: Int64, itemID: Int64, s10: String, inspectionID: Int64, kind: String, amountMinor: Int64, currency: String, entryReference: String?,
                assessedAtMillis: Int64, assessedBy: String) {
        self.id = id; self.itemID = itemID; self.s10 = s10; self.inspectionID = inspectionID; self.kind = kind; self.amountMinor = amountMinor
        self.currency = currency; self.entryReference = entryReference; self.assessedAtMillis = assessedAtMillis; self.assessedBy = assessedBy
    }

    public static let kinds = ["duty", "fee", "duty_and_fee"]

    /// What the audit log records of an assessment (verify compares it).
    public var auditDetail: [String: String] {
        ["s10": s10, "inspection": String(inspectionID), "kind": kind, "amount_minor": String(amountMinor), "currency": currency,
         "entry": entryReference ?? "", "at": String(assessedAtMillis)]
    }
}
