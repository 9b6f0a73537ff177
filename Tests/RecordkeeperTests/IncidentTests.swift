import Archive
import Foundation
import GRDB
import Recordkeeper
import RecordkeeperCore
import RecordkeeperTesting
import Testing

@Suite("Unauthorized-disposition incidents (36 CFR 1230.14)")
struct IncidentTests {
    @Test func verifyOpensOneIncidentForRecordsMissingOrAltered() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let zip = try ExportGenerator.write(ExportSpec(style: .iosZip, messageCount: 120, mediaEvery: 0, seed: 9), to: try tmp.sub("x"))
        _ = try await ingest(archive, zip)
        // A clean archive opens nothing.
        #expect(try await VerifyService(archive: archive).verify(actor: "test").ok)
        #expect(try await archive.store.incidents().isEmpty)
        // Someone with the database file removes two records behind the archive's back.
        let queue = try DatabaseQueue(path: archive.directory.databaseURL.path)
        try await queue.writeWithoutTransaction { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS message_delete_only_by_disposition")
            try db.execute(sql: "DELETE FROM message WHERE id IN (10, 11)")
        }
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(!report.ok)
        let incidents = try await archive.store.incidents()
        #expect(incidents.count == 1)
        let i = try #require(incidents.first)
        #expect(i.source == "verify" && i.status == .open && i.title.contains("missing or altered"))
        #expect(i.circumstances?.contains("batch_messages_altered") == true)
        // The report is due 30 days after opening.
        let opened = try #require(ISO8601DateFormatter.withFraction.date(from: i.openedAt))
        let due = try #require(ISO8601DateFormatter.withFraction.date(from: i.reportDue))
        #expect(abs(due.timeIntervalSince(opened) - 30 * 86_400) < 1)
        // The same problems found again open no second incident.
        _ = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(try await archive.store.incidents().count == 1)
    }

    @Test func findingsOpenIncidentsWithVolumeAndDatesFromTheArchive() async throws {
        let f = try await ComplianceTests.fixture(); defer { f.tmp.cleanup() }
        _ = try await ComplianceService(archive: f.archive).findings(actor: "alice")
        var incidents = try await f.archive.store.incidents()
        let deleted = try #require(incidents.first { $0.title.hasPrefix("Messages deleted before capture: Gate Two") })
        #expect(deleted.source == "finding" && deleted.volume == 1 && deleted.recordsFrom == "2024-03-21T11:00:00"
                && deleted.recordsTo == "2024-03-21T11:00:00" && deleted.records.count == 1)
        #expect(incidents.contains { $0.title.contains("never captured: !federated:agency.example.gov") })
        #expect(!incidents.contains { $0.title.contains("!joint") })
        let count = incidents.count
        _ = try await ComplianceService(archive: f.archive).findings(actor: "alice")
        incidents = try await f.archive.store.incidents()
        #expect(incidents.count == count)
    }

    @Test func aRecordsOfficerCarriesAnIncidentToItsReportAndQuarterlyUpdates() async throws {
        let f = try await ComplianceTests.fixture(); defer { f.tmp.cleanup() }
        let service = IncidentService(archive: f.archive)
        _ = try await UserService(archive: f.archive).save(name: "carol", displayName: "Carol Diaz", roles: [.reviewer], actor: "alice")
        await #expect(throws: ArchiveError.self) { try await service.open(title: "x", fields: .init(), actor: "carol") }
        await #expect(throws: ArchiveError.self) { try await service.open(title: "x", fields: .init(caseNumber: "2022-1"), actor: "alice") }
        var i = try await service.open(title: "WhatsApp messages of Oct 2018 – Mar 2019 never captured <b>", fields: .init(
            caseNumber: "UD-2022-0001", description: "WhatsApp messages of officials on personal and agency phones", recordsFrom: "2018-10-01",
            recordsTo: "2019-03-31", office: "Office of Field Operations", circumstances: "Messages were never exported before phones were reset."),
            actor: "alice")
        #expect(try await service.deadlines().first { $0.incident.id == i.id }?.what.contains("report to NARA") == true)
        i = try await service.update(id: i.id, fields: .init(volume: 4075, safeguards: "WhatsApp use ended; Matrix captured live"), note: "counted", actor: "alice")
        i = try await service.markReported(id: i.id, on: CivilDate(year: 2022, month: 1, day: 10)!, actor: "alice")
        #expect(i.status == .reported && i.nextUpdateDue == "2022-04-11")
        // Long past due here: it comes first and says so.
        let due = try await service.deadlines(today: CivilDate(year: 2022, month: 5, day: 1)!)
        #expect(due.first?.incident.id == i.id && due.first?.overdue == true && due.first?.what == "quarterly update to NARA")
        i = try await service.recordUpdate(id: i.id, on: CivilDate(year: 2022, month: 4, day: 8)!, note: "training completed", actor: "alice")
        #expect(i.nextUpdateDue == "2022-07-08")
        let md = service.render(i, markdown: true, signer: "R. Officer")
        for part in ["# Report of unauthorized disposition (36 CFR 1230.14)", "UD-2022-0001", "1. Description of the records", "Volume: 4075 records",
                     "Dates: 2018-10-01 to 2019-03-31", "2. Office maintaining the records\n\nOffice of Field Operations",
                     "4. Safeguards taken to prevent recurrence\n\nWhatsApp use ended", "5. Actions taken to salvage, retrieve or reconstruct the records\n\n_to be completed_",
                     "Submitted by: R. Officer"] {
            #expect(md.contains(part), "\(part)")
        }
        let html = service.render(i, markdown: false, signer: nil)
        #expect(html.contains("never captured &lt;b&gt;") && !html.contains("<b>"))
        i = try await service.close(id: i.id, reason: "NARA closed UD-2022-0001", actor: "alice")
        #expect(i.status == .closed && i.nextUpdateDue == nil)
        let notes = try await service.notes(id: i.id).map(\.note)
        #expect(notes.first == "opened (manual)" && notes.contains("counted") && notes.last == "closed: NARA closed UD-2022-0001")
        let audit = try await f.archive.store.auditEntries(afterSequence: 0, limit: 5000).map(\.action)
        #expect(audit.contains("incident.open") && audit.contains("incident.reported") && audit.contains("incident.close") && audit.contains("refused"))
    }
}

extension ISO8601DateFormatter {
    static var withFraction: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }
}
