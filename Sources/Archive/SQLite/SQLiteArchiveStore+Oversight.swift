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
