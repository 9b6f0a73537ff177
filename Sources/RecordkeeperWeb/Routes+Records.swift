import Archive
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Recordkeeper
import RecordkeeperCore

/// What the search form and `GET /api/v1/search` take.
struct SearchForm {
    var q: String
    var filters: SearchFilters
    var page: Int
    static let pageSize = 20

    /// The form was sent (a bare visit to /search shows an empty form, even for a custodian whose
    /// own-records filter is always set).
    var submitted: Bool

    init(_ f: Form, onlyCustodian: String?) {
        q = f["q"] ?? ""
        submitted = f["q"] != nil || f["custodian"] != nil || f["conversation"] != nil || f["participant"] != nil || f["from"] != nil
            || f["to"] != nil || f["platform"] != nil || f["has_attachment"] != nil || f["under_hold"] != nil
        page = max(1, min(Int(f["page"] ?? "1") ?? 1, 500))
        filters = SearchFilters(custodian: onlyCustodian ?? f["custodian"], conversation: f["conversation"], participant: f["participant"],
                                from: f["from"], to: f["to"], limit: Int(f["limit"] ?? "") .map { max(1, min($0, 200)) } ?? Self.pageSize,
                                offset: 0, sort: f["sort"] == "relevance" ? .relevance : .date)
        filters.offset = (page - 1) * filters.limit
        filters.platform = f["platform"]
        filters.hasAttachment = f.flag("has_attachment")
        filters.underHold = onlyCustodian == nil && f.flag("under_hold")
        filters.confined = onlyCustodian != nil
    }

    /// The query string for another page of the same search.
    func link(page: Int) -> String {
        "/search?" + URLQuery.string([
            ("q", q), ("custodian", filters.custodian), ("participant", filters.participant), ("platform", filters.platform),
            ("conversation", filters.conversation), ("from", filters.from), ("to", filters.to),
            ("has_attachment", filters.hasAttachment ? "on" : nil), ("under_hold", filters.underHold ? "on" : nil),
            ("sort", filters.sort == .relevance ? "relevance" : nil), ("limit", filters.limit == Self.pageSize ? nil : String(filters.limit)),
            ("page", String(page)),
        ])
    }
}

extension WebApp {
    var records: RecordService { RecordService(archive: archive) }

    /// The custodian id a principal is confined to: nil when unrestricted, -1 when the custodian
    /// has no records yet.
    func confinedCustodianID(_ p: Principal) async throws -> Int64? {
        guard let email = p.onlyCustodian else { return nil }
        return try await archive.store.custodian(email: email)?.id ?? -1
    }

    /// Refuses (as "not found", audited) a record outside a custodian user's own.
    func requireVisible(_ p: Principal, custodianID: Int64, target: String) async throws {
        guard let only = try await confinedCustodianID(p), only != custodianID else { return }
        try await archive.store.appendAudit(AuditDraft(actor: p.actor, action: "refused", target: target,
                                                       detail: ["attempted": "read", "reason": "not this custodian's record"]))
        throw ArchiveError(.notFound, "there is no such record among yours")
    }

    func addRecordRoutes(_ r: RouteBuilder) {
        r.add(.get, "/search", Access.readers, "Search the archive (full query syntax, filters, pages)", limited: true) { input in
            let p = try input.user
            let form = SearchForm(input.query, onlyCustodian: p.onlyCustodian)
            var results: SearchResults?
            var error: String?
            // Words, or filters alone ("custodian X, 1–31 March, everything").
            if !form.q.isEmpty || (form.submitted && SearchService.narrows(form.filters)) {
                do { results = try await SearchService(archive: self.archive).search(form.q, filters: form.filters, actor: p.actor) } catch let e as ArchiveError where e.code == .badQuery || e.code == .notFound {
                    error = e.message
                }
            }
            let custodians = p.onlyCustodian == nil ? try await self.archive.store.custodianProfiles().map(\.email) : []
            return Respond.html(self.searchPage(p, form: form, results: results, error: error, custodians: custodians))
        }
        r.add(.get, "/conversations", Access.readers, "Conversations, optionally by title") { input in
            let p = try input.user
            let list = try await self.records.conversations(titleContains: input.query["title"], custodianID: try await self.confinedCustodianID(p),
                                                            limit: 1000, actor: p.actor)
            return Respond.html(self.conversationsPage(p, list, title: input.query["title"]))
        }
        r.add(.get, "/conversations/:id", Access.readers, "A conversation's transcript, a page at a time, opened at a message") { input in
            let p = try input.user
            let id = try input.id()
            let conversation = try await self.visibleConversation(p, id: id)
            let pageSize = 100
            let total = try await self.archive.store.messageCount(conversationID: id)
            let lastPage = max(1, (total + pageSize - 1) / pageSize)
            var page = min(max(1, Int(input.query["page"] ?? "1") ?? 1), lastPage)
            let at = input.query["at"].flatMap { Int64($0) }
            if let at, let position = try await self.archive.store.transcriptPosition(conversationID: id, messageID: at) {
                page = position / pageSize + 1
            }
            let (_, messages) = try await self.records.transcript(conversationID: id, offset: (page - 1) * pageSize, limit: pageSize, actor: p.actor)
            let people = try await self.archive.store.participants(conversationID: id)
            // Records that left through a disposition leave visible gaps, with the reason.
            let gaps = try await self.archive.store.tombstones(conversationID: id, limit: 100_000)
            // Where the next page starts, so a gap between two pages shows on this one.
            let nextStart = page < lastPage ? try await self.archive.store.transcript(conversationID: id, offset: page * pageSize, limit: 1).first : nil
            return Respond.html(self.transcriptPage(p, conversation, messages: messages, page: page, pageSize: pageSize, total: total, at: at,
                                                    participants: people, gaps: gaps, nextPageStarts: nextStart?.message.sentLocal.description))
        }
        r.add(.get, "/messages/:id", Access.readers, "A record: text, provenance, hashes, retention, holds and its audit history") { input in
            let p = try input.user
            let id = try input.id()
            let detail = try await self.messageDetail(p, id: id)
            let assignment = try await self.archive.store.assignment(messageID: id)
            // Holds and who read a record are records staff's business: they can reveal an
            // investigation to the custodian it concerns.
            let staff = p.onlyCustodian == nil
            var holds: [LegalHold] = []
            for h in staff ? try await self.archive.store.holdsCovering(messageID: id) : [] {
                if let hold = try await self.archive.store.hold(id: h) { holds.append(hold) }
            }
            let history = staff ? try await self.archive.store.auditEntries(target: "message:\(id)", limit: 200) : []
            let carriage = try await self.archive.store.carriage(batchID: detail.stored.batchID)
            return Respond.html(self.messagePage(p, detail, assignment: assignment, holds: holds, history: history, carriage: carriage))
        }
        r.add(.get, "/messages/:id/attachments/:index", Access.readers, "An attachment: images inline, other files as a download") { input in
            let p = try input.user
            let id = try input.id()
            let (attachment, data) = try await self.attachment(p, messageID: id, index: input.context.parameters.get("index", as: Int.self) ?? -1)
            return Self.attachmentResponse(attachment, data, download: input.query.flag("download"))
        }
        r.add(.get, "/batches/:id", .roles([.reviewer, .recordsOfficer, .custodian, .auditor]), "A capture batch: what it added, skipped and could not read") { input in
            let p = try input.user
            let id = try input.id()
            let batch = try await self.visibleBatch(p, id: id)
            let (_, defects) = try await self.records.batch(id: id, actor: p.actor)
            let conversation = try await self.archive.store.conversation(id: batch.conversationID)
            return Respond.html(self.batchPage(p, batch, defects: p.readsContent ? defects : defects.map { var d = $0; d.text = "(content not shown to your role)"; return d },
                                               conversation: conversation))
        }
    }

    /// A conversation the principal may read. For a custodian user a missing conversation and
    /// another custodian's read the same, so ids reveal nothing.
    func visibleConversation(_ p: Principal, id: Int64) async throws -> Conversation {
        guard let conversation = try await archive.store.conversation(id: id) else {
            throw ArchiveError(.notFound, p.onlyCustodian == nil ? "no conversation with id \(id)" : "there is no such record among yours")
        }
        try await requireVisible(p, custodianID: conversation.custodianID, target: "conversation:\(id)")
        return conversation
    }

    /// A capture batch the principal may read (as for conversations).
    func visibleBatch(_ p: Principal, id: Int64) async throws -> CaptureBatch {
        guard let batch = try await archive.store.batch(id: id) else {
            throw ArchiveError(.notFound, p.onlyCustodian == nil ? "no capture batch with id \(id)" : "there is no such record among yours")
        }
        try await requireVisible(p, custodianID: batch.custodianID, target: "batch:\(id)")
        return batch
    }

    func messageDetail(_ p: Principal, id: Int64) async throws -> MessageDetail {
        // The confinement check needs the conversation before the audited read.
        if try await confinedCustodianID(p) != nil {
            guard let m = try await archive.store.message(id: id), let c = try await archive.store.conversation(id: m.conversationID) else {
                throw ArchiveError(.notFound, "there is no such record among yours")
            }
            try await requireVisible(p, custodianID: c.custodianID, target: "message:\(id)")
        }
        return try await records.message(id: id, actor: p.actor)
    }

    func attachment(_ p: Principal, messageID: Int64, index: Int) async throws -> (ArchivedAttachment, Data) {
        if try await confinedCustodianID(p) != nil {
            guard let m = try await archive.store.message(id: messageID), let c = try await archive.store.conversation(id: m.conversationID) else {
                throw ArchiveError(.notFound, "there is no such record among yours")
            }
            try await requireVisible(p, custodianID: c.custodianID, target: "message:\(messageID)")
        }
        return try await records.attachment(messageID: messageID, index: index, actor: p.actor)
    }

    /// Images (never SVG) may show inline; everything else downloads. Served sandboxed, so a
    /// hostile file cannot run script in the archive's origin.
    static func attachmentResponse(_ a: ArchivedAttachment, _ data: Data, download: Bool) -> Response {
        let name = a.fileName.replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "\\", with: "_")
            .unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }
        let ascii = String(String.UnicodeScalarView(name))
        let encoded = a.fileName.addingPercentEncoding(withAllowedCharacters: URLQuery.allowed) ?? "attachment"
        let image = Fmt.isImage(a.fileName)
        let disposition = (image != nil && !download ? "inline" : "attachment") + "; filename=\"\(ascii.isEmpty ? "attachment" : ascii)\"; filename*=UTF-8''\(encoded)"
        var response = Respond.bytes(data, contentType: image ?? "application/octet-stream", disposition: disposition)
        response.headers[.contentSecurityPolicy] = "default-src 'none'; sandbox"
        response.headers[.cacheControl] = "private, no-store"
        return response
    }
}
