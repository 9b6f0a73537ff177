import Foundation
import GRDB
import RecordkeeperCore

extension SQLiteArchiveStore: ComplianceStore {
    /// Platforms on which a custodian's registered accounts are all personal.
    static let personalAccounts = """
        SELECT custodian_id, platform FROM custodian_account GROUP BY custodian_id, platform HAVING max(official) = 0
        """

    public func captureLag(limitDays: Int, worst: Int) async throws -> (rows: [LagRow], worst: [LagCase]) {
        try await read { db in
            let limit = Int64(limitDays) * 86_400
            // Arrival: the forwarding e-mail's date when an e-mail carried the export, else capture.
            let base = """
                FROM message m JOIN conversation c ON c.id = m.conversation_id JOIN custodian cu ON cu.id = c.custodian_id
                JOIN (\(Self.personalAccounts)) p ON p.custodian_id = c.custodian_id AND p.platform = m.platform
                LEFT JOIN carriage k ON k.batch_id = m.batch_id
                WHERE m.kind != 'system'
                """
            let rows = try Row.fetchAll(db, sql: """
                SELECT cu.email, m.platform, substr(m.sent_local, 1, 7) AS month,
                       sum(CASE WHEN k.batch_id IS NOT NULL AND k.forwarded_at - m.sent_at <= ?1 THEN 1 ELSE 0 END) AS on_time,
                       sum(CASE WHEN k.batch_id IS NOT NULL AND k.forwarded_at - m.sent_at > ?1 THEN 1 ELSE 0 END) AS late,
                       sum(CASE WHEN k.batch_id IS NULL THEN 1 ELSE 0 END) AS never,
                       max(COALESCE(k.forwarded_at, m.captured_at / 1000) - m.sent_at) AS worst
                \(base) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                """, arguments: [limit]).map { r in
                LagRow(custodian: r[0], platform: r[1], month: r[2], onTime: r[3], late: r[4], neverForwarded: r[5],
                       worstLagDays: Double(r[6] as Int64? ?? 0) / 86_400)
            }
            let cases = try Row.fetchAll(db, sql: """
                SELECT m.id, cu.email, m.platform, c.id, c.title, m.sent_local, k.batch_id IS NOT NULL AS forwarded,
                       COALESCE(k.forwarded_at, m.captured_at / 1000) AS arrived, COALESCE(k.forwarded_at, m.captured_at / 1000) - m.sent_at AS lag
                \(base) AND (k.batch_id IS NULL OR k.forwarded_at - m.sent_at > ?1)
                ORDER BY lag DESC, m.id LIMIT ?2
                """, arguments: [limit, worst]).map { r in
                LagCase(messageID: r[0], custodian: r[1], platform: r[2], conversationID: r[3], conversation: r[4], sentLocal: r[5],
                        route: (r[6] as Bool) ? "forwarded" : "collected", arrived: Timestamp.iso(millis: (r[7] as Int64) * 1000),
                        lagDays: Double(r[8] as Int64) / 86_400)
            }
            return (rows, cases)
        }
    }

    public func timerNotices() async throws -> [TimerNotice] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT m.id, c.id, c.title, m.platform, cu.email, COALESCE(m.sender, m.sender_raw), m.sent_local, m.body
                FROM message m JOIN conversation c ON c.id = m.conversation_id JOIN custodian cu ON cu.id = c.custodian_id
                WHERE m.kind = 'system' AND (',' || m.flags || ',') LIKE '%,disappearing,%'
                ORDER BY m.sent_local, m.id
                """).map { r in
                TimerNotice(messageID: r[0], conversationID: r[1], conversation: r[2], platform: r[3], custodian: r[4], who: r[5], sentLocal: r[6], text: r[7])
            }
        }
    }

    public func conversationFacts() async throws -> [ConversationFacts] {
        let ids = try await read { db in try Int64.fetchAll(db, sql: "SELECT id FROM conversation ORDER BY id") }
        var out: [ConversationFacts] = []
        for id in ids {
            let participants = try await participants(conversationID: id)
            let facts = try await read { db -> ConversationFacts in
                let c = try Row.fetchOne(db, sql: """
                    SELECT c.title, c.platform, cu.email FROM conversation c JOIN custodian cu ON cu.id = c.custodian_id WHERE c.id = ?
                    """, arguments: [id])!
                // Messages per sender: user messages only, by the side their sender resolved to.
                let bySender = try Row.fetchAll(db, sql: """
                    SELECT sender_key, count(*) FROM message WHERE conversation_id = ? AND kind = 'user' AND sender_key != '' GROUP BY sender_key
                    """, arguments: [id])
                let internalKeys = Set(participants.filter { $0.side == .internal }.map { IdentityKey.senderKey($0.name) })
                var internalCount = 0, other = 0
                for r in bySender {
                    if internalKeys.contains(r[0] as String) { internalCount += r[1] as Int } else { other += r[1] as Int }
                }
                let system = try String.fetchAll(db, sql: """
                    SELECT body FROM message WHERE conversation_id = ? AND kind = 'system' ORDER BY id LIMIT 2000
                    """, arguments: [id])
                let deleted = try Row.fetchAll(db, sql: """
                    SELECT id, sent_local, body, sender_key FROM message WHERE conversation_id = ? AND kind = 'deleted' ORDER BY sent_local, id LIMIT 10000
                    """, arguments: [id]).map { DeletionMarker(id: $0[0], sentLocal: $0[1], body: $0[2], senderKey: $0[3] as String? ?? "") }
                let batches = try Row.fetchAll(db, sql: """
                    SELECT b.id, b.started_at, min(m.sent_local), max(m.sent_local), count(m.id)
                    FROM capture_batch b LEFT JOIN message m ON m.batch_id = b.id
                    WHERE b.conversation_id = ? GROUP BY b.id ORDER BY b.id
                    """, arguments: [id]).map { ConversationFacts.Batch(id: $0[0], startedAt: $0[1], firstSent: $0[2], lastSent: $0[3], added: $0[4]) }
                return ConversationFacts(id: id, title: c[0], platform: c[1], custodian: c[2], participants: participants,
                                         internalMessages: internalCount, otherMessages: other, systemTexts: system,
                                         deletedMarkers: deleted, batches: batches)
            }
            out.append(facts)
        }
        return out
    }

    public func accountActivity() async throws -> [AccountActivity] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT cu.email, a.platform, a.address, a.official,
                       (SELECT max(b.started_at) FROM capture_batch b JOIN conversation c ON c.id = b.conversation_id
                        WHERE b.custodian_id = a.custodian_id AND c.platform = a.platform) AS last_capture,
                       (SELECT count(*) FROM message m JOIN conversation c ON c.id = m.conversation_id
                        WHERE c.custodian_id = a.custodian_id AND c.platform = a.platform) AS records
                FROM custodian_account a JOIN custodian cu ON cu.id = a.custodian_id ORDER BY cu.email, a.platform, a.id
                """).map { r in
                AccountActivity(custodian: r[0], platform: r[1], address: r[2], official: r[3], lastCapture: r[4], records: r[5])
            }
        }
    }
}
