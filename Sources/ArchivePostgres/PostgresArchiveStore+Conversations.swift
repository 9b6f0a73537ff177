import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

extension PostgresArchiveStore: ConversationStore {
    public func custodian(email: String) async throws -> Custodian? {
        try await rows("reading a custodian", "SELECT id, email, time_zone FROM custodian WHERE lower(email) = lower(\(email))",
                       as: (Int64, String, String?).self).first.map { Custodian(id: $0.0, email: $0.1, timeZone: $0.2) }
    }

    public func saveCustodian(email: String, timeZone: String?) async throws -> Custodian {
        // One statement, so two instances saving the same custodian at once get the same row.
        try await transaction("saving a custodian") { conn in
            let row = try await conn.all("""
                INSERT INTO custodian (email, time_zone, created_at) VALUES (lower(\(email)), \(timeZone), \(Timestamp.iso(millis: Timestamp.nowMillis())))
                ON CONFLICT (lower(email)) DO UPDATE SET time_zone = coalesce(excluded.time_zone, custodian.time_zone)
                RETURNING id, email, time_zone
                """, as: (Int64, String, String?).self, logger: self.logger)
            guard let r = row.first else { throw ArchiveError(.storage, "saving custodian \(email) returned nothing") }
            return Custodian(id: r.0, email: r.1, timeZone: r.2)
        }
    }

    static let conversationSelect = """
        SELECT c.id, c.key, c.platform, c.custodian_id, cu.email, c.title,
               (SELECT count(*) FROM message m WHERE m.conversation_id = c.id),
               (SELECT min(sent_local) FROM message m WHERE m.conversation_id = c.id),
               (SELECT max(sent_local) FROM message m WHERE m.conversation_id = c.id),
               coalesce((SELECT array_agg(name ORDER BY name) FROM participant p WHERE p.conversation_id = c.id), '{}')
        FROM conversation c JOIN custodian cu ON cu.id = c.custodian_id
        """
    typealias ConversationRow = (Int64, String, String, Int64, String, String, Int64, String?, String?, [String])

    static func decodeConversation(_ r: ConversationRow) -> Conversation {
        Conversation(id: r.0, key: r.1, platform: Platform(rawValue: r.2) ?? .whatsapp, custodianID: r.3, custodianEmail: r.4, title: r.5,
                     messageCount: Int(r.6), participants: r.9, firstSent: r.7, lastSent: r.8)
    }

    public func conversation(key: String) async throws -> Conversation? {
        try await rows("reading a conversation", "\(unescaped: Self.conversationSelect) WHERE c.key = \(key)", as: ConversationRow.self)
            .first.map(Self.decodeConversation)
    }

    public func conversation(id: Int64) async throws -> Conversation? {
        try await rows("reading a conversation", "\(unescaped: Self.conversationSelect) WHERE c.id = \(id)", as: ConversationRow.self)
            .first.map(Self.decodeConversation)
    }

    /// `%`, `_` and `\` in what the user typed are literal.
    static func likePattern(_ s: String) -> String {
        "%" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
    }

    public func conversations(titleContains: String?, limit: Int) async throws -> [Conversation] {
        let pattern = Self.likePattern(titleContains ?? "")
        return try await rows("listing conversations", """
            \(unescaped: Self.conversationSelect) WHERE c.title ILIKE \(pattern) ORDER BY c.id LIMIT \(Int64(limit))
            """, as: ConversationRow.self).map(Self.decodeConversation)
    }

    public func conversations(titleContains: String?, custodianID: Int64, limit: Int) async throws -> [Conversation] {
        let pattern = Self.likePattern(titleContains ?? "")
        return try await rows("listing conversations", """
            \(unescaped: Self.conversationSelect) WHERE c.custodian_id = \(custodianID) AND c.title ILIKE \(pattern) ORDER BY c.id LIMIT \(Int64(limit))
            """, as: ConversationRow.self).map(Self.decodeConversation)
    }

    public func ensureConversation(key: String, platform: Platform, custodianID: Int64, title: String) async throws -> Conversation {
        try await transaction("creating a conversation") { conn in
            try await conn.run("""
                INSERT INTO conversation (key, platform, custodian_id, title, created_at)
                VALUES (\(key), \(platform.rawValue), \(custodianID), \(title), \(Timestamp.iso(millis: Timestamp.nowMillis())))
                ON CONFLICT (key) DO NOTHING
                """, logger: self.logger)
            guard let row = try await conn.all("\(unescaped: Self.conversationSelect) WHERE c.key = \(key)", as: ConversationRow.self,
                                               logger: self.logger).first else {
                throw ArchiveError(.storage, "conversation vanished while being created")
            }
            return Self.decodeConversation(row)
        }
    }
}
