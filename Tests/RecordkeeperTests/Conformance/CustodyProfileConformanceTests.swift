@testable import Archive
import Custody
import Foundation
import RecordkeeperCore
import Testing

/// Issue 15 on every backend: a mapping profile registered once per version and never changed,
/// and an XLSX export imported through it, the import recording the profile it was read with.
@Suite("CustodyStore conformance: mapping profiles (every backend)")
struct CustodyProfileConformanceTests {
    @Test(arguments: Backends.custody)
    func aProfileVersionIsKeptAsRegisteredAndNamedByTheImportsItReads(_ backend: Backend<any CustodyStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        let tmp = try TempDir()
        defer { tmp.cleanup() }
        let service = TargetImportService(store: store)
        for rule in CustodyFixtures.rules(for: .atsXLSX) { _ = try await service.addRule(rule, actor: "targeter") }
        let files = try CustodyFixtures.write(.atsXLSX, seed: 5, to: tmp.url)
        let profileJSON = try Data(contentsOf: files[1])
        #expect(try await service.addProfile(profileJSON, actor: "targeter").added)
        #expect(try await service.addProfile(profileJSON, actor: "targeter").added == false) // the same again: nothing new
        var changed = try MappingProfile.parse(profileJSON)
        changed.timeZone = "UTC"
        await #expect(throws: ArchiveError.self) { _ = try await service.addProfile(try JSONEncoder().encode(changed), actor: "targeter") }
        changed.version = 2
        #expect(try await service.addProfile(try JSONEncoder().encode(changed), actor: "targeter").added)
        #expect(try await service.profiles().map(\.label) == ["ats-jfk v1", "ats-jfk v2"])
        #expect(try await service.profile("ats-jfk").timeZone == "UTC") // the latest version
        let v1 = try await service.profile("ats-jfk@1")
        #expect(v1.timeZone == "America/New_York")
        await #expect(throws: CustodyError.self) { _ = try await service.profile("ats-jfk@9") }

        let dry = try await service.dryRun(files[0], profile: v1)
        let none = try await store.targetCount()
        #expect(dry.plan.accepted.count == 8 && dry.stored == nil && none == 0)
        let done = try await service.commit(files[0], profile: v1, actor: "targeter")
        #expect(done.stored?.added == 8 && done.stored?.mappingProfile == "ats-jfk v1" && done.stored?.rejected == 3)
        #expect(try await store.targetImports().first?.mappingProfile == "ats-jfk v1")
        let entry = try await store.auditEntries(target: "custody-import:\(done.stored!.id)", limit: 5).first
        #expect(entry?.detail.contains("ats-jfk v1") == true)
        #expect(try await store.rejectedRows(importID: done.stored!.id).contains { $0.raw.contains("06/31/2019 08:00") })
    }
}
