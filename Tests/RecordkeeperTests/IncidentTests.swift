import Archive
import ArchivePostgres
import Foundation
import GRDB
import Logging
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
        let queue = try rawDatabase(archive)
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

    /// Issue 16, item 4: reading the findings writes nothing but its audit entry; the incidents
    /// they call for are opened by an explicit act, in the actor's name, once.
    @Test func readingFindingsOpensNothingAndTheExplicitActOpensEachIncidentOnce() async throws {
        let f = try await ComplianceTests.fixture(); defer { f.tmp.cleanup() }
        let before = try await f.archive.store.auditEntries(afterSequence: 0, limit: 100_000).count
        let findings = try await ComplianceService(archive: f.archive).findings(actor: "audrey")
        #expect(findings.contains { $0.rule == "one_sided" })
        #expect(try await f.archive.store.incidents().isEmpty)
        let read = try await f.archive.store.auditEntries(afterSequence: 0, limit: 100_000).dropFirst(before)
        #expect(read.map(\.action) == ["report.findings"] && read.first?.actor == "audrey")

        let (_, opened) = try await IncidentService(archive: f.archive).openForFindings(actor: "alice")
        var incidents = try await f.archive.store.incidents()
        #expect(opened.map(\.id) == incidents.map(\.id))
        #expect(incidents.contains { $0.title.contains("never captured: !federated:agency.example.gov") })
        #expect(!incidents.contains { $0.title.contains("!joint") })
        // Lee Chen, who deleted in Gate Two, is neither a custodian nor a registered party: flagged for review, no incident.
        #expect(!incidents.contains { $0.title.contains("Gate Two") })
        let opens = try await f.archive.store.auditEntries(afterSequence: 0, limit: 100_000).filter { $0.action == "incident.open" }
        #expect(opens.count == incidents.count && opens.allSatisfy { $0.actor == "alice" })
        let count = incidents.count
        #expect(try await IncidentService(archive: f.archive).openForFindings(actor: "alice").opened.isEmpty)
        incidents = try await f.archive.store.incidents()
        #expect(incidents.count == count)
    }

    /// Issue 16, item 4: a deletion marker is a potential unauthorized disposition only when the
    /// agency's own custodian deleted; an unknown deleter is flagged for review; an outsider's
    /// deletion in their own copy is context. The incident carries the volume and dates of the
    /// agency's deletions alone.
    @Test(arguments: ["sqlite"] + (TestPostgres.wanted ? ["postgresql"] : []))
    func deletionsCountAgainstTheAgencyOnlyWhenItsOwnPeopleDeleted(_ backend: String) async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive: ArchiveHandle
        var pg: (store: PostgresArchiveStore, database: String)?
        if backend == "postgresql" {
            let db = try await TestPostgres.createDatabase()
            var logger = Logger(label: "recordkeeper.postgres")
            logger.logLevel = .warning
            let store = try await PostgresArchiveStore.open(url: db.url, logger: logger)
            pg = (store, db.name)
            archive = ArchiveHandle(directory: DataDirectory(url: try tmp.sub("instance")), store: store,
                                    blobs: FileBlobStore(root: try tmp.sub("blobs"), scratch: try tmp.sub("scratch")))
        } else {
            archive = try await makeArchive(tmp)
        }
        defer { if let pg { pg.store.close(); Task { await TestPostgres.dropDatabase(pg.database) } } }
        _ = try await UserService(archive: archive).save(name: "alice", displayName: "Alice Ortiz", roles: [.recordsOfficer], actor: "test")
        let rita = "rita.gomez@cbp.example.gov"
        _ = try await CustodianService(archive: archive).save(email: rita, name: "Rita Gomez", office: "Nogales", actor: "alice")
        // WhatsApp text exports name senders by display name: registered as handles.
        _ = try await CustodianService(archive: archive).addAccount(email: rita, platform: "whatsapp", address: "Rita Gomez", official: true, actor: "alice")
        let identities = IdentityService(archive: archive)
        let lee = try await identities.addParty(name: "Lee Chen", organization: "Port of Nogales Brokers", note: nil, actor: "alice")
        _ = try await identities.addAccount(partyID: lee.id, platform: "whatsapp", address: "Lee Chen", actor: "alice")
        let chat = try writeText("""
            20/03/2024, 08:15 - Rita Gomez: New roster from Monday
            21/03/2024, 11:00 - Lee Chen: This message was deleted
            22/03/2024, 09:30 - Rita Gomez: This message was deleted
            23/03/2024, 10:05 - Sam Park: This message was deleted
            24/03/2024, 16:40 - Rita Gomez: This message was deleted
            25/03/2024, 17:45 - Rita Gomez: Thanks all
            """, named: "WhatsApp Chat with Gate Two.txt", in: try tmp.sub("rita"))
        _ = try await IngestService(archive: archive).ingest(IngestRequest(paths: [chat], custodian: rita, timeZone: "America/Phoenix", actor: "test"))

        let findings = try await ComplianceService(archive: archive).findings(actor: "alice")
        func only(_ rule: String) throws -> Finding { try #require(findings.first { $0.rule == rule }, "\(rule) in \(findings.map(\.rule))") }
        let agency = try only("deleted_before_capture"), unknown = try only("deletion_unattributed"), others = try only("deleted_by_others")
        #expect(agency.severity == .high && agency.volume == 2 && agency.firstSent == "2024-03-22T09:30:00" && agency.lastSent == "2024-03-24T16:40:00")
        #expect(unknown.severity == .medium && unknown.volume == 1 && unknown.firstSent == "2024-03-23T10:05:00")
        #expect(others.severity == .low && others.volume == 1 && others.firstSent == "2024-03-21T11:00:00")
        #expect(try await archive.store.incidents().isEmpty)

        let opened = try await IncidentService(archive: archive).openForFindings(actor: "alice").opened
        #expect(opened.count == 1)
        let incident = try #require(opened.first)
        #expect(incident.title == "Messages deleted before capture: Gate Two (whatsapp)" && incident.volume == 2
                && incident.records == agency.records && incident.recordsFrom == "2024-03-22T09:30:00" && incident.recordsTo == "2024-03-24T16:40:00")
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
