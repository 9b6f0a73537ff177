import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import Testing

/// Each rule on fixtures built to trip it and fixtures built not to.
@Suite("Compliance monitoring")
struct ComplianceTests {
    static let dan = "d.kowalski@cbp.example.gov", rita = "r.gomez@cbp.example.gov"

    struct Fixture {
        var tmp: TempDir
        var archive: ArchiveHandle
    }

    /// Dan forwards WhatsApp chats by e-mail (one on time, one partly late) from a personal
    /// phone; Rita's phone is official. Rita also hands over a chat directly, twice, with a hole
    /// between the exports and a deletion marker; a Matrix room hears only agency users though it
    /// has a partner member; another Matrix room hears the partner too.
    static func fixture() async throws -> Fixture {
        let tmp = try TempDir()
        let archive = try await makeArchive(tmp)
        _ = try await UserService(archive: archive).save(name: "alice", displayName: "Alice Ortiz", roles: [.recordsOfficer], actor: "test")
        let custodians = CustodianService(archive: archive)
        _ = try await custodians.save(email: dan, name: "Dan Kowalski", office: "Nogales", actor: "alice")
        _ = try await custodians.save(email: rita, name: "Rita Gomez", office: "Nogales", actor: "alice")
        _ = try await custodians.addAccount(email: dan, platform: "whatsapp", address: "+1 520 555 0177", official: false, actor: "alice")
        _ = try await custodians.addAccount(email: dan, platform: "signal", address: "+1 520 555 0177", official: false, actor: "alice")
        _ = try await custodians.addAccount(email: dan, platform: "matrix", address: "@d.kowalski:agency.example.gov", official: true, actor: "alice")
        _ = try await custodians.addAccount(email: rita, platform: "whatsapp", address: "+1 520 555 0188", official: true, actor: "alice")
        _ = try await custodians.addAccount(email: rita, platform: "matrix", address: "@r.gomez:agency.example.gov", official: true, actor: "alice")
        let service = IngestService(archive: archive)
        let mbox = packageRoot.appendingPathComponent("Tests/ConnectorsTests/Fixtures/mail-carried/carried.mbox")
        _ = try await service.ingest(IngestRequest(paths: [mbox], custodian: dan, timeZone: "America/New_York", actor: "test"))
        // Dan also hands one chat over directly: never forwarded.
        let direct = try writeText("""
            05/04/2024, 10:00 - Dan Kowalski: Lane 3 closed for the afternoon
            05/04/2024, 10:02 - Sam Lee: Noted, rerouting trucks 14 and 15
            """, named: "WhatsApp Chat with Sam Lee.txt", in: try tmp.sub("direct"))
        _ = try await service.ingest(IngestRequest(paths: [direct], custodian: dan, timeZone: "America/New_York", actor: "test"))
        // Rita's two exports of one chat: 1–5 March, then 20–25 March. The second has a deletion marker.
        let first = try writeText("""
            01/03/2024, 09:00 - Rita Gomez: Gate 2 inspection roster attached
            05/03/2024, 16:30 - Lee Chen: Roster confirmed
            """, named: "WhatsApp Chat with Gate Two.txt", in: try tmp.sub("rita-1"))
        let second = try writeText("""
            20/03/2024, 08:15 - Rita Gomez: New roster from Monday
            21/03/2024, 11:00 - Lee Chen: This message was deleted
            25/03/2024, 17:45 - Rita Gomez: Thanks all
            """, named: "WhatsApp Chat with Gate Two.txt", in: try tmp.sub("rita-2"))
        for url in [first, second] {
            _ = try await service.ingest(IngestRequest(paths: [url], custodian: rita, timeZone: "America/Phoenix", actor: "test"))
        }
        // Two Matrix rooms, as the live capture would push them.
        func event(_ room: String, _ id: String, _ sender: String, _ ts: Int64, _ type: String, _ content: String, stateKey: String? = nil) -> String {
            "{\"type\":\"\(type)\",\"room_id\":\"\(room)\",\"sender\":\"\(sender)\",\"event_id\":\"\(id)\",\"origin_server_ts\":\(ts)\(stateKey.map { ",\"state_key\":\"\($0)\"" } ?? ""),\"content\":\(content)}"
        }
        let danID = "@d.kowalski:agency.example.gov", ritaID = "@r.gomez:agency.example.gov", partner = "@j.ruiz:partner.example.org"
        var events: [String] = []
        for (room, partnerSpeaks) in [("!federated:agency.example.gov", false), ("!joint:agency.example.gov", true)] {
            let base: Int64 = partnerSpeaks ? 1_712_000_000_000 : 1_711_000_000_000
            events.append(event(room, "$\(room.dropFirst(1).prefix(5))-inv", danID, base, "m.room.member", "{\"membership\":\"invite\"}", stateKey: partner))
            for i in 0..<6 {
                events.append(event(room, "$\(room.dropFirst(1).prefix(5))-m\(i)", i % 2 == 0 ? danID : ritaID, base + Int64(i + 1) * 60_000,
                                    "m.room.message", "{\"msgtype\":\"m.text\",\"body\":\"Container MX-44\(i) cleared\"}"))
            }
            if partnerSpeaks {
                events.append(event(room, "$joint-partner", partner, base + 600_000, "m.room.message", "{\"msgtype\":\"m.text\",\"body\":\"Partner side confirms\"}"))
            }
            events.append(event(room, "$\(room.dropFirst(1).prefix(5))-red", danID, base + 700_000, "m.room.redaction", "{\"reason\":\"typo\"}"))
        }
        let txn = try writeText("{\"events\":[\n" + events.joined(separator: ",\n") + "\n]}", named: "matrix-txn-7.json", in: try tmp.sub("matrix"))
        _ = try await service.ingest(IngestRequest(paths: [txn], custodian: "records@cbp.example.gov", actor: "test"))
        return Fixture(tmp: tmp, archive: archive)
    }

    @Test func theTwentyDayRuleSplitsPersonalAccountMessagesIntoOnTimeLateAndNeverForwarded() async throws {
        let f = try await Self.fixture(); defer { f.tmp.cleanup() }
        let report = try await ComplianceService(archive: f.archive).twentyDayRule(actor: "alice")
        // Only Dan's personal WhatsApp counts: Rita's phone is official, Telegram is not registered.
        #expect(Set(report.rows.map(\.custodian)) == [Self.dan] && Set(report.rows.map(\.platform)) == ["whatsapp"])
        let march = try #require(report.rows.first { $0.month == "2024-03" })
        // Port Ops: the three messages of 1 March reached the official account on 22 March (late);
        // "Berth 4 clear" of 14 March was on time; Harbor Watch (14–15 March, forwarded 27 March) on time.
        #expect(march.late == 3 && march.onTime == 3 && march.neverForwarded == 0)
        #expect(march.worstLagDays > 20 && march.worstLagDays < 21)
        let april = try #require(report.rows.first { $0.month == "2024-04" })
        #expect(april.neverForwarded == 2 && april.onTime == 0 && april.late == 0)
        #expect(report.totals.late == 3 && report.totals.onTime == 3 && report.totals.neverForwarded == 2)
        // Worst cases: the two collected messages (captured now, years after) then the late ones.
        #expect(report.worst.prefix(2).allSatisfy { $0.route == "collected" })
        #expect(report.worst.dropFirst(2).allSatisfy { $0.route == "forwarded" && $0.lagDays > 20 } && report.worst.count == 5)
    }

    @Test func findingsTripOnlyWhereTheirEvidenceIs() async throws {
        let f = try await Self.fixture(); defer { f.tmp.cleanup() }
        let service = ComplianceService(archive: f.archive)
        let now = try await service.findings(actor: "alice")
        func titles(_ rule: String, _ list: [Finding]) -> [String] { list.filter { $0.rule == rule }.compactMap(\.conversation).sorted() }
        // The room whose partner never speaks is one-sided; the room where he does is not.
        #expect(titles("one_sided", now) == ["!federated:agency.example.gov"])
        let oneSided = try #require(now.first { $0.rule == "one_sided" })
        #expect(oneSided.severity == .high && oneSided.summary.contains("@j.ruiz:partner.example.org"))
        // Rita's two exports leave 14 days unheard; nothing else has a hole.
        #expect(titles("export_gap", now) == ["Gate Two"])
        // The WhatsApp deletion marker has no original; the Matrix redactions keep theirs. Lee Chen,
        // who deleted it, is neither a custodian nor a registered party: flagged for review, not
        // counted against the agency.
        let deleted = now.filter { $0.rule == "deletion_unattributed" }
        #expect(deleted.map(\.conversation) == ["Gate Two"] && deleted[0].records.count == 1 && deleted[0].severity == .medium)
        #expect(now.filter { $0.rule == "deleted_before_capture" || $0.rule == "deleted_by_others" }.isEmpty)
        // Dan registered Signal and never handed anything over; his WhatsApp was captured today.
        let silent = now.filter { $0.rule == "silent_user" }
        #expect(silent.map(\.platform) == ["signal"] && silent[0].custodian == Self.dan)
        #expect(now.filter { $0.rule == "stale_export" }.isEmpty)
        // Two months on, every custodian-exported chat is stale and the WhatsApp users are silent too.
        let later = try await service.findings(asOf: Date().addingTimeInterval(60 * 86_400), actor: "alice")
        // (Telegram too: the chats the March zip carried are custodian exports.)
        #expect(Set(later.filter { $0.rule == "stale_export" }.map(\.platform)) == ["whatsapp", "telegram"])
        #expect(Set(later.filter { $0.rule == "silent_user" }.map(\.platform)) == ["signal", "whatsapp"])
        #expect(later.first?.severity == .high)
    }

    @Test func timerSettingsAndTheAppInventory() async throws {
        let f = try await Self.fixture(); defer { f.tmp.cleanup() }
        let service = ComplianceService(archive: f.archive)
        let timers = try await service.timers(actor: "alice")
        let port = try #require(timers.first { $0.notice.conversation == "Port Ops" })
        #expect(port.state == "on" && port.notice.platform == "whatsapp" && port.notice.sentLocal.hasPrefix("2024-03-14T17:40")
                && port.notice.who == "Dan Kowalski")
        // Telegram's auto-delete timer and Matrix retention settings are there too when exported; here, Telegram's.
        #expect(timers.contains { $0.notice.platform == "telegram" })
        #expect(ComplianceService.timerState("You turned off disappearing messages.") == "off")
        #expect(ComplianceService.timerState("Dan set messages to disappear after 7 days") == "on")
        let inventory = try await service.inventory(actor: "alice")
        let whatsapp = try #require(inventory.first { $0.platform == "whatsapp" })
        #expect(!whatsapp.managed && whatsapp.users == 2 && whatsapp.personalAccounts == 1 && whatsapp.status == "at risk")
        let matrix = try #require(inventory.first { $0.platform == "matrix" })
        #expect(matrix.managed && matrix.records > 0 && matrix.status == "at risk") // the one-sided room
        #expect(inventory.first { $0.platform == "slack" }?.status == "not in use")
        #expect(inventory.first { $0.platform == "signal" }?.status == "not captured")
        let audit = try await f.archive.store.auditEntries(afterSequence: 0, limit: 5000).map(\.action)
        #expect(audit.contains("report.timers") && audit.contains("report.inventory"))
    }
}
