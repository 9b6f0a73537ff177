import Archive
import Custody
import Foundation
import HTTPTypes
import Hummingbird
import Recordkeeper
import RecordkeeperCore

/// The notice clerk's pages (AT6 in the browser): the detentions and their notice queue, a
/// detention with its notice and answer forms, and the addressee's particulars, shown in clear
/// only to a notice clerk or privacy officer who names why (the read is audited), masked for
/// everyone else.
extension WebApp {
    func addDetentionPages(_ r: RouteBuilder) {
        r.add(.get, "/custody/detentions", Self.detentionReaders, "Detentions and the notice queue") { input in
            let p = try input.user
            guard let store = self.archive.store as? any CustodyPrivacyStore else { throw ArchiveError(.invalid, "this archive's store does not keep detentions") }
            let all = try await store.detentions(from: Int64.min, to: Int64.max)
            let disposed = all.filter { $0.disposition != nil }.sorted { ($0.disposedAtMillis ?? 0) > ($1.disposedAtMillis ?? 0) }
            return Respond.html(self.detentionsPage(p, open: all.filter { $0.disposition == nil }, closed: Array(disposed.prefix(20))))
        }
        r.add(.get, "/custody/detentions/:id", Self.detentionReaders,
              "A detention: its notice and answer, and the state of the addressee's particulars (shown only through the form that records why)") { input in
            let p = try input.user
            let id = try input.id()
            // Nobody reads the particulars by opening a page: a reader asks for them by a form (POST).
            let view = try await self.detentions.view(id, reader: DetentionService.readerRoles.contains { p.user.has($0) } ? nil : p.user, actor: p.actor, purpose: "")
            try await self.archive.store.appendReadAudit(AuditDraft(actor: p.actor, action: "custody.detention.view", target: "custody-detention:\(id)", detail: ["via": "web"]))
            return Respond.html(self.detentionPage(p, view.detention, addressee: view.addressee, status: try await self.addresseeStatus(id),
                                                   notice: Notice.from(input.query)))
        }
        r.add(.post, "/custody/detentions/:id/particulars", .roles(Set(DetentionService.readerRoles)),
              "Show the addressee's particulars to a notice clerk or privacy officer, recording the read with its purpose (form: purpose)") { input in
            let p = try input.user
            let id = try input.id()
            let purpose = String((input.form["purpose"] ?? "").trimmingCharacters(in: .whitespaces).prefix(40))
            let view = try await self.detentions.view(id, reader: p.user, actor: p.actor, purpose: purpose)
            return Respond.html(self.detentionPage(p, view.detention, addressee: view.addressee, status: try await self.addresseeStatus(id), notice: nil))
        }
        r.add(.post, "/custody/detentions/:id/notice", .roles([.noticeClerk]), "Record the notice with the addressee's particulars (form: name, address, postcode, answer_days)") { input in
            let p = try input.user
            let id = try input.id()
            let f = input.form
            let days = try f["answer_days"].flatMap { $0.isEmpty ? nil : $0 }.map { t -> Int in
                guard let v = Int(t) else { throw ArchiveError(.invalid, "VALUE_UNKNOWN: answer_days=\(t) is not a number of days") }
                return v
            } ?? DetentionService.defaultAnswerDays
            let lines = (f["address"] ?? "").components(separatedBy: .newlines).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let (d, letter) = try await self.detentions.sendNotice(id, to: AddresseeParticulars(name: f["name"] ?? "", addressLines: lines, postcode: f["postcode"] ?? ""),
                                                                   answerDays: days, actor: p.actor)
            // The letter to send, once, in this answer (the clerk has just typed what it holds); afterwards
            // the particulars are read only through the form that records why.
            return Respond.html(self.detentionPage(p, d, addressee: .masked, status: "held", notice: Notice.noticeRecorded.text, letter: letter))
        }
        r.add(.post, "/custody/detentions/:id/response", .roles([.noticeClerk]), "Record the addressee's answer (form: response)") { input in
            let p = try input.user
            let id = try input.id()
            _ = try await self.detentions.recordResponse(id, response: input.form["response"] ?? "", actor: p.actor)
            return Respond.seeOther("/custody/detentions/\(id)" + Notice.responseRecorded.query)
        }
    }

    func detentionsPage(_ p: Principal, open: [StoredDetention], closed: [StoredDetention]) -> HTML {
        func when(_ m: Int64?) -> String { m.map { Fmt.local(Timestamp.iso(millis: $0)) } ?? "—" }
        func rows(_ list: [StoredDetention]) -> HTML {
            list.html { d in
                let overdue = (d.responseDueAtMillis.map { $0 < Timestamp.nowMillis() } ?? false)
                let state = d.disposition ?? (d.noticeSentAtMillis == nil ? "notice not sent"
                    : d.response == nil ? (overdue ? "answer period over: to be disposed of" : "waiting for the answer") : "answered: \(d.response!)")
                return "<tr><td><a href=\"/custody/detentions/\(d.id)\">\(d.id)</a></td><td>\(d.s10)</td><td>\(when(d.detainedAtMillis))</td><td>\(d.reasonCode)</td><td>\(d.contentsCategory)</td><td>\(when(d.noticeSentAtMillis))</td><td>\(when(d.responseDueAtMillis))</td><td>\(state)</td></tr>"
            }
        }
        let head: HTML = "<tr><th>Detention</th><th>Item</th><th>Detained</th><th>Reason</th><th>Contents</th><th>Notice sent</th><th>Answer due</th><th>State</th></tr>"
        return pages.page("Detentions", principal: p, current: "/custody/detentions", """
            <p>Items detained for a notice to their addressee. The oldest without a notice come first; the particulars are sealed and shown only on a detention's page, to a notice clerk or privacy officer who says why.</p>
            <h2>Open (\(open.count))</h2>
            \(open.isEmpty ? "<p>No open detentions.</p>" : "<table><thead>\(head)</thead><tbody>\(rows(open.sorted { ($0.noticeSentAtMillis == nil ? 0 : 1, $0.detainedAtMillis) < ($1.noticeSentAtMillis == nil ? 0 : 1, $1.detainedAtMillis) }))</tbody></table>")
            <h2>Recently disposed of</h2>
            \(closed.isEmpty ? "<p>None.</p>" : "<table><thead>\(head)</thead><tbody>\(rows(closed))</tbody></table>")
            """)
    }

    func detentionPage(_ p: Principal, _ d: StoredDetention, addressee: DetentionService.Addressee, status: String, notice: String?, letter: String? = nil) -> HTML {
        func when(_ m: Int64?) -> String { m.map { Timestamp.iso(millis: $0) } ?? "—" }
        let mayRead = DetentionService.readerRoles.contains { p.user.has($0) }
        let particulars: HTML
        switch addressee {
        case .shown(let a):
            particulars = """
                <dl><dt>Name</dt><dd>\(a.name)</dd><dt>Address</dt><dd>\(a.addressLines.html { "\($0)<br>" })</dd><dt>Postcode</dt><dd>\(a.postcode)</dd></dl>
                <p class="hint">This read is recorded in the audit log with its purpose.</p>
                """
        case .purged(let t):
            particulars = "<p>Purged on their retention (purge \(t.purgeID.map(String.init) ?? "?")); only a tombstone with the hash of what was sealed remains.</p>"
        case .none:
            particulars = "<p>No particulars are held (no notice was sent).</p>"
        case .masked:
            particulars = mayRead ? """
                <form method="post" action="/custody/detentions/\(d.id)/particulars" class="inline-form">\(pages.csrfField(p))
                <p><label for="purpose">Why you read them</label> <select id="purpose" name="purpose" required><option value="">— choose —</option>\(DetentionService.readPurposes.html { "<option value=\"\($0)\">\($0)</option>" })</select>
                <button type="submit">Show the particulars</button></p>
                <p class="hint">Held sealed (\(status)). Showing them records the read, with its purpose, in the audit log.</p></form>
                """ : "<p>Held sealed; masked for your role (\(p.user.roles.map(\.rawValue).joined(separator: ", "))).</p>"
        }
        let noticeForm: HTML = p.user.has(.noticeClerk) && d.noticeSentAtMillis == nil && d.disposition == nil ? """
            <h2>Send the notice</h2>
            <form method="post" action="/custody/detentions/\(d.id)/notice" class="stack">\(pages.csrfField(p))
            <p><label for="name">Addressee's name</label><input id="name" name="name" required maxlength="200" autocomplete="off"></p>
            <p><label for="address">Address (one line each)</label><textarea id="address" name="address" rows="3" required maxlength="600"></textarea></p>
            <p><label for="postcode">Postcode</label><input id="postcode" name="postcode" required maxlength="20" autocomplete="off"></p>
            <p><label for="answer_days">Days to answer</label><input id="answer_days" name="answer_days" inputmode="numeric" value="\(DetentionService.defaultAnswerDays)"></p>
            <p><button type="submit">Record the notice</button></p>
            <p class="hint">The particulars are sealed with the archive's addressee key; only the fields above are kept.</p></form>
            """ : .empty
        let responseForm: HTML = p.user.has(.noticeClerk) && d.noticeSentAtMillis != nil && d.response == nil && d.disposition == nil ? """
            <h2>Record the answer</h2>
            <form method="post" action="/custody/detentions/\(d.id)/response" class="stack">\(pages.csrfField(p))
            <p><label for="response">The addressee's answer</label><select id="response" name="response" required><option value="">— choose —</option>\(StoredDetention.responses.html { "<option value=\"\($0)\">\($0)</option>" })</select></p>
            <p class="hint">Recorded once. "none" records that no answer came: after the answer date the item may then be destroyed as abandoned.</p>
            <p><button type="submit">Record the answer</button></p></form>
            """ : .empty
        return pages.page("Detention \(d.id)", principal: p, current: "/custody/detentions", notice: notice, """
            <dl class="figures">
            <dt>Item</dt><dd>\(d.s10)</dd><dt>Detained</dt><dd>\(when(d.detainedAtMillis)) by \(d.detainedBy)</dd>
            <dt>Violation</dt><dd>\(d.violationType)</dd><dt>Reason</dt><dd>\(d.reasonCode)</dd><dt>Contents</dt><dd>\(d.contentsCategory)</dd>
            <dt>Notice sent</dt><dd>\(when(d.noticeSentAtMillis))\(d.noticeSentBy.map { " by \($0)" } ?? "")</dd><dt>Answer due</dt><dd>\(when(d.responseDueAtMillis))</dd>
            <dt>Answer</dt><dd>\(d.response ?? "—")</dd><dt>Disposition</dt><dd>\(d.disposition ?? "open")\(d.disposedAtMillis.map { " at \(Timestamp.iso(millis: $0))" } ?? "")</dd>
            </dl>
            \(letter.map { l -> HTML in "<h2>The notice to send</h2><pre class=\"notice-letter\">\(l)</pre><p class=\"hint\">Shown once, now; print or send it before leaving this page.</p>" } ?? .empty)
            <h2>The addressee's particulars</h2>
            \(particulars)
            \(noticeForm)
            \(responseForm)
            <p><a href="/custody/detentions">All detentions</a></p>
            """)
    }
}
