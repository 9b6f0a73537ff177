import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

extension PostgresArchiveStore: OversightStore {
    public func logReminder(_ e: ReminderLogEntry) async throws {
        try await transaction("logging a reminder") { conn in
            try await conn.run("""
                INSERT INTO reminder_log (sent_at, custodian, period, platforms, subject, status, detail, actor)
                VALUES (\(e.sentAt), \(e.custodian), \(e.period), \(e.platforms.joined(separator: ",")), \(e.subject), \(e.status), \(e.detail), \(e.actor))
                """, logger: self.logger)
        }
    }

    public func reminderLog(limit: Int) async throws -> [ReminderLogEntry] {
        try await rows("reading the reminder log", """
            SELECT sent_at, custodian, period, platforms, subject, status, detail, actor FROM reminder_log ORDER BY id DESC LIMIT \(Int64(limit))
            """, as: (String, String, String, String, String, String, String, String).self).map { r in
            ReminderLogEntry(sentAt: r.0, custodian: r.1, period: r.2, platforms: r.3.split(separator: ",").map(String.init), subject: r.4,
                             status: r.5, detail: r.6, actor: r.7)
        }
    }

    static func decodeIncident(_ id: Int64, _ document: String) throws -> Incident {
        var i = try JSONDecoder().decode(Incident.self, from: Data(document.utf8))
        i.id = id
        return i
    }

    static func encode<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }

    public func openIncident(_ draft: Incident, actor: String) async throws -> (Incident, created: Bool) {
        try await transaction("opening an incident") { conn in
            if let ref = draft.sourceRef,
               let row = try await conn.all("SELECT id, document FROM ud_incident WHERE source_ref = \(ref)", as: (Int64, String).self, logger: self.logger).first {
                return (try Self.decodeIncident(row.0, row.1), false)
            }
            var i = draft
            let now = Timestamp.nowMillis()
            i.openedAt = Timestamp.iso(millis: now)
            i.openedBy = actor
            i.reportDue = Timestamp.iso(millis: now + 30 * 86_400_000)
            i.id = try await conn.column("""
                INSERT INTO ud_incident (source, source_ref, opened_at, opened_by, document) VALUES (\(i.source), \(i.sourceRef), \(i.openedAt), \(actor), '{}')
                RETURNING id
                """, as: Int64.self, logger: self.logger)[0]
            try await conn.run("UPDATE ud_incident SET document = \(try Self.encode(i)) WHERE id = \(i.id)", logger: self.logger)
            try await conn.run("INSERT INTO ud_incident_note (incident_id, at, actor, note) VALUES (\(i.id), \(i.openedAt), \(actor), \("opened (\(i.source))"))",
                               logger: self.logger)
            return (i, true)
        }
    }

    public func incidents() async throws -> [Incident] {
        try await rows("listing incidents", "SELECT id, document FROM ud_incident ORDER BY id", as: (Int64, String).self).map { try Self.decodeIncident($0.0, $0.1) }
    }

    public func incident(id: Int64) async throws -> Incident? {
        try await rows("reading an incident", "SELECT id, document FROM ud_incident WHERE id = \(id)", as: (Int64, String).self)
            .first.map { try Self.decodeIncident($0.0, $0.1) }
    }

    public func updateIncident(_ incident: Incident, note: String, actor: String) async throws -> Incident {
        try await transaction("updating an incident") { conn in
            guard let row = try await conn.all("SELECT id, document FROM ud_incident WHERE id = \(incident.id) FOR UPDATE", as: (Int64, String).self,
                                               logger: self.logger).first else {
                throw ArchiveError(.notFound, "no incident \(incident.id)")
            }
            let old = try Self.decodeIncident(row.0, row.1)
            var i = incident
            // What opened it stays as it was.
            i.source = old.source; i.sourceRef = old.sourceRef; i.openedAt = old.openedAt; i.openedBy = old.openedBy; i.reportDue = old.reportDue
            try await conn.run("UPDATE ud_incident SET document = \(try Self.encode(i)) WHERE id = \(i.id)", logger: self.logger)
            try await conn.run("""
                INSERT INTO ud_incident_note (incident_id, at, actor, note) VALUES (\(i.id), \(Timestamp.iso(millis: Timestamp.nowMillis())), \(actor), \(note))
                """, logger: self.logger)
            return i
        }
    }

    public func incidentNotes(id: Int64) async throws -> [IncidentNote] {
        try await rows("reading incident notes", "SELECT at, actor, note FROM ud_incident_note WHERE incident_id = \(id) ORDER BY id",
                       as: (String, String, String).self).map { IncidentNote(at: $0.0, actor: $0.1, note: $0.2) }
    }
}

extension PostgresArchiveStore: TrackerStore {
    public func saveAuditReport(_ report: AuditReport) async throws -> AuditReport {
        try await transaction("saving an audit report") { conn in
            var r = report
            r.id = try await conn.column("""
                INSERT INTO audit_report (reference, title, issuer, issued) VALUES (\(report.reference), \(report.title), \(report.issuer), \(report.issued))
                ON CONFLICT (lower(reference)) DO UPDATE SET title = excluded.title, issuer = excluded.issuer, issued = excluded.issued
                RETURNING id
                """, as: Int64.self, logger: self.logger)[0]
            return r
        }
    }

    public func auditReports() async throws -> [AuditReport] {
        try await rows("listing audit reports", "SELECT id, reference, title, issuer, issued FROM audit_report ORDER BY issued, id",
                       as: (Int64, String, String, String, String).self).map {
            AuditReport(id: $0.0, reference: $0.1, title: $0.2, issuer: $0.3, issued: $0.4)
        }
    }

    static func decodeRecommendation(_ id: Int64, _ document: String) throws -> Recommendation {
        var r = try JSONDecoder().decode(Recommendation.self, from: Data(document.utf8))
        r.id = id
        return r
    }

    public func saveRecommendation(_ r: Recommendation, note: String, actor: String) async throws -> Recommendation {
        try await transaction("saving a recommendation") { conn in
            var saved = r
            saved.id = try await conn.column("""
                INSERT INTO recommendation (report_id, number, document) VALUES (\(r.reportID), \(Int32(r.number)), '{}')
                ON CONFLICT (report_id, number) DO UPDATE SET number = excluded.number RETURNING id
                """, as: Int64.self, logger: self.logger)[0]
            try await conn.run("UPDATE recommendation SET document = \(try Self.encode(saved)) WHERE id = \(saved.id)", logger: self.logger)
            try await conn.run("""
                INSERT INTO recommendation_note (recommendation_id, at, actor, note)
                VALUES (\(saved.id), \(Timestamp.iso(millis: Timestamp.nowMillis())), \(actor), \(note))
                """, logger: self.logger)
            return saved
        }
    }

    public func recommendations(reportID: Int64?) async throws -> [Recommendation] {
        try await rows("listing recommendations", """
            SELECT id, document FROM recommendation WHERE \(reportID == nil) OR report_id = \(reportID ?? 0) ORDER BY report_id, number
            """, as: (Int64, String).self).map { try Self.decodeRecommendation($0.0, $0.1) }
    }

    public func recommendation(id: Int64) async throws -> Recommendation? {
        try await rows("reading a recommendation", "SELECT id, document FROM recommendation WHERE id = \(id)", as: (Int64, String).self)
            .first.map { try Self.decodeRecommendation($0.0, $0.1) }
    }

    public func recommendationNotes(id: Int64) async throws -> [IncidentNote] {
        try await rows("reading recommendation notes", "SELECT at, actor, note FROM recommendation_note WHERE recommendation_id = \(id) ORDER BY id",
                       as: (String, String, String).self).map { IncidentNote(at: $0.0, actor: $0.1, note: $0.2) }
    }
}

extension PostgresArchiveStore: ComplianceStore {
    /// Platforms on which a custodian's registered accounts are all personal.
    static let personalAccounts = """
        SELECT custodian_id, platform FROM custodian_account GROUP BY custodian_id, platform HAVING NOT bool_or(official)
        """

    public func captureLag(limitDays: Int, worst: Int) async throws -> (rows: [LagRow], worst: [LagCase]) {
        try await transaction("measuring capture lag") { conn in
            let limit = Int64(limitDays) * 86_400
            // Arrival: the forwarding e-mail's date when an e-mail carried the export, else capture.
            let base = """
                FROM message m JOIN conversation c ON c.id = m.conversation_id JOIN custodian cu ON cu.id = c.custodian_id
                JOIN (\(Self.personalAccounts)) p ON p.custodian_id = c.custodian_id AND p.platform = m.platform
                LEFT JOIN carriage k ON k.batch_id = m.batch_id
                WHERE m.kind <> 'system'
                """
            let rowsQuery: PostgresQuery = """
                SELECT cu.email, m.platform, left(m.sent_local, 7) AS month,
                       count(*) FILTER (WHERE k.batch_id IS NOT NULL AND k.forwarded_at - m.sent_at <= \(limit)),
                       count(*) FILTER (WHERE k.batch_id IS NOT NULL AND k.forwarded_at - m.sent_at > \(limit)),
                       count(*) FILTER (WHERE k.batch_id IS NULL),
                       max(COALESCE(k.forwarded_at, m.captured_at / 1000) - m.sent_at)
                \(unescaped: base) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                """
            let raw: [(String, String, String, Int64, Int64, Int64, Int64?)] = try await conn.all(
                rowsQuery, as: (String, String, String, Int64, Int64, Int64, Int64?).self, logger: self.logger)
            let rows = raw.map { (r: (String, String, String, Int64, Int64, Int64, Int64?)) -> LagRow in
                LagRow(custodian: r.0, platform: r.1, month: r.2, onTime: Int(r.3), late: Int(r.4), neverForwarded: Int(r.5),
                       worstLagDays: Double(r.6 ?? 0) / 86_400)
            }
            let casesQuery: PostgresQuery = """
                SELECT m.id, cu.email, m.platform, c.id, c.title, m.sent_local, k.batch_id IS NOT NULL,
                       COALESCE(k.forwarded_at, m.captured_at / 1000), COALESCE(k.forwarded_at, m.captured_at / 1000) - m.sent_at AS lag
                \(unescaped: base) AND (k.batch_id IS NULL OR k.forwarded_at - m.sent_at > \(limit))
                ORDER BY lag DESC, m.id LIMIT \(Int64(worst))
                """
            typealias CaseRow = (Int64, String, String, Int64, String, String, Bool, Int64, Int64)
            let caseRows: [CaseRow] = try await conn.all(casesQuery, as: CaseRow.self, logger: self.logger)
            let cases = caseRows.map { (r: CaseRow) -> LagCase in
                LagCase(messageID: r.0, custodian: r.1, platform: r.2, conversationID: r.3, conversation: r.4, sentLocal: r.5,
                        route: r.6 ? "forwarded" : "collected", arrived: Timestamp.iso(millis: r.7 * 1000), lagDays: Double(r.8) / 86_400)
            }
            return (rows, cases)
        }
    }

    public func timerNotices() async throws -> [TimerNotice] {
        try await rows("reading disappearing-message notices", """
            SELECT m.id, c.id, c.title, m.platform, cu.email, COALESCE(m.sender, m.sender_raw), m.sent_local, m.body
            FROM message m JOIN conversation c ON c.id = m.conversation_id JOIN custodian cu ON cu.id = c.custodian_id
            WHERE m.kind = 'system' AND (',' || m.flags || ',') LIKE '%,disappearing,%'
            ORDER BY m.sent_local, m.id
            """, as: (Int64, Int64, String, String, String, String?, String, String).self).map { r in
            TimerNotice(messageID: r.0, conversationID: r.1, conversation: r.2, platform: r.3, custodian: r.4, who: r.5, sentLocal: r.6, text: r.7)
        }
    }

    public func conversationFacts() async throws -> [ConversationFacts] {
        var out: [ConversationFacts] = []
        for id in try await column("listing conversations", "SELECT id FROM conversation ORDER BY id", as: Int64.self) {
            let participants = try await participants(conversationID: id)
            let facts = try await transaction("reading a conversation's facts") { conn -> ConversationFacts in
                let c = try await conn.all("""
                    SELECT c.title, c.platform, cu.email FROM conversation c JOIN custodian cu ON cu.id = c.custodian_id WHERE c.id = \(id)
                    """, as: (String, String, String).self, logger: self.logger)[0]
                // Messages per sender: user messages only, by the side their sender resolved to.
                let bySender = try await conn.all("""
                    SELECT sender_key, count(*) FROM message WHERE conversation_id = \(id) AND kind = 'user' AND sender_key <> '' GROUP BY sender_key
                    """, as: (String, Int64).self, logger: self.logger)
                let internalKeys = Set(participants.filter { $0.side == .internal }.map { IdentityKey.senderKey($0.name) })
                var internalCount = 0, other = 0
                for r in bySender {
                    if internalKeys.contains(r.0) { internalCount += Int(r.1) } else { other += Int(r.1) }
                }
                let system = try await conn.column("SELECT body FROM message WHERE conversation_id = \(id) AND kind = 'system' ORDER BY id LIMIT 2000",
                                                   as: String.self, logger: self.logger)
                let deleted = try await conn.all("""
                    SELECT id, sent_local, body, sender_key FROM message WHERE conversation_id = \(id) AND kind = 'deleted' ORDER BY sent_local, id LIMIT 10000
                    """, as: (Int64, String, String, String?).self, logger: self.logger).map { DeletionMarker(id: $0.0, sentLocal: $0.1, body: $0.2, senderKey: $0.3 ?? "") }
                let batches = try await conn.all("""
                    SELECT b.id, b.started_at, min(m.sent_local), max(m.sent_local), count(m.id)
                    FROM capture_batch b LEFT JOIN message m ON m.batch_id = b.id
                    WHERE b.conversation_id = \(id) GROUP BY b.id ORDER BY b.id
                    """, as: (Int64, String, String?, String?, Int64).self, logger: self.logger).map {
                    ConversationFacts.Batch(id: $0.0, startedAt: $0.1, firstSent: $0.2, lastSent: $0.3, added: Int($0.4))
                }
                return ConversationFacts(id: id, title: c.0, platform: c.1, custodian: c.2, participants: participants,
                                         internalMessages: internalCount, otherMessages: other, systemTexts: system,
                                         deletedMarkers: deleted, batches: batches)
            }
            out.append(facts)
        }
        return out
    }

    public func accountActivity() async throws -> [AccountActivity] {
        try await rows("reading account activity", """
            SELECT cu.email, a.platform, a.address, a.official,
                   (SELECT max(b.started_at) FROM capture_batch b JOIN conversation c ON c.id = b.conversation_id
                    WHERE b.custodian_id = a.custodian_id AND c.platform = a.platform),
                   (SELECT count(*) FROM message m JOIN conversation c ON c.id = m.conversation_id
                    WHERE c.custodian_id = a.custodian_id AND c.platform = a.platform)
            FROM custodian_account a JOIN custodian cu ON cu.id = a.custodian_id ORDER BY cu.email, a.platform, a.id
            """, as: (String, String, String, Bool, String?, Int64).self).map { r in
            AccountActivity(custodian: r.0, platform: r.1, address: r.2, official: r.3, lastCapture: r.4, records: Int(r.5))
        }
    }
}

/// The whole archive on PostgreSQL: every concern's protocol.
extension PostgresArchiveStore: ArchiveStore {}
