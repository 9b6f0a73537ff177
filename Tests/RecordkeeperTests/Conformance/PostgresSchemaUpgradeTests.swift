import Archive
import ArchivePostgres
import Foundation
import Logging
import RecordkeeperCore
import Testing

/// A database made by an older Recordkeeper is brought up to date when an instance opens it,
/// and keeps every row: here, the search index of schema 10 (one table) moved into yearly
/// partitions by step 11 without re-indexing.
@Suite("PostgreSQL schema upgrades", .enabled(if: TestPostgres.wanted))
struct PostgresSchemaUpgradeTests {
    @Test func theSearchIndexMovesIntoYearlyPartitionsWithEveryRowAndTheSameAnswers() async throws {
        let db = try await TestPostgres.createDatabase()
        defer { Task { await TestPostgres.dropDatabase(db.name) } }
        var logger = Logger(label: "recordkeeper.postgres")
        logger.logLevel = .warning
        let url = try PostgresURL.parse(db.url)

        var store = try await PostgresArchiveStore.open(url: db.url, logger: logger)
        _ = try await SearchConformanceTests.load(store)
        func answers(_ s: PostgresArchiveStore) async throws -> [String: String] {
            var out: [String: String] = [:]
            for q in SearchConformanceTests.queries {
                for sort in [SearchRequest.Sort.date, .relevance] {
                    let r = try await s.search(SearchRequest(query: try SearchExpression.parse(q), limit: 50, sort: sort))
                    out["\(q) \(sort)"] = SearchConformanceTests.summary(r) + " " + r.hits.map { String($0.messageID) }.joined(separator: ",")
                }
            }
            return out
        }
        let before = try await answers(store)
        #expect(before["omar date"]?.hasPrefix("14:") == true)
        store.close()

        // Back to schema 10's layout, rows and all (as an instance of the previous release left it).
        for sql in [
            """
            CREATE TABLE message_search_v10 (
                message_id bigint NOT NULL, search_key bigint NOT NULL, conversation_id bigint NOT NULL, doc tsvector NOT NULL,
                CONSTRAINT message_search_pkey_v10 PRIMARY KEY (message_id))
            """,
            "INSERT INTO message_search_v10 SELECT message_id, search_key, conversation_id, doc FROM message_search",
            "DROP TABLE message_search",
            "ALTER TABLE message_search_v10 RENAME TO message_search",
            "ALTER TABLE message_search RENAME CONSTRAINT message_search_pkey_v10 TO message_search_pkey",
            "CREATE INDEX message_search_doc ON message_search USING gin (doc)",
            "CREATE INDEX message_search_key ON message_search (search_key DESC)",
            "DELETE FROM schema_history WHERE version = 11",
        ] {
            try await PostgresAdmin.execute(url: url, sql: sql, logger: logger)
        }

        store = try await PostgresArchiveStore.open(url: db.url, logger: logger)
        defer { store.close() }
        // Every row moved, into the partition of its year; nothing queued again; same answers.
        let status = try await store.indexStatus()
        #expect(status.pending == 0 && status.indexedThrough == status.capturedThrough)
        let gaps = try await store.searchIndexGaps(limit: 10)
        #expect(gaps.unindexedMessages.isEmpty && gaps.orphanEntries == 0 && gaps.indexedBeyondMark.isEmpty)
        #expect(try await store.searchPartitionYears() == [2022, 2021, 2020])
        #expect(try await answers(store) == before)
    }
}
