import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import Testing
import ZIPFoundation

/// One person, one participant, across platforms: the same two officials wrote in Slack,
/// Telegram and Teams; a contractor texted by SMS; Wickr users are not registered at all.
@Suite("Identity across platforms")
struct IdentityTests {
    static let ruth = "r.okafor@cbp.example.gov", dan = "d.kowalski@cbp.example.gov"
    static let fixtures = packageRoot.appendingPathComponent("Tests/ConnectorsTests/Fixtures")

    @Test func identitiesResolveToCustodiansAndPartiesOnEveryPlatform() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        _ = try await UserService(archive: archive).save(name: "alice", displayName: "Alice Ortiz", roles: [.recordsOfficer], actor: "test")
        let custodians = CustodianService(archive: archive)
        let identity = IdentityService(archive: archive)
        _ = try await custodians.save(email: Self.ruth, name: "Ruth Okafor", office: "Nogales", actor: "alice")
        _ = try await custodians.save(email: Self.dan, name: "Dan Kowalski", office: "Nogales", actor: "alice")
        for (email, platform, address) in [(Self.ruth, "slack", "U01RUTH"), (Self.ruth, "telegram", "user7781"),
                                           (Self.ruth, "teams", "8b2f0c1e-1111-4a5b-9c8d-000000000001"), (Self.dan, "slack", "U02DAN"),
                                           (Self.dan, "telegram", "user5512"), (Self.dan, "teams", "8b2f0c1e-2222-4a5b-9c8d-000000000002")] {
            _ = try await custodians.addAccount(email: email, platform: platform, address: address, official: platform != "telegram", actor: "alice")
        }
        let sam = try await identity.addParty(name: "Sam Lee", organization: "Harbor Freight Lines", note: "carrier dispatcher", actor: "alice")
        // Written one way here, three other ways in the SMS backup.
        _ = try await identity.addAccount(partyID: sam.id, platform: "sms", address: "(202) 555-0143", actor: "alice")
        // One identity, one owner: a custodian's account cannot be a party's too; a reviewer cannot register one.
        await #expect(throws: ArchiveError.self) { try await identity.addAccount(partyID: sam.id, platform: "slack", address: "U02DAN", actor: "alice") }
        await #expect(throws: ArchiveError.self) { try await identity.addParty(name: "Eve", organization: nil, note: nil, actor: "mallory") }

        let paths = ["slack/Agency Slack export Mar 15 2021 - Mar 16 2021", "telegram/DataExport_2021-03-20/result.json",
                     "teams/getAllMessages-2021-03-15.json", "sms/sms-20210302100011.xml", "wickr/compliance/messages"]
        let copies = try paths.map { path -> URL in
            let to = tmp.url.appendingPathComponent("in").appendingPathComponent(path)
            try FileManager.default.createDirectory(at: to.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent(path), to: to)
            return to
        }
        var slackZip = copies[0].deletingLastPathComponent().appendingPathComponent("slack.zip")
        try FileManager.default.zipItem(at: copies[0], to: slackZip, shouldKeepParent: true)
        let reports = try await IngestService(archive: archive).ingest(IngestRequest(
            paths: [slackZip] + copies.dropFirst(), custodian: Self.ruth, timeZone: "America/Phoenix", actor: "test"))
        #expect(reports.allSatisfy { $0.error == nil }, "\(reports.compactMap(\.error))")
        slackZip = slackZip.standardizedFileURL

        func conversation(_ platform: Platform, _ title: String? = nil) async throws -> Conversation {
            let all = try await archive.store.conversations(titleContains: title, limit: 100)
            return try #require(all.first { $0.platform == platform })
        }
        // Slack, Telegram and Teams: both officials internal, whatever name the platform showed.
        for platform in [Platform.slack, .telegram, .teams] {
            var internalOnes = Set<String>()
            for c in try await archive.store.conversations(titleContains: nil, limit: 100) where c.platform == platform {
                let people = try await identity.participants(conversationID: c.id, actor: "alice")
                internalOnes.formUnion(people.filter { $0.side == .internal }.compactMap(\.custodian))
                #expect(!people.contains { $0.side == .external }, "\(platform): \(people)")
            }
            #expect(internalOnes == [Self.ruth, Self.dan], "\(platform)")
        }
        // SMS: the phone's owner ("Me") is the custodian; Sam Lee, however his number was written, is one external party.
        let sms = try await identity.participants(conversationID: try await conversation(.sms, "Sam Lee").id, actor: "alice")
        #expect(sms.contains { $0.side == .internal && $0.custodian == Self.ruth })
        let samRows = sms.filter { $0.side == .external }
        #expect(!samRows.isEmpty && samRows.allSatisfy { $0.partyID == sam.id && $0.partyName == "Sam Lee" && $0.organization == "Harbor Freight Lines" })
        // Wickr: nobody registered, everyone unresolved (and said so).
        let wickr = try await identity.participants(conversationID: try await conversation(.wickr).id, actor: "alice")
        #expect(!wickr.isEmpty && wickr.allSatisfy { $0.side == .unresolved })

        // Dan is one participant across three platforms, though none of these conversations is his.
        let dans = try await archive.store.conversationIDs(of: .custodian(email: Self.dan))
        var platforms = Set<Platform>()
        for id in dans { platforms.insert(try #require(try await archive.store.conversation(id: id)).platform) }
        #expect(platforms == [.slack, .telegram, .teams])
        // Search by person: a party's name finds his conversations only (the SMS thread).
        let hits = try await SearchService(archive: archive).search("truck OR seal OR manifest", filters: SearchFilters(participant: "Sam Lee"), actor: "alice")
        #expect(hits.total > 0)
        for h in hits.hits { #expect(try await archive.store.conversation(id: h.conversationID)?.platform == .sms) }
        let audit = try await archive.store.auditEntries(afterSequence: 0, limit: 1000)
        #expect(audit.contains { $0.action == "party.account" } && audit.contains { $0.action == "show.participants" })
        #expect(audit.contains { $0.action == "refused" && $0.actor == "mallory" })
    }
}
