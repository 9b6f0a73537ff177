import Archive
@testable import ArchivePostgres
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore
import Testing

/// Instances can run as a role that owns nothing (`init --runtime-role`): it captures into years
/// that have no partition yet, searches, rebuilds the index, and cannot drop, disable or bypass
/// the guards, change the schema, or mark a schema step applied.
@Suite("PostgreSQL: instances as a runtime role that owns nothing", .enabled(if: TestPostgres.wanted))
struct PostgresRuntimeRoleTests {
    @Test func aRuntimeRoleCapturesSearchesAndRebuildsButCannotTouchTheGuards() async throws {
        let db = try await TestPostgres.createDatabase()
        let (server, _) = try await TestPostgres.serverAdmin()
        let role = "rk_runtime_" + UUID().uuidString.lowercased().prefix(8)
        let password = UUID().uuidString
        try await PostgresAdmin.execute(url: server, sql: "CREATE ROLE \(role) LOGIN PASSWORD '\(password)'")
        defer {
            Task {
                await TestPostgres.dropDatabase(db.name)
                try? await PostgresAdmin.execute(url: server, sql: "DROP ROLE IF EXISTS \(role)")
                try? await PostgresAdmin.execute(url: server, sql: "DROP ROLE IF EXISTS \(role)_c")
            }
        }
        var logger = Logger(label: "recordkeeper.postgres")
        logger.logLevel = .warning
        let ownerURL = try PostgresURL.parse(db.url)

        // The owner brings the schema up to date and grants; granting again changes nothing.
        let owner = try await PostgresArchiveStore.open(url: db.url, logger: logger)
        try await owner.grantRuntimeRole(role)
        try await owner.grantRuntimeRole(role)
        await #expect(throws: ArchiveError.self) { try await owner.grantRuntimeRole("rk_no_such_role") }
        // The owner (here a superuser) cannot be the runtime role, nor a role that may create
        // objects in the schema.
        await #expect(throws: ArchiveError.self) { try await owner.grantRuntimeRole(ownerURL.user) }
        let creator = role + "_c"
        try await PostgresAdmin.execute(url: server, sql: "CREATE ROLE \(creator) LOGIN")
        try await PostgresAdmin.execute(url: ownerURL, sql: "GRANT CREATE ON SCHEMA public TO \(creator)", logger: logger)
        await #expect(throws: ArchiveError.self) { try await owner.grantRuntimeRole(creator) }
        try await PostgresAdmin.execute(url: ownerURL, sql: "REVOKE CREATE ON SCHEMA public FROM \(creator)", logger: logger)
        owner.close()

        var runtimeURL = ownerURL
        runtimeURL.user = role
        runtimeURL.password = password
        let app = try await PostgresArchiveStore.open(url: runtimeURL.urlString, logger: logger)
        defer { app.close() }
        #expect(try await app.transaction("reading") { conn in
            try await conn.column("SELECT count(*)::int FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'message'",
                                  as: Int32.self, logger: logger)
        } == [0])

        // Capture makes 2021's partitions through the owner's function, then search, rebuild, search.
        _ = try await SearchConformanceTests.load(app)
        let omar = SearchRequest(query: try SearchExpression.parse("omar"), limit: 50)
        let before = try await app.search(omar)
        #expect(before.total == 14)
        try await app.resetIndex()
        #expect(try await app.search(omar).total == 0)
        while try await app.indexNext(limit: 50) > 0 {}
        #expect(try await app.search(omar).hits.map(\.messageID) == before.hits.map(\.messageID))

        // The function's bounds are the ones Swift computes (schema step 11 makes them directly).
        let bounds = try await app.transaction("reading") { conn in
            try await conn.column("""
                SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c WHERE c.relname = 'message_search_y2021'
                """, as: String.self, logger: logger)
        }
        let from = PostgresArchiveStore.searchKey(yearStart: 2021), to = PostgresArchiveStore.searchKey(yearStart: 2022)
        #expect(bounds == ["FOR VALUES FROM ('\(from)') TO ('\(to)')"])

        // What the role cannot do, each refused by the server.
        _ = try await app.appendAudit(AuditDraft(actor: "tester", action: "archive.test", target: "archive", detail: [:]))
        let audit = try await app.auditEntries(afterSequence: 0, limit: 10_000)
        #expect(!audit.isEmpty)
        for sql in [
            "DROP TRIGGER audit_log_append_only ON audit_log",
            "ALTER TABLE audit_log DISABLE TRIGGER USER",
            "TRUNCATE audit_log",
            "TRUNCATE message",
            "DELETE FROM audit_log",
            "DROP TABLE message_y2021",
            "CREATE TABLE rk_intruder (x integer)",
            "INSERT INTO schema_history (version, name) VALUES (99, 'forged')",
            "SELECT rk_add_year_partitions(ARRAY[0], NULL)",
        ] {
            await #expect(throws: (any Error).self, "\(sql)") { try await PostgresAdmin.execute(url: runtimeURL, sql: sql, logger: logger) }
        }
        #expect(try await app.auditEntries(afterSequence: 0, limit: 10_000) == audit)

        // A step the database still needs is the owner's to apply: the runtime role says so.
        try await PostgresAdmin.execute(url: ownerURL, sql: "DELETE FROM schema_history WHERE version = 12", logger: logger)
        do {
            let stale = try await PostgresArchiveStore.open(url: runtimeURL.urlString, logger: logger)
            stale.close()
            Issue.record("a runtime role opened a database that needs a schema step")
        } catch {
            #expect("\(error)".contains("needs schema step 12") && "\(error)".contains("does not own it"), "\(error)")
        }
    }
}
