import Archive
import Foundation
import RecordkeeperCore

/// Audit recommendations tracker: reports, their recommendations, owning office, concurrence,
/// target dates, status, corrective action plans, evidence (archive records) and the 90-day
/// updates auditors expect until a recommendation is closed.
public struct TrackerService: Sendable {
    public let archive: ArchiveHandle
    var store: any ArchiveStore { archive.store }
    public static let updateIntervalDays = 90

    public init(archive: ArchiveHandle) { self.archive = archive }

    public func addReport(_ report: AuditReport, actor: String) async throws -> AuditReport {
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "tracker.report", target: "audit_report")
        guard !report.reference.trimmingCharacters(in: .whitespaces).isEmpty else { throw ArchiveError(.invalid, "a report needs its reference, e.g. OIG-21-62") }
        let saved = try await store.saveAuditReport(report)
        try await store.appendAudit(AuditDraft(actor: actor, action: "tracker.report", target: "audit_report:\(saved.id)", detail: ["reference": saved.reference]))
        return saved
    }

    public func add(_ r: Recommendation, actor: String) async throws -> Recommendation {
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "tracker.recommendation", target: "audit_report:\(r.reportID)")
        guard ["concur", "non-concur", "partial"].contains(r.concurrence) else { throw ArchiveError(.invalid, "concurrence is concur, non-concur or partial") }
        let saved = try await store.saveRecommendation(r, note: "entered", actor: actor)
        try await store.appendAudit(AuditDraft(actor: actor, action: "tracker.recommendation", target: "recommendation:\(saved.id)", detail: ["number": String(r.number)]))
        return saved
    }

    public func get(_ id: Int64) async throws -> Recommendation {
        guard let r = try await store.recommendation(id: id) else { throw ArchiveError(.notFound, "no recommendation \(id); `recordkeeper tracker list` lists them") }
        return r
    }

    /// Changes status, office, target date or plan; an update sent to the auditor starts the next 90 days.
    public func update(id: Int64, status: Recommendation.Status? = nil, office: String? = nil, targetDate: CivilDate? = nil,
                       plan: String? = nil, updateSent: CivilDate? = nil, note: String, actor: String) async throws -> Recommendation {
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "tracker.update", target: "recommendation:\(id)")
        var r = try await get(id)
        if let status { r.status = status }
        if let office { r.office = office }
        if let targetDate { r.targetDate = targetDate.description }
        if let plan { r.correctiveActionPlan = plan }
        if let d = updateSent {
            r.lastUpdate = d.description
            r.nextUpdateDue = d.addingDays(Self.updateIntervalDays).description
        }
        if r.status == .closed { r.nextUpdateDue = nil }
        let saved = try await store.saveRecommendation(r, note: note, actor: actor)
        try await store.appendAudit(AuditDraft(actor: actor, action: "tracker.update", target: "recommendation:\(id)", detail: ["status": saved.status.rawValue, "note": note]))
        return saved
    }

    /// Links an archive record as evidence of the corrective action.
    public func addEvidence(id: Int64, recordID: Int64, actor: String) async throws -> Recommendation {
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "tracker.evidence", target: "recommendation:\(id)")
        guard try await store.message(id: recordID) != nil else { throw ArchiveError(.notFound, "no record \(recordID) to cite as evidence") }
        var r = try await get(id)
        if !r.evidence.contains(recordID) { r.evidence.append(recordID) }
        let saved = try await store.saveRecommendation(r, note: "evidence: record \(recordID)", actor: actor)
        try await store.appendAudit(AuditDraft(actor: actor, action: "tracker.evidence", target: "recommendation:\(id)", detail: ["record": String(recordID)]))
        return saved
    }

    public func reports() async throws -> [AuditReport] { try await store.auditReports() }
    public func list(reportID: Int64? = nil) async throws -> [Recommendation] { try await store.recommendations(reportID: reportID) }
    public func notes(id: Int64) async throws -> [IncidentNote] { try await store.recommendationNotes(id: id) }

    /// Open recommendations whose target date has passed or whose 90-day update is due.
    public func due(today: CivilDate = CivilDate.today()) async throws -> [(recommendation: Recommendation, what: String, due: String)] {
        var out: [(Recommendation, String, String)] = []
        for r in try await store.recommendations(reportID: nil) where r.status != .closed {
            if let u = r.nextUpdateDue, u <= today.addingDays(14).description { out.append((r, "90-day update to the auditor", u)) }
            if let t = r.targetDate, t < today.description { out.append((r, "target date passed", t)) }
        }
        return out.sorted { $0.2 < $1.2 }
    }

    // MARK: Demo data

    /// The six recommendations of OIG-21-62 and the eight of the March 2021 JFK mail-facility
    /// report, summarised from `shared/reference/seeds/` with the agency's stated concurrence,
    /// offices where its response names one, and target dates. Status follows OIG practice: a
    /// concurrence with planned action is open and resolved, a non-concurrence open and unresolved.
    public func seed(actor: String) async throws -> [Recommendation] {
        let caravan = try await addReport(AuditReport(reference: "OIG-21-62", title: "CBP Targeted Americans Associated with the 2018–2019 Migrant Caravan",
                                                      issuer: "DHS Office of Inspector General", issued: "2021"), actor: actor) // the seed documents give no day
        let mail = try await addReport(AuditReport(reference: "DHS-OIG JFK IMF (March 2021)",
                                                   title: "CBP Faced Challenges in Its Inspection Processes and Physical Security at the JFK International Mail Facility",
                                                   issuer: "DHS Office of Inspector General", issued: "2021-03-04"), actor: actor)
        typealias Row = (Int, String, String?, String, String?, String?)
        let caravanRows: [Row] = [
            (1, "Update the TECS lookout directive to clarify the bases for placing lookouts, and train every official who can place them.", "Office of Field Operations", "concur", "Directive update and revised training.", "2021-12-31"),
            (2, "Put in place procedures so officials update and remove lookouts as the TECS directive requires.", "Office of Field Operations", "concur", "Directive update; memorandum and muster to officers.", "2021-12-31"),
            (3, "Issue a policy on communicating with foreign governments about denying entry to U.S. citizens: when, who approves, how.", nil, "concur", "Revise the directive on disclosure of official information to foreign authorities.", "2022-07-29"),
            (4, "Review the disclosures of U.S. citizens' sensitive PII to Mexican officials (Oct 2018 – Mar 2019) and remediate any that broke disclosure rules.", nil, "concur", "Identify, review and remediate noncompliant disclosures.", "2022-03-31"),
            (5, "Train personnel on sharing information with foreign nations, including who may make foreign disclosures.", "Privacy and Diversity Office", "concur", "Virtual training, then a new course in the DHS learning system.", "2022-12-30"),
            (6, "End the operational use of WhatsApp, or ensure WhatsApp messages are retained as law, policy and records schedules require.", "Office of Information and Technology", "concur", "Explore continued use and pilot a managed messaging platform to replace WhatsApp.", "2021-12-31"),
        ]
        let mailRows: [Row] = [
            (1, "Provide the staff and equipment the JFK IMF needs to inspect mail in a timely manner.", "Office of Field Operations", "non-concur", "Resources are allocated nationally against a staffing shortage.", nil),
            (2, "Ensure seizures of prohibited items at the JFK IMF are recorded in SEACATS within 24 hours.", "Office of Field Operations", "concur", "Existing handbook and system checks; CBP asked that it be closed as implemented.", nil),
            (3, "Analyse and revise the JFK IMF targeting methodologies to raise the effective targeting rate.", "Office of Field Operations", "non-concur", "Targeting is evaluated continuously; CBP asked that it be closed as implemented.", nil),
            (4, "Establish a process to identify and reconcile targeted mail that USPS does not present.", "New York Field Office", "concur", "Review and enhance the process with USPS.", "2021-07-31"),
            (5, "Implement controls to secure mail in CBP's possession at the JFK IMF.", "Office of Field Operations", "concur", "Security policy review, training, quarterly reviews, tracking.", "2021-06-30"),
            (6, "Create policy and procedures so required system patches and registry keys are applied correctly.", "Office of Information and Technology", "concur", "Verify group-policy application more often; keep semi-monthly scan reviews.", "2021-03-31"),
            (7, "Plan improvements to the controls and reliability of the local database that monitors targeted mail.", "New York Field Office", "concur", "Action plan; decide which data to keep or retire the database.", "2021-04-30"),
            (8, "Work with the DHS Privacy Office so the Unclaimed/Abandonment database complies with DHS privacy policy.", "Privacy and Diversity Office", "concur", "Bring the database into compliance or move to an existing system of record.", "2021-04-30"),
        ]
        var out: [Recommendation] = []
        let existing = try await store.recommendations(reportID: nil)
        for (report, rows) in [(caravan, caravanRows), (mail, mailRows)] {
            for (n, text, office, concurrence, response, target) in rows {
                // Entered once: seeding again never overwrites what records staff have tracked since.
                if let held = existing.first(where: { $0.reportID == report.id && $0.number == n }) { out.append(held); continue }
                out.append(try await add(Recommendation(reportID: report.id, number: n, text: text, office: office, concurrence: concurrence,
                                                        response: response, targetDate: target,
                                                        status: concurrence == "non-concur" ? .openUnresolved : .openResolved), actor: actor))
            }
        }
        return out
    }
}
