import Archive
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Recordkeeper
import RecordkeeperCore

/// JSON shapes of the API (snake_case on the wire). docs/openapi.yaml describes them.
struct MessageJSON: Encodable {
    struct Attachment: Encodable {
        var index: Int
        var fileName: String
        var sha256: String?
        var size: Int64?
        var url: String?
    }
    struct Source: Encodable {
        var sha256: String
        var member: String?
        var line: Int
        var lineCount: Int
    }
    var id: Int64
    var conversationId: Int64
    var batchId: Int64
    var platform: String
    var sender: String?
    var sentLocal: String
    var timeZone: String
    var sentAt: Int64?
    var kind: String
    var flags: [String]
    var body: String
    /// What a placeholder or marker means, in words (nil for ordinary messages).
    var explanation: String?
    var attachments: [Attachment]
    var identityKey: String
    var contentHash: String
    var contentHashValid: Bool
    var source: Source

    init(_ s: StoredMessage) {
        let m = s.message
        id = s.id
        conversationId = s.conversationID
        batchId = s.batchID
        platform = m.platform.rawValue
        sender = m.sender
        sentLocal = m.sentLocal.description
        timeZone = m.timeZone
        sentAt = m.sentAt
        kind = m.kind.rawValue
        flags = m.flags.names
        body = m.body
        explanation = MessageExplanation.text(kind: m.kind, flags: m.flags)
        attachments = m.attachments.enumerated().map { i, a in
            Attachment(index: i, fileName: a.fileName, sha256: a.blob?.hex, size: a.size,
                       url: a.blob == nil ? nil : "/api/v1/messages/\(s.id)/attachments/\(i)")
        }
        identityKey = m.identityKey.hex
        contentHash = s.storedContentHash.hex
        contentHashValid = s.storedContentHash == m.contentHash
        source = Source(sha256: m.sourceBlob.hex, member: m.sourceMember, line: m.sourceLine, lineCount: m.lineCount)
    }
}

struct HitJSON: Encodable {
    var messageId: Int64
    var conversationId: Int64
    var conversationTitle: String
    var custodian: String
    var sender: String?
    var sentLocal: String
    var timeZone: String
    /// The sent instant in UTC (ISO 8601), beside the time as written.
    var sentUtc: String?
    var kind: String
    /// Plain text around the match.
    var snippet: String
    /// The same, HTML-escaped, with matches in `<mark>`.
    var snippetHtml: String
    init(_ h: SearchHit) {
        messageId = h.messageID
        conversationId = h.conversationID
        conversationTitle = h.conversationTitle
        custodian = h.custodian
        sender = h.sender
        sentLocal = h.sentLocal
        timeZone = h.timeZone
        sentUtc = h.sentAt.map(Timestamp.iso(seconds:))
        kind = h.kind
        snippet = h.snippet(open: "", close: "")
        snippetHtml = WebApp.snippetHTML(h).rendered
    }
}

struct HoldJSON: Encodable {
    var hold: LegalHold
    var heldRecords: Int
}

extension Form {
    /// A JSON object's fields as form fields (arrays become repeated fields).
    init(json data: ByteBuffer) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(data.readableBytesView)) as? [String: Any] else {
            throw WebError.badRequest("the body must be a JSON object")
        }
        var fields: [(String, String)] = []
        for (k, v) in object {
            switch v {
            case let s as String: fields.append((k, s))
            case let b as Bool: fields.append((k, b ? "true" : "false"))
            case let n as NSNumber: fields.append((k, n.stringValue))
            case let a as [Any]: for e in a { fields.append((k, "\(e)")) }
            default: continue
            }
        }
        self.init(fields: fields)
    }
}

extension WebApp {
    /// The body of an API POST: JSON or a URL-encoded form.
    func apiForm(_ input: Input) async throws -> Form {
        if !input.form.fields.isEmpty { return input.form }
        let contentType = input.request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else { return input.form }
        return try Form(json: try await input.request.body.collect(upTo: input.context.maxUploadSize))
    }

    func addAPIRoutes(_ r: RouteBuilder) {
        r.add(.get, "/api/v1/me", .signedIn, "Who the token or session belongs to") { input in
            try Respond.json(try input.user.user)
        }
        r.add(.get, "/api/v1/search", Access.readers, "Search: q plus the web UI's filters; page and limit", limited: true) { input in
            let p = try input.user
            let form = SearchForm(input.query, onlyCustodian: p.onlyCustodian)
            guard !form.q.isEmpty || SearchService.narrows(form.filters) else {
                throw WebError.badRequest("give a query (q=…) or at least one filter to collect everything it selects")
            }
            let results = try await SearchService(archive: self.archive).search(form.q, filters: form.filters, actor: p.actor)
            struct Out: Encodable {
                var total: Int; var totalIsExact: Bool; var coverage: SearchCoverage?; var rankedAmongNewest: Int?; var order: String
                var page: Int; var limit: Int; var hits: [HitJSON]
            }
            return try Respond.json(Out(total: results.total, totalIsExact: results.totalIsExact, coverage: results.coverage.map(SearchCoverage.init),
                                        rankedAmongNewest: results.rankedAmongNewest, order: results.order.rawValue,
                                        page: form.page, limit: form.filters.limit, hits: results.hits.map(HitJSON.init)))
        }
        r.add(.get, "/api/v1/conversations", Access.readers, "Conversations (title filter)") { input in
            let p = try input.user
            let list = try await self.records.conversations(titleContains: input.query["title"], custodianID: try await self.confinedCustodianID(p),
                                                            limit: 1000, actor: p.actor)
            return try Respond.json(["conversations": list])
        }
        r.add(.get, "/api/v1/conversations/:id/messages", Access.readers, "A page of a conversation's transcript (offset, limit ≤ 1000)") { input in
            let p = try input.user
            let id = try input.id()
            let c = try await self.visibleConversation(p, id: id)
            let offset = max(0, Int(input.query["offset"] ?? "0") ?? 0)
            let limit = max(1, min(Int(input.query["limit"] ?? "200") ?? 200, 1000))
            let (_, messages) = try await self.records.transcript(conversationID: id, offset: offset, limit: limit, actor: p.actor)
            struct Out: Encodable { var conversation: Conversation; var offset: Int; var messages: [MessageJSON] }
            return try Respond.json(Out(conversation: c, offset: offset, messages: messages.map(MessageJSON.init)))
        }
        r.add(.get, "/api/v1/conversations/:id/participants", Access.readers, "Who took part: internal, external (known parties) or unresolved") { input in
            let p = try input.user
            let id = try input.id()
            _ = try await self.visibleConversation(p, id: id)
            let list = try await IdentityService(archive: self.archive).participants(conversationID: id, actor: p.actor)
            return try Respond.json(["participants": list])
        }
        r.add(.get, "/api/v1/messages/:id", Access.readers, "One record with provenance, hashes, retention and holds") { input in
            let p = try input.user
            let id = try input.id()
            let d = try await self.messageDetail(p, id: id)
            struct Out: Encodable { var message: MessageJSON; var retention: StoredAssignment?; var holds: [Int64]; var carriedBy: Carriage? }
            return try Respond.json(Out(message: MessageJSON(d.stored), retention: try await self.archive.store.assignment(messageID: id),
                                        holds: p.onlyCustodian == nil ? try await self.archive.store.holdsCovering(messageID: id) : [],
                                        carriedBy: try await self.archive.store.carriage(batchID: d.stored.batchID)))
        }
        r.add(.get, "/api/v1/messages/:id/attachments/:index", Access.readers, "An attachment's bytes") { input in
            let p = try input.user
            let (a, data) = try await self.attachment(p, messageID: try input.id(), index: input.context.parameters.get("index", as: Int.self) ?? -1)
            return Self.attachmentResponse(a, data, download: true)
        }
        r.add(.post, "/api/v1/ingest", .roles([.custodian, .recordsOfficer]), "Ingest an export (multipart: file, custodian, time_zone, date_order, title)", body: .stream, limited: true) { input in
            let reports = try await self.ingestUpload(input)
            let failed = reports.contains { $0.error != nil }
            return try Respond.json(["batches": reports], status: failed ? .unprocessableContent : .created)
        }
        r.add(.get, "/api/v1/batches/:id", .roles([.reviewer, .recordsOfficer, .custodian, .auditor]), "A capture batch and its defects") { input in
            let p = try input.user
            let id = try input.id()
            _ = try await self.visibleBatch(p, id: id)
            let (batch, defects) = try await self.records.batch(id: id, actor: p.actor)
            struct Out: Encodable { var batch: CaptureBatch; var defects: [CaptureDefect] }
            // Defect text is record content: an auditor sees where and why, not what.
            return try Respond.json(Out(batch: batch, defects: p.readsContent ? defects : defects.map { var d = $0; d.text = ""; return d }))
        }
        r.add(.get, "/api/v1/holds", Access.recordsStaff, "Legal holds with the number of records each covers") { input in
            let p = try input.user
            let holds = try await self.holdService.list(includeReleased: input.query.flag("all"), actor: p.actor)
            return try Respond.json(["holds": holds.map { HoldJSON(hold: $0.0, heldRecords: $0.1) }])
        }
        r.add(.post, "/api/v1/holds", Access.officers, "Place a hold (JSON: name, matter, reference, requested_by, custodians, conversations, from, to, query, everything)", limited: true) { input in
            let p = try input.user
            let d = try await self.createHold(p, try await self.apiForm(input))
            return try Respond.json(HoldJSON(hold: d.hold, heldRecords: d.heldRecords), status: .created)
        }
        r.add(.get, "/api/v1/holds/:id", Access.recordsStaff, "One hold and the records it covers now") { input in
            let p = try input.user
            let d = try await self.holdService.show(id: try input.id(), sample: 0, actor: p.actor)
            return try Respond.json(HoldJSON(hold: d.hold, heldRecords: d.heldRecords))
        }
        r.add(.post, "/api/v1/holds/:id/release", Access.officers, "Release a hold (JSON: reason)") { input in
            let p = try input.user
            let f = try await self.apiForm(input)
            let hold = try await self.holdService.release(id: try input.id(), reason: f["reason"] ?? "", actor: p.actor)
            return try Respond.json(hold)
        }
        r.add(.get, "/api/v1/users", Access.admins, "Users and roles") { _ in
            try Respond.json(["users": try await UserService(archive: self.archive).list()])
        }
        r.add(.post, "/api/v1/users", Access.admins, "Add a user or change roles (JSON: name, display_name, roles, custodian_email, password)") { input in
            let p = try input.user
            let f = try await self.apiForm(input)
            let roles = try f.all("roles").map { r in
                guard let role = UserRole(rawValue: r) else { throw ArchiveError(.invalid, "unknown role \(r)") }
                return role
            }
            let user = try await UserService(archive: self.archive).save(name: f["name"] ?? "", displayName: f["display_name"], roles: roles,
                                                                        custodianEmail: f["custodian_email"], actor: p.actor)
            if let pw = f.fields.first(where: { $0.0 == "password" })?.1, !pw.isEmpty {
                try await self.credentials.setPassword(user: user.name, password: pw, actor: p.actor, actingAs: p.user)
                try await self.sessions.endAll(user: user.name)
            }
            return try Respond.json(user, status: .created)
        }
        r.add(.get, "/api/v1/audit", Access.auditors, "Audit entries, newest first (actor, action, target, from, to, before, limit)", limited: true) { input in
            let p = try input.user
            let entries = try await self.archive.store.auditEntries(Self.auditFilter(input.query))
            try await self.archive.store.appendReadAudit(AuditDraft(actor: p.actor, action: "audit.view", target: "audit",
                                                                detail: ["filter": input.request.uri.query ?? "", "via": "api"]))
            return try Respond.json(["entries": entries])
        }
    }
}
