import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

extension PostgresArchiveStore: MessageStore {
    static let messageSelect = """
        SELECT id, identity_key, platform, conversation_key, source_ordinal, dup_ordinal, sent_local, time_zone, sent_at,
               captured_at, sender, sender_raw, body, raw, kind, flags, source_hash, source_member, source_line, line_count,
               conversation_id, batch_id, content_hash
        FROM message
        """

    /// A stored message as written (its content hash recomputed from the stored fields, the
    /// stored one beside it).
    static func decodeMessage(_ r: PostgresRandomAccessRow, attachments: [ArchivedAttachment]) throws -> StoredMessage {
        let zero = AuditEntry.genesis
        let id = try r[0].decode(Int64.self)
        let flagsText = try r[15].decode(String.self)
        let message = ArchivedMessage(
            id: id, identityKey: ContentHash(hex: try r[1].decode(String.self)) ?? zero,
            platform: Platform(rawValue: try r[2].decode(String.self)) ?? .whatsapp, conversationKey: try r[3].decode(String.self),
            sourceOrdinal: Int(try r[4].decode(Int64.self)), duplicateOrdinal: Int(try r[5].decode(Int32.self)),
            sentLocal: LocalDateTime(iso: try r[6].decode(String.self)) ?? LocalDateTime(year: 1, month: 1, day: 1),
            timeZone: try r[7].decode(String.self), sentAt: try r[8].decode(Int64.self), capturedAtMillis: try r[9].decode(Int64.self),
            sender: try r[10].decode(String?.self), senderRaw: try r[11].decode(String?.self), body: try r[12].decode(String.self),
            raw: try r[13].decode(String.self), kind: MessageKind(rawValue: try r[14].decode(String.self)) ?? .user,
            flags: flagsText.isEmpty ? [] : MessageFlags(names: flagsText.split(separator: ",").map(String.init)),
            sourceBlob: ContentHash(hex: try r[16].decode(String.self)) ?? zero, sourceMember: try r[17].decode(String.self),
            sourceLine: Int(try r[18].decode(Int64.self)), lineCount: Int(try r[19].decode(Int32.self)), attachments: attachments,
            contentHash: zero)
        var recomputed = message
        recomputed.contentHash = message.computeContentHash()
        return StoredMessage(message: recomputed, id: id, conversationID: try r[20].decode(Int64.self), batchID: try r[21].decode(Int64.self),
                             storedContentHash: ContentHash(hex: try r[22].decode(String.self)) ?? zero)
    }

    static func attachments(_ conn: PostgresConnection, ids: [Int64], logger: Logger) async throws -> [Int64: [ArchivedAttachment]] {
        guard !ids.isEmpty else { return [:] }
        var out: [Int64: [ArchivedAttachment]] = [:]
        for a in try await conn.all("""
            SELECT message_id, file_name, blob_hash, size FROM attachment WHERE message_id = ANY(\(ids)) ORDER BY message_id, position
            """, as: (Int64, String, String?, Int64?).self, logger: logger) {
            out[a.0, default: []].append(ArchivedAttachment(fileName: a.1, blob: a.2.flatMap(ContentHash.init(hex:)), size: a.3))
        }
        return out
    }

    /// The messages `query` selects (`messageSelect`'s columns), with their attachments, in one
    /// repeatable-read snapshot.
    func storedMessages(_ what: String, _ query: PostgresQuery) async throws -> [StoredMessage] {
        try await transaction(what) { conn in
            var rows: [PostgresRandomAccessRow] = []
            for try await row in try await conn.query(query, logger: self.logger) { rows.append(row.makeRandomAccess()) }
            let ids = try rows.map { try $0[0].decode(Int64.self) }
            let attachments = try await Self.attachments(conn, ids: ids, logger: self.logger)
            return try zip(rows, ids).map { try Self.decodeMessage($0.0, attachments: attachments[$0.1] ?? []) }
        }
    }

    public func message(id: Int64) async throws -> StoredMessage? {
        try await storedMessages("reading a record", "\(unescaped: Self.messageSelect) WHERE id = \(id)").first
    }

    public func transcript(conversationID: Int64, offset: Int, limit: Int) async throws -> [StoredMessage] {
        try await storedMessages("reading a transcript", """
            \(unescaped: Self.messageSelect) WHERE conversation_id = \(conversationID) ORDER BY sent_local, id LIMIT \(Int64(limit)) OFFSET \(Int64(offset))
            """)
    }

    public func transcriptPosition(conversationID: Int64, messageID: Int64) async throws -> Int? {
        try await transaction("finding a record in its transcript") { conn in
            guard let sent = try await conn.column("SELECT sent_local FROM message WHERE id = \(messageID) AND conversation_id = \(conversationID)",
                                                   as: String.self, logger: self.logger).first else { return nil }
            return try await conn.count("""
                SELECT count(*) FROM message WHERE conversation_id = \(conversationID) AND (sent_local < \(sent) OR (sent_local = \(sent) AND id < \(messageID)))
                """, logger: self.logger)
        }
    }

    public func messageCount(conversationID: Int64) async throws -> Int {
        try await transaction("counting records") { conn in
            try await conn.count("SELECT count(*) FROM message WHERE conversation_id = \(conversationID)", logger: self.logger)
        }
    }

    public func stats() async throws -> ArchiveStats {
        try await transaction("counting the archive") { conn in
            let r = try await conn.all("""
                SELECT (SELECT count(*) FROM conversation), (SELECT count(*) FROM message), (SELECT count(*) FROM attachment),
                       (SELECT count(*) FROM attachment WHERE blob_hash IS NULL), (SELECT count(*) FROM capture_batch),
                       (SELECT count(*) FROM capture_batch WHERE status = 'running'), (SELECT count(*) FROM custodian),
                       (SELECT count(*) FROM blob WHERE destroyed_by IS NULL),
                       (SELECT coalesce(sum(size), 0)::bigint FROM blob WHERE destroyed_by IS NULL),
                       (SELECT count(*) FROM defect), (SELECT count(*) FROM audit_log)
                """, as: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64).self, logger: self.logger)[0]
            return ArchiveStats(conversations: Int(r.0), messages: Int(r.1), attachments: Int(r.2), attachmentsMissing: Int(r.3), batches: Int(r.4),
                                unfinishedBatches: Int(r.5), custodians: Int(r.6), blobs: Int(r.7), blobBytes: r.8, defects: Int(r.9),
                                auditEntries: Int(r.10))
        }
    }
}

extension PostgresArchiveStore {
    public func recordCounts() async throws -> (messages: Int, blobs: Int) {
        let r = try await rows("counting records", """
            SELECT (SELECT count(*) FROM message), (SELECT count(*) FROM blob WHERE destroyed_by IS NULL)
            """, as: (Int64, Int64).self)[0]
        return (Int(r.0), Int(r.1))
    }
}

extension PostgresArchiveStore: IntegrityStore {
    public func verifyMessageHashes(afterID: Int64, throughID: Int64, limit: Int) async throws -> [MessageHashCheck] {
        let stored = try await storedMessages("reading records to verify", """
            \(unescaped: Self.messageSelect) WHERE id > \(afterID) AND id <= \(throughID) ORDER BY id LIMIT \(Int64(limit))
            """)
        var encoder = CanonicalEncoder(kind: "message", version: ArchivedMessage.hashVersion, capacity: 4096)
        return stored.map { s in
            encoder.reset(kind: "message", version: ArchivedMessage.hashVersion)
            ArchivedMessage.encodeCanonical(from: s.message, into: &encoder)
            let computed = s.message.contentHash
            return MessageHashCheck(id: s.id, mismatch: computed == s.storedContentHash ? nil : .init(computed: computed, stored: s.storedContentHash),
                                    sourceBlob: s.message.sourceBlob, attachmentBlobs: s.message.attachments.compactMap(\.blob), bytes: encoder.count)
        }
    }

    public func batchIDs() async throws -> [Int64] {
        try await column("listing captures", "SELECT id FROM capture_batch ORDER BY id", as: Int64.self)
    }

    public func batchDigest(batchID: Int64) async throws -> BatchDigest {
        try await transaction("computing a capture's digest") { conn in
            var hasher = StreamingHasher()
            let batch = try await conn.all("""
                SELECT b.custodian_id, b.conversation_id, b.source_hash, b.source_size, b.format, b.text_member, b.date_order,
                       b.time_zone, cu.email, c.key, COALESCE(b.conversation_title, c.title)
                FROM capture_batch b LEFT JOIN custodian cu ON cu.id = b.custodian_id LEFT JOIN conversation c ON c.id = b.conversation_id
                WHERE b.id = \(batchID)
                """, as: (Int64?, Int64?, String?, Int64?, String?, String?, String?, String?, String?, String?, String?).self, logger: self.logger)
            if let b = batch.first {
                // The same recipe as SQLite's: the batch's key fields, then every message.
                var e = CanonicalEncoder(kind: "batch", version: 1)
                e.add("custodian", b.0)
                e.add("conversation", b.1)
                e.add("source", b.2)
                e.add("size", b.3)
                e.add("format", b.4)
                e.add("member", b.5)
                e.add("date_order", b.6)
                e.add("tz", b.7)
                e.add("custodian_email", b.8)
                e.add("conversation_key", b.9)
                e.add("conversation_title", b.10)
                hasher.update(e.bytes)
            }
            // "<identity> <content hash>\n" per message in id order, a disposed one from its tombstone.
            var count = 0
            for try await row in try await conn.query("""
                SELECT identity_key, content_hash, id FROM message WHERE batch_id = \(batchID)
                UNION ALL SELECT identity_key, content_hash, message_id FROM tombstone WHERE batch_id = \(batchID)
                ORDER BY 3
                """, logger: self.logger) {
                let (identity, content, _) = try row.decode((String, String, Int64).self)
                hasher.update(Array("\(identity) \(content)\n".utf8))
                count += 1
            }
            return BatchDigest(messages: count, digest: hasher.finalize())
        }
    }

    public func messageIDRange() async throws -> ClosedRange<Int64>? {
        let r = try await rows("reading the range of record ids", "SELECT min(id), max(id) FROM message", as: (Int64?, Int64?).self)
        guard let low = r.first?.0, let high = r.first?.1 else { return nil }
        return low...high
    }

    public func blobs(after: ContentHash?, limit: Int) async throws -> [BlobInfo] {
        try await rows("listing blobs", """
            SELECT hash, size FROM blob WHERE hash > \(after?.hex ?? "") AND destroyed_by IS NULL ORDER BY hash LIMIT \(Int64(limit))
            """, as: (String, Int64).self).compactMap { r in ContentHash(hex: r.0).map { BlobInfo(hash: $0, size: r.1) } }
    }
}
