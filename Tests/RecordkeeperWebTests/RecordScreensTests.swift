import Archive
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Recordkeeper
import RecordkeeperCore
import RecordkeeperWeb
import Testing

@Suite("Web: search, reading, upload, holds, disposition, audit", .serialized)
struct RecordScreensTests {
    @Test func searchFiltersHighlightsAndOpensAHitInItsConversation() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let carol = try await f.session("carol")
        let approved = try await f.messageID("Approved the manifest")
        try await f.test { client in
            let all = try await client.get("/search?q=manifest", as: carol)
            #expect(all.status == .ok)
            #expect(all.text.contains("<strong>4</strong> matching records"))
            #expect(all.text.contains("<mark>manifest</mark>"))
            // Hostile text is shown, escaped: never as markup, and a bidi override as an escape.
            #expect(all.text.contains("&lt;script&gt;alert(&#39;<mark>manifest</mark>&#39;)&lt;/script&gt;"))
            #expect(!all.text.contains("<script>alert"))
            // Each filter narrows the same query.
            let jane = try await client.get("/search?q=manifest&custodian=\(WebFixture.jane)", as: carol)
            #expect(jane.text.contains("<strong>2</strong> matching records"))
            let omar = try await client.get("/search?q=manifest&participant=Omar", as: carol)
            #expect(omar.text.contains("<strong>2</strong> matching records"))
            let feb = try await client.get("/search?q=manifest&from=2021-02-01&to=2021-02-28", as: carol)
            #expect(feb.text.contains("<strong>2</strong> matching records"))
            let photo = try await client.get("/search?q=pallet&has_attachment=on", as: carol)
            #expect(photo.text.contains("<strong>1</strong> matching records"))
            let held = try await client.get("/search?q=crane%20OR%20manifest&under_hold=on", as: carol)
            #expect(held.text.contains("<strong>4</strong> matching records") && !held.text.contains("Crane"))
            let platform = try await client.get("/search?q=manifest&platform=whatsapp", as: carol)
            #expect(platform.text.contains("<strong>4</strong> matching records"))
            let badPlatform = try await client.get("/search?q=manifest&platform=myspace", as: carol)
            #expect(badPlatform.text.contains("unknown platform"))
            let bad = try await client.get("/search?q=%22unclosed", as: carol)
            #expect(bad.status == .ok && bad.text.contains("class=\"error\""))
            // Pages of two: the second page starts at the third hit and links back.
            let page2 = try await client.get("/search?q=manifest&limit=2&page=2", as: carol)
            #expect(page2.text.contains("showing 3–4") && page2.text.contains("rel=\"prev\""))
            // Filters alone collect everything they select, newest first, UTC beside local time.
            let collected = try await client.get("/search?custodian=\(WebFixture.jane)&from=2021-03-01&to=2021-03-31", as: carol)
            #expect(collected.text.contains("<strong>2</strong> matching records; showing 1–2, newest first"))
            #expect(collected.text.contains("Approved the manifest") && collected.text.contains("Manifest review tomorrow"))
            #expect(collected.text.contains(" UTC)</span>"))
            let bare = try await client.get("/search", as: carol)
            #expect(!bare.text.contains("id=\"result-count\""))
            // Relevance order is offered and kept in page links.
            let relevance = try await client.get("/search?q=manifest&sort=relevance&limit=2", as: carol)
            #expect(relevance.text.contains("most relevant first") && relevance.text.contains("sort=relevance&amp;limit=2&amp;page=2"))

            // The hit opens its conversation on the page holding it, marked and anchored.
            let link = "/conversations/\(f.janeBatch.conversationID!)?at=\(approved)"
            #expect(all.text.contains("href=\"\(link)#m\(approved)\""))
            let conversation = try await client.get(link, as: carol)
            #expect(conversation.status == .ok)
            #expect(conversation.text.contains("<li id=\"m\(approved)\" class=\"msg anchor\" aria-current=\"true\">"))
            #expect(conversation.text.contains("Crane 4 is down again") && conversation.text.contains("Last day in the front office"))
            // The photo previews inline and downloads; a missing part says so.
            let photoID = try await f.messageID("IMG-20210505-WA0001.jpg")
            #expect(conversation.text.contains("<img src=\"/messages/\(photoID)/attachments/0\" alt=\"Image attachment IMG-20210505-WA0001.jpg\""))
            let inline = try await client.get("/messages/\(photoID)/attachments/0", as: carol)
            #expect(inline.status == .ok && inline.headers[.contentType] == "image/jpeg")
            #expect(inline.headers[.contentDisposition]?.hasPrefix("inline;") == true)
            #expect(inline.headers[.contentSecurityPolicy] == "default-src 'none'; sandbox")
            #expect(Data(inline.body.readableBytesView) == WebFixture.photo)
            let download = try await client.get("/messages/\(photoID)/attachments/0?download=1", as: carol)
            #expect(download.headers[.contentDisposition]?.hasPrefix("attachment;") == true)
            #expect(try await client.get("/messages/\(photoID)/attachments/5", as: carol).status == .notFound)
        }
        // Every read was audited: the searches, the transcript page, the attachment.
        let audit = try await f.archive.store.auditEntries(AuditFilter(actor: "carol", limit: 100))
        #expect(audit.filter { $0.action == "search" }.count == 10) // the two refused before searching are not searches
        #expect(audit.contains { $0.action == "show.conversation" && $0.target == "conversation:\(f.janeBatch.conversationID!)" })
        #expect(audit.filter { $0.action == "show.attachment" }.count == 2)
    }

    @Test func aRecordShowsProvenanceHashesRetentionHoldsAndItsAuditHistory() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let carol = try await f.session("carol")
        let id = try await f.messageID("Manifest review tomorrow")
        let stored = try #require(try await f.archive.store.message(id: id))
        try await f.test { client in
            _ = try await client.get("/messages/\(id)", as: carol)
            let page = try await client.get("/messages/\(id)", as: carol)
            #expect(page.status == .ok)
            let t = page.text
            #expect(t.contains("<a href=\"/batches/\(f.janeBatch.batchID!)\">\(f.janeBatch.batchID!)</a>"))
            #expect(t.contains(stored.message.sourceBlob.hex) && t.contains("<dt>Line</dt><dd>\(stored.message.sourceLine)</dd>"))
            #expect(t.contains(stored.message.identityKey.hex) && t.contains(stored.storedContentHash.hex))
            #expect(t.contains("<span class=\"ok\">matches</span>"))
            #expect(t.contains("<dt>Schedule item</dt><dd>0002"))
            #expect(t.contains("href=\"/holds/\(f.holdID)\">FOIA manifests</a>"))
            // The audit history lists this view and the one before it.
            #expect(t.components(separatedBy: "<td>carol</td><td>show.message</td>").count - 1 == 2)
            let json = try await client.get("/api/v1/messages/\(id)", as: carol)
            let message = try #require(try json.json()["message"] as? [String: Any])
            #expect(message["body"] as? String == "Manifest review tomorrow")
            #expect(message["content_hash_valid"] as? Bool == true)
            #expect(try json.json()["holds"] as? [Int] == [Int(f.holdID)])
        }
    }

    @Test func aCustodianUploadsAnExportAndSeesTheBatchSummary() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let jane = try await f.session("jane")
        let export = """
            stray line before any message: seal number 88412
            06/06/2021, 10:00 - Jane Doe: Inspection of container MSCU 1234567 complete
            06/06/2021, 10:05 - Ana Ruiz: Thanks, filing the report
            this line has no date and continues the previous message
            06/06/2021, 10:07 - Ana Ruiz: <img src=x onerror=alert(1)>
            32/13/2021, 25:61 - Broken: line with an impossible date
            06/06/2021, 10:09 - Ana Ruiz: forged \u{E001}marker\u{E000} text about forged seals

            """
        try await f.test { client in
            let form = try await client.get("/upload", as: jane)
            #expect(form.text.contains("enctype=\"multipart/form-data\"") && form.text.contains("filed as your records"))
            let upload = try await client.postMultipart("/upload?csrf=\(jane.csrf)", headers: [.cookie: jane.cookie], fields: [("time_zone", "America/Chicago")],
                                                        file: (name: "WhatsApp Chat with Ana Ruiz.txt", data: Data(export.utf8)))
            #expect(upload.status == .seeOther)
            let location = try #require(upload.location)
            #expect(location.hasPrefix("/batches/"))
            let auditorView = try await client.get(location, as: try await f.session("dave"))
            #expect(auditorView.status == .ok && auditorView.text.contains("(content not shown to your role)") && !auditorView.text.contains("seal number 88412"))
            #expect(try await client.get(location, as: jane).text.contains("seal number 88412")) // the custodian sees it, verbatim
            let summary = try await client.get(location, as: jane)
            // Four messages (the undated "32/13/2021" line is text of the message above it).
            #expect(summary.text.contains("<dd id=\"added\">4</dd>"))
            #expect(summary.text.contains("<dd id=\"defects\">1</dd>")) // the stray line before the first message
            #expect(summary.text.contains("<dd id=\"duplicates\">0</dd>"))
            #expect(summary.text.contains("WhatsApp Chat with Ana Ruiz.txt"))
            // The same file again adds nothing: every message is a duplicate.
            let again = try await client.postMultipart("/upload", headers: [.cookie: jane.cookie, HTTPField.Name("X-CSRF-Token")!: jane.csrf], fields: [],
                                                       file: (name: "WhatsApp Chat with Ana Ruiz.txt", data: Data(export.utf8)))
            let second = try await client.get(try #require(again.location), as: jane)
            #expect(second.text.contains("<dd id=\"added\">0</dd>"))
            // A custodian cannot file an export as someone else's; nor upload without the token.
            let other = try await client.postMultipart("/upload?csrf=\(jane.csrf)", headers: [.cookie: jane.cookie, .accept: "application/json"],
                                                       fields: [("custodian", WebFixture.sam)], file: (name: "chat.txt", data: Data(export.utf8)))
            #expect(other.status == .forbidden && other.errorCode == "refused")
            let forged = try await client.postMultipart("/upload", headers: [.cookie: jane.cookie], fields: [], file: (name: "chat.txt", data: Data(export.utf8)))
            #expect(forged.status == .forbidden)
            // Only exports are accepted, and the file name cannot climb out of the scratch folder.
            let exe = try await client.postMultipart("/upload?csrf=\(jane.csrf)", headers: [.cookie: jane.cookie], fields: [],
                                                     file: (name: "../../evil.sh", data: Data("#!/bin/sh".utf8)))
            #expect(exe.status == .badRequest && exe.text.contains("upload an export"))
            // The uploaded messages are captured at once and searchable once indexed (serve's
            // indexer does it moments later; here the test does), escaped.
            let waiting = try await client.get("/search?q=onerror", as: jane)
            #expect(waiting.text.contains("id=\"index-lag\"") && waiting.text.contains("not yet searchable"))
            try await IndexService(archive: f.archive).catchUp()
            let hits = try await client.get("/search?q=onerror", as: jane)
            #expect(hits.text.contains("&lt;img src=x <mark>onerror</mark>=alert(1)&gt;"))
            // Highlight markers in record text can only highlight: tags stay balanced.
            let markers = try await client.get("/search?q=forged", as: jane)
            let snippet = try #require(markers.text.components(separatedBy: "<p class=\"snippet\">").dropFirst().first?.components(separatedBy: "</p>").first)
            #expect(snippet.components(separatedBy: "<mark>").count == snippet.components(separatedBy: "</mark>").count)
            #expect(!snippet.contains("</mark></mark>") && !snippet.contains("<mark><mark>"))
        }
        let scratch = (try? FileManager.default.contentsOfDirectory(atPath: f.archive.directory.scratchURL.path)) ?? []
        #expect(scratch.filter { $0.hasPrefix("upload-") }.isEmpty) // spooled uploads are removed
    }

    @Test func officersPlaceAndReleaseHoldsAndReviewDispositions() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let alice = try await f.session("alice")
        let bob = try await f.session("bob")
        let carol = try await f.session("carol")
        try await f.test { client in
            let form = try await client.get("/holds/new", as: alice)
            // Custodians and conversations are picked, not typed as keys.
            #expect(form.text.contains("name=\"custodians\" value=\"\(WebFixture.jane)\""))
            #expect(form.text.contains("<option value=\"\(f.janeBatch.conversationID!)\">"))
            let missing = try await client.post("/holds", as: alice, form: [("name", "Empty scope"), ("matter", "litigation"), ("requested_by", "OGC")])
            #expect(missing.status == .badRequest && missing.text.contains("a hold needs a scope") && missing.text.contains("value=\"Empty scope\""))
            let placed = try await client.post("/holds", as: alice, form: [("name", "CREW v. Agency"), ("matter", "litigation"), ("reference", "1:22-cv-00123"),
                                                                           ("requested_by", "Office of General Counsel"), ("custodians", WebFixture.jane),
                                                                           ("from", "2021-05-01"), ("to", "2021-05-31")])
            #expect(placed.status == .seeOther)
            let hold = try await client.get(try #require(placed.location), as: alice)
            #expect(hold.text.contains("<dd id=\"held-count\">2</dd>") && hold.text.contains("Hold placed"))
            let list = try await client.get("/holds", as: carol)
            #expect(list.text.contains("CREW v. Agency") && list.text.contains("FOIA manifests") && !list.text.contains("Place a hold"))
            let id = String(try #require(placed.location).split(separator: "/")[1].prefix { $0.isNumber })
            let noReason = try await client.post("/holds/\(id)/release", as: alice, form: [])
            #expect(noReason.status == .badRequest)
            let released = try await client.post("/holds/\(id)/release", as: alice, form: [("reason", "settled")])
            #expect(released.status == .seeOther)
            #expect(try await client.get("/holds/\(id)", as: alice).text.contains("released"))
        }
        // A destruction batch proposed by alice (as of 2032, when the 0002 records are due).
        let batch = try await DispositionService(archive: f.archive).propose(action: .destroy, asOf: CivilDate("2032-01-01")!, items: nil, note: "annual",
                                                                             actor: "alice", today: CivilDate("2032-01-01")!)
        try await f.test { client in
            let review = try await client.get("/dispositions/\(batch.id)", as: alice)
            #expect(review.text.contains("another records officer must approve it") && !review.text.contains(">Approve</button>"))
            let selfApprove = try await client.post("/dispositions/\(batch.id)/approve", as: alice)
            #expect(selfApprove.status == .forbidden)
            let approve = try await client.post("/dispositions/\(batch.id)/approve", as: bob)
            #expect(approve.status == .seeOther)
            #expect(try await client.get("/dispositions/\(batch.id)", as: bob).text.contains("<dd id=\"disposition-status\">approved</dd>"))
        }
        _ = try await DispositionService(archive: f.archive).execute(id: batch.id, actor: "bob", today: CivilDate("2032-01-02")!)
        let dave = try await f.session("dave")
        try await f.test { client in
            let page = try await client.get("/dispositions/\(batch.id)", as: dave)
            #expect(page.text.contains("Download the certificate"))
            let cert = try await client.get("/dispositions/\(batch.id)/certificate", as: dave)
            #expect(cert.status == .ok && cert.text.contains("Certificate of destruction"))
            #expect(cert.headers[.contentDisposition]?.contains("disposition-\(batch.id)-certificate.html") == true)
            let json = try await client.get("/dispositions/\(batch.id)/certificate?format=json", as: dave)
            #expect(try json.json()["disposition_id"] as? Int == Int(batch.id))
        }
    }

    @Test func auditorsFilterTheAuditLogAndVerifyNow() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let carol = try await f.session("carol")
        let dave = try await f.session("dave")
        try await f.test { client in
            _ = try await client.get("/search?q=crane", as: carol)
            let log = try await client.get("/audit?actor=carol&action=search", as: dave)
            #expect(log.status == .ok && log.text.contains("<td>carol</td><td>search</td>"))
            #expect(!log.text.contains("<td>test</td>"))
            let prefix = try await client.get("/audit?action=hold.", as: dave)
            #expect(prefix.text.contains("<td>hold.create</td>"))
            let paged = try await client.get("/audit?limit=2", as: dave)
            #expect(paged.text.contains("Older entries"))
            let verify = try await client.post("/audit/verify", as: dave)
            #expect(verify.status == .ok && verify.text.contains("Everything verified: no problems found."))
        }
        let verified = try await f.archive.store.auditEntries(AuditFilter(actor: "dave", action: "verify", limit: 5))
        #expect(verified.count == 1)
    }
}
