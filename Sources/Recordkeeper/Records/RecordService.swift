import Archive
import Foundation
import RecordkeeperCore

/// A message with everything needed to show where it came from.
public struct MessageDetail: Sendable {
    public var stored: StoredMessage
    public var conversation: Conversation
    public var batch: CaptureBatch
    /// True when the stored content hash matches one recomputed now.
    public var contentHashValid: Bool { stored.storedContentHash == stored.message.contentHash }
}

/// Reading records: every read of content is audited.
public struct RecordService: Sendable {
    public let archive: ArchiveHandle

    public init(archive: ArchiveHandle) { self.archive = archive }

    public func message(id: Int64, actor: String) async throws -> MessageDetail {
        let store = archive.store
        guard let stored = try await store.message(id: id) else {
            if let t = try await store.tombstone(messageID: id) {
                try await store.appendReadAudit(AuditDraft(actor: actor, action: "show.message", target: "message:\(id)", detail: ["tombstone": "true"]))
                throw ArchiveError(.notFound, "message \(id) was \(t.outcome) on \(t.disposedAt) by disposition \(t.dispositionID) (item \(t.itemID)"
                    + (t.accession.map { ", NARA accession \($0)" } ?? "") + "); its tombstone remains: `recordkeeper retention show \(id)`")
            }
            throw ArchiveError(.notFound, "no message with id \(id); search to find message ids")
        }
        guard let conversation = try await store.conversation(id: stored.conversationID),
              let batch = try await store.batch(id: stored.batchID) else {
            throw ArchiveError(.storage, "message \(id) refers to a conversation or batch that is missing; run `recordkeeper verify`")
        }
        try await store.appendReadAudit(AuditDraft(actor: actor, action: "show.message", target: "message:\(id)"))
        return MessageDetail(stored: stored, conversation: conversation, batch: batch)
    }

    /// A page of a conversation's transcript in sent order.
    public func transcript(conversationID: Int64, offset: Int = 0, limit: Int = 500, actor: String) async throws -> (Conversation, [StoredMessage]) {
        guard let conversation = try await archive.store.conversation(id: conversationID) else {
            throw ArchiveError(.notFound, "no conversation with id \(conversationID); `recordkeeper show conversations` lists them")
        }
        let messages = try await archive.store.transcript(conversationID: conversationID, offset: offset, limit: limit)
        try await archive.store.appendReadAudit(AuditDraft(actor: actor, action: "show.conversation", target: "conversation:\(conversationID)",
                                                       detail: ["offset": String(offset), "count": String(messages.count)]))
        return (conversation, messages)
    }

    /// Conversations by title; `custodianID` confines the list to one custodian's.
    public func conversations(titleContains: String?, custodianID: Int64? = nil, limit: Int, actor: String) async throws -> [Conversation] {
        let list = if let custodianID {
            try await archive.store.conversations(titleContains: titleContains, custodianID: custodianID, limit: limit)
        } else {
            try await archive.store.conversations(titleContains: titleContains, limit: limit)
        }
        try await archive.store.appendReadAudit(AuditDraft(actor: actor, action: "show.conversations", target: "archive",
                                                       detail: ["count": String(list.count)]))
        return list
    }

    public func batch(id: Int64, actor: String) async throws -> (CaptureBatch, [CaptureDefect]) {
        guard let batch = try await archive.store.batch(id: id) else {
            throw ArchiveError(.notFound, "no capture batch with id \(id)")
        }
        let defects = try await archive.store.defects(batchID: id, limit: 10_000)
        try await archive.store.appendReadAudit(AuditDraft(actor: actor, action: "show.batch", target: "batch:\(id)"))
        return (batch, defects)
    }

    /// One attachment's bytes, audited as a read of the record it belongs to.
    public func attachment(messageID: Int64, index: Int, actor: String) async throws -> (ArchivedAttachment, Data) {
        guard let stored = try await archive.store.message(id: messageID) else {
            throw ArchiveError(.notFound, "no message with id \(messageID)")
        }
        let list = stored.message.attachments
        guard list.indices.contains(index) else { throw ArchiveError(.notFound, "message \(messageID) has no attachment \(index)") }
        let a = list[index]
        guard let hash = a.blob else {
            throw ArchiveError(.blobMissing, "the attachment \(a.fileName) was not in the export; only its name was recorded")
        }
        var data = Data()
        do { try await archive.blobs.read(hash) { data.append(contentsOf: $0) } } catch {
            throw ArchiveError(.blobMissing, "the stored file for \(a.fileName) cannot be read; run `recordkeeper verify`")
        }
        try await archive.store.appendReadAudit(AuditDraft(actor: actor, action: "show.attachment", target: "message:\(messageID)",
                                                       detail: ["attachment": String(index), "sha256": hash.hex]))
        return (a, data)
    }

    public func stats(actor: String) async throws -> ArchiveStats {
        let s = try await archive.store.stats()
        try await archive.store.appendReadAudit(AuditDraft(actor: actor, action: "stats", target: "archive"))
        return s
    }
}
