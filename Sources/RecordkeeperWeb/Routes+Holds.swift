import Archive
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Recordkeeper
import RecordkeeperCore

extension WebApp {
    var holdService: HoldService { HoldService(archive: archive) }
    var dispositionService: DispositionService { DispositionService(archive: archive) }

    /// A hold's scope from form or JSON fields (lists are comma- or line-separated). On the web
    /// form, custodians are ticked from the known ones and others typed in `other_custodians`.
    static func holdScope(_ f: Form) throws -> HoldScope {
        func list(_ names: String...) -> [String]? {
            let items = names.flatMap { f.all($0) }.flatMap { $0.split(whereSeparator: { $0 == "," || $0 == "\n" }) }
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            return items.isEmpty ? nil : items
        }
        func date(_ name: String) throws -> CivilDate? {
            guard let v = f[name], !v.isEmpty else { return nil }
            guard let d = CivilDate(v) else { throw ArchiveError(.invalid, "\(name) must be a date like 2021-03-01") }
            return d
        }
        return HoldScope(custodians: list("custodians", "other_custodians"), conversations: list("conversations"), from: try date("from"), to: try date("to"),
                         query: f["query"].flatMap { $0.isEmpty ? nil : $0 }, everything: f.flag("everything") ? true : nil)
    }

    func createHold(_ p: Principal, _ f: Form) async throws -> HoldDetail {
        guard let matter = MatterType(rawValue: f["matter"] ?? "") else {
            throw ArchiveError(.invalid, "choose the kind of matter: \(MatterType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return try await holdService.create(name: f["name"] ?? "", matter: matter, reference: f["reference"], requestedBy: f["requested_by"] ?? "",
                                            scope: try Self.holdScope(f), allowFutureCustodians: f.flag("future_custodians"), actor: p.actor)
    }

    /// What the new-hold form offers to pick from.
    func holdChoices() async throws -> HoldChoices {
        HoldChoices(custodians: try await archive.store.custodianProfiles().map(\.email).sorted(),
                    conversations: try await archive.store.conversations(titleContains: nil, limit: 2000).map { ($0.id, $0.title, $0.custodianEmail, $0.messageCount) })
    }

    func addHoldRoutes(_ r: RouteBuilder) {
        r.add(.get, "/holds", Access.recordsStaff, "Legal holds, active and released") { input in
            let p = try input.user
            let holds = try await self.holdService.list(includeReleased: true, actor: p.actor)
            return Respond.html(self.holdsPage(p, holds, notice: Notice.from(input.query)))
        }
        r.add(.get, "/holds/new", Access.officers, "Form to place a legal hold") { input in
            let p = try input.user
            return Respond.html(self.newHoldPage(p, choices: try await self.holdChoices(), error: nil, form: Form(fields: []), preview: nil))
        }
        r.add(.post, "/holds", Access.officers, "Preview a hold's scope, or place the hold (an empty scope must be confirmed)", limited: true) { input in
            let p = try input.user
            let f = input.form
            do {
                // The scope is shown before the hold is placed, and a hold that would cover nothing
                // now is placed only when the officer confirms it (a typo must not read as "held").
                let previewing = f["action"] == "preview"
                if previewing || !f.flag("confirm_empty") {
                    // Placing without a preview still checks the scope is not empty (no sample read).
                    let (preview, sample) = try await self.holdService.preview(scope: try Self.holdScope(f), sample: previewing ? 10 : 0,
                                                                               allowFutureCustodians: f.flag("future_custodians"), actor: p.actor)
                    if previewing || preview.records == 0 {
                        return Respond.html(self.newHoldPage(p, choices: try await self.holdChoices(), error: nil, form: f, preview: (preview, sample)))
                    }
                }
                let detail = try await self.createHold(p, f)
                return Respond.seeOther("/holds/\(detail.hold.id)" + Notice.holdPlaced.query)
            } catch let e as ArchiveError where e.code == .invalid || e.code == .badQuery || e.code == .notFound {
                return Respond.html(self.newHoldPage(p, choices: try await self.holdChoices(), error: e.message, form: f, preview: nil), status: .badRequest)
            }
        }
        r.add(.get, "/holds/:id", Access.recordsStaff, "A hold: scope, records covered now, a sample") { input in
            let p = try input.user
            let detail = try await self.holdService.show(id: try input.id(), sample: p.onlyCustodian == nil ? 10 : 0, actor: p.actor)
            return Respond.html(self.holdPage(p, detail, notice: Notice.from(input.query)))
        }
        r.add(.post, "/holds/:id/release", Access.officers, "Release a hold (a reason is required)") { input in
            let p = try input.user
            let hold = try await self.holdService.release(id: try input.id(), reason: input.form["reason"] ?? "", actor: p.actor)
            return Respond.seeOther("/holds/\(hold.id)" + Notice.holdReleased.query)
        }
    }

    func holdsPage(_ p: Principal, _ holds: [(LegalHold, Int)], notice: String?) -> HTML {
        let rows = holds.html { h, n in """
            <tr><td><a href="/holds/\(h.id)">\(h.name)</a></td><td>\(h.matter.rawValue)</td><td>\(h.reference ?? "—")</td><td>\(h.scope.summary)</td>
            <td class="num">\(Fmt.count(n))</td><td>\(h.isActive ? "active since \(h.createdAt.prefix(10))" : "released \(h.releasedAt?.prefix(10) ?? "")")</td></tr>
            """ }
        return pages.page("Legal holds", principal: p, current: "/holds", notice: notice, """
            \(p.has(.recordsOfficer) ? "<p><a class=\"button\" href=\"/holds/new\">Place a hold</a></p>" as HTML : .empty)
            \(holds.isEmpty ? "<p>No holds.</p>" as HTML : """
            <table><caption>While a hold is active nothing in its scope can be disposed of.</caption><thead><tr><th scope="col">Name</th><th scope="col">Matter</th>
            <th scope="col">Reference</th><th scope="col">Scope</th><th scope="col">Records</th><th scope="col">State</th></tr></thead><tbody>\(rows)</tbody></table>
            """)
            """)
    }

    func newHoldPage(_ p: Principal, choices: HoldChoices, error: String?, form f: Form, preview: (HoldScopePreview, [StoredMessage])?) -> HTML {
        let ticked = Set(f.all("custodians").map { $0.lowercased() })
        let picked = Set(f.all("conversations"))
        let custodians: HTML = choices.custodians.isEmpty ? "<p class=\"meta\">No custodians in the archive yet.</p>" : """
            <div class="pick" role="group" aria-labelledby="custodians-legend">\(choices.custodians.enumerated().html { i, email in
                "<p class=\"check\"><input type=\"checkbox\" id=\"cust-\(i)\" name=\"custodians\" value=\"\(email)\"\(ticked.contains(email.lowercased()) ? " checked" : "")><label for=\"cust-\(i)\">\(email)</label></p>" })</div>
            """
        let conversations: HTML = choices.conversations.isEmpty ? "<p class=\"meta\">No conversations in the archive yet.</p>" : """
            <p><label for="conversations">Conversations (pick any; Ctrl or ⌘ picks several)</label>
            <select id="conversations" name="conversations" multiple size="\(min(8, max(3, choices.conversations.count)))">\(choices.conversations.html { c in
                "<option value=\"\(c.id)\"\(picked.contains(String(c.id)) ? " selected" : "")>\(c.title) — \(c.custodian), \(Fmt.count(c.messages)) messages (#\(c.id))</option>" })</select></p>
            """
        var previewHTML: HTML = .empty
        if let (pv, sample) = preview {
            let groups = pv.byCustodian.html { "<li>\($0.label): \(Fmt.count($0.records))</li>" }
            let convs = pv.byConversation.html { "<li>\($0.label) (#\($0.key)): \(Fmt.count($0.records))</li>" }
            let newest = sample.html { m in "<li><a href=\"/messages/\(m.id)\">\(Fmt.local(m.message.sentLocal.description)) — \(m.message.sender ?? "system")</a></li>" }
            previewHTML = pv.records == 0 ? """
                <div class="notice warning" role="alert" id="hold-preview"><p><strong>This scope covers no record now.</strong> Check the custodians,
                conversations, dates and query. If that is what you mean (records expected later), confirm below and place the hold.</p>
                <p class="check"><input type="checkbox" id="confirm_empty" name="confirm_empty"><label for="confirm_empty">Place it although it covers no record now</label></p></div>
                """ : """
                <div class="notice" role="status" id="hold-preview"><p>This hold would cover <strong id="preview-count">\(Fmt.count(pv.records))</strong> records now.</p>
                \(pv.byCustodian.isEmpty ? .empty : "<p>By custodian:</p><ul>\(groups)</ul>" as HTML)
                \(pv.byConversation.isEmpty ? .empty : "<p>By conversation:</p><ul>\(convs)</ul>" as HTML)
                \(sample.isEmpty ? .empty : "<p>Newest records in scope:</p><ul>\(newest)</ul>" as HTML)</div>
                """
        }
        return pages.page("Place a legal hold", principal: p, current: "/holds", """
            \(error.map { "<p class=\"error\" role=\"alert\" id=\"hold-error\">\($0)</p>" as HTML })
            <form method="post" action="/holds" class="stack">\(pages.csrfField(p))
            \(previewHTML)
            <p><label for="name">Name</label><input id="name" name="name" required value="\(f["name"] ?? "")"></p>
            <p><label for="matter">Matter</label><select id="matter" name="matter" required>\(MatterType.allCases.html { m in
                "<option value=\"\(m.rawValue)\"\(f["matter"] == m.rawValue ? " selected" : "")>\(m.rawValue)</option>" })</select></p>
            <p><label for="reference">Reference (case or request number)</label><input id="reference" name="reference" value="\(f["reference"] ?? "")"></p>
            <p><label for="requested_by">Requested by</label><input id="requested_by" name="requested_by" required value="\(f["requested_by"] ?? "")" placeholder="e.g. Office of General Counsel"></p>
            <fieldset><legend>Scope (every part you fill must match)</legend>
            <p id="custodians-legend">Custodians</p>
            \(custodians)
            <p><label for="other_custodians">Someone not yet in the archive (official e-mail addresses, comma-separated)</label><input id="other_custodians" name="other_custodians" value="\(f["other_custodians"] ?? "")"></p>
            <p class="check"><input id="future_custodians" name="future_custodians" type="checkbox"\(f.flag("future_custodians") ? " checked" : "")><label for="future_custodians">Hold their records when they are captured (they have none yet)</label></p>
            \(conversations)
            <p><label for="from">Sent from</label><input id="from" name="from" type="date" value="\(f["from"] ?? "")"></p>
            <p><label for="to">Sent to</label><input id="to" name="to" type="date" value="\(f["to"] ?? "")"></p>
            <p><label for="query">Search query</label><input id="query" name="query" value="\(f["query"] ?? "")"></p>
            <p class="check"><input id="everything" name="everything" type="checkbox"\(f.flag("everything") ? " checked" : "")><label for="everything">Every record in the archive</label></p>
            </fieldset>
            <p><button type="submit" name="action" value="preview">Preview scope</button> <button type="submit" name="action" value="place">Place hold</button></p></form>
            """)
    }

    func holdPage(_ p: Principal, _ d: HoldDetail, notice: String?) -> HTML {
        let h = d.hold
        let sample = d.sample.html { m in
            "<li><a href=\"/messages/\(m.id)\">\(Fmt.local(m.message.sentLocal.description)) — \(m.message.sender ?? "system")</a></li>" }
        let release: HTML = h.isActive && p.has(.recordsOfficer) ? """
            <form method="post" action="/holds/\(h.id)/release" class="stack narrow">\(pages.csrfField(p))
            <p><label for="reason">Reason for release</label><input id="reason" name="reason" required></p>
            <p><button type="submit" class="danger" data-confirm="Release this hold? Records it covers become eligible for disposition again.">Release hold</button></p></form>
            """ : .empty
        return pages.page("Hold: \(h.name)", principal: p, current: "/holds", notice: notice, """
            <dl class="facts"><dt>Matter</dt><dd>\(h.matter.rawValue)\(h.reference.map { " — \($0)" } ?? "")</dd>
            <dt>Requested by</dt><dd>\(h.requestedBy)</dd><dt>Scope</dt><dd>\(h.scope.summary)</dd>
            <dt>Placed</dt><dd>\(h.createdAt) by \(h.createdBy)</dd>
            <dt>State</dt><dd>\(h.isActive ? "active" : "released \(h.releasedAt ?? "") by \(h.releasedBy ?? ""): \(h.releaseReason ?? "")")</dd>
            <dt>Records covered now</dt><dd id="held-count">\(Fmt.count(d.heldRecords))</dd></dl>
            \(d.sample.isEmpty ? .empty : "<h2>Newest records covered</h2><ul>\(sample)</ul>" as HTML)
            \(release)
            """)
    }

    func addDispositionRoutes(_ r: RouteBuilder) {
        let viewers: Access = .roles([.recordsOfficer, .auditor])
        r.add(.get, "/dispositions", viewers, "Disposition batches") { input in
            let p = try input.user
            let list = try await self.dispositionService.list(actor: p.actor)
            return Respond.html(self.dispositionsPage(p, list, notice: Notice.from(input.query)))
        }
        r.add(.get, "/dispositions/new", Access.officers, "What is due by a date, by schedule item, and the form to propose a batch", limited: true) { input in
            let p = try input.user
            let q = input.query
            do {
                let (action, asOf) = try Self.proposal(q)
                let due = try await RetentionService(archive: self.archive).due(asOf: asOf, actor: p.actor)
                return Respond.html(self.proposePage(p, action: action, asOf: asOf, due: due, form: q, error: nil))
            } catch let e as ArchiveError where e.code == .invalid {
                return Respond.html(self.proposePage(p, action: .destroy, asOf: .today(), due: [], form: q, error: e.message), status: .badRequest)
            }
        }
        r.add(.post, "/dispositions", Access.officers, "Propose a destruction or transfer batch of what is due (a second officer approves)", limited: true) { input in
            let p = try input.user
            let f = input.form
            let (action, asOf) = try Self.proposal(f)
            do {
                let items = f.all("item")
                guard !items.isEmpty else { throw ArchiveError(.invalid, "tick at least one schedule item to propose") }
                let batch = try await self.dispositionService.propose(action: action, asOf: asOf, items: items, note: f["note"], actor: p.actor)
                return Respond.seeOther("/dispositions/\(batch.id)" + Notice.proposed.query)
            } catch let e as ArchiveError where e.code == .invalid || e.code == .notFound || e.code == .refused {
                let due = try await RetentionService(archive: self.archive).due(asOf: asOf, actor: p.actor)
                return Respond.html(self.proposePage(p, action: action, asOf: asOf, due: due, form: f, error: e.message), status: .badRequest)
            }
        }
        r.add(.get, "/dispositions/:id", viewers, "One disposition batch for review") { input in
            let p = try input.user
            let d = try await self.dispositionService.review(id: try input.id(), actor: p.actor)
            return Respond.html(self.dispositionPage(p, d, notice: Notice.from(input.query)))
        }
        r.add(.get, "/dispositions/:id/records", viewers, "The records of a batch: pages in sent order (item, page), or a random sample (sample=1)") { input in
            let p = try input.user
            let id = try input.id()
            let batch = try await self.dispositionService.show(id: id)
            let item = input.query["item"].flatMap { $0.isEmpty ? nil : $0 }
            let sample = input.query.flag("sample")
            let pageNumber = max(1, Int(input.query["page"] ?? "1") ?? 1)
            let perPage = 100
            let (total, rows) = try await self.dispositionService.records(id: id, itemID: item, offset: (pageNumber - 1) * perPage, limit: sample ? 20 : perPage,
                                                                          randomSample: sample, actor: p.actor)
            return Respond.html(self.dispositionRecordsPage(p, batch, rows: rows, total: total, item: item, page: pageNumber, perPage: perPage, sample: sample))
        }
        r.add(.post, "/dispositions/:id/approve", Access.officers, "Approve a proposed batch (a second records officer)") { input in
            let p = try input.user
            let d = try await self.dispositionService.approve(id: try input.id(), actor: p.actor)
            return Respond.seeOther("/dispositions/\(d.id)" + Notice.approved.query)
        }
        r.add(.post, "/dispositions/:id/cancel", Access.officers, "Cancel a batch that has not been executed") { input in
            let p = try input.user
            let d = try await self.dispositionService.cancel(id: try input.id(), reason: input.form["reason"] ?? "", actor: p.actor)
            return Respond.seeOther("/dispositions/\(d.id)" + Notice.cancelled.query)
        }
        r.add(.post, "/dispositions/:id/execute", Access.officers, "Execute an approved destruction batch") { input in
            let p = try input.user
            let id = try input.id()
            guard let batch = try await self.archive.store.disposition(id: id) else { throw ArchiveError(.notFound, "no disposition \(id)") }
            guard batch.action == .destroy else {
                throw ArchiveError(.invalid, "a transfer is executed when NARA confirms the accession: `recordkeeper transfer confirm`")
            }
            // The service takes the write lock itself; a route never takes it (it would hold it across a call that does).
            _ = try await self.dispositionService.execute(id: id, actor: p.actor)
            return Respond.seeOther("/dispositions/\(id)" + Notice.executed.query)
        }
        r.add(.get, "/dispositions/:id/certificate", viewers, "Certificate of disposition (HTML; ?format=json for JSON)") { input in
            let p = try input.user
            let id = try input.id()
            let cert = try await self.dispositionService.certificate(id: id, actor: p.actor)
            if input.query["format"] == "json" {
                return Respond.bytes(Data(cert.json.utf8), contentType: "application/json; charset=utf-8",
                                     disposition: "attachment; filename=\"disposition-\(id)-certificate.json\"")
            }
            var response = Respond.bytes(Data(cert.html.utf8), contentType: "text/html; charset=utf-8",
                                         disposition: "attachment; filename=\"disposition-\(id)-certificate.html\"")
            response.headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
            return response
        }
    }

    /// The action and as-of date of a proposal form (default: destruction, today).
    static func proposal(_ f: Form) throws -> (DispositionAction, CivilDate) {
        let action: DispositionAction = f["kind"] == DispositionAction.transfer.rawValue ? .transfer : .destroy
        guard let text = f["as_of"] else { return (action, .today()) }
        guard let asOf = CivilDate(text) else { throw ArchiveError(.invalid, "the as-of date must be a day like 2026-12-04") }
        return (action, asOf)
    }

    /// What is due, by schedule item, with the proposal form: the officer sees the counts (and
    /// the held records that stay out) before anything is proposed.
    func proposePage(_ p: Principal, action: DispositionAction, asOf: CivilDate, due: [DueGroup], form f: Form, error: String?) -> HTML {
        let groups = due.filter { $0.action.rawValue == action.rawValue }
        let ticked = Set(f.all("item"))
        let rows = groups.enumerated().html { i, g in """
            <tr><td class="check"><input type="checkbox" id="item-\(i)" name="item" value="\(g.itemID)"\(ticked.isEmpty || ticked.contains(g.itemID) ? " checked" : "")\(g.records - g.held > 0 ? "" : " disabled")>
            <label for="item-\(i)">\(g.itemID)</label></td><td class="num">\(Fmt.count(g.records - g.held))</td><td class="num">\(Fmt.count(g.held))</td>
            <td>\(g.firstSent.map(Fmt.local) ?? "—")</td><td>\(g.lastSent.map(Fmt.local) ?? "—")</td></tr>
            """ }
        let proposable = groups.reduce(0) { $0 + $1.records - $1.held }
        let verb = action == .destroy ? "destruction" : "transfer to the National Archives"
        let today = CivilDate.today()
        return pages.page("Propose a disposition", principal: p, current: "/dispositions", """
            \(error.map { "<p class=\"error\" role=\"alert\" id=\"propose-error\">\($0)</p>" as HTML })
            <form method="get" action="/dispositions/new" class="stack narrow">
            <p><label for="kind">Action</label><select id="kind" name="kind">
            <option value="destroy"\(action == .destroy ? " selected" : "")>Destroy temporary records</option>
            <option value="transfer"\(action == .transfer ? " selected" : "")>Transfer permanent records</option></select></p>
            <p><label for="as_of">Due by</label><input id="as_of" name="as_of" type="date" max="\(today.description)" value="\(asOf.description)"></p>
            <p><button type="submit">Show what is due</button></p></form>
            <h2>Due for \(verb) by \(asOf.description)</h2>
            \(groups.isEmpty ? "<p id=\"due-none\">Nothing is due for \(verb) by \(asOf.description).</p>" as HTML : """
            <form method="post" action="/dispositions" class="stack">\(pages.csrfField(p))
            <input type="hidden" name="kind" value="\(action.rawValue)"><input type="hidden" name="as_of" value="\(asOf.description)">
            <table id="due"><thead><tr><th scope="col">Schedule item</th><th scope="col">Records due</th><th scope="col">Held (kept out)</th>
            <th scope="col">First sent</th><th scope="col">Last sent</th></tr></thead><tbody>\(rows)</tbody></table>
            <p class="meta">Records under an active legal hold are never proposed. A second records officer reviews the batch's records and approves it before anything is \(action == .destroy ? "destroyed" : "transferred").</p>
            <p><label for="note">Note kept with the batch</label><input id="note" name="note" value="\(f["note"] ?? "")"></p>
            <p><button type="submit"\(proposable == 0 || asOf > today ? " disabled" : "")>Propose \(action == .destroy ? "destruction" : "transfer") of \(Fmt.count(proposable)) records</button></p>
            \(asOf > today ? "<p class=\"meta\">Records can be proposed only once they are due: pick today or earlier.</p>" as HTML : .empty)
            </form>
            """)
            """)
    }

    func dispositionsPage(_ p: Principal, _ list: [DispositionBatch], notice: String?) -> HTML {
        let rows = list.html { d in """
            <tr><td><a href="/dispositions/\(d.id)">\(d.id)</a></td><td>\(d.action.rawValue)</td><td>\(d.status.rawValue)</td>
            <td class="num">\(Fmt.count(d.items.reduce(0) { $0 + $1.records }))</td><td>\(d.proposedBy), \(d.proposedAt.prefix(10))</td><td>\(d.approvedBy ?? "—")</td></tr>
            """ }
        return pages.page("Disposition", principal: p, current: "/dispositions", notice: notice, """
            <p>A records officer proposes a batch of what is due\(p.has(.recordsOfficer) ? " (<a href=\"/dispositions/new\">propose a disposition</a>)" as HTML : .empty); a second records officer reviews its records and approves it here.</p>
            \(list.isEmpty ? "<p>No disposition batches.</p>" as HTML : """
            <table><thead><tr><th scope="col">Batch</th><th scope="col">Action</th><th scope="col">Status</th><th scope="col">Records</th>
            <th scope="col">Proposed</th><th scope="col">Approved by</th></tr></thead><tbody>\(rows)</tbody></table>
            """)
            """)
    }

    func dispositionPage(_ p: Principal, _ d: DispositionBatch, notice: String?) -> HTML {
        let items = d.items.html { i in "<tr><td>\(i.itemID)</td><td class=\"num\">\(Fmt.count(i.records))</td><td>\(i.firstSent.map(Fmt.local) ?? "—")</td><td>\(i.lastSent.map(Fmt.local) ?? "—")</td></tr>" }
        var actions: [HTML] = []
        if p.has(.recordsOfficer) {
            if d.status == .proposed {
                actions.append(d.proposedBy.lowercased() == p.user.name.lowercased()
                    ? "<p class=\"meta\">You proposed this batch; another records officer must approve it.</p>"
                    : """
                    <form method="post" action="/dispositions/\(d.id)/approve" class="inline">\(pages.csrfField(p))<button type="submit" data-confirm="Approve disposition batch \(d.id)?">Approve</button></form>
                    """)
            }
            if d.status == .approved, d.action == .destroy {
                actions.append("""
                    <form method="post" action="/dispositions/\(d.id)/execute" class="inline">\(pages.csrfField(p))<button type="submit" class="danger" data-confirm="Destroy these records now? This cannot be undone; tombstones and a certificate remain.">Execute destruction</button></form>
                    """)
            }
            if d.status == .proposed || d.status == .approved {
                actions.append("""
                    <form method="post" action="/dispositions/\(d.id)/cancel" class="stack narrow">\(pages.csrfField(p))
                    <p><label for="reason">Reason to cancel</label><input id="reason" name="reason" required></p><p><button type="submit">Cancel batch</button></p></form>
                    """)
            }
        }
        let review: HTML = """
            <p id="review-links"><a href="/dispositions/\(d.id)/records">Review the \(Fmt.count(d.items.reduce(0) { $0 + $1.records })) records, page by page</a>
            · <a href="/dispositions/\(d.id)/records?sample=1">Read a random sample of 20</a></p>
            """
        let certificate: HTML = d.status == .executed ? """
            <p><a href="/dispositions/\(d.id)/certificate">Download the certificate (HTML)</a> · <a href="/dispositions/\(d.id)/certificate?format=json">JSON</a></p>
            """ : .empty
        return pages.page("Disposition batch \(d.id)", principal: p, current: "/dispositions", notice: notice, """
            <dl class="facts"><dt>Action</dt><dd>\(d.action.rawValue)</dd><dt>Status</dt><dd id="disposition-status">\(d.status.rawValue)</dd>
            <dt>Due as of</dt><dd>\(d.asOf.description)</dd><dt>File plan version</dt><dd>\(d.planVersion)</dd>
            <dt>Proposed</dt><dd>\(d.proposedBy), \(d.proposedAt)\(d.note.map { " — \($0)" } ?? "")</dd>
            <dt>Approved</dt><dd>\(d.approvedBy.map { "\($0), \(d.approvedAt ?? "")" } ?? "not yet")</dd>
            <dt>Executed</dt><dd>\(d.executedBy.map { "\($0), \(d.executedAt ?? "")" } ?? "not yet")</dd>
            <dt>Kept out by holds when proposed</dt><dd>\(Fmt.count(d.heldAtProposal))</dd><dt>Withheld at execution</dt><dd>\(Fmt.count(d.withheld))</dd></dl>
            <table><caption>Records per schedule item</caption><thead><tr><th scope="col">Item</th><th scope="col">Records</th><th scope="col">First sent</th><th scope="col">Last sent</th></tr></thead><tbody>\(items)</tbody></table>
            \(review)
            \(HTML.join(actions))
            \(certificate)
            """)
    }
}

extension WebApp {
    /// A batch's records for review. Record text is shown to roles that read content; an
    /// auditor sees where and when, not what.
    func dispositionRecordsPage(_ p: Principal, _ d: DispositionBatch, rows: [DispositionReviewRow], total: Int, item: String?, page: Int,
                                perPage: Int, sample: Bool) -> HTML {
        let readsText = p.readsContent
        let body = rows.html { r in """
            <tr><td><a href="/messages/\(r.messageID)">\(r.messageID)</a></td><td>\(Fmt.local(r.sentLocal))</td><td>\(r.itemID)</td>
            <td>\(r.conversationID.map { "<a href=\"/conversations/\($0)\">\(r.conversationTitle ?? "conversation \($0)")</a>" as HTML } ?? "—")</td>
            <td>\(r.state)</td>\(readsText ? "<td>\(r.sender ?? "system")</td><td>\(r.excerpt ?? "(disposed of: only the tombstone remains)")</td>" as HTML : .empty)</tr>
            """ }
        let items = d.items.html { i in
            "<a href=\"/dispositions/\(d.id)/records?item=\(i.itemID)\"\(item == i.itemID ? " aria-current=\"page\"" : "")>\(i.itemID) (\(Fmt.count(i.records)))</a>" }
        let pages = max(1, (total + perPage - 1) / perPage)
        let itemQuery = item.map { "&item=\($0)" } ?? ""
        let nav: HTML = sample || pages == 1 ? .empty : """
            <nav class="pager" aria-label="Record pages">\(page > 1 ? "<a rel=\"prev\" href=\"/dispositions/\(d.id)/records?page=\(page - 1)\(itemQuery)\">Previous page</a>" as HTML : .empty)
            <span>Page \(page) of \(pages)</span>\(page < pages ? "<a rel=\"next\" href=\"/dispositions/\(d.id)/records?page=\(page + 1)\(itemQuery)\">Next page</a>" as HTML : .empty)</nav>
            """
        return dispositionRecordsLayout(p, d, rows: body, items: items, nav: nav, total: total, sample: sample, readsText: readsText)
    }

    private func dispositionRecordsLayout(_ p: Principal, _ d: DispositionBatch, rows: HTML, items: HTML, nav: HTML, total: Int, sample: Bool, readsText: Bool) -> HTML {
        pages.page("Records of disposition batch \(d.id)", principal: p, current: "/dispositions", """
            <p><a href="/dispositions/\(d.id)">Back to batch \(d.id)</a> (\(d.action.rawValue), \(d.status.rawValue))</p>
            <p>Schedule items: <a href="/dispositions/\(d.id)/records">all</a> · \(items) · <a href="/dispositions/\(d.id)/records?sample=1">a random sample of 20</a></p>
            <p role="status" id="records-count">\(sample ? "A random sample of \(Fmt.count(min(20, total))) of \(Fmt.count(total)) records (reload for another)." : "\(Fmt.count(total)) records, in sent order.")</p>
            <table><thead><tr><th scope="col">Record</th><th scope="col">Sent</th><th scope="col">Item</th><th scope="col">Conversation</th><th scope="col">State</th>
            \(readsText ? "<th scope=\"col\">Sender</th><th scope=\"col\">Text (start)</th>" as HTML : .empty)</tr></thead><tbody>\(rows)</tbody></table>
            \(nav)
            """)
    }
}

/// What the new-hold form offers: known custodians and conversations (id, title, custodian, size).
struct HoldChoices {
    var custodians: [String]
    var conversations: [(id: Int64, title: String, custodian: String, messages: Int)]
}
