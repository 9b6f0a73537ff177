import Archive
import Crypto
import Foundation
import RecordkeeperCore

/// Unauthorized-disposition incidents (36 CFR 1230.14): opened by `verify` when records are
/// missing or altered, by the capture findings when records were destroyed before capture, or by
/// hand; carried to the report NARA asks for within 30 days and quarterly updates after.
public struct IncidentService: Sendable {
    public let archive: ArchiveHandle
    var store: any ArchiveStore { archive.store }

    public init(archive: ArchiveHandle) { self.archive = archive }

    /// The report's fields a records officer fills in or changes.
    public struct Fields: Sendable {
        public var title: String?
        public var caseNumber: String?
        public var description: String?
        public var volume: Int?
        public var recordsFrom: String?
        public var recordsTo: String?
        public var office: String?
        public var circumstances: String?
        public var safeguards: String?
        public var salvage: String?
        public var corrective: String?
        public var policies: String?
        public init(title: String? = nil, caseNumber: String? = nil, description: String? = nil, volume: Int? = nil, recordsFrom: String? = nil,
                    recordsTo: String? = nil, office: String? = nil, circumstances: String? = nil, safeguards: String? = nil,
                    salvage: String? = nil, corrective: String? = nil, policies: String? = nil) {
            self.title = title; self.caseNumber = caseNumber; self.description = description; self.volume = volume
            self.recordsFrom = recordsFrom; self.recordsTo = recordsTo; self.office = office; self.circumstances = circumstances
            self.safeguards = safeguards; self.salvage = salvage; self.corrective = corrective; self.policies = policies
        }
        func apply(to i: inout Incident) {
            if let v = title { i.title = v }
            if let v = caseNumber { i.caseNumber = v }
            if let v = description { i.description = v }
            if let v = volume { i.volume = v }
            if let v = recordsFrom { i.recordsFrom = v }
            if let v = recordsTo { i.recordsTo = v }
            if let v = office { i.office = v }
            if let v = circumstances { i.circumstances = v }
            if let v = safeguards { i.safeguards = v }
            if let v = salvage { i.salvage = v }
            if let v = corrective { i.corrective = v }
            if let v = policies { i.policies = v }
        }
    }

    public func open(title: String, fields: Fields, actor: String) async throws -> Incident {
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "incident.open", target: "incident")
        guard !title.trimmingCharacters(in: .whitespaces).isEmpty else { throw ArchiveError(.invalid, "an incident needs a title") }
        if let c = fields.caseNumber { try Self.checkCaseNumber(c) }
        var draft = Incident(title: title, source: "manual", description: fields.description ?? "")
        fields.apply(to: &draft)
        let (i, _) = try await store.openIncident(draft, actor: actor)
        try await store.appendAudit(AuditDraft(actor: actor, action: "incident.open", target: "incident:\(i.id)", detail: ["source": "manual", "title": i.title]))
        return i
    }

    static func checkCaseNumber(_ c: String) throws {
        guard c.range(of: #"^UD-\d{4}-\d{4}$"#, options: .regularExpression) != nil else {
            throw ArchiveError(.invalid, "a NARA case number looks like UD-2022-0001")
        }
    }

    public func update(id: Int64, fields: Fields, note: String?, actor: String) async throws -> Incident {
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "incident.update", target: "incident:\(id)")
        var i = try await get(id)
        if let c = fields.caseNumber { try Self.checkCaseNumber(c) }
        fields.apply(to: &i)
        let saved = try await store.updateIncident(i, note: note ?? "report fields updated", actor: actor)
        try await store.appendAudit(AuditDraft(actor: actor, action: "incident.update", target: "incident:\(id)", detail: ["note": note ?? ""]))
        return saved
    }

    /// The report went to NARA: quarterly updates fall due from then.
    public func markReported(id: Int64, on date: CivilDate, actor: String) async throws -> Incident {
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "incident.reported", target: "incident:\(id)")
        var i = try await get(id)
        guard i.status == .open else { throw ArchiveError(.refused, "incident \(id) is \(i.status.rawValue), not open") }
        i.status = .reported
        i.reportedAt = date.description
        i.nextUpdateDue = date.addingDays(91).description
        let saved = try await store.updateIncident(i, note: "report sent to NARA on \(date)", actor: actor)
        try await store.appendAudit(AuditDraft(actor: actor, action: "incident.reported", target: "incident:\(id)", detail: ["date": date.description]))
        return saved
    }

    /// A quarterly update was sent: the next one is due a quarter later.
    public func recordUpdate(id: Int64, on date: CivilDate, note: String, actor: String) async throws -> Incident {
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "incident.progress", target: "incident:\(id)")
        var i = try await get(id)
        guard i.status == .reported else { throw ArchiveError(.refused, "incident \(id) is \(i.status.rawValue); updates follow the report") }
        i.nextUpdateDue = date.addingDays(91).description
        let saved = try await store.updateIncident(i, note: "quarterly update sent on \(date): \(note)", actor: actor)
        try await store.appendAudit(AuditDraft(actor: actor, action: "incident.progress", target: "incident:\(id)", detail: ["date": date.description]))
        return saved
    }

    public func close(id: Int64, reason: String, actor: String) async throws -> Incident {
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "incident.close", target: "incident:\(id)")
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ArchiveError(.invalid, "closing an incident needs a reason (e.g. NARA closed the case)") }
        var i = try await get(id)
        i.status = .closed
        i.closedAt = CivilDate.today().description
        i.nextUpdateDue = nil
        let saved = try await store.updateIncident(i, note: "closed: \(reason)", actor: actor)
        try await store.appendAudit(AuditDraft(actor: actor, action: "incident.close", target: "incident:\(id)", detail: ["reason": reason]))
        return saved
    }

    public func get(_ id: Int64) async throws -> Incident {
        guard let i = try await store.incident(id: id) else { throw ArchiveError(.notFound, "no incident \(id); `recordkeeper incident list` lists them") }
        return i
    }

    public func list() async throws -> [Incident] { try await store.incidents() }

    public func notes(id: Int64) async throws -> [IncidentNote] { try await store.incidentNotes(id: id) }

    /// What is due: reports within 30 days of opening, then quarterly updates; overdue first.
    public func deadlines(today: CivilDate = CivilDate.today()) async throws -> [(incident: Incident, what: String, due: String, overdue: Bool)] {
        var out: [(Incident, String, String, Bool)] = []
        for i in try await store.incidents() {
            switch i.status {
            case .open:
                let due = String(i.reportDue.prefix(10))
                out.append((i, "report to NARA (36 CFR 1230.14)", due, due < today.description))
            case .reported:
                if let due = i.nextUpdateDue { out.append((i, "quarterly update to NARA", due, due < today.description)) }
            case .closed: break
            }
        }
        return out.sorted { ($0.3 ? 0 : 1, $0.2) < ($1.3 ? 0 : 1, $1.2) }
    }

    // MARK: Opened by the archive itself

    /// The findings as of `asOf`, and an incident opened for each that calls for one and has none
    /// yet, in `actor`'s name: `serve`'s findings job (`system:findings`) or a records officer's
    /// explicit act. The findings' own read is not audited here; each incident opened is.
    public func openForFindings(asOf: Date = Date(), actor: String) async throws -> (findings: [Finding], opened: [Incident]) {
        let findings = try await ComplianceService(archive: archive).computeFindings(asOf: asOf)
        return (findings, try await openFromFindings(findings, actor: actor))
    }

    /// Whether a finding calls for an incident: records destroyed before capture by the agency's
    /// own people, or the other side of a conversation never captured.
    public static func callsForIncident(_ f: Finding) -> Bool { f.rule == "deleted_before_capture" || f.rule == "one_sided" }

    /// The reference an incident opened for a finding carries (one per rule and conversation).
    public static func reference(_ f: Finding) -> String { "finding:\(f.rule):conversation:\(f.conversationID ?? 0)" }

    /// Opens an incident for each finding that shows records destroyed before capture (once per
    /// conversation), with volume and dates computed from the archive.
    public func openFromFindings(_ findings: [Finding], actor: String) async throws -> [Incident] {
        var opened: [Incident] = []
        for f in findings where Self.callsForIncident(f) {
            let ref = Self.reference(f)
            var draft = Incident(title: f.rule == "one_sided"
                                    ? "Messages of other participants never captured: \(f.conversation ?? "?") (\(f.platform))"
                                    : "Messages deleted before capture: \(f.conversation ?? "?") (\(f.platform))",
                                 source: "finding", sourceRef: ref, description: f.summary, records: f.records)
            draft.volume = f.volume
            draft.recordsFrom = f.firstSent
            draft.recordsTo = f.lastSent
            draft.circumstances = "Found by Recordkeeper's capture findings (\(f.rule)) for custodian \(f.custodian): " + f.evidence.joined(separator: "; ")
            let (i, created) = try await store.openIncident(draft, actor: actor)
            if created {
                try await store.appendAudit(AuditDraft(actor: actor, action: "incident.open", target: "incident:\(i.id)", detail: ["source": ref]))
                opened.append(i)
            }
        }
        return opened
    }

    /// Opens one incident for what a `verify` run found missing or altered (the same problems
    /// found again do not open another).
    public func openFromVerify(_ report: VerificationReport, actor: String) async throws -> Incident? {
        // A capture nobody vouched for is an addition to check against its export, not a
        // disposition: it fails verify, but it is no 36 CFR 1230.14 incident by itself.
        let serious = report.problems.filter { !["search_index_incomplete", "batch_not_vouched"].contains($0.code) }
        guard !serious.isEmpty else { return nil }
        let key = SHA256.hash(data: Data(serious.map { "\($0.code) \($0.item)" }.sorted().joined(separator: "\n").utf8)).map { String(format: "%02x", $0) }.joined()
        let messages = serious.compactMap { p -> Int64? in p.item.hasPrefix("message:") ? Int64(p.item.dropFirst(8)) : nil }
        let counts = Dictionary(grouping: serious, by: \.code).map { "\($0.value.count) \($0.key)" }.sorted().joined(separator: ", ")
        var draft = Incident(title: "Records missing or altered in the archive (verify found \(serious.count) problem\(serious.count == 1 ? "" : "s"))",
                             source: "verify", sourceRef: "verify:" + key.prefix(32),
                             description: "Archive verification found records missing or altered outside a lawful disposition: \(counts).",
                             records: Array(messages.prefix(200)))
        draft.volume = messages.isEmpty ? nil : messages.count
        draft.circumstances = "Found by `recordkeeper verify` on \(Timestamp.iso(millis: Timestamp.nowMillis())): "
            + serious.prefix(20).map { "\($0.code) \($0.item): \($0.detail)" }.joined(separator: "; ")
        let (i, created) = try await store.openIncident(draft, actor: actor)
        if created { try await store.appendAudit(AuditDraft(actor: actor, action: "incident.open", target: "incident:\(i.id)", detail: ["source": "verify"])) }
        return i
    }

    // MARK: The report

    /// The report for the records officer's signature, its elements in the order of 36 CFR 1230.14(a).
    public func render(_ i: Incident, markdown: Bool, signer: String?) -> String {
        let missing = "_to be completed_"
        let sections: [(String, String)] = [
            ("1. Description of the records", i.description + "\n\n"
                + "- Volume: \(i.volume.map { "\($0) records" } ?? "unknown")\n"
                + "- Dates: \(i.recordsFrom ?? "unknown") to \(i.recordsTo ?? "unknown")"
                + (i.records.isEmpty ? "" : "\n- Records in the archive that show it: \(i.records.prefix(50).map(String.init).joined(separator: ", "))")),
            ("2. Office maintaining the records", i.office ?? missing),
            ("3. Circumstances of the disposition", i.circumstances ?? missing),
            ("4. Safeguards taken to prevent recurrence", i.safeguards ?? missing),
            ("5. Actions taken to salvage, retrieve or reconstruct the records", i.salvage ?? missing),
            ("6. Corrective actions", i.corrective ?? missing),
            ("7. Policies, training and records schedules in place", i.policies ?? missing),
        ]
        let header = [
            ("NARA case", i.caseNumber ?? "not yet assigned"), ("Incident", "\(i.id), opened \(i.openedAt.prefix(10)) (\(i.source))"),
            ("Status", i.status.rawValue), ("Report due", String(i.reportDue.prefix(10))),
        ] + (i.reportedAt.map { [("Reported", $0)] } ?? []) + (i.nextUpdateDue.map { [("Next quarterly update", $0)] } ?? [])
        if markdown {
            var md = "# Report of unauthorized disposition (36 CFR 1230.14)\n\n## \(i.title)\n\n"
            md += header.map { "- **\($0.0):** \($0.1)" }.joined(separator: "\n") + "\n"
            for (h, body) in sections { md += "\n## \(h)\n\n\(body)\n" }
            md += "\n---\n\nSubmitted by: \(signer ?? "____________________"), Agency Records Officer\n\nSignature: ____________________    Date: ____________\n"
            return md
        }
        let e = TextRecipes.htmlEscaped
        var html = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Report of unauthorized disposition \(e(i.caseNumber ?? "#\(i.id)"))</title>"
        html += "<body><h1>Report of unauthorized disposition (36 CFR 1230.14)</h1><h2>\(e(i.title))</h2><dl>"
        html += header.map { "<dt>\(e($0.0))</dt><dd>\(e($0.1))</dd>" }.joined() + "</dl>"
        for (h, body) in sections {
            html += "<h2>\(e(h))</h2>" + body.split(separator: "\n", omittingEmptySubsequences: true).map { "<p>\(e(String($0)).replacingOccurrences(of: "_to be completed_", with: "<em>to be completed</em>"))</p>" }.joined()
        }
        html += "<hr><p>Submitted by: \(e(signer ?? "____________________")), Agency Records Officer</p><p>Signature: ____________________ Date: ____________</p></body></html>\n"
        return html
    }
}
