import Archive
import Foundation
import RecordkeeperCore

/// What `transfer package` wrote.
public struct TransferPackage: Sendable, Codable {
    public var dispositionID: Int64
    public var path: String
    public var records: Int
    public var messageFiles: Int
    public var attachments: Int
    public var payloadFiles: Int
    public var payloadBytes: Int64
    /// SHA-256 of the bag's payload manifest, recorded on the batch and in the audit log.
    public var bagDigest: String
}

/// Transfer of permanent records to the National Archives: an approved transfer batch is
/// packaged as a BagIt bag; the records stay in the archive until NARA's accession is confirmed.
///
/// Granularity: one EML file per conversation per day (`data/messages/<conversation>/<date>.eml`),
/// holding that day's messages as a transcript with their attachments as MIME parts. A day of a
/// chat is the unit a reader needs for context, and it keeps file counts sane (a message per
/// file would mean millions of tiny files). `data/metadata.csv` still has one row per message
/// (record), so each record can be found, counted and checked by its content hash.
public struct TransferService: Sendable {
    public let archive: ArchiveHandle
    public init(archive: ArchiveHandle) { self.archive = archive }
    var store: any ArchiveStore { archive.store }

    public static let metadataColumns = [
        "File Name", "Record ID", "Title", "Description", "Creator", "Creation Date", "Rights", "Custodian", "Office", "Platform",
        "Conversation", "Sender", "Sent (local)", "Time Zone", "Sent (UTC)", "Attachments", "Content SHA-256", "Identity Key",
        "Schedule Item", "Disposition Authority",
    ]

    public func package(id: Int64, to destination: URL, organization: String, rights: String, actor: String, today: CivilDate = .today(),
                        progress: (@Sendable (String) -> Void)? = nil) async throws -> TransferPackage {
        let access = RecordsAccess(store: store)
        try await access.require(.recordsOfficer, actor: actor, action: "transfer.package", target: "disposition:\(id)")
        let batch = try await DispositionService(archive: archive).show(id: id)
        guard batch.action == .transfer else {
            try await access.refuse(actor: actor, action: "transfer.package", target: "disposition:\(id)",
                                    reason: "disposition \(id) is a destruction; only transfer batches are packaged")
        }
        guard batch.status == .approved || batch.status == .packaged else {
            try await access.refuse(actor: actor, action: "transfer.package", target: "disposition:\(id)",
                                    reason: "transfer \(id) is \(batch.status.rawValue); it must be approved by a second records officer before packaging")
        }
        var plan = try await store.filePlanHistory().first { $0.version == batch.planVersion }?.plan
        if plan == nil { plan = try await store.currentFilePlan()?.plan }
        // Only what is due today and under no hold goes into the bag; the rest is withheld.
        let withheld = try await access.audited(actor: actor, action: "transfer.package", target: "disposition:\(id)") {
            try await store.withholdIneligible(id: id, today: today)
        }
        let members = try await store.dispositionMembers(id: id)
        guard !members.isEmpty else {
            throw ArchiveError(.refused, "transfer \(id) has no records that may go to NARA on \(today)\(withheld > 0 ? " (\(withheld) withheld: not yet due or under a legal hold)" : "")")
        }

        // A bag of this transfer already in place while the transfer is not recorded as packaged
        // was left by a run stopped between moving it there and recording it: it is made again.
        var bag = try BagItWriter(destination: destination, replacing: batch.status == .approved ? "recordkeeper-disposition-\(id)" : nil)
        var csv = Self.metadataColumns.joined(separator: "|") + "\r\n"
        var conversations: [Int64: (Conversation, CustodianProfile?)] = [:]
        var summary: [(conversation: Conversation, day: String, file: String, records: Int)] = []
        var attachmentCount = 0
        var index = 0
        while index < members.count {
            let first = members[index]
            let day = String(first.sentLocal.prefix(10))
            var group: [DispositionMember] = []
            while index < members.count, members[index].conversationID == first.conversationID, members[index].sentLocal.hasPrefix(day) {
                group.append(members[index]); index += 1
            }
            if conversations[first.conversationID] == nil {
                guard let c = try await store.conversation(id: first.conversationID) else { continue }
                conversations[first.conversationID] = (c, try await store.custodianProfile(email: c.custodianEmail))
            }
            let (conversation, custodian) = conversations[first.conversationID]!
            let folder = "messages/\(BagItWriter.slug(conversation.title))-\(conversation.id)"
            let file = "\(folder)/\(day).eml"
            var transcript = "\(conversation.title) (\(conversation.platform.rawValue)), \(day)\r\nCustodian: \(conversation.custodianEmail)\r\n\r\n"
            var parts: [EMLWriter.Part] = []
            var firstSent: Int64?
            var firstZone = "UTC"
            var senders = Set<String>()
            for member in group {
                guard let stored = try await store.message(id: member.messageID) else { continue }
                let m = stored.message
                if firstSent == nil { firstSent = m.sentAt; firstZone = m.timeZone }
                if let s = m.sender { senders.insert(s) }
                let names = m.attachments.map { $0.fileName + ($0.isMissing ? " (not in the export)" : "") }
                transcript += "[\(m.sentLocal) \(m.timeZone)] \(m.sender ?? "(system)"): \(m.body.replacingOccurrences(of: "\n", with: "\r\n    "))\r\n"
                transcript += "    record \(stored.id), sha256 \(m.contentHash.hex)\(names.isEmpty ? "" : ", attachments: " + names.joined(separator: ", "))\r\n"
                for a in m.attachments {
                    guard let hash = a.blob else { continue }
                    var bytes: [UInt8] = []
                    try await archive.blobs.read(hash) { bytes.append(contentsOf: $0) }
                    parts.append(EMLWriter.Part(contentType: EMLWriter.contentType(forFileName: a.fileName), fileName: a.fileName, bytes: bytes))
                    attachmentCount += 1
                }
                let item = plan?.item(member.itemID)
                let title = "\(conversation.platform.displayName) message from \(m.sender ?? "system") in \(conversation.title), \(m.sentLocal)"
                csv += Self.csvRow([
                    "data/" + file, "message:\(stored.id)", title,
                    "\(m.kind.rawValue) message, \(m.body.count) characters, \(m.attachments.count) attachment(s); transcript of the day in the file",
                    m.sender ?? "(system)", String(m.sentLocal.description.prefix(10)), rights, conversation.custodianEmail, custodian?.office ?? "",
                    conversation.platform.rawValue, conversation.title, m.sender ?? "", m.sentLocal.description, m.timeZone,
                    Timestamp.iso(millis: m.sentAt * 1000), m.attachments.map(\.fileName).joined(separator: "; "), m.contentHash.hex,
                    m.identityKey.hex, member.itemID, item?.authority ?? "",
                ])
            }
            parts.insert(EMLWriter.Part(contentType: "text/plain; charset=utf-8", fileName: nil, bytes: Array(transcript.utf8)), at: 0)
            let headers: [(String, String)] = [
                ("From", EMLWriter.address(name: custodian?.name, email: conversation.custodianEmail)),
                ("To", EMLWriter.address(name: nil, email: conversation.custodianEmail)),
                ("Subject", "\(conversation.title) — \(conversation.platform.rawValue) conversation, \(day) (\(group.count) messages)"),
                ("Date", EMLWriter.date(firstSent ?? 0, zone: firstZone)),
                ("Message-ID", "<\(ContentHash.of("\(conversation.key)|\(day)").hex.prefix(32))@recordkeeper.invalid>"),
                ("X-Recordkeeper-Conversation", conversation.key),
                ("X-Recordkeeper-Participants", senders.sorted().joined(separator: ", ")),
                ("X-Recordkeeper-Records", String(group.count)),
            ]
            try bag.addPayload(file, EMLWriter.message(headers: headers, boundarySeed: conversation.key + day, parts: parts))
            summary.append((conversation, day, file, group.count))
            progress?("packaged \(index) of \(members.count) records")
        }
        try bag.addPayload("metadata.csv", Array(csv.utf8))
        let findingAid = Self.findingAid(batch: batch, plan: plan, organization: organization, summary: summary, files: bag.manifest)
        try bag.addPayload("finding-aid.html", Array(findingAid.utf8))
        let items = Set(members.map(\.itemID)).sorted().map { plan?.item($0)?.authority ?? $0 }
        let digest = try bag.finish(info: [
            ("Source-Organization", organization),
            ("External-Identifier", "recordkeeper-disposition-\(id)"),
            ("External-Description", "Permanent electronic messages (\(members.count) records) transferred under \(items.joined(separator: ", "))"),
            ("Bagging-Date", CivilDate.today().description),
            ("Bag-Software-Agent", "Recordkeeper 0.1.0"),
        ])
        let result = TransferPackage(dispositionID: id, path: destination.path, records: members.count, messageFiles: summary.count,
                                     attachments: attachmentCount, payloadFiles: bag.manifest.count, payloadBytes: bag.payloadBytes, bagDigest: digest)
        _ = try await store.markPackaged(id: id, bagDigest: digest, atMillis: Timestamp.nowMillis(), audit: AuditDraft(
            actor: actor, action: "transfer.package", target: "disposition:\(id)", detail: [
                "records": String(result.records), "withheld": String(withheld), "files": String(result.payloadFiles),
                "bytes": String(result.payloadBytes), "bag_digest": digest,
            ]))
        return result
    }

    /// Completes the transfer once NARA has accessioned the bag: the records become tombstones
    /// carrying the accession number.
    public func confirm(id: Int64, accession: String, actor: String, today: CivilDate = .today()) async throws -> DispositionCertificate {
        let trimmed = accession.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ArchiveError(.invalid, "give the accession number NARA assigned, e.g. --accession NN-0568-2038-0001") }
        return try await DispositionService(archive: archive).execute(id: id, actor: actor, accession: trimmed, today: today)
    }

    /// A pipe-delimited CSV row; fields with a pipe, quote or line break are quoted.
    static func csvRow(_ fields: [String]) -> String {
        fields.map { f in
            f.contains(where: { $0 == "|" || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : f
        }.joined(separator: "|") + "\r\n"
    }

    static func findingAid(batch: DispositionBatch, plan: FilePlan?, organization: String,
                           summary: [(conversation: Conversation, day: String, file: String, records: Int)],
                           files: [(path: String, sha256: String, size: Int64)]) -> String {
        var convRows = ""
        var byConversation: [Int64: (Conversation, String, String, Int, Int)] = [:]
        for s in summary {
            var e = byConversation[s.conversation.id] ?? (s.conversation, s.day, s.day, 0, 0)
            e.1 = min(e.1, s.day); e.2 = max(e.2, s.day); e.3 += s.records; e.4 += 1
            byConversation[s.conversation.id] = e
        }
        for (c, first, last, records, days) in byConversation.values.sorted(by: { $0.0.id < $1.0.id }) {
            convRows += "<tr><td>\(TextRecipes.htmlEscaped(c.title))</td><td>\(TextRecipes.htmlEscaped(c.platform.rawValue))</td><td>\(TextRecipes.htmlEscaped(c.custodianEmail))</td>"
            convRows += "<td>\(first)</td><td>\(last)</td><td class=n>\(records)</td><td class=n>\(days)</td></tr>\n"
        }
        var itemRows = ""
        for i in batch.items {
            let item = plan?.item(i.itemID)
            itemRows += "<tr><td>\(TextRecipes.htmlEscaped(i.itemID))</td><td>\(TextRecipes.htmlEscaped(item?.authority ?? ""))</td><td>\(TextRecipes.htmlEscaped(item?.title ?? ""))</td>"
            itemRows += "<td class=n>\(i.records)</td><td>\(TextRecipes.htmlEscaped(i.firstSent ?? ""))</td><td>\(TextRecipes.htmlEscaped(i.lastSent ?? ""))</td></tr>\n"
        }
        var fileRows = ""
        for f in files.sorted(by: { $0.path < $1.path }) {
            fileRows += "<tr><td>\(TextRecipes.htmlEscaped(f.path))</td><td class=n>\(f.size)</td><td><code>\(f.sha256)</code></td></tr>\n"
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Finding aid — transfer \(batch.id)</title>
            <style>body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;color:#111}table{border-collapse:collapse;margin:1rem 0}
            th,td{border:1px solid #888;padding:.3rem .6rem;text-align:left}td.n{text-align:right}code{font-size:.8em}</style></head>
            <body><h1>Finding aid: permanent electronic messages</h1>
            <p>\(TextRecipes.htmlEscaped(organization)). Transfer batch \(batch.id), records eligible as of \(batch.asOf), proposed by \(TextRecipes.htmlEscaped(batch.proposedBy)),
            approved by \(TextRecipes.htmlEscaped(batch.approvedBy ?? "")). Messages are grouped one file per conversation per day (EML, RFC 5322 with MIME attachments);
            <code>data/metadata.csv</code> (pipe-delimited) describes every message; every file is listed below with its SHA-256.</p>
            <h2>Schedule items</h2>
            <table><tr><th scope=col>Item</th><th scope=col>Disposition authority</th><th scope=col>Title</th><th scope=col>Records</th><th scope=col>First sent</th><th scope=col>Last sent</th></tr>
            \(itemRows)</table>
            <h2>Conversations</h2>
            <table><tr><th scope=col>Conversation</th><th scope=col>Platform</th><th scope=col>Custodian</th><th scope=col>First day</th><th scope=col>Last day</th><th scope=col>Records</th><th scope=col>Files</th></tr>
            \(convRows)</table>
            <h2>Files</h2>
            <p>This list covers the payload except this finding aid itself, which the bag's manifest covers.</p>
            <table><tr><th scope=col>Path</th><th scope=col>Bytes</th><th scope=col>SHA-256</th></tr>
            \(fileRows)</table>
            </body></html>

            """
    }
}
