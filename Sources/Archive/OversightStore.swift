import Foundation
import RecordkeeperCore

/// Unauthorized-disposition incidents (36 CFR 1230.14) as the archive keeps them.
public protocol OversightStore {
    /// Opens an incident; when `sourceRef` names one already opened (a rule that fired before),
    /// returns that one unchanged instead.
    func openIncident(_ draft: Incident, actor: String) async throws -> (Incident, created: Bool)
    func incidents() async throws -> [Incident]
    func incident(id: Int64) async throws -> Incident?
    /// Replaces the report's fields (never its id, source or opening), with a note of why.
    func updateIncident(_ incident: Incident, note: String, actor: String) async throws -> Incident
    func incidentNotes(id: Int64) async throws -> [IncidentNote]

    /// The log of reminders sent (and attempted).
    func logReminder(_ entry: ReminderLogEntry) async throws
    func reminderLog(limit: Int) async throws -> [ReminderLogEntry]
}

/// One reminder e-mail: to whom, about what, and whether the relay took it.
public struct ReminderLogEntry: Sendable, Hashable, Codable {
    public var sentAt: String
    public var custodian: String
    /// `YYYY-MM`: one reminder per custodian per month unless forced.
    public var period: String
    public var platforms: [String]
    public var subject: String
    /// `sent` or `failed`.
    public var status: String
    /// The relay's reply, or why it failed.
    public var detail: String
    public var actor: String
    public init(sentAt: String, custodian: String, period: String, platforms: [String], subject: String, status: String, detail: String, actor: String) {
        self.sentAt = sentAt
        self.custodian = custodian
        self.period = period
        self.platforms = platforms
        self.subject = subject
        self.status = status
        self.detail = detail
        self.actor = actor
    }
}

/// An unauthorized disposition: records destroyed, lost or altered outside a lawful disposition.
/// Its fields are the elements of the report 36 CFR 1230.14 asks the agency to send NARA.
public struct Incident: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Codable, CaseIterable { case open, reported, closed }
    public var id: Int64
    /// NARA's case number once assigned, e.g. UD-2022-0001.
    public var caseNumber: String?
    public var title: String
    public var status: Status
    /// `verify`, `finding` or `manual`.
    public var source: String
    /// What opened it, so the same evidence never opens a second incident.
    public var sourceRef: String?
    public var openedAt: String
    public var openedBy: String
    // 1230.14(a)(1)–(5), and what NARA's letters ask alongside.
    public var description: String
    public var volume: Int?
    public var recordsFrom: String?
    public var recordsTo: String?
    public var office: String?
    public var circumstances: String?
    public var safeguards: String?
    public var salvage: String?
    public var corrective: String?
    public var policies: String?
    /// Record ids the archive can point to (deletion markers, altered records).
    public var records: [Int64]
    /// The report is due 30 days after the incident was opened.
    public var reportDue: String
    public var reportedAt: String?
    /// After the report, NARA expects an update every quarter until it closes the case.
    public var nextUpdateDue: String?
    public var closedAt: String?

    public init(id: Int64 = 0, caseNumber: String? = nil, title: String, status: Status = .open, source: String, sourceRef: String? = nil,
                openedAt: String = "", openedBy: String = "", description: String, volume: Int? = nil, recordsFrom: String? = nil,
                recordsTo: String? = nil, office: String? = nil, circumstances: String? = nil, safeguards: String? = nil, salvage: String? = nil,
                corrective: String? = nil, policies: String? = nil, records: [Int64] = [], reportDue: String = "", reportedAt: String? = nil,
                nextUpdateDue: String? = nil, closedAt: String? = nil) {
        self.id = id
        self.caseNumber = caseNumber
        self.title = title
        self.status = status
        self.source = source
        self.sourceRef = sourceRef
        self.openedAt = openedAt
        self.openedBy = openedBy
        self.description = description
        self.volume = volume
        self.recordsFrom = recordsFrom
        self.recordsTo = recordsTo
        self.office = office
        self.circumstances = circumstances
        self.safeguards = safeguards
        self.salvage = salvage
        self.corrective = corrective
        self.policies = policies
        self.records = records
        self.reportDue = reportDue
        self.reportedAt = reportedAt
        self.nextUpdateDue = nextUpdateDue
        self.closedAt = closedAt
    }
}

public struct IncidentNote: Sendable, Hashable, Codable {
    public var at: String
    public var actor: String
    public var note: String
    public init(at: String, actor: String, note: String) {
        self.at = at
        self.actor = actor
        self.note = note
    }
}

/// Audit reports (Inspector General, GAO, NARA inspections) and their recommendations.
public protocol TrackerStore {
    func saveAuditReport(_ report: AuditReport) async throws -> AuditReport
    func auditReports() async throws -> [AuditReport]
    func saveRecommendation(_ r: Recommendation, note: String, actor: String) async throws -> Recommendation
    func recommendations(reportID: Int64?) async throws -> [Recommendation]
    func recommendation(id: Int64) async throws -> Recommendation?
    func recommendationNotes(id: Int64) async throws -> [IncidentNote]
}

public struct AuditReport: Sendable, Hashable, Codable {
    public var id: Int64
    /// The report's number, e.g. OIG-21-62.
    public var reference: String
    public var title: String
    public var issuer: String
    public var issued: String
    public init(id: Int64 = 0, reference: String, title: String, issuer: String, issued: String) {
        self.id = id
        self.reference = reference
        self.title = title
        self.issuer = issuer
        self.issued = issued
    }
}

public struct Recommendation: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case openUnresolved = "open-unresolved", openResolved = "open-resolved", closed
    }
    public var id: Int64
    public var reportID: Int64
    public var number: Int
    public var text: String
    public var office: String?
    /// `concur`, `non-concur` or `partial`.
    public var concurrence: String
    public var response: String?
    public var targetDate: String?
    public var status: Status
    public var correctiveActionPlan: String?
    /// Archive records that evidence the corrective action (memos, training notices, e-mails).
    public var evidence: [Int64]
    public var lastUpdate: String?
    /// 90 days after the last update to the auditor.
    public var nextUpdateDue: String?
    public init(id: Int64 = 0, reportID: Int64, number: Int, text: String, office: String?, concurrence: String, response: String?,
                targetDate: String?, status: Status, correctiveActionPlan: String? = nil, evidence: [Int64] = [], lastUpdate: String? = nil,
                nextUpdateDue: String? = nil) {
        self.id = id
        self.reportID = reportID
        self.number = number
        self.text = text
        self.office = office
        self.concurrence = concurrence
        self.response = response
        self.targetDate = targetDate
        self.status = status
        self.correctiveActionPlan = correctiveActionPlan
        self.evidence = evidence
        self.lastUpdate = lastUpdate
        self.nextUpdateDue = nextUpdateDue
    }
}
