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
