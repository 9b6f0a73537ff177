import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Recordkeeper
import RecordkeeperWeb
import Testing

/// Every search answer, on the web page and in the API, says what the index could not see yet;
/// captured but unindexed records are reachable by browsing meanwhile.
@Suite("Search coverage on the web and in the API", .serialized)
struct SearchCoverageTests {
    @Test func aRecordCapturedButNotIndexedIsReportedThenFound() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let txt = try f.tmp.sub("late").appendingPathComponent("WhatsApp Chat with Lena.txt")
        try Data("07/07/2021, 07:07 - Lena: Gate 3 closed for repairs\n".utf8).write(to: txt)
        var request = IngestRequest(paths: [txt], custodian: WebFixture.jane, timeZone: "UTC", actor: "test")
        request.waitForIndex = false
        let batch = try #require(try await IngestService(archive: f.archive).ingest(request).first)
        try await f.test { client in
            let carol = try await f.session("carol")
            let token = try await APITests.token(f, "carol", client: client)
            let api = try await client.get("/api/v1/search?q=gate", headers: APITests.bearer(token))
            let body = try api.json()
            #expect(body["total"] as? Int == 0)
            let coverage = try #require(body["coverage"] as? [String: Any])
            #expect(coverage["not_yet_searchable"] as? Int == 1 && coverage["complete"] as? Bool == false)
            #expect((coverage["statement"] as? String)?.contains("1 message captured since is not yet searchable") == true)
            let page = try await client.get("/search?q=gate", as: carol)
            #expect(page.text.contains("id=\"index-lag\"") && page.text.contains("1 message captured since is not yet searchable"))
            let health = try await client.get("/health")
            #expect(try health.json()["index_lag_messages"] as? Int == 1)
            // Browsing reads the record store, not the index.
            let conversation = try await client.get("/conversations/\(batch.conversationID!)", as: carol)
            #expect(conversation.text.contains("Gate 3 closed for repairs"))

            try await IndexService(archive: f.archive).catchUp()
            let found = try await client.get("/api/v1/search?q=gate", headers: APITests.bearer(token)).json()
            #expect(found["total"] as? Int == 1 && (found["coverage"] as? [String: Any])?["complete"] as? Bool == true)
            let after = try await client.get("/search?q=gate", as: carol)
            #expect(after.text.contains("Search covers every captured message.") && after.text.contains("closed for repairs"))
        }
    }

    /// `serve` runs the indexer: a record captured with no one waiting becomes searchable by itself.
    @Test func theServersIndexerCatchesUpOnItsOwn() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let txt = try f.tmp.sub("late").appendingPathComponent("WhatsApp Chat with Lena.txt")
        try Data("07/07/2021, 07:07 - Lena: Gate 3 closed for repairs\n".utf8).write(to: txt)
        var request = IngestRequest(paths: [txt], custodian: WebFixture.jane, timeZone: "UTC", actor: "test")
        request.waitForIndex = false
        _ = try await IngestService(archive: f.archive).ingest(request)
        #expect(try await f.archive.store.indexStatus().pending == 1)
        let indexer = BackgroundIndexer(archive: f.archive, interval: .milliseconds(50), logger: .init(label: "test"))
        let running = Task { try await indexer.run() }
        defer { running.cancel() }
        var waited = 0
        while try await f.archive.store.indexStatus().pending > 0, waited < 200 {
            try await Task.sleep(for: .milliseconds(50))
            waited += 1
        }
        #expect(try await f.archive.store.indexStatus().pending == 0)
        #expect(try await SearchService(archive: f.archive).search("gate", actor: "test").total == 1)
    }
}
