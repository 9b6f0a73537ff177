import Foundation
import GRDB
import RecordkeeperCore

extension SQLiteArchiveStore: OversightStore {
    static func migrateOversight(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE ud_incident (
                id INTEGER PRIMARY KEY,
                source TEXT NOT NULL,
                source_ref TEXT UNIQUE,
                opened_at TEXT NOT NULL,
                opened_by TEXT NOT NULL,
                document TEXT NOT NULL
            );
            CREATE TABLE ud_incident_note (
                id INTEGER PRIMARY KEY,
                incident_id INTEGER NOT NULL REFERENCES ud_incident(id),
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                note TEXT NOT NULL
            );
            CREATE TRIGGER ud_incident_no_delete BEFORE DELETE ON ud_incident
                BEGIN SELECT RAISE(ABORT, 'incidents are kept'); END;
            CREATE TRIGGER ud_incident_note_no_change BEFORE UPDATE ON ud_incident_note
                BEGIN SELECT RAISE(ABORT, 'incident notes are never changed'); END;
            CREATE TRIGGER ud_incident_note_no_delete BEFORE DELETE ON ud_incident_note
                BEGIN SELECT RAISE(ABORT, 'incident notes are kept'); END;
            """)
    }

    static func migrateReminders(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE reminder_log (
                id INTEGER PRIMARY KEY,
                sent_at TEXT NOT NULL,
                custodian TEXT NOT NULL,
                period TEXT NOT NULL,
                platforms TEXT NOT NULL,
                subject TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('sent', 'failed')),
                detail TEXT NOT NULL,
                actor TEXT NOT NULL
            );
            CREATE INDEX reminder_log_custodian ON reminder_log(custodian, period);
            CREATE TRIGGER reminder_log_no_update BEFORE UPDATE ON reminder_log BEGIN SELECT RAISE(ABORT, 'the reminder log is never changed'); END;
            CREATE TRIGGER reminder_log_no_delete BEFORE DELETE ON reminder_log BEGIN SELECT RAISE(ABORT, 'the reminder log is kept'); END;
            """)
    }

    public func logReminder(_ e: ReminderLogEntry) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO reminder_log (sent_at, custodian, period, platforms, subject, status, detail, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [e.sentAt, e.custodian, e.period, e.platforms.joined(separator: ","), e.subject, e.status, e.detail, e.actor])
        }
    }

    public func reminderLog(limit: Int) async throws -> [ReminderLogEntry] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM reminder_log ORDER BY id DESC LIMIT ?", arguments: [limit]).map { r in
                ReminderLogEntry(sentAt: r["sent_at"], custodian: r["custodian"], period: r["period"],
                                 platforms: (r["platforms"] as String).split(separator: ",").map(String.init), subject: r["subject"],
                                 status: r["status"], detail: r["detail"], actor: r["actor"])
            }
        }
    }

    static func decodeIncident(_ row: Row) throws -> Incident {
        var i = try JSONDecoder().decode(Incident.self, from: Data((row["document"] as String).utf8))
        i.id = row["id"]
        return i
    }

    static func encodeIncident(_ i: Incident) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(i), as: UTF8.self)
    }

    public func openIncident(_ draft: Incident, actor: String) async throws -> (Incident, created: Bool) {
        try await write { db in
            if let ref = draft.sourceRef, let row = try Row.fetchOne(db, sql: "SELECT * FROM ud_incident WHERE source_ref = ?", arguments: [ref]) {
                return (try Self.decodeIncident(row), false)
            }
            var i = draft
            let now = Timestamp.nowMillis()
            i.openedAt = Timestamp.iso(millis: now)
            i.openedBy = actor
            i.reportDue = Timestamp.iso(millis: now + 30 * 86_400_000)
            try db.execute(sql: "INSERT INTO ud_incident (source, source_ref, opened_at, opened_by, document) VALUES (?, ?, ?, ?, '{}')",
                           arguments: [i.source, i.sourceRef, i.openedAt, actor])
            i.id = db.lastInsertedRowID
            try db.execute(sql: "UPDATE ud_incident SET document = ? WHERE id = ?", arguments: [try Self.encodeIncident(i), i.id])
            try db.execute(sql: "INSERT INTO ud_incident_note (incident_id, at, actor, note) VALUES (?, ?, ?, ?)",
                           arguments: [i.id, i.openedAt, actor, "opened (\(i.source))"])
            return (i, true)
        }
    }

    public func incidents() async throws -> [Incident] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM ud_incident ORDER BY id").map(Self.decodeIncident) }
    }

    public func incident(id: Int64) async throws -> Incident? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM ud_incident WHERE id = ?", arguments: [id]).map(Self.decodeIncident) }
    }

    public func updateIncident(_ incident: Incident, note: String, actor: String) async throws -> Incident {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM ud_incident WHERE id = ?", arguments: [incident.id]) else {
                throw ArchiveError(.notFound, "no incident \(incident.id)")
            }
            let old = try Self.decodeIncident(row)
            var i = incident
            // What opened it stays as it was.
            i.source = old.source; i.sourceRef = old.sourceRef; i.openedAt = old.openedAt; i.openedBy = old.openedBy; i.reportDue = old.reportDue
            try db.execute(sql: "UPDATE ud_incident SET document = ? WHERE id = ?", arguments: [try Self.encodeIncident(i), i.id])
            try db.execute(sql: "INSERT INTO ud_incident_note (incident_id, at, actor, note) VALUES (?, ?, ?, ?)",
                           arguments: [i.id, Timestamp.iso(millis: Timestamp.nowMillis()), actor, note])
            return i
        }
    }

    public func incidentNotes(id: Int64) async throws -> [IncidentNote] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT at, actor, note FROM ud_incident_note WHERE incident_id = ? ORDER BY id", arguments: [id])
                .map { IncidentNote(at: $0[0], actor: $0[1], note: $0[2]) }
        }
    }
}

extension SQLiteArchiveStore: TrackerStore {
    static func migrateTracker(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE audit_report (
                id INTEGER PRIMARY KEY,
                reference TEXT NOT NULL UNIQUE COLLATE NOCASE,
                title TEXT NOT NULL,
                issuer TEXT NOT NULL,
                issued TEXT NOT NULL
            );
            CREATE TABLE recommendation (
                id INTEGER PRIMARY KEY,
                report_id INTEGER NOT NULL REFERENCES audit_report(id),
                number INTEGER NOT NULL,
                document TEXT NOT NULL,
                UNIQUE (report_id, number)
            );
            CREATE TABLE recommendation_note (
                id INTEGER PRIMARY KEY,
                recommendation_id INTEGER NOT NULL REFERENCES recommendation(id),
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                note TEXT NOT NULL
            );
            CREATE TRIGGER recommendation_note_no_change BEFORE UPDATE ON recommendation_note BEGIN SELECT RAISE(ABORT, 'notes are never changed'); END;
            CREATE TRIGGER recommendation_note_no_delete BEFORE DELETE ON recommendation_note BEGIN SELECT RAISE(ABORT, 'notes are kept'); END;
            CREATE TRIGGER recommendation_no_delete BEFORE DELETE ON recommendation BEGIN SELECT RAISE(ABORT, 'recommendations are kept'); END;
            """)
    }

    public func saveAuditReport(_ report: AuditReport) async throws -> AuditReport {
        try await write { db in
            if let id = try Int64.fetchOne(db, sql: "SELECT id FROM audit_report WHERE reference = ?", arguments: [report.reference]) {
                try db.execute(sql: "UPDATE audit_report SET title = ?, issuer = ?, issued = ? WHERE id = ?",
                               arguments: [report.title, report.issuer, report.issued, id])
                var r = report; r.id = id; return r
            }
            try db.execute(sql: "INSERT INTO audit_report (reference, title, issuer, issued) VALUES (?, ?, ?, ?)",
                           arguments: [report.reference, report.title, report.issuer, report.issued])
            var r = report; r.id = db.lastInsertedRowID; return r
        }
    }

    public func auditReports() async throws -> [AuditReport] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_report ORDER BY issued, id").map {
                AuditReport(id: $0["id"], reference: $0["reference"], title: $0["title"], issuer: $0["issuer"], issued: $0["issued"])
            }
        }
    }

    static func decodeRecommendation(_ row: Row) throws -> Recommendation {
        var r = try JSONDecoder().decode(Recommendation.self, from: Data((row["document"] as String).utf8))
        r.id = row["id"]
        return r
    }

    public func saveRecommendation(_ r: Recommendation, note: String, actor: String) async throws -> Recommendation {
        try await write { db in
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            var saved = r
            if let id = try Int64.fetchOne(db, sql: "SELECT id FROM recommendation WHERE report_id = ? AND number = ?", arguments: [r.reportID, r.number]) {
                saved.id = id
                try db.execute(sql: "UPDATE recommendation SET document = ? WHERE id = ?", arguments: [String(decoding: try e.encode(saved), as: UTF8.self), id])
            } else {
                try db.execute(sql: "INSERT INTO recommendation (report_id, number, document) VALUES (?, ?, '{}')", arguments: [r.reportID, r.number])
                saved.id = db.lastInsertedRowID
                try db.execute(sql: "UPDATE recommendation SET document = ? WHERE id = ?", arguments: [String(decoding: try e.encode(saved), as: UTF8.self), saved.id])
            }
            try db.execute(sql: "INSERT INTO recommendation_note (recommendation_id, at, actor, note) VALUES (?, ?, ?, ?)",
                           arguments: [saved.id, Timestamp.iso(millis: Timestamp.nowMillis()), actor, note])
            return saved
        }
    }

    public func recommendations(reportID: Int64?) async throws -> [Recommendation] {
        try await read { db in
            let sql = "SELECT * FROM recommendation" + (reportID == nil ? "" : " WHERE report_id = ?") + " ORDER BY report_id, number"
            return try Row.fetchAll(db, sql: sql, arguments: reportID.map { [$0] } ?? []).map(Self.decodeRecommendation)
        }
    }

    public func recommendation(id: Int64) async throws -> Recommendation? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM recommendation WHERE id = ?", arguments: [id]).map(Self.decodeRecommendation) }
    }

    public func recommendationNotes(id: Int64) async throws -> [IncidentNote] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT at, actor, note FROM recommendation_note WHERE recommendation_id = ? ORDER BY id", arguments: [id])
                .map { IncidentNote(at: $0[0], actor: $0[1], note: $0[2]) }
        }
    }
}
