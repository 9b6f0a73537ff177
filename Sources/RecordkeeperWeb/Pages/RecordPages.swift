import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore

extension WebApp {
    /// The snippet escaped, with matches in `<mark>`. Record text may itself contain the marker
    /// characters; the tags are kept balanced, so a forged marker can only highlight words.
    static func snippetHTML(_ hit: SearchHit) -> HTML {
        var out = ""
        var open = false
        var run = ""
        func flush() { out += HTML.escape(run); run = "" }
        for ch in hit.snippet {
            if String(ch) == SearchHit.markOpen {
                flush()
                if !open { out += "<mark>"; open = true }
            } else if String(ch) == SearchHit.markClose {
                flush()
                if open { out += "</mark>"; open = false }
            } else {
                run.append(ch)
            }
        }
        flush()
        if open { out += "</mark>" }
        return HTML(unsafeRaw: out)
    }

    func searchPage(_ p: Principal, form: SearchForm, results: SearchResults?, error: String?, custodians: [String]) -> HTML {
        let f = form.filters
        func option(_ value: String, _ label: String, selected: Bool) -> HTML {
            "<option value=\"\(value)\"\(selected ? " selected" : "")>\(label)</option>"
        }
        let custodianField: HTML = p.onlyCustodian != nil ? "<p class=\"meta\">Showing only your own records (\(p.onlyCustodian ?? "")).</p>" : """
            <p><label for="custodian">Custodian</label><select id="custodian" name="custodian">\(option("", "Any custodian", selected: f.custodian == nil))\(custodians.html { option($0, $0, selected: f.custodian == $0) })</select></p>
            """
        var resultsHTML: HTML = .empty
        if let error {
            resultsHTML = "<p class=\"error\" role=\"alert\">\(error)</p>"
        } else if let results {
            // Captured but not yet indexed records are invisible to search: say so, every time.
            let coverage: HTML = results.coverage.map { c in c.pending > 0
                ? "<p class=\"notice warning\" role=\"status\" id=\"index-lag\">\(c.coverageStatement)</p>" : "<p class=\"meta\" id=\"index-lag\">\(c.coverageStatement)</p>" } ?? .empty
            let first = f.offset + 1
            let last = f.offset + results.hits.count
            let total = results.totalIsExact ? Fmt.count(results.total) : "more than " + Fmt.count(results.total)
            let hits = results.hits.html { h in """
                <li class="hit"><p class="hit-meta"><a class="hit-open" href="/conversations/\(h.conversationID)?at=\(h.messageID)#m\(h.messageID)">\(h.conversationTitle)</a>
                · <span>\(h.sender ?? "system")</span> · <time datetime="\(h.sentLocal)">\(Fmt.local(h.sentLocal))</time> <span class="meta">(\(h.timeZone)\(h.sentAt.map { "; " + Fmt.utc(seconds: $0) } ?? ""))</span>
                · <span class="meta">\(h.custodian)</span></p>
                <p class="snippet">\(Self.snippetHTML(h))</p>
                <p class="hit-links"><a href="/messages/\(h.messageID)">Record details<span class="visually-hidden"> for message \(h.messageID)</span></a></p></li>
                """ }
            let pages = Int((Double(results.total) / Double(f.limit)).rounded(.up))
            let nav: HTML = results.total <= f.limit && form.page == 1 ? .empty : """
                <nav aria-label="Result pages" class="pager">
                \(form.page > 1 ? "<a rel=\"prev\" href=\"\(form.link(page: form.page - 1))\">Previous page</a>" as HTML : .empty)
                <span>Page \(form.page)\(results.totalIsExact ? " of \(max(pages, 1))" : "")</span>
                \(last < results.total ? "<a rel=\"next\" href=\"\(form.link(page: form.page + 1))\">Next page</a>" as HTML : .empty)
                </nav>
                """
            resultsHTML = coverage + (results.hits.isEmpty && results.total > 0
                ? "<p role=\"status\" id=\"result-count\">\(total) matching records, none on page \(form.page). <a href=\"\(form.link(page: 1))\">First page</a></p>"
                : results.hits.isEmpty
                ? "<p role=\"status\" id=\"result-count\">No records match.</p>"
                : """
                <p role="status" id="result-count"><strong>\(total)</strong> matching records; showing \(first)–\(last), \(results.order == .relevance ? "most relevant first" + (results.rankedAmongNewest.map { " among the newest \(Fmt.count($0)) matches" } ?? "") : "newest first").</p>
                <ol class="hits" start="\(first)">\(hits)</ol>
                \(nav)
                """ as HTML)
        }
        return pages.page("Search", principal: p, current: "/search", """
            <form method="get" action="/search" role="search" class="search-form">
            <p class="query"><label for="q">Search words</label>
            <input id="q" name="q" type="search" value="\(form.q)" aria-describedby="q-help">
            <button type="submit">Search</button></p>
            <p class="hint" id="q-help">Words match in any order. Use "quoted phrases", prefix*, AND, OR, NOT and (parentheses). Leave the words out to collect everything the filters select (a custodian and a month, say), newest first.</p>
            <details\((p.onlyCustodian == nil && f.custodian != nil) || f.participant != nil || f.platform != nil || f.conversation != nil || f.from != nil || f.to != nil || f.hasAttachment || f.underHold ? " open" : "")>
            <summary>Filters</summary>
            <div class="filters">
            \(custodianField)
            <p><label for="participant">Participant (name or phone)</label><input id="participant" name="participant" value="\(f.participant ?? "")"></p>
            <p><label for="platform">Platform</label><select id="platform" name="platform">\(option("", "Any platform", selected: f.platform == nil))\(Platform.allCases.html { option($0.rawValue, $0.displayName, selected: f.platform == $0.rawValue) })</select></p>
            <p><label for="conversation">Conversation (id or words in its title)</label><input id="conversation" name="conversation" value="\(f.conversation ?? "")"></p>
            <p><label for="from">Sent from</label><input id="from" name="from" type="date" value="\(f.from ?? "")"></p>
            <p><label for="to">Sent to</label><input id="to" name="to" type="date" value="\(f.to ?? "")"></p>
            <p class="check"><input id="has_attachment" name="has_attachment" type="checkbox"\(f.hasAttachment ? " checked" : "")><label for="has_attachment">Has an attachment</label></p>
            \(p.onlyCustodian != nil ? .empty : "<p class=\"check\"><input id=\"under_hold\" name=\"under_hold\" type=\"checkbox\"\(f.underHold ? " checked" : "")><label for=\"under_hold\">Under a legal hold</label></p>" as HTML)
            <p><label for="sort">Order</label><select id="sort" name="sort">\(option("date", "Newest first", selected: f.sort == .date))\(option("relevance", "Most relevant first", selected: f.sort == .relevance))</select></p>
            </div></details>
            </form>
            <section aria-label="Results">\(resultsHTML)</section>
            """)
    }

    func conversationsPage(_ p: Principal, _ list: [Conversation], title: String?) -> HTML {
        let rows = list.html { c in """
            <tr><td><a href="/conversations/\(c.id)">\(c.title)</a></td><td>\(c.platform.displayName)</td><td>\(c.custodianEmail)</td>
            <td class="num">\(Fmt.count(c.messageCount))</td><td>\(c.firstSent.map(Fmt.local) ?? "—")</td><td>\(c.lastSent.map(Fmt.local) ?? "—")</td></tr>
            """ }
        return pages.page("Conversations", principal: p, current: "/conversations", """
            <form method="get" action="/conversations" class="inline-form"><label for="title">Title contains</label>
            <input id="title" name="title" value="\(title ?? "")"><button type="submit">Filter</button></form>
            \(list.isEmpty ? "<p>No conversations.</p>" as HTML : """
            <table><caption>\(Fmt.count(list.count)) conversations</caption><thead><tr><th scope="col">Title</th><th scope="col">Platform</th>
            <th scope="col">Custodian</th><th scope="col">Messages</th><th scope="col">First</th><th scope="col">Last</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """)
            """)
    }

    func attachmentsHTML(_ m: StoredMessage) -> HTML {
        guard !m.message.attachments.isEmpty else { return .empty }
        return "<ul class=\"attachments\">" + HTML.join(m.message.attachments.enumerated().map { i, a in
            let url = "/messages/\(m.id)/attachments/\(i)"
            guard a.blob != nil else { return "<li class=\"missing\">\(a.fileName) — not included in the export</li>" }
            if Fmt.isImage(a.fileName) != nil {
                return """
                    <li><figure><img src="\(url)" alt="Image attachment \(a.fileName)" loading="lazy">
                    <figcaption><a href="\(url)?download=1">Download \(a.fileName)</a> (\(Fmt.bytes(a.size)))</figcaption></figure></li>
                    """
            }
            return "<li><a href=\"\(url)?download=1\">Download \(a.fileName)</a> (\(Fmt.bytes(a.size)))</li>"
        }) + "</ul>"
    }

    func transcriptPage(_ p: Principal, _ c: Conversation, messages: [StoredMessage], page: Int, pageSize: Int, total: Int, at: Int64?,
                        participants: [ResolvedParticipant] = [], gaps: [Tombstone] = [], nextPageStarts: String? = nil) -> HTML {
        let pages = max(1, Int((Double(total) / Double(pageSize)).rounded(.up)))
        // Each gap is shown where it fell among the messages (by sent time), a run per
        // disposition. A page shows the gaps from its first message up to where the next page
        // starts; the first page also those before it, the last page those after its end.
        let first = page == 1 ? "" : messages.first?.message.sentLocal.description ?? ""
        let pageGaps = gaps.filter { $0.sentLocal >= first && (nextPageStarts == nil || $0.sentLocal < nextPageStarts!) }
        func marker(_ run: [Tombstone]) -> HTML {
            guard let t = run.first else { return .empty }
            let span = run.count == 1 ? Fmt.local(t.sentLocal) : "\(Fmt.local(t.sentLocal)) – \(Fmt.local(run.last!.sentLocal))"
            return """
                <li class="msg gap" role="note"><p class="msg-meta"><strong>\(Fmt.count(run.count)) record\(run.count == 1 ? "" : "s") \(t.outcome)</strong> here
                (sent \(span)) by <a href="/dispositions/\(t.dispositionID)">disposition \(t.dispositionID)</a> on \(String(t.disposedAt.prefix(10))),
                schedule item \(t.itemID)\(t.authority.map { " (\($0))" } ?? ""). Only their tombstones remain: identity and content hashes, no text.</p></li>
                """
        }
        var gapIndex = 0
        func gapsBefore(_ sent: String) -> HTML {
            var runs: [[Tombstone]] = []
            while gapIndex < pageGaps.count, pageGaps[gapIndex].sentLocal < sent {
                let g = pageGaps[gapIndex]
                if let lastRun = runs.last, lastRun[0].dispositionID == g.dispositionID { runs[runs.count - 1].append(g) } else { runs.append([g]) }
                gapIndex += 1
            }
            return HTML.join(runs.map(marker))
        }
        let items = messages.html { m in
            let msg = m.message
            let anchor = m.id == at
            let kind: HTML = msg.kind == .user ? .empty : "<span class=\"kind\">\(msg.kind.rawValue)</span> "
            return """
                \(gapsBefore(msg.sentLocal.description))
                <li id="m\(m.id)" class="msg\(anchor ? " anchor" : "")\(msg.kind == .user ? "" : " system")"\(anchor ? " aria-current=\"true\"" as HTML : .empty)>
                <p class="msg-meta">\(kind)<strong>\(msg.sender ?? "system")</strong> · <time datetime="\(msg.sentLocal.description)">\(Fmt.local(msg.sentLocal.description))</time>
                · <a href="/messages/\(m.id)">details<span class="visually-hidden"> of message \(m.id)</span></a>\(anchor ? " · <em>search hit</em>" as HTML : .empty)</p>
                <div class="body">\(msg.body)</div>
                \(MessageExplanation.text(kind: msg.kind, flags: msg.flags).map { "<p class=\"explain\">\($0)</p>" as HTML } ?? .empty)
                \(attachmentsHTML(m))
                </li>
                """
        }
        let nav: HTML = pages <= 1 ? .empty : """
            <nav aria-label="Transcript pages" class="pager">
            \(page > 1 ? "<a rel=\"prev\" href=\"/conversations/\(c.id)?page=\(page - 1)\">Earlier messages</a>" as HTML : .empty)
            <span>Page \(page) of \(pages)</span>
            \(page < pages ? "<a rel=\"next\" href=\"/conversations/\(c.id)?page=\(page + 1)\">Later messages</a>" as HTML : .empty)
            </nav>
            """
        return self.pages.page(c.title, principal: p, current: "/conversations", """
            <p class="meta">\(c.platform.displayName) · custodian \(c.custodianEmail) · \(Fmt.count(total)) messages · participants: \(c.participants.joined(separator: ", "))</p>
            \(participantsHTML(participants))
            \(nav)
            \(gaps.isEmpty ? .empty : "<p class=\"notice\" id=\"gaps\">\(Fmt.count(gaps.count)) record\(gaps.count == 1 ? "" : "s") of this conversation left the archive through disposition; each gap is marked where it was.</p>" as HTML)
            <ol class="transcript" aria-label="Messages">\(items)\(gapsBefore("\u{10FFFF}"))</ol>
            \(nav)
            """)
    }

    /// Who took part, by side: internal (custodians), external (known parties), unresolved.
    func participantsHTML(_ people: [ResolvedParticipant]) -> HTML {
        guard !people.isEmpty else { return .empty }
        let groups: [(ResolvedParticipant.Side, String)] = [(.internal, "Internal"), (.external, "External"), (.unresolved, "Unresolved")]
        let rows = groups.html { side, label in
            let group = people.filter { $0.side == side }
            guard !group.isEmpty else { return .empty }
            let items = group.html { person in
                let who: String = person.custodian.map { " — custodian " + $0 }
                    ?? person.partyID.map { " — party #\($0) " + (person.partyName ?? "") + (person.organization.map { ", " + $0 } ?? "") } ?? ""
                return "<li>\(person.name)\(person.identity.map { " <" + $0 + ">" } ?? "")\(who) (\(Fmt.count(person.messages)))</li>"
            }
            return "<dt>\(label)</dt><dd><ul>\(items)</ul></dd>"
        }
        return "<details class=\"participants\"><summary>Participants: \(Fmt.count(people.filter { $0.side == .internal }.count)) internal, \(Fmt.count(people.filter { $0.side == .external }.count)) external, \(Fmt.count(people.filter { $0.side == .unresolved }.count)) unresolved</summary><dl class=\"facts\">\(rows)</dl></details>"
    }

    func messagePage(_ p: Principal, _ d: MessageDetail, assignment: StoredAssignment?, holds: [LegalHold], history: [AuditEntry],
                     carriage: Carriage? = nil) -> HTML {
        let m = d.stored.message
        let a = assignment?.assignment
        let planVersion: Int = assignment?.planVersion ?? 0
        let retention: HTML = a.map { a in """
            <dl class="facts"><dt>Schedule item</dt><dd>\(a.itemID)\(a.ruleID.map { " (rule \($0))" } ?? "")</dd>
            <dt>Action</dt><dd>\(a.action.rawValue)</dd><dt>Cutoff</dt><dd>\(a.cutoff?.description ?? "—")</dd>
            <dt>Eligible from</dt><dd>\(a.eligible?.description ?? "—")</dd><dt>File plan version</dt><dd>\(planVersion)</dd></dl>
            """ } ?? "<p>No retention assignment yet.</p>"
        let holdList: HTML = holds.isEmpty ? "<p>No active legal hold covers this record.</p>" : "<ul>" + holds.html { h in
            "<li><a href=\"/holds/\(h.id)\">\(h.name)</a> (\(h.matter.rawValue)\(h.reference.map { ", \($0)" } ?? ""))</li>" } + "</ul>"
        let rows = history.html { e in "<tr><td>\(e.at)</td><td>\(e.actor)</td><td>\(e.action)</td><td><code>\(e.detail)</code></td></tr>" }
        let flags: String = m.flags.isEmpty ? "" : " · " + m.flags.names.joined(separator: ", ")
        let member: String = m.sourceMember.isEmpty ? "" : ", member " + m.sourceMember
        let lines: String = m.lineCount > 1 ? "\(m.sourceLine)–\(m.sourceLine + m.lineCount - 1)" : "\(m.sourceLine)"
        let valid: HTML = d.contentHashValid ? "<span class=\"ok\">matches</span>" : "<strong class=\"error\">DOES NOT MATCH — run verify</strong>"
        return pages.page("Record \(d.stored.id)", principal: p, current: "/search", """
            <p><a href="/conversations/\(d.conversation.id)?at=\(d.stored.id)#m\(d.stored.id)">Open in conversation “\(d.conversation.title)”</a></p>
            <section aria-labelledby="content"><h2 id="content">Content</h2>
            <p class="msg-meta"><strong>\(m.sender ?? "system")</strong> · \(Fmt.local(m.sentLocal.description)) (\(m.timeZone)) · \(m.kind.rawValue)\(flags)</p>
            <div class="body">\(m.body)</div>
            \(MessageExplanation.text(kind: m.kind, flags: m.flags).map { "<p class=\"explain\">\($0)</p>" as HTML } ?? .empty)
            \(attachmentsHTML(d.stored))
            <details><summary>Line(s) as exported</summary><pre>\(m.raw)</pre></details></section>
            <section aria-labelledby="prov"><h2 id="prov">Provenance</h2><dl class="facts">
            <dt>Capture batch</dt><dd><a href="/batches/\(d.batch.id)">\(d.batch.id)</a> — \(d.batch.sourceName), captured \(d.batch.startedAt)</dd>
            <dt>Original file</dt><dd><code>\(m.sourceBlob.hex)</code> (SHA-256)\(member)</dd>
            \(carriage.map { c in "<dt>Forwarded by e-mail</dt><dd><a href=\"/messages/\(c.carrierMessageID)\">record \(c.carrierMessageID)</a>, dated \(Timestamp.iso(millis: c.forwardedAt * 1000)) — attachment \(c.attachment)\(c.member.map { ", inside it " + $0 } ?? "")</dd>" as HTML } ?? .empty)
            <dt>Line</dt><dd>\(lines)</dd>
            <dt>Custodian</dt><dd>\(d.conversation.custodianEmail)</dd>
            <dt>Platform</dt><dd>\(m.platform.displayName)</dd></dl></section>
            <section aria-labelledby="hashes"><h2 id="hashes">Integrity</h2><dl class="facts">
            <dt>Identity key</dt><dd><code>\(m.identityKey.hex)</code></dd>
            <dt>Content hash (stored)</dt><dd><code>\(d.stored.storedContentHash.hex)</code></dd>
            <dt>Recomputed now</dt><dd>\(valid)</dd></dl></section>
            <section aria-labelledby="ret"><h2 id="ret">Retention</h2>\(retention)</section>
            \(p.onlyCustodian != nil ? .empty : """
            <section aria-labelledby="holds"><h2 id="holds">Legal holds</h2>\(holdList)</section>
            <section aria-labelledby="hist"><h2 id="hist">Audit history</h2>
            <table><caption class="visually-hidden">Audit entries about this record, oldest first</caption><thead><tr><th scope="col">When (UTC)</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Detail</th></tr></thead>
            <tbody>\(rows)</tbody></table></section>
            """ as HTML)
            """)
    }

    func batchPage(_ p: Principal, _ b: CaptureBatch, defects: [CaptureDefect], conversation: Conversation?) -> HTML {
        let t = b.totals
        let rows = defects.prefix(500).html { d in "<tr><td>\(d.file)</td><td class=\"num\">\(d.line)</td><td>\(d.code)</td><td>\(d.detail)</td><td><code>\(String(d.text.prefix(300)))</code></td></tr>" }
        return pages.page("Capture batch \(b.id)", principal: p, current: "/upload", """
            <dl class="facts summary" id="batch-summary">
            <dt>Source</dt><dd>\(b.sourceName) (\(Fmt.bytes(b.sourceSize)), SHA-256 <code>\(b.sourceHash.hex)</code>)</dd>
            <dt>Conversation</dt><dd>\(conversation.map { "<a href=\"/conversations/\($0.id)\">\($0.title)</a>" as HTML } ?? "—")</dd>
            <dt>Status</dt><dd>\(b.status)\(b.finishedAt.map { ", finished \($0)" } ?? "")</dd>
            <dt>Messages added</dt><dd id="added">\(Fmt.count(t.messagesAdded))</dd>
            <dt>Duplicates skipped</dt><dd id="duplicates">\(Fmt.count(t.duplicates))</dd>
            <dt>Attachments stored</dt><dd>\(Fmt.count(t.attachmentsStored)) (\(Fmt.count(t.attachmentsMissing)) named but missing)</dd>
            <dt>Defects</dt><dd id="defects">\(Fmt.count(t.defects))</dd>
            <dt>Dates read as</dt><dd>\(b.dateOrder.map { "\($0.order.rawValue) (\($0.basis))" } ?? "—"); time zone \(b.timeZone) (from \(b.timeZoneBasis))</dd>
            </dl>
            \(defects.isEmpty ? "<p>Every line was read.</p>" as HTML : """
            <h2>Lines that could not be read as messages</h2><p>Each is kept verbatim in the archive.</p>
            <table><thead><tr><th scope="col">File</th><th scope="col">Line</th><th scope="col">Code</th><th scope="col">Detail</th><th scope="col">Text</th></tr></thead><tbody>\(rows)</tbody></table>
            """)
            """)
    }
}
