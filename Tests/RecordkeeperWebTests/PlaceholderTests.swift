import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Recordkeeper
import RecordkeeperWeb
import Testing

/// View-once media, deleted messages and media left out of an export are explained in words on
/// the page and in the API, never shown as a bare `null`.
@Suite("Placeholders explained")
struct PlaceholderTests {
    @Test func placeholdersAreExplainedInWords() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let txt = try f.tmp.sub("placeholders").appendingPathComponent("WhatsApp Chat with Lena.txt")
        try Data("""
            07/07/2021, 07:07 - Lena: null
            07/07/2021, 07:08 - Lena: This message was deleted
            07/07/2021, 07:09 - Lena: <Media omitted>
            07/07/2021, 07:10 - Lena: Gate 3 closed for repairs

            """.utf8).write(to: txt)
        let batch = try #require(try await IngestService(archive: f.archive).ingest(
            IngestRequest(paths: [txt], custodian: WebFixture.jane, timeZone: "UTC", actor: "test")).first)
        #expect(batch.messagesAdded == 4)
        try await f.test { client in
            let page = try await client.get("/conversations/\(batch.conversationID!)", as: try await f.session("carol"))
            #expect(page.text.contains("View-once media: the platform never exports it"))
            #expect(page.text.contains("The sender deleted this message before the export was made"))
            #expect(page.text.contains("Media left out of the export"))
            #expect(page.text.components(separatedBy: "class=\"explain\"").count - 1 == 3) // the ordinary message has none
            let token = try await APITests.token(f, "carol", client: client)
            let messages = try await client.get("/api/v1/conversations/\(batch.conversationID!)/messages", headers: APITests.bearer(token)).json()
            let list = try #require(messages["messages"] as? [[String: Any]])
            #expect((list.first?["explanation"] as? String)?.hasPrefix("View-once media") == true)
            #expect(list.last?["explanation"] == nil || list.last?["explanation"] is NSNull)
        }
    }
}
