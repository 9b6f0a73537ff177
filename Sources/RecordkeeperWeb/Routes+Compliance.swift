import Archive
import Foundation
import Hummingbird
import Recordkeeper
import RecordkeeperCore

/// Oversight: the compliance dashboard, its reports as JSON, and unauthorized-disposition incidents.
/// Records officers and auditors see them (the worst cases name conversations, never their text).
extension WebApp {
    static let oversight: Access = .roles([.recordsOfficer, .auditor])

    func addComplianceRoutes(_ r: RouteBuilder) {
        r.add(.get, "/compliance", Self.oversight, "Compliance dashboard: 20-day rule, findings, timers, app inventory, incidents", limited: true) { input in
            let p = try input.user
            let service = ComplianceService(archive: self.archive)
            let twenty = try await service.twentyDayRule(actor: p.actor)
            let findings = try await service.findings(actor: p.actor)
            let timers = try await service.timers(actor: p.actor)
            let inventory = try await service.inventory(findings: findings, actor: p.actor)
            let due = try await IncidentService(archive: self.archive).deadlines()
            let incidents = try await IncidentService(archive: self.archive).list()
            let tracker = TrackerService(archive: self.archive)
            return Respond.html(self.compliancePage(p, twenty: twenty, findings: findings, timers: timers, inventory: inventory,
                                                    incidents: incidents, due: due, reports: try await tracker.reports(),
                                                    recommendations: try await tracker.list(),
                                                    reminders: try await ReminderService(archive: self.archive).log(limit: 20),
                                                    notice: Notice.from(input.query)))
        }
        // Reading the findings opens nothing; opening the incidents they call for is an act, in
        // the name of the records officer who asks (or of the system, by serve's hourly job).
        r.add(.post, "/incidents/from-findings", .roles([.recordsOfficer]),
              "Open an incident for each capture finding that calls for one and has none yet") { input in
            let p = try input.user
            _ = try await IncidentService(archive: self.archive).openForFindings(actor: p.actor)
            return Respond.seeOther("/compliance" + Notice.incidentsOpened.query + "#incidents")
        }
        r.add(.post, "/api/v1/incidents/from-findings", .roles([.recordsOfficer]),
              "Open an incident for each capture finding that calls for one and has none yet; answers the incidents opened now") { input in
            let p = try input.user
            let (findings, opened) = try await IncidentService(archive: self.archive).openForFindings(actor: p.actor)
            struct Out: Encodable { var callingForIncident: Int; var opened: [Incident] }
            return try Respond.json(Out(callingForIncident: findings.filter(IncidentService.callsForIncident).count, opened: opened),
                                    status: opened.isEmpty ? .ok : .created)
        }
        r.add(.get, "/incidents/:id", Self.oversight, "An incident's report to NARA (36 CFR 1230.14), ready for signature") { input in
            let p = try input.user
            let service = IncidentService(archive: self.archive)
            let incident = try await service.get(try input.id())
            try await self.archive.store.appendReadAudit(AuditDraft(actor: p.actor, action: "incident.render", target: "incident:\(incident.id)", detail: ["format": "html"]))
            return Respond.html(self.incidentPage(p, incident, notes: try await service.notes(id: incident.id),
                                                  report: service.render(incident, markdown: true, signer: nil)))
        }
        r.add(.get, "/api/v1/reports/twenty-day", Self.oversight, "The 20-day rule per custodian, platform and month, with the worst cases", limited: true) { input in
            try Respond.json(try await ComplianceService(archive: self.archive).twentyDayRule(actor: try input.user.actor))
        }
        r.add(.get, "/api/v1/reports/findings", Self.oversight, "Capture completeness findings with severity and evidence", limited: true) { input in
            try Respond.json(["findings": try await ComplianceService(archive: self.archive).findings(actor: try input.user.actor)])
        }
        r.add(.get, "/api/v1/reports/timers", Self.oversight, "Disappearing-message settings: who, where, when", limited: true) { input in
            try Respond.json(["timers": try await ComplianceService(archive: self.archive).timers(actor: try input.user.actor)])
        }
        r.add(.get, "/api/v1/reports/inventory", Self.oversight, "Messaging apps in use and their compliance status", limited: true) { input in
            try Respond.json(["apps": try await ComplianceService(archive: self.archive).inventory(actor: try input.user.actor)])
        }
        r.add(.get, "/api/v1/reminders", Self.oversight, "The log of monthly export reminders sent and attempted, newest first") { input in
            _ = try input.user
            return try Respond.json(["reminders": try await ReminderService(archive: self.archive).log(limit: 1000)])
        }
        r.add(.get, "/api/v1/recommendations", Self.oversight, "Audit reports and their recommendations") { input in
            _ = try input.user
            let tracker = TrackerService(archive: self.archive)
            struct Out: Encodable { var reports: [AuditReport]; var recommendations: [Recommendation] }
            return try Respond.json(Out(reports: try await tracker.reports(), recommendations: try await tracker.list()))
        }
        r.add(.get, "/api/v1/incidents", Self.oversight, "Unauthorized-disposition incidents") { input in
            _ = try input.user
            return try Respond.json(["incidents": try await IncidentService(archive: self.archive).list()])
        }
        r.add(.get, "/api/v1/incidents/:id", Self.oversight, "One incident with its history") { input in
            _ = try input.user
            let service = IncidentService(archive: self.archive)
            let id = try input.id()
            struct Out: Encodable { var incident: Incident; var history: [IncidentNote] }
            return try Respond.json(Out(incident: try await service.get(id), history: try await service.notes(id: id)))
        }
    }

    func compliancePage(_ p: Principal, twenty: TwentyDayReport, findings: [Finding], timers: [TimerChange], inventory: [InventoryRow],
                        incidents: [Incident], due: [(incident: Incident, what: String, due: String, overdue: Bool)],
                        reports: [AuditReport] = [], recommendations: [Recommendation] = [], reminders: [ReminderLogEntry] = [],
                        notice: String? = nil) -> HTML {
        let reminderRows = reminders.html { e in
            "<tr><td>\(e.sentAt)</td><td>\(e.custodian)</td><td>\(e.period)</td><td>\(e.platforms.joined(separator: ", "))</td><td>\(e.status)\(e.status == "failed" ? ": " + e.detail : "")</td></tr>"
        }
        let today = CivilDate.today().description
        let recRows = recommendations.html { r in
            let ref = reports.first { $0.id == r.reportID }?.reference ?? "?"
            let late = r.status != .closed && (r.targetDate.map { $0 < today } ?? false)
            return "<tr><td>\(ref) R\(r.number)</td><td>\(r.text)</td><td>\(r.office ?? "—")</td><td>\(r.concurrence)</td><td>\(r.targetDate ?? "—")\(late ? " <strong class=\"error\">passed</strong>" as HTML : .empty)</td><td>\(r.status.rawValue)</td><td>\(r.nextUpdateDue ?? "—")</td></tr>"
        }
        let t = twenty.totals
        let lagRows = twenty.rows.html { r in
            "<tr><td>\(r.custodian)</td><td>\(r.platform)</td><td>\(r.month)</td><td class=\"num\">\(Fmt.count(r.onTime))</td><td class=\"num\">\(Fmt.count(r.late))</td><td class=\"num\">\(Fmt.count(r.neverForwarded))</td><td class=\"num\">\(String(format: "%.1f", r.worstLagDays))</td></tr>"
        }
        let worst = twenty.worst.prefix(10).html { w in
            "<li><a href=\"/messages/\(w.messageID)\">record \(w.messageID)</a> — \(w.custodian), \(w.platform) “\(w.conversation)”: sent \(w.sentLocal), \(w.route) \(String(w.arrived.prefix(10))), \(String(format: "%.1f", w.lagDays)) days</li>"
        }
        let opened = Dictionary(incidents.compactMap { i in i.sourceRef.map { ($0, i.id) } }, uniquingKeysWith: { a, _ in a })
        var pending = 0
        let findingRows = findings.html { f in
            let place: HTML = f.conversationID.map { "<a href=\"/conversations/\($0)\">\(f.conversation ?? "conversation \($0)")</a>" as HTML } ?? "—"
            var incident: HTML = "—"
            if IncidentService.callsForIncident(f) {
                if let id = opened[IncidentService.reference(f)] { incident = "<a href=\"/incidents/\(id)\">incident \(id)</a>" } else { incident = "not opened yet"; pending += 1 }
            }
            return "<tr><td><span class=\"sev-\(f.severity.rawValue)\">\(f.severity.rawValue)</span></td><td>\(f.rule)</td><td>\(f.custodian)</td><td>\(f.platform)</td><td>\(place)</td><td>\(f.summary)<details><summary>Evidence</summary><ul>\(f.evidence.html { "<li>\($0)</li>" })</ul></details></td><td>\(incident)</td></tr>"
        }
        let openButton: HTML = pending > 0 && p.has(.recordsOfficer) ? """
            <form method="post" action="/incidents/from-findings">\(pages.csrfField(p))<p>\(pending) finding\(pending == 1 ? " calls" : "s call") for an incident not opened yet (the archive opens them within the hour). <button type="submit">Open \(pending == 1 ? "it" : "them") now, in my name</button></p></form>
            """ : .empty
        let timerRows = timers.suffix(50).reversed().html { tc in
            "<tr><td>\(Fmt.local(tc.notice.sentLocal))</td><td>\(tc.state)</td><td>\(tc.notice.platform)</td><td><a href=\"/messages/\(tc.notice.messageID)\">\(tc.notice.conversation)</a></td><td>\(tc.notice.who ?? "—")</td></tr>"
        }
        let inventoryRows = inventory.filter { $0.status != "not in use" }.html { a in
            "<tr><td>\(a.name)</td><td>\(a.managed ? "managed" : "unmanaged")</td><td>\(a.captureMethod)</td><td class=\"num\">\(a.users)</td><td class=\"num\">\(a.personalAccounts)</td><td class=\"num\">\(Fmt.count(a.records))</td><td>\(a.status)\(a.openFindings > 0 ? " (\(a.openFindings) findings)" : "")</td></tr>"
        }
        let incidentRows = incidents.html { i in
            let d = due.first { $0.incident.id == i.id }
            let dueText: HTML = d.map { "\($0.overdue ? "<strong class=\"error\">OVERDUE</strong> " as HTML : .empty)\($0.what) due \($0.due)" } ?? "—"
            return "<tr><td><a href=\"/incidents/\(i.id)\">\(i.id)</a></td><td>\(i.caseNumber ?? "—")</td><td>\(i.title)</td><td>\(i.status.rawValue)</td><td>\(dueText)</td></tr>"
        }
        return pages.page("Compliance", principal: p, current: "/compliance", notice: notice, """
            <section aria-labelledby="twenty"><h2 id="twenty">20-day rule (44 U.S.C. 2911)</h2>
            <p>Messages on personal accounts: <strong>\(Fmt.count(t.onTime))</strong> forwarded on time, <strong>\(Fmt.count(t.late))</strong> late, <strong>\(Fmt.count(t.neverForwarded))</strong> never forwarded.</p>
            \(twenty.rows.isEmpty ? "<p>No accounts are registered as personal.</p>" as HTML : """
            <table><caption class="visually-hidden">Per custodian, platform and month</caption><thead><tr><th scope="col">Custodian</th><th scope="col">Platform</th><th scope="col">Month</th><th scope="col">On time</th><th scope="col">Late</th><th scope="col">Never forwarded</th><th scope="col">Worst lag (days)</th></tr></thead><tbody>\(lagRows)</tbody></table>
            <h3>Worst cases</h3><ul>\(worst)</ul>
            """ as HTML)</section>
            <section aria-labelledby="findings"><h2 id="findings">Capture findings (\(findings.count))</h2>
            \(findings.isEmpty ? "<p>No findings.</p>" as HTML : "<table><caption class=\"visually-hidden\">Findings, most severe first</caption><thead><tr><th scope=\"col\">Severity</th><th scope=\"col\">Rule</th><th scope=\"col\">Custodian</th><th scope=\"col\">Platform</th><th scope=\"col\">Conversation</th><th scope=\"col\">What</th><th scope=\"col\">Incident</th></tr></thead><tbody>\(findingRows)</tbody></table>" as HTML)\(openButton)</section>
            <section aria-labelledby="incidents"><h2 id="incidents">Unauthorized-disposition incidents (36 CFR 1230.14)</h2>
            \(incidents.isEmpty ? "<p>None.</p>" as HTML : "<table><caption class=\"visually-hidden\">Incidents and deadlines</caption><thead><tr><th scope=\"col\">Id</th><th scope=\"col\">NARA case</th><th scope=\"col\">Title</th><th scope=\"col\">Status</th><th scope=\"col\">Due</th></tr></thead><tbody>\(incidentRows)</tbody></table>" as HTML)</section>
            <section aria-labelledby="timers"><h2 id="timers">Disappearing-message settings</h2>
            \(timers.isEmpty ? "<p>None in the archive.</p>" as HTML : "<table><caption class=\"visually-hidden\">Newest first</caption><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Setting</th><th scope=\"col\">Platform</th><th scope=\"col\">Conversation</th><th scope=\"col\">Who</th></tr></thead><tbody>\(timerRows)</tbody></table>" as HTML)</section>
            <section aria-labelledby="recs"><h2 id="recs">Audit recommendations</h2>
            \(recommendations.isEmpty ? "<p>No audit reports entered (<code>recordkeeper tracker seed</code> enters the demo reports).</p>" as HTML : "<table><caption class=\"visually-hidden\">Recommendations by report</caption><thead><tr><th scope=\"col\">Report</th><th scope=\"col\">Recommendation</th><th scope=\"col\">Office</th><th scope=\"col\">Agency</th><th scope=\"col\">Target</th><th scope=\"col\">Status</th><th scope=\"col\">Next update</th></tr></thead><tbody>\(recRows)</tbody></table>" as HTML)</section>
            <section aria-labelledby="reminders"><h2 id="reminders">Export reminders</h2>
            \(reminders.isEmpty ? "<p>None sent yet (<code>recordkeeper remind send</code>, monthly).</p>" as HTML : "<table><caption class=\"visually-hidden\">The latest 20, newest first</caption><thead><tr><th scope=\"col\">When (UTC)</th><th scope=\"col\">Custodian</th><th scope=\"col\">Month</th><th scope=\"col\">Apps</th><th scope=\"col\">Outcome</th></tr></thead><tbody>\(reminderRows)</tbody></table>" as HTML)</section>
            <section aria-labelledby="apps"><h2 id="apps">Messaging apps in use</h2>
            <table><caption class="visually-hidden">Apps with users or records</caption><thead><tr><th scope="col">App</th><th scope="col">Managed</th><th scope="col">Capture</th><th scope="col">Users</th><th scope="col">Personal accounts</th><th scope="col">Records</th><th scope="col">Status</th></tr></thead><tbody>\(inventoryRows)</tbody></table></section>
            """)
    }

    func incidentPage(_ p: Principal, _ i: Incident, notes: [IncidentNote], report: String) -> HTML {
        let history = notes.html { n in "<tr><td>\(n.at)</td><td>\(n.actor)</td><td>\(n.note)</td></tr>" }
        return pages.page("Incident \(i.id): \(i.title)", principal: p, current: "/compliance", """
            <p>Report to NARA under 36 CFR 1230.14, as it stands. Records officers complete it with <code>recordkeeper incident update \(String(i.id))</code> and render it for signature with <code>recordkeeper incident report \(String(i.id)) --format html</code>.</p>
            <pre class="report">\(report)</pre>
            <section aria-labelledby="hist"><h2 id="hist">History</h2><table><caption class="visually-hidden">Oldest first</caption><thead><tr><th scope="col">When (UTC)</th><th scope="col">Who</th><th scope="col">What</th></tr></thead><tbody>\(history)</tbody></table></section>
            """)
    }
}
