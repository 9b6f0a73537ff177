import Archive
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Recordkeeper
import RecordkeeperCore
import RecordkeeperWeb
import Testing
import Yams

@Suite("JSON API: tokens, endpoints, OpenAPI document", .serialized)
struct APITests {
    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    /// Creates a token through the account page, as a user would, and reads the secret shown once.
    static func token(_ f: WebFixture, _ user: String, client: any TestClientProtocol) async throws -> String {
        let session = try await f.session(user)
        let page = try await client.post("/account/tokens", as: session, form: [("label", "test script")])
        let text = page.text
        guard let start = text.range(of: "<code class=\"secret\" id=\"new-token\">"), let end = text.range(of: "</code>", range: start.upperBound..<text.endIndex) else {
            throw TestFailure("no token on the page")
        }
        return String(text[start.upperBound..<end.lowerBound])
    }

    @Test func scriptsUseTokensForEveryEndpoint() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        try await f.test { client in
            let carol = try await Self.token(f, "carol", client: client)
            #expect(carol.hasPrefix("rk_") && carol.count == 43)
            let me = try await client.get("/api/v1/me", headers: Self.bearer(carol))
            #expect(try me.json()["name"] as? String == "carol")
            // A token opens the API only, never the browser pages.
            #expect(try await client.get("/search?q=crane", headers: Self.bearer(carol)).status == .seeOther)
            #expect(try await client.get("/api/v1/me", headers: Self.bearer("rk_" + String(repeating: "0", count: 40))).status == .unauthorized)

            let search = try await client.get("/api/v1/search?q=manifest&limit=3", headers: Self.bearer(carol))
            let body = try search.json()
            #expect(body["total"] as? Int == 4 && (body["hits"] as? [Any])?.count == 3)
            let hit = try #require((body["hits"] as? [[String: Any]])?.first)
            #expect((hit["snippet_html"] as? String)?.contains("<mark>") == true && (hit["snippet"] as? String)?.contains("\u{E000}") == false)
            #expect(body["order"] as? String == "date" && (hit["sent_utc"] as? String)?.hasSuffix("Z") == true)
            // Filters alone collect (no q); nothing at all is refused.
            let collected = try await client.get("/api/v1/search?custodian=\(WebFixture.jane)&limit=50", headers: Self.bearer(carol))
            let collectedBody = try collected.json()
            let collectedHits = try #require(collectedBody["hits"] as? [[String: Any]])
            #expect(collected.status == .ok && collectedBody["order"] as? String == "date" && collectedHits.count == collectedBody["total"] as? Int)
            #expect(collectedHits.count >= 4 && collectedHits.allSatisfy { $0["custodian"] as? String == WebFixture.jane })
            #expect(try await client.get("/api/v1/search", headers: Self.bearer(carol)).status == .badRequest)

            let conversations = try await client.get("/api/v1/conversations", headers: Self.bearer(carol))
            #expect((try conversations.json()["conversations"] as? [Any])?.count == 2)
            let transcript = try await client.get("/api/v1/conversations/\(f.janeBatch.conversationID!)/messages?offset=1&limit=2", headers: Self.bearer(carol))
            let messages = try #require(try transcript.json()["messages"] as? [[String: Any]])
            #expect(messages.count == 2 && messages[0]["body"] as? String == "Crane 4 is down again")
            let photoID = try await f.messageID("IMG-20210505-WA0001.jpg")
            let attachment = try await client.get("/api/v1/messages/\(photoID)/attachments/0", headers: Self.bearer(carol))
            #expect(Data(attachment.body.readableBytesView) == WebFixture.photo)
            let holds = try await client.get("/api/v1/holds", headers: Self.bearer(carol))
            #expect((try holds.json()["holds"] as? [[String: Any]])?.first?["held_records"] as? Int == 4)
            // A reviewer's token cannot place a hold.
            let denied = try await client.execute(uri: "/api/v1/holds", method: .post, headers: Self.bearer(carol).merging([.contentType: "application/json"]),
                                                  body: ByteBuffer(string: "{}"))
            #expect(denied.status == .forbidden)

            let alice = try await Self.token(f, "alice", client: client)
            let hold = try await client.execute(uri: "/api/v1/holds", method: .post, headers: Self.bearer(alice).merging([.contentType: "application/json"]),
                                                body: ByteBuffer(string: #"{"name": "OIG review", "matter": "ig-audit", "requested_by": "OIG", "custodians": ["sam.lee@agency.example.gov"]}"#))
            #expect(hold.status == .created)
            #expect(try hold.json()["held_records"] as? Int == 3)
            let holdID = try #require((try hold.json()["hold"] as? [String: Any])?["id"] as? Int)
            let release = try await client.execute(uri: "/api/v1/holds/\(holdID)/release", method: .post,
                                                   headers: Self.bearer(alice).merging([.contentType: "application/json"]), body: ByteBuffer(string: #"{"reason": "closed"}"#))
            #expect(try release.json()["release_reason"] as? String == "closed")

            let ingest = try await client.postMultipart("/api/v1/ingest", headers: Self.bearer(alice), fields: [("custodian", WebFixture.sam), ("time_zone", "UTC")],
                                                        file: (name: "WhatsApp Chat with Lena.txt", data: Data("07/07/2021, 07:07 - Lena: Gate 3 closed for repairs\n".utf8)))
            #expect(ingest.status == .created)
            let batch = try #require((try ingest.json()["batches"] as? [[String: Any]])?.first)
            #expect(batch["messages_added"] as? Int == 1)
            let batchJSON = try await client.get("/api/v1/batches/\(batch["batch_id"] as? Int ?? 0)", headers: Self.bearer(alice))
            #expect(batchJSON.status == .ok)

            let ada = try await Self.token(f, "ada", client: client)
            let user = try await client.execute(uri: "/api/v1/users", method: .post, headers: Self.bearer(ada).merging([.contentType: "application/json"]),
                                                body: ByteBuffer(string: #"{"name": "erin", "roles": ["reviewer"], "password": "a long enough passphrase"}"#))
            #expect(user.status == .created)
            let users = try await client.get("/api/v1/users", headers: Self.bearer(ada))
            #expect((try users.json()["users"] as? [[String: Any]])?.contains { $0["name"] as? String == "erin" } == true)
            let audit = try await client.get("/api/v1/audit?actor=carol&limit=5", headers: Self.bearer(try await Self.token(f, "dave", client: client)))
            #expect((try audit.json()["entries"] as? [[String: Any]])?.allSatisfy { $0["actor"] as? String == "carol" } == true)

            // Revoked, the token stops working at once.
            let tokens = try await f.archive.store.tokens(user: "carol")
            let session = try await f.session("carol")
            _ = try await client.post("/account/tokens/\(tokens[0].id)/revoke", as: session)
            #expect(try await client.get("/api/v1/me", headers: Self.bearer(carol)).status == .unauthorized)
        }
        let created = try await f.archive.store.auditEntries(AuditFilter(action: "token.", limit: 20))
        #expect(created.contains { $0.action == "token.revoke" && $0.actor == "carol" })
        // No secret is stored: only its hash.
        let hashes = try await f.archive.store.tokens(user: nil).map(\.prefix)
        #expect(hashes.allSatisfy { $0.count == 9 })
    }

    /// docs/openapi.yaml and the route table describe the same API: every documented operation
    /// exists, and every /api route is documented.
    @Test func theOpenAPIDocumentMatchesTheRoutesBothWays() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        let doc = try #require(try Yams.load(yaml: text) as? [String: Any])
        #expect((doc["openapi"] as? String)?.hasPrefix("3.") == true)
        let paths = try #require(doc["paths"] as? [String: Any])
        var documented = Set<String>()
        for (path, value) in paths {
            for method in (value as? [String: Any] ?? [:]).keys where ["get", "post", "put", "delete", "patch"].contains(method) {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        let routed = Set(f.web.routeTable.filter(\.isAPI).map { "\($0.method) \($0.openAPIPath)" })
        #expect(routed.subtracting(documented).sorted() == [], "routes missing from docs/openapi.yaml")
        #expect(documented.subtracting(routed).sorted() == [], "documented operations with no route")
        #expect(routed.count >= 15)
        // Every API route under the per-user limits says it may answer 429.
        for route in f.web.routeTable where route.isAPI && route.limited {
            let operation = (paths[route.openAPIPath] as? [String: Any])?[route.method.lowercased()] as? [String: Any]
            #expect((operation?["responses"] as? [String: Any])?["429"] != nil, "\(route.method) \(route.openAPIPath) does not document 429")
        }
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var out = self
        for field in other { out[field.name] = field.value }
        return out
    }
}
