import Archive
import Foundation
import RecordkeeperCore
import Testing

@Suite("AuditLog conformance (every backend)")
struct AuditLogConformanceTests {
    @Test(arguments: Backends.auditLogs)
    func entriesFormAChainAndAreFoundByTarget(_ backend: Backend<any AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let log = open.store
        for i in 1...5 {
            try await log.appendAudit(AuditDraft(actor: "tester", action: "show.message", target: "message:\(i % 2)", detail: ["n": "\(i)"]))
        }
        let entries = try await log.auditEntries(afterSequence: 0, limit: 100)
        #expect(entries.map(\.sequence) == [1, 2, 3, 4, 5])
        #expect(entries.first?.previousHash == AuditEntry.genesis)
        for (a, b) in zip(entries, entries.dropFirst()) { #expect(b.previousHash == a.hash) }
        #expect(entries.allSatisfy { $0.hash == $0.computeHash() })
        #expect(entries[2].detail == #"{"n":"3"}"#)
        #expect(try await log.auditEntries(afterSequence: 3, limit: 100).map(\.sequence) == [4, 5])
        #expect(try await log.auditEntries(afterSequence: 0, limit: 2).map(\.sequence) == [1, 2])
        #expect(try await log.auditEntries(target: "message:1", limit: 10).map(\.sequence) == [1, 3, 5])
        #expect(try await log.auditEntries(target: "message:1", limit: 2).map(\.sequence) == [3, 5]) // newest, in order
    }

    /// Many writers at once (on PostgreSQL, on separate pooled connections): the chain stays
    /// linear, with no sequence number taken twice and no entry pointing at the wrong predecessor.
    @Test(arguments: Backends.auditLogs)
    func concurrentWritersKeepTheChainLinear(_ backend: Backend<any AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let log = open.store
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for n in 0..<10 {
                        try await log.appendAudit(AuditDraft(actor: "writer\(writer)", action: "capture.batch", target: "batch:\(writer)",
                                                             detail: ["n": "\(n)"]))
                    }
                }
            }
            try await group.waitForAll()
        }
        let entries = try await log.auditEntries(afterSequence: 0, limit: 1000)
        #expect(entries.map(\.sequence) == Array(1...80))
        #expect(entries.first?.previousHash == AuditEntry.genesis)
        for (a, b) in zip(entries, entries.dropFirst()) { #expect(b.previousHash == a.hash) }
        #expect(entries.allSatisfy { $0.hash == $0.computeHash() })
        // Each writer's entries are in its own order.
        for writer in 0..<8 {
            let mine = entries.filter { $0.actor == "writer\(writer)" }
            #expect(mine.map(\.detail) == (0..<10).map { #"{"n":"\#($0)"}"# })
        }
    }

    @Test(arguments: Backends.auditLogs)
    func filtersSelectByActorActionPrefixTargetDayAndPage(_ backend: Backend<any AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let log = open.store
        let drafts = [
            AuditDraft(actor: "k.walsh", action: "hold.create", target: "hold:1"),
            AuditDraft(actor: "d.harris", action: "hold.release", target: "hold:1"),
            AuditDraft(actor: "k.walsh", action: "holdings.view", target: "report:1"),
            AuditDraft(actor: "k.walsh", action: "show.message", target: "message:7"),
            AuditDraft(actor: "d.harris", action: "hold.create", target: "hold:2"),
        ]
        for d in drafts { try await log.appendAudit(d) }
        let today = String(try #require(try await log.auditEntries(afterSequence: 0, limit: 1).first).at.prefix(10))

        #expect(try await log.auditEntries(AuditFilter()).map(\.sequence) == [5, 4, 3, 2, 1]) // newest first
        #expect(try await log.auditEntries(AuditFilter(actor: "k.walsh")).map(\.sequence) == [4, 3, 1])
        // "hold." is a prefix that ends at the dot: holdings.view is not a hold action.
        #expect(try await log.auditEntries(AuditFilter(action: "hold.")).map(\.sequence) == [5, 2, 1])
        #expect(try await log.auditEntries(AuditFilter(action: "hold.create")).map(\.sequence) == [5, 1])
        #expect(try await log.auditEntries(AuditFilter(target: "hold:1")).map(\.sequence) == [2, 1])
        #expect(try await log.auditEntries(AuditFilter(from: today, to: today)).count == 5)
        #expect(try await log.auditEntries(AuditFilter(to: "2001-01-01")).isEmpty)
        #expect(try await log.auditEntries(AuditFilter(from: "2999-01-01")).isEmpty)
        #expect(try await log.auditEntries(AuditFilter(beforeSequence: 4, limit: 2)).map(\.sequence) == [3, 2])
        #expect(try await log.auditEntries(AuditFilter(actor: "d.harris", action: "hold.", target: "hold:2")).map(\.sequence) == [5])
        // A value that looks like SQL is only a value.
        #expect(try await log.auditEntries(AuditFilter(actor: "x' OR '1'='1")).isEmpty)
    }
}

@Suite("LeaseStore conformance (every backend)")
struct LeaseConformanceTests {
    @Test(arguments: Backends.leases)
    func oneHolderAtATimeUntilItExpiresOrIsReleased(_ backend: Backend<any LeaseStore>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let leases = open.store
        #expect(try await leases.leaseHolder("indexer") == nil)
        #expect(try await leases.acquireLease("indexer", holder: "a", ttlMillis: 60_000))
        #expect(try await leases.acquireLease("indexer", holder: "b", ttlMillis: 60_000) == false)
        #expect(try await leases.acquireLease("indexer", holder: "a", ttlMillis: 60_000)) // renewal
        #expect(try await leases.acquireLease("reminders", holder: "b", ttlMillis: 60_000)) // another job
        #expect(try await leases.leaseHolder("indexer") == "a")
        try await leases.releaseLease("indexer", holder: "b") // not b's to give up
        #expect(try await leases.leaseHolder("indexer") == "a")
        try await leases.releaseLease("indexer", holder: "a")
        #expect(try await leases.leaseHolder("indexer") == nil)
        #expect(try await leases.acquireLease("indexer", holder: "b", ttlMillis: 1))
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await leases.leaseHolder("indexer") == nil) // expired: nobody holds it
        #expect(try await leases.acquireLease("indexer", holder: "a", ttlMillis: 60_000)) // and another may take it
        #expect(try await leases.leaseHolder("indexer") == "a")
    }

    @Test(arguments: Backends.leases)
    func ofManyContendersExactlyOneWins(_ backend: Backend<any LeaseStore>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let leases = open.store
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<12 { group.addTask { try await leases.acquireLease("retention-sweep", holder: "instance-\(i)", ttlMillis: 60_000) } }
            var won = 0
            for try await w in group where w { won += 1 }
            return won
        }
        #expect(winners == 1)
        #expect(try await leases.leaseHolder("retention-sweep")?.hasPrefix("instance-") == true)
    }
}
