import Archive
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import HummingbirdTesting
import NIOCore
import Recordkeeper
import RecordkeeperCore
import RecordkeeperWeb
import Testing

/// Every route that changes the archive, driven end to end through the web app on a real data
/// directory, with its effect read back from the store. A route that hangs fails its test
/// instead of hanging the suite (`withDeadline`).
@Suite("State-changing routes, end to end", .serialized)
struct StateChangingRouteTests {
    /// The state-changing routes this suite drives; a new one must be added here (and tested).
    static let covered: Set<String> = [
        "POST /login", "POST /logout", "POST /account/password", "POST /account/tokens", "POST /account/tokens/:id/revoke",
        "POST /holds", "POST /holds/:id/release",
        "POST /dispositions", "POST /dispositions/:id/approve", "POST /dispositions/:id/cancel", "POST /dispositions/:id/execute",
        "POST /api/v1/ingest", "POST /api/v1/holds", "POST /api/v1/holds/:id/release", "POST /api/v1/users",
        "POST /upload", "POST /audit/verify", "POST /admin/users",
        "POST /incidents/from-findings", "POST /api/v1/incidents/from-findings",
        // Driven by CustodyWebTests, with their events and counts read back from the store.
        "POST /api/v1/custody/scans", "POST /api/v1/custody/containers", "POST /api/v1/custody/containers/:id/close",
        "POST /api/v1/custody/seizures/:id/correct",
        "POST /api/v1/custody/detentions", "POST /api/v1/custody/detentions/:id/notice", "POST /api/v1/custody/detentions/:id/response",
        "POST /api/v1/custody/detentions/:id/dispose", "POST /api/v1/custody/privacy/retention", "POST /api/v1/custody/privacy/purge",
        "POST /api/v1/custody/imports", "POST /api/v1/custody/referrals", "POST /api/v1/custody/referrals/:id/:step",
        "POST /api/v1/custody/arrival-imports", "POST /api/v1/custody/bulk-requests", "POST /api/v1/custody/coi", "POST /api/v1/custody/duties", "POST /api/v1/custody/aed-imports", "POST /api/v1/custody/manifest-imports",
        "POST /custody/detentions/:id/notice", "POST /custody/detentions/:id/response", "POST /custody/detentions/:id/particulars",
        "POST /api/v1/custody/inspections", "POST /api/v1/custody/seizures", "PATCH /api/v1/custody/seizures/:id/seacats", "POST /api/v1/custody/outcomes",
    ]

    @Test func everyStateChangingRouteIsDrivenHere() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let routes = Set(f.web.routeTable.filter { $0.method != "GET" && $0.method != "HEAD" }.map { "\($0.method) \($0.path)" })
        #expect(routes == Self.covered, "untested: \(routes.subtracting(Self.covered).sorted()); gone: \(Self.covered.subtracting(routes).sorted())")
    }

    /// A file plan under which the fixture's 2020–2021 messages are due now (one year after cutoff).
    static let shortPlan = """
        {"title": "Electronic Messaging Records (test)", "fiscal_year_start_month": 10,
         "items": [{"id": "0002", "authority": "DAA-0568-2022-0005-0002", "title": "All other messages", "disposition": "temporary",
                    "cutoff": "calendar-year", "retention": {"years": 1}}],
         "rules": [{"id": "everyone", "item": "0002"}]}
        """

    /// An approved destruction batch of everything due now (the FOIA hold keeps the manifest records).
    static func approvedBatch(_ f: WebFixture) async throws -> DispositionBatch {
        _ = try await FilePlanService(archive: f.archive).apply(try FilePlanService.parse(shortPlan, format: .json), note: "test schedule", actor: "alice")
        let batch = try await DispositionService(archive: f.archive).propose(action: .destroy, asOf: .today(), items: nil, note: nil, actor: "alice")
        #expect(batch.items.reduce(0) { $0 + $1.records } > 0)
        return try await DispositionService(archive: f.archive).approve(id: batch.id, actor: "bob")
    }

    /// Executing a destruction from the web finishes (it once deadlocked on its own write lock),
    /// destroys what was due, leaves the certificate, and leaves the archive writable.
    @Test func executingADestructionFromTheWebFinishesAndFreesTheArchive() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let batch = try await Self.approvedBatch(f)
        let due = batch.items.reduce(0) { $0 + $1.records }
        try await withDeadline(seconds: 60) {
            try await f.test { client in
                let alice = try await f.session("alice")
                let page = try await client.get("/dispositions/\(batch.id)", as: alice)
                #expect(page.text.contains("action=\"/dispositions/\(batch.id)/execute\""))
                let executed = try await client.post("/dispositions/\(batch.id)/execute", as: alice)
                #expect(executed.status == .seeOther && executed.location == "/dispositions/\(batch.id)?notice=executed")
                let after = try await client.get("/dispositions/\(batch.id)", as: alice)
                #expect(after.text.contains("<dd id=\"disposition-status\">executed</dd>"))
                let certificate = try await client.get("/dispositions/\(batch.id)/certificate?format=json", as: alice)
                let json = try certificate.json()
                #expect(json["records"] as? Int == due && json["executed_by"] as? String == "alice")
                // The conversation shows where its records left, and why.
                let conversation = try await client.get("/conversations/\(f.janeBatch.conversationID!)", as: alice)
                #expect(conversation.text.contains("class=\"msg gap\"") && conversation.text.contains("by <a href=\"/dispositions/\(batch.id)\">disposition \(batch.id)</a>"))
                #expect(conversation.text.contains("left the archive through disposition") && conversation.text.contains("Manifest review tomorrow")) // held: kept
                #expect(!conversation.text.contains("Crane 4 is down again")) // destroyed: only its marker
                // Executing again finishes nothing new and does not hang either.
                #expect(try await client.post("/dispositions/\(batch.id)/execute", as: alice).status == .seeOther)
            }
        }
        // Read back from disk through a fresh handle: the batch is executed, tombstones stand for the records.
        let reopened = try f.archive.directory.open()
        #expect(try await reopened.store.disposition(id: batch.id)?.status == .executed)
        #expect(try await reopened.store.tombstones(dispositionID: batch.id).count == due)
        // The lock is free: an ingest (CLI or web) goes ahead at once.
        try await withDeadline(seconds: 30) {
            let txt = try f.tmp.sub("after").appendingPathComponent("WhatsApp Chat with Lena.txt")
            try Data("07/07/2021, 07:07 - Lena: Gate 3 closed for repairs\n".utf8).write(to: txt)
            let reports = try await IngestService(archive: reopened).ingest(IngestRequest(paths: [txt], custodian: WebFixture.jane, timeZone: "UTC", actor: "test"))
            #expect(reports.first?.messagesAdded == 1)
        }
        #expect(try await VerifyService(archive: reopened).verify(actor: "dave").ok)
    }

    /// A records officer sees what is due by schedule item (held records counted and kept out)
    /// and proposes a batch from the browser; mistakes are refused with the reason.
    @Test func aBatchIsProposedFromWhatIsDue() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        _ = try await FilePlanService(archive: f.archive).apply(try FilePlanService.parse(Self.shortPlan, format: .json), note: "test", actor: "alice")
        try await withDeadline(seconds: 60) {
            try await f.test { client in
                let alice = try await f.session("alice")
                let due = try await client.get("/dispositions/new", as: alice)
                #expect(due.status == .ok && due.text.contains("<table id=\"due\">") && due.text.contains("value=\"0002\" checked"))
                let expected = try await RetentionService(archive: f.archive).due(asOf: .today(), actor: "test").filter { $0.action == .destroy }
                let proposable = expected.reduce(0) { $0 + $1.records - $1.held }
                #expect(proposable > 0 && due.text.contains("Propose destruction of \(proposable) records"))
                #expect(try await client.get("/dispositions/new?kind=transfer", as: alice).text.contains("id=\"due-none\""))
                // Refused, with the reason, nothing proposed: no item ticked; a date still to come.
                let none = try await client.post("/dispositions", as: alice, form: [("kind", "destroy"), ("as_of", CivilDate.today().description)])
                #expect(none.status == .badRequest && none.text.contains("tick at least one schedule item"))
                let future = try await client.post("/dispositions", as: alice, form: [("kind", "destroy"), ("as_of", "2999-01-01"), ("item", "0002")])
                #expect(future.status == .badRequest && future.text.contains("only once they are due"))
                #expect(try await f.archive.store.dispositions().isEmpty)
                // A reviewer may not propose.
                #expect(try await client.get("/dispositions/new", as: try await f.session("carol")).status == .forbidden)
                let made = try await client.post("/dispositions", as: alice,
                                                 form: [("kind", "destroy"), ("as_of", CivilDate.today().description), ("item", "0002"), ("note", "FY2021 messages")])
                let batches = try await f.archive.store.dispositions()
                #expect(batches.count == 1 && made.status == .seeOther && made.location == "/dispositions/\(batches[0].id)?notice=proposed")
                #expect(batches[0].proposedBy == "alice" && batches[0].status == .proposed && batches[0].note == "FY2021 messages")
                #expect(batches[0].items.reduce(0) { $0 + $1.records } == proposable)
            }
        }
    }

    @Test func approveAndCancelChangeTheBatch() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        _ = try await FilePlanService(archive: f.archive).apply(try FilePlanService.parse(Self.shortPlan, format: .json), note: "test", actor: "alice")
        let proposed = try await DispositionService(archive: f.archive).propose(action: .destroy, asOf: .today(), items: nil, note: nil, actor: "alice")
        try await withDeadline(seconds: 60) {
            try await f.test { client in
                // The second officer sees what they approve: the records page by page, and a random sample.
                let bobReview = try await f.session("bob")
                let batchPage = try await client.get("/dispositions/\(proposed.id)", as: bobReview)
                #expect(batchPage.text.contains("href=\"/dispositions/\(proposed.id)/records\""))
                let due = proposed.items.reduce(0) { $0 + $1.records }
                let list = try await client.get("/dispositions/\(proposed.id)/records", as: bobReview)
                #expect(list.status == .ok && list.text.contains("\(due) records, in sent order.") && list.text.contains("Crane 4 is down again"))
                #expect(list.text.components(separatedBy: "<tr><td><a href=\"/messages/").count - 1 == due)
                let sample = try await client.get("/dispositions/\(proposed.id)/records?sample=1", as: bobReview)
                #expect(sample.text.contains("A random sample of \(min(20, due)) of \(due) records"))
                // An auditor sees where and when, not what.
                let audited = try await client.get("/dispositions/\(proposed.id)/records", as: try await f.session("dave"))
                #expect(audited.status == .ok && !audited.text.contains("Crane 4 is down again") && !audited.text.contains("Text (start)"))
                #expect(try await f.archive.store.auditEntries(AuditFilter(action: "disposition.records", limit: 10)).count == 3)
                // The proposer may not approve her own batch; a second officer may.
                let own = try await client.post("/dispositions/\(proposed.id)/approve", as: try await f.session("alice"))
                #expect(own.status == .forbidden)
                let bob = try await f.session("bob")
                let approved = try await client.post("/dispositions/\(proposed.id)/approve", as: bob)
                #expect(approved.status == .seeOther && approved.location == "/dispositions/\(proposed.id)?notice=approved")
                #expect(try await f.archive.store.disposition(id: proposed.id)?.status == .approved)
                let noReason = try await client.post("/dispositions/\(proposed.id)/cancel", as: bob, form: [("reason", " ")])
                #expect(noReason.status == .badRequest)
                let cancelled = try await client.post("/dispositions/\(proposed.id)/cancel", as: bob, form: [("reason", "schedule under review")])
                #expect(cancelled.status == .seeOther)
                #expect(try await f.archive.store.disposition(id: proposed.id)?.status == .cancelled)
                // A cancelled batch cannot be executed.
                let late = try await client.post("/dispositions/\(proposed.id)/execute", as: bob)
                #expect(late.status == .forbidden || late.status == .badRequest)
            }
        }
        #expect(try await f.archive.store.tombstones(dispositionID: proposed.id).isEmpty)
    }

    @Test func holdsArePlacedAndReleasedThroughFormsAndAPI() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        try await withDeadline(seconds: 60) {
            try await f.test { client in
                let alice = try await f.session("alice")
                let placed = try await client.post("/holds", as: alice, form: [("name", "CREW v. Agency"), ("matter", "litigation"),
                                                                              ("requested_by", "OGC"), ("custodians", WebFixture.sam)])
                #expect(placed.status == .seeOther)
                let id = try #require(placed.location?.firstMatch(of: /\/holds\/(\d+)/).flatMap { Int64($0.1) })
                #expect(try await HoldService(archive: f.archive).show(id: id, sample: 0, actor: "test").heldRecords == 3)
                let released = try await client.post("/holds/\(id)/release", as: alice, form: [("reason", "case dismissed")])
                #expect(released.status == .seeOther)
                #expect(try await f.archive.store.holds(includeReleased: true).first { $0.id == id }?.isActive == false)

                let token = try await APITests.token(f, "alice", client: client)
                let json = try await client.execute(uri: "/api/v1/holds", method: .post, headers: APITests.bearer(token).merging([.contentType: "application/json"]),
                                                    body: ByteBuffer(string: #"{"name": "OIG review", "matter": "ig-audit", "requested_by": "OIG", "query": "pallet"}"#))
                #expect(json.status == .created)
                let apiID = try #require((try json.json()["hold"] as? [String: Any])?["id"] as? Int)
                let apiRelease = try await client.execute(uri: "/api/v1/holds/\(apiID)/release", method: .post,
                                                          headers: APITests.bearer(token).merging([.contentType: "application/json"]),
                                                          body: ByteBuffer(string: #"{"reason": "review closed"}"#))
                #expect(apiRelease.status == .ok)
                #expect(try await f.archive.store.holds(includeReleased: true).first { $0.id == Int64(apiID) }?.releaseReason == "review closed")
            }
        }
    }

    /// The scope is shown before a hold is placed; a typo is an error naming the closest
    /// custodian; a scope that covers nothing now is placed only when confirmed.
    @Test func aHoldIsPreviewedAndAnEmptyScopeMustBeConfirmed() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let base = [("name", "Pallet review"), ("matter", "ig-audit"), ("requested_by", "OIG")]
        try await withDeadline(seconds: 60) {
            try await f.test { client in
                let alice = try await f.session("alice")
                let before = try await f.archive.store.holds(includeReleased: true).count
                let preview = try await client.post("/holds", as: alice, form: base + [("custodians", WebFixture.jane), ("query", "pallet"), ("action", "preview")])
                #expect(preview.status == .ok && preview.text.contains("<strong id=\"preview-count\">2</strong>"))
                #expect(preview.text.contains("\(WebFixture.jane): 2") && preview.text.contains("Newest records in scope"))
                let typo = try await client.post("/holds", as: alice, form: base + [("other_custodians", "jane.do@agency.example.gov"), ("action", "place")])
                #expect(typo.status == .badRequest && typo.text.contains("Did you mean jane.doe@agency.example.gov?"))
                let empty = try await client.post("/holds", as: alice, form: base + [("query", "zeppelin"), ("action", "place")])
                #expect(empty.status == .ok && empty.text.contains("This scope covers no record now") && empty.text.contains("name=\"confirm_empty\""))
                #expect(try await f.archive.store.holds(includeReleased: true).count == before) // nothing placed yet
                let confirmed = try await client.post("/holds", as: alice, form: base + [("query", "zeppelin"), ("confirm_empty", "on"), ("action", "place")])
                #expect(confirmed.status == .seeOther)
                let future = try await client.post("/holds", as: alice, form: base + [("other_custodians", "new.hire@agency.example.gov"),
                                                                                      ("future_custodians", "on"), ("confirm_empty", "on"), ("action", "place")])
                #expect(future.status == .seeOther)
                #expect(try await f.archive.store.holds(includeReleased: true).count == before + 2)
                // Search filters naming nobody are errors on the page, never "No records match".
                let nobody = try await client.get("/search?q=manifest&custodian=nobody%40agency.example.gov", as: alice)
                #expect(nobody.text.contains("no custodian nobody@agency.example.gov in the archive") && !nobody.text.contains("No records match"))
            }
        }
    }

    @Test func exportsAreIngestedThroughUploadAndAPI() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let before = try await f.archive.store.stats().messages
        try await withDeadline(seconds: 60) {
            try await f.test { client in
                let jane = try await f.session("jane")
                let upload = try await client.postMultipart("/upload?csrf=\(jane.csrf)", headers: [.cookie: jane.cookie], fields: [("time_zone", "UTC")],
                                                            file: (name: "WhatsApp Chat with Ines.txt", data: Data("01/06/2021, 09:00 - Ines: Pier 2 inspection at noon\n".utf8)))
                #expect(upload.status == .seeOther && upload.location?.hasPrefix("/batches/") == true)
                let token = try await APITests.token(f, "alice", client: client)
                let api = try await client.postMultipart("/api/v1/ingest", headers: APITests.bearer(token), fields: [("custodian", WebFixture.sam), ("time_zone", "UTC")],
                                                         file: (name: "WhatsApp Chat with Lena.txt", data: Data("07/07/2021, 07:07 - Lena: Gate 3 closed for repairs\n".utf8)))
                #expect(api.status == .created)
            }
        }
        #expect(try await f.archive.store.stats().messages == before + 2)
    }

    @Test func accountsAndUsersChangeThroughTheirForms() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        try await withDeadline(seconds: 60) {
            try await f.test { client in
                // Sign in with the password, then out: the session no longer opens pages.
                let login = try await client.post("/login", as: nil, form: [("username", "carol"), ("password", WebFixture.password)])
                #expect(login.status == .seeOther)
                let cookie = try #require(login.headers[.setCookie]?.split(separator: ";").first.map(String.init))
                let home = try await client.get("/account", headers: [.cookie: cookie])
                #expect(home.status == .ok)
                let csrf = try #require(home.text.firstMatch(of: /name="csrf" value="([^"]+)"/).map { String($0.1) })
                let session = BrowserSession(cookie: cookie, csrf: csrf)
                #expect(try await client.post("/logout", as: session).status == .seeOther)
                #expect(try await client.get("/search", headers: [.cookie: cookie]).status == .seeOther)

                // Change a password: the old one stops working, the new one works.
                let dave = try await f.session("dave")
                let changed = try await client.post("/account/password", as: dave, form: [("current", WebFixture.password), ("new", "a brand new passphrase"),
                                                                                         ("confirm", "a brand new passphrase")])
                #expect(changed.status == .seeOther)
                #expect(try await f.web.credentials.verifyPassword(user: "dave", password: WebFixture.password) == nil)
                #expect(try await f.web.credentials.verifyPassword(user: "dave", password: "a brand new passphrase") != nil)

                // Tokens: created (secret shown once), then revoked.
                let carol = try await f.session("carol")
                let created = try await client.post("/account/tokens", as: carol, form: [("label", "nightly export")])
                #expect(created.status == .ok && created.text.contains("id=\"new-token\""))
                let token = try #require(try await f.archive.store.tokens(user: "carol").first)
                #expect(try await client.post("/account/tokens/\(token.id)/revoke", as: carol).status == .seeOther)
                #expect(try await f.archive.store.tokens(user: "carol").first?.revokedAt != nil)

                // Users: added through the admin form and through the API.
                let ada = try await f.session("ada")
                let saved = try await client.post("/admin/users", as: ada, form: [("name", "frank"), ("display_name", "Frank"), ("roles", "reviewer")])
                #expect(saved.status == .seeOther)
                let apiToken = try await APITests.token(f, "ada", client: client)
                let api = try await client.execute(uri: "/api/v1/users", method: .post, headers: APITests.bearer(apiToken).merging([.contentType: "application/json"]),
                                                   body: ByteBuffer(string: #"{"name": "gina", "roles": ["auditor"]}"#))
                #expect(api.status == .created)
                let names = try await UserService(archive: f.archive).list().map(\.name)
                #expect(names.contains("frank") && names.contains("gina"))
                // The list says how each user also signs in: an OS account for the command line.
                _ = try await UserService(archive: f.archive).link(user: "frank", osAccount: "fjones", actor: "ada")
                let listed = try await client.get("/admin/users", as: ada)
                #expect(listed.text.contains("<td>OS account fjones</td>"), "\(listed.text)")
            }
        }
    }

    @Test func verifyRunsFromTheAuditPage() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        try await withDeadline(seconds: 60) {
            try await f.test { client in
                let page = try await client.post("/audit/verify", as: try await f.session("dave"))
                #expect(page.status == .ok)
            }
        }
        #expect(try await f.archive.store.auditEntries(AuditFilter(action: "verify", limit: 5)).contains { $0.actor == "dave" })
    }
}

extension StateChangingRouteTests {
    /// Jane deleted a message of her own before handing the chat over: a finding that calls for
    /// an incident (issue 16, item 4).
    static func janeDeletedOne(_ f: WebFixture) async throws {
        _ = try await CustodianService(archive: f.archive).addAccount(email: WebFixture.jane, platform: "whatsapp", address: "Jane Doe", official: true, actor: "alice")
        let chat = try f.tmp.sub("deleted").appendingPathComponent("WhatsApp Chat with Gate Two.txt")
        try Data("""
            20/03/2024, 08:15 - Jane Doe: New roster from Monday
            22/03/2024, 09:30 - Jane Doe: This message was deleted
            25/03/2024, 17:45 - Jane Doe: Thanks all

            """.utf8).write(to: chat)
        _ = try await IngestService(archive: f.archive).ingest(IngestRequest(paths: [chat], custodian: WebFixture.jane, timeZone: "America/New_York", actor: "test"))
    }

    /// Reading the dashboard or the findings opens nothing; a records officer's button (or the
    /// API) opens the incident once, in their name; an auditor may not.
    @Test func readingFindingsOpensNothingAndARecordsOfficerOpensTheIncident() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        try await Self.janeDeletedOne(f)
        let dave = try await f.session("dave"), alice = try await f.session("alice")
        try await f.test { client in
            let page = try await client.get("/compliance", as: dave)
            #expect(page.status == .ok && page.text.contains("not opened yet") && !page.text.contains("/incidents/from-findings"))
            #expect(try await client.get("/api/v1/reports/findings", as: dave, json: true).status == .ok)
            #expect(try await f.archive.store.incidents().isEmpty)
            #expect(try await client.post("/incidents/from-findings", as: dave).status == .forbidden)
            let officerPage = try await client.get("/compliance", as: alice)
            #expect(officerPage.text.contains("action=\"/incidents/from-findings\""))
            let opened = try await client.post("/incidents/from-findings", as: alice)
            #expect(opened.status == .seeOther && opened.location?.hasPrefix("/compliance?notice=incidents-opened") == true)
            let incidents = try await f.archive.store.incidents()
            #expect(incidents.count == 1 && incidents[0].title == "Messages deleted before capture: Gate Two (whatsapp)")
            let after = try await client.get("/compliance?notice=incidents-opened", as: alice)
            #expect(after.text.contains("href=\"/incidents/\(incidents[0].id)\">incident \(incidents[0].id)</a>") && !after.text.contains("not opened yet"))
            // Through the API: nothing more to open.
            let api = try await client.post("/api/v1/incidents/from-findings", as: alice, json: true)
            #expect(try api.status == .ok && api.json()["calling_for_incident"] as? Int == 1 && (api.json()["opened"] as? [Any])?.isEmpty == true, "\(api.text)")
        }
        let opens = try await f.archive.store.auditEntries(AuditFilter(action: "incident.open", limit: 10))
        #expect(opens.map(\.actor) == ["alice"])
    }

    /// `serve`'s findings job opens what the findings call for in the system's name, at start.
    @Test func theFindingsJobOpensTheIncidentInTheSystemsName() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        try await Self.janeDeletedOne(f)
        let job = Task { try await BackgroundFindings.job(archive: f.archive, logger: Logger(label: "test")).run() }
        defer { job.cancel() }
        var incidents: [Incident] = []
        for _ in 0..<200 where incidents.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            incidents = try await f.archive.store.incidents()
        }
        #expect(incidents.map(\.title) == ["Messages deleted before capture: Gate Two (whatsapp)"])
        let opens = try await f.archive.store.auditEntries(AuditFilter(action: "incident.open", limit: 10))
        #expect(opens.map(\.actor) == [BackgroundFindings.actor])
    }
}

extension StateChangingRouteTests {
    /// `serve`'s checkpoint job signs, in the system's name, what was recorded since the last
    /// checkpoint; an archive that does not sign is left alone.
    @Test func theCheckpointJobSignsWhatWasRecordedSince() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        func run() async throws {
            let job = Task { try await BackgroundCheckpoints.job(archive: f.archive, logger: Logger(label: "test")).run() }
            try await Task.sleep(for: .milliseconds(400))
            job.cancel()
        }
        try await run()
        #expect(try await CheckpointService(archive: f.archive).checkpoints().isEmpty)
        try await CheckpointService(archive: f.archive).sign(reason: "signing begins", actor: "ada", createKey: true)
        try await f.archive.store.appendAudit(AuditDraft(actor: "jane", action: "search", target: "archive"))
        var signed: [SignedCheckpoint] = []
        let job = Task { try await BackgroundCheckpoints.job(archive: f.archive, logger: Logger(label: "test")).run() }
        for _ in 0..<200 where signed.count < 2 {
            try await Task.sleep(for: .milliseconds(50))
            signed = try await CheckpointService(archive: f.archive).checkpoints()
        }
        job.cancel()
        #expect(signed.count == 2)
        let hourly = try await f.archive.store.auditEntries(AuditFilter(action: "checkpoint", limit: 1))
        #expect(hourly.first?.actor == BackgroundCheckpoints.actor)
        #expect(try await CheckpointService(archive: f.archive).checkArchive().problems.isEmpty)
    }
}

/// Runs `body`, failing with a clear error (instead of hanging the suite) if it takes longer
/// than `seconds`.
func withDeadline<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw TestFailure("did not finish within \(seconds) s (deadlock?)")
        }
        group.cancelAll()
        return value
    }
}
