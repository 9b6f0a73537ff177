import Archive
import Custody
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Recordkeeper
import RecordkeeperCore
import RecordkeeperWeb
import Testing

/// Issue 15 on the web: a station's batch answered scan by scan with the signal it shows, a
/// retried batch recorded once, containers whose counts differ refused without a note (422 with
/// the control's code), and a report whose page, CSV and JSON show the same numbers.
@Suite("Web: custody scans, containers and reports", .serialized)
struct CustodyWebTests {
    static func s10(_ serial: Int, _ country: String = "CN") -> String {
        let digits = String(serial)
        return "LX" + digits + String(S10.checkDigit(serial: digits.map { Int(String($0))! })) + country
    }

    static func jsonPost(_ client: any TestClientProtocol, _ uri: String, as s: BrowserSession, _ body: Any, method: HTTPRequest.Method = .post,
                         csrf: Bool = true) async throws -> TestResponse {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.accept] = "application/json"
        headers[.cookie] = s.cookie
        if csrf { headers[HTTPField.Name("X-CSRF-Token")!] = s.csrf }
        return try await client.execute(uri: uri, method: method, headers: headers,
                                        body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
    }

    @Test func aStationBatchIsAnsweredScanByScanAndRecordedOnce() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let store = try #require(f.archive.store as? any CustodyStore)
        let receipts = ReceiptService(store: store)
        _ = try await receipts.addLocation(code: "RCV-1", name: "Receiving", kind: .receiving, secured: true, alarmed: true, cctvCovered: true,
                                           maxDwellHours: nil, actor: "sue")
        _ = try await receipts.addLocation(code: "HOLD-1", name: "Holding", kind: .holding, secured: true, alarmed: false, cctvCovered: true,
                                           maxDwellHours: nil, actor: "sue")
        _ = try await TargetImportService(store: store).addRule(TargetRule(code: "NARC-01", version: 1, category: .narcotics, source: "ATS",
                                                                           description: "Narcotics indicators"), actor: "sue")
        let (targeted, plain) = (Self.s10(50_000_001), Self.s10(50_000_002))
        let csv = TargetImport.columns.joined(separator: ",") + "\r\n"
            + "\(targeted),NARC-01,1,narcotics,2019-06-17T08:00:00Z,ATS,2019-06-19T12:00:00Z,1,CN,parcel,Shoes,\r\n"
        let file = f.tmp.url.appendingPathComponent("targets.csv")
        try Data(csv.utf8).write(to: file)
        _ = try await TargetImportService(store: store).commit(file, actor: "sue")

        let rita = try await f.session("rita"), sue = try await f.session("sue"), dave = try await f.session("dave")
        try await f.test { client in
            let page = try await client.get("/custody/scan?mode=receive&location=RCV-1&station=ST-9", as: rita)
            #expect(page.status == .ok && page.text.contains("data-scan-station") && page.text.contains("data-csrf=\"\(rita.csrf)\"")
                    && page.text.contains("/static/scan.js") && page.text.contains("RECEIVE at RCV-1"))
            let script = try await client.get("/static/scan.js")
            #expect(script.status == .ok && script.text.contains("rk-scan-queue") && script.text.contains("S10_CHECK"))

            let batch: [String: Any] = ["station": "ST-9", "scans": [
                ["s10": targeted, "action": "receive", "location": "RCV-1", "client_scan_id": "st9-1", "client_ts": 1_560_000_000_000],
                ["s10": plain, "action": "receive", "location": "RCV-1", "client_scan_id": "st9-2", "manual_entry": true],
                ["s10": "EB000717594HK", "action": "receive", "location": "RCV-1", "client_scan_id": "st9-3"],
                ["s10": plain, "action": "move", "client_scan_id": "st9-4"],
                ["s10": plain, "action": "shred", "client_scan_id": "st9-5"],
            ]]
            let first = try await Self.jsonPost(client, "/api/v1/custody/scans", as: rita, batch)
            #expect(first.status == .ok, "\(first.text)")
            let results = try #require(try first.json()["results"] as? [[String: Any]])
            #expect(results.map { $0["signal"] as? String } == ["green", "blue", "red", "red", "red"])
            #expect(results.map { $0["status"] as? String } == ["recorded", "recorded", "refused", "refused", "refused"])
            #expect((results[0]["message"] as? String) == "TARGET – rule NARC-01 v1 → exam queue" && (results[0]["targets"] as? [String]) == ["NARC-01 v1"])
            #expect(results.dropFirst(2).map { $0["code"] as? String } == ["S10_CHECK", "REQUIRED_MISSING", "VALUE_UNKNOWN"])
            #expect(((results[1]["event"] as? [String: Any])?["manual_entry"] as? Bool) == true)

            // The station's retry after a lost answer: the same ids, nothing new.
            let again = try await Self.jsonPost(client, "/api/v1/custody/scans", as: rita, batch)
            let retried = try #require(try again.json()["results"] as? [[String: Any]])
            #expect(retried.prefix(2).map { $0["status"] as? String } == ["repeated", "repeated"])
            let (targetedEvents, plainEvents) = (try await store.custodyEvents(s10: targeted), try await store.custodyEvents(s10: plain))
            #expect(targetedEvents.count == 1 && plainEvents.count == 1)
            // A second scan of an item in custody: amber, with where and by whom.
            let dup = try await Self.jsonPost(client, "/api/v1/custody/scans", as: rita,
                                              ["scans": [["s10": plain, "action": "receive", "location": "RCV-1", "client_scan_id": "st9-6"]]])
            let d = try #require((try dup.json()["results"] as? [[String: Any]])?.first)
            #expect(d["signal"] as? String == "amber" && d["status"] as? String == "duplicate"
                    && (d["message"] as? String ?? "").contains("Already in custody: RECEIVED at RCV-1 by rita"), "\(d)")
            // Not JSON: 400; a CSRF token missing from a browser session: refused.
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[.cookie] = rita.cookie
            let noToken = try await client.execute(uri: "/api/v1/custody/scans", method: .post, headers: headers, body: ByteBuffer(string: "{}"))
            #expect(noToken.status == .forbidden)
            let garbage = try await client.execute(uri: "/api/v1/custody/scans", method: .post,
                                                   headers: headers.merging([HTTPField.Name("X-CSRF-Token")!: rita.csrf]), body: ByteBuffer(string: "[1,2"))
            #expect(garbage.status == .badRequest)

            // A container short of its declared count: 422 with the control's code, then closed with a note.
            let opened = try await Self.jsonPost(client, "/api/v1/custody/containers", as: rita,
                                                 ["container": "APC-7", "declared": 2, "presented_by": "J. Carrier", "location": "RCV-1"])
            #expect(opened.status == .created, "\(opened.text)")
            let id = try #require(try opened.json()["id"] as? Int)
            let short = try await Self.jsonPost(client, "/api/v1/custody/containers/\(id)/close", as: rita, [String: Any]())
            #expect(short.status == .unprocessableContent && short.errorCode == "REQUIRED_MISSING", "\(short.text)")
            let closed = try await Self.jsonPost(client, "/api/v1/custody/containers/\(id)/close", as: rita, ["note": "Empty container"])
            let closedNote = try closed.json()["discrepancy_note"] as? String
            #expect(closed.status == .ok && closedNote == "Empty container")

            // The item's chain, with hashes; the read is audited.
            let chain = try await client.get("/api/v1/custody/items/\(targeted)", as: dave, json: true)
            let events = try #require(try chain.json()["events"] as? [[String: Any]])
            #expect(events.count == 1 && (events[0]["hash"] as? String)?.count == 64)

            // R-NP, R-EFF: the page, the CSV and the JSON from the same run say the same.
            let q = "from=2019-06-17&to=2019-06-20"
            let json = try await client.get("/api/v1/custody/reports/effectiveness?\(q)", as: sue, json: true)
            let result = try #require(try json.json()["result"] as? [String: Any])
            let total = try #require(result["total"] as? [String: Any])
            #expect(total["targeted"] as? Int == 1 && total["presented"] as? Int == 1 && total["presentation_rate"] as? Double == 100)
            let csvReport = try await client.get("/api/v1/custody/reports/effectiveness?\(q)&format=csv", as: sue)
            #expect(csvReport.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(csvReport.text.contains("rule,targeted,presented,presentation_rate_pct,inspected,inspection_rate_pct,hits,hit_rate_pct")
                    && csvReport.text.contains("NARC-01 v1,1,1,100.00,0,0.00,0,,\r\n"), "\(csvReport.text)")
            let html = try await client.get("/custody/reports/effectiveness?\(q)", as: sue)
            #expect(html.status == .ok && html.text.contains("<td>NARC-01 v1</td><td>1</td><td>1</td><td>100.00</td>"), "\(html.text)")
            let balance = try await client.get("/api/v1/custody/reports/balance?day=\(String(Timestamp.iso(millis: Timestamp.nowMillis()).prefix(10)))",
                                               as: sue, json: true)
            #expect(((try balance.json()["result"] as? [String: Any])?["received"] as? Int) == 2, "\(balance.text)")
            let badDate = try await client.get("/api/v1/custody/reports/late?from=2019-06-31", as: sue, json: true)
            #expect(badDate.status == .unprocessableContent && badDate.errorCode == "DATE_INVALID")
            // A receiver scans; reports are for supervisors, officers, targeters and auditors.
            #expect(try await client.get("/api/v1/custody/reports/effectiveness?\(q)", as: rita, json: true).status == .forbidden)
            // The alerts behind the custody page: of a moment at most a minute ago, which the answer
            // and the page name (the same computation serves both); a moment asked for is computed.
            let alerts = try await client.get("/api/v1/custody/alerts", as: sue, json: true)
            let alertsAsOf = try #require(try alerts.json()["as_of"] as? String, "\(alerts.text)")
            let alertList = try alerts.json()["alerts"] as? [Any]
            #expect(alerts.status == .ok && alertList != nil)
            #expect(abs(try #require(CustodyTime.millis(alertsAsOf)) - Timestamp.nowMillis()) <= 60_000)
            let custodyPage = try await client.get("/custody", as: sue)
            #expect(custodyPage.status == .ok && custodyPage.text.contains("<time datetime=\"\(alertsAsOf)\">"), "\(custodyPage.text)")
            let past = try await client.get("/api/v1/custody/alerts?as_of=2019-06-18T12:00:00Z", as: sue, json: true)
            #expect(try past.json()["as_of"] as? String == "2019-06-18T12:00:00.000Z")
        }
        let views = try await f.archive.store.auditEntries(AuditFilter(actor: "sue", action: "custody.report.view", limit: 10))
        #expect(views.count >= 3)
    }

    /// AT8 through the API: an officer correcting a seizure's time gets 403; a supervisor with a
    /// reason is accepted, and verify still passes.
    @Test func onlyASupervisorCorrectsASeizureTime() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let store = try #require(f.archive.store as? any CustodyStore)
        let receipts = ReceiptService(store: store, now: { CustodyTime.millis("2019-06-18T08:00:00Z")! })
        _ = try await receipts.addLocation(code: "RCV-1", name: "Receiving", kind: .receiving, secured: true, alarmed: true, cctvCovered: true,
                                           maxDwellHours: nil, actor: "sue")
        _ = try await receipts.addLocation(code: "VAULT", name: "Vault", kind: .seizedProperty, secured: true, alarmed: true, cctvCovered: true,
                                           maxDwellHours: nil, actor: "sue")
        let item = Self.s10(50_000_010)
        _ = try await receipts.receive(item, location: "RCV-1", station: nil, clientScanID: nil, manualEntry: false, actor: "rita")
        _ = try await InspectionService(store: store, now: { CustodyTime.millis("2019-06-18T09:00:00Z")! }).start(
            item, method: .xray, location: nil, station: nil, clientScanID: nil, actor: "otto")
        _ = try await InspectionService(store: store, now: { CustodyTime.millis("2019-06-18T09:05:00Z")! }).end(
            item, result: .anomaly, found: "Powder", substance: nil, equipment: nil, station: nil, clientScanID: nil, actor: "otto")
        let z = try await SeizureService(store: store, now: { CustodyTime.millis("2019-06-18T10:00:00Z")! }).seize(
            item, witness: "sue", violation: .narcotics, substance: "powder", netWeightGrams: 3, form6051S: "2019-4601-000777", storageLocation: "VAULT",
            actor: "otto")
        let otto = try await f.session("otto"), sue = try await f.session("sue")
        try await f.test { client in
            let body: [String: Any] = ["seized_at": "2019-06-18T09:30:00Z", "reason": "Exam log says 09:30"]
            let refused = try await Self.jsonPost(client, "/api/v1/custody/seizures/\(z.id)/correct", as: otto, body)
            #expect(refused.status == .forbidden)
            // Scanning a seized item again at receiving: red, under seizure.
            let rita = try await f.session("rita")
            let again = try await Self.jsonPost(client, "/api/v1/custody/scans", as: rita,
                                                ["scans": [["s10": item, "action": "receive", "location": "RCV-1", "client_scan_id": "r-seized"]]])
            let answer = try #require((try again.json()["results"] as? [[String: Any]])?.first)
            #expect(answer["signal"] as? String == "red" && answer["code"] as? String == "SEIZED", "\(answer)")
            let noReason = try await Self.jsonPost(client, "/api/v1/custody/seizures/\(z.id)/correct", as: sue, ["seized_at": "2019-06-18T09:30:00Z"])
            #expect(noReason.status == .unprocessableContent && noReason.errorCode == "REQUIRED_MISSING", "\(noReason.text)")
            let done = try await Self.jsonPost(client, "/api/v1/custody/seizures/\(z.id)/correct", as: sue, body)
            #expect(done.status == .ok, "\(done.text)")
            let dq = try await client.get("/api/v1/custody/reports/data-quality?from=2019-06-01&to=2100-01-01", as: sue, json: true)
            let result = try #require(try dq.json()["result"] as? [String: Any])
            #expect((result["late_edits"] as? [Any])?.count == 1 && (result["corrections_by_user"] as? [String: Int]) == ["sue": 1], "\(dq.text)")
        }
        let report = try await VerifyService(archive: f.archive).verify(actor: "dave")
        #expect(report.ok, "\(report.problems)")
    }

    /// AT6 through the API: a notice clerk reads the addressee (the read audited), an officer gets
    /// them masked, a receiver nothing; the privacy inventory lists exactly the particulars'
    /// fields; the privacy officer's purge removes those past a 30-day retention with a
    /// certificate; reading them then answers 410; verify still passes.
    @Test func addresseeParticularsAreMaskedAuditedAndGoneAfterThePurge() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let store = try #require(f.archive.store as? any CustodyStore & CustodyPrivacyStore)
        func at(_ iso: String) -> @Sendable () -> Int64 { { CustodyTime.millis(iso)! } }
        _ = try await ReceiptService(store: store).addLocation(code: "HOLD-1", name: "Holding", kind: .holding, secured: true, alarmed: true, cctvCovered: true,
                                                               maxDwellHours: nil, actor: "sue")
        let old = Self.s10(50_000_020), new = Self.s10(50_000_021)
        for (item, day) in [(old, "2019-06-18"), (new, "2026-01-05")] {
            _ = try await ReceiptService(store: store, now: at("\(day)T08:00:00Z")).receive(item, location: "HOLD-1", station: nil, clientScanID: nil,
                                                                                          manualEntry: false, actor: "rita")
            _ = try await InspectionService(store: store, now: at("\(day)T09:00:00Z")).start(item, method: .xray, location: nil, station: nil, clientScanID: nil, actor: "otto")
            _ = try await InspectionService(store: store, now: at("\(day)T09:05:00Z")).end(item, result: .anomaly, found: "Tablets", substance: nil, equipment: nil,
                                                                                          station: nil, clientScanID: nil, actor: "otto")
        }
        // A detention of 2019, its notice, the addressee's consent and the destruction: long past any retention.
        let keyFile = AddresseeKey.location(dataDirectory: f.archive.directory.url)
        func service(_ iso: String) -> DetentionService { DetentionService(store: store, keyFile: keyFile, now: at(iso)) }
        let past = try await service("2019-06-18T10:00:00Z").detain(old, violation: "prohibited", reason: "personal_use_prohibited", contents: "medicine", actor: "otto")
        _ = try await service("2019-06-19T10:00:00Z").sendNotice(past.id, to: AddresseeParticulars(name: "Ana Old", addressLines: ["1 Past Street"], postcode: "10001"),
                                                                 actor: "nina")
        _ = try await service("2019-06-25T10:00:00Z").recordResponse(past.id, response: "consent_abandon", actor: "nina")
        _ = try await service("2019-06-26T10:00:00Z").dispose(past.id, disposition: "abandoned_destroyed", witness: "sue", actor: "otto")

        let otto = try await f.session("otto"), nina = try await f.session("nina"), pia = try await f.session("pia"), rita = try await f.session("rita")
        try await f.test { client in
            // An officer detains through the API; a notice clerk records the notice (an officer may not).
            let detained = try await Self.jsonPost(client, "/api/v1/custody/detentions", as: otto,
                                                   ["s10": new, "violation": "prohibited", "reason": "personal_use_prohibited", "contents": "medicine"])
            #expect(detained.status == .created, "\(detained.text)")
            let id = try #require((try detained.json()["detention"] as? [String: Any])?["id"] as? Int)
            let bad = try await Self.jsonPost(client, "/api/v1/custody/detentions", as: otto,
                                              ["s10": new, "violation": "prohibited", "reason": "personal_use_prohibited", "contents": "Brand X 50mg"])
            #expect(bad.status == .unprocessableContent && bad.errorCode == "VALUE_UNKNOWN", "\(bad.text)")
            let addressee: [String: Any] = ["name": "Jane Q. Addressee", "address_lines": ["1400 Example Avenue", "Springfield, IL"], "postcode": "62704"]
            #expect(try await Self.jsonPost(client, "/api/v1/custody/detentions/\(id)/notice", as: otto, addressee).status == .forbidden)
            let notice = try await Self.jsonPost(client, "/api/v1/custody/detentions/\(id)/notice", as: nina, addressee)
            #expect(try notice.status == .created && (try notice.json()["notice"] as? String)?.contains("Jane Q. Addressee") == true, "\(notice.text)")

            // The clerk reads them (audited); the officer sees them masked; a receiver not at all.
            let read = try await client.get("/api/v1/custody/detentions/\(id)/addressee?purpose=notice", as: nina, json: true)
            #expect(try read.status == .ok && (try read.json()["name"] as? String) == "Jane Q. Addressee" && (try read.json()["masked"] as? Bool) == false, "\(read.text)")
            let masked = try await client.get("/api/v1/custody/detentions/\(id)/addressee", as: otto, json: true)
            #expect(try masked.status == .ok && (try masked.json()["masked"] as? Bool) == true && !masked.text.contains("Jane") && !masked.text.contains("62704"))
            #expect(try await client.get("/api/v1/custody/detentions/\(id)/addressee", as: rita, json: true).status == .forbidden)
            let shown = try await client.get("/api/v1/custody/detentions/\(id)", as: otto, json: true)
            #expect(try shown.status == .ok && (try shown.json()["addressee"] as? String) == "held" && !shown.text.contains("Jane"))

            // The addressee petitions; the item is released (the detention closes, the particulars stay until their retention).
            #expect(try await Self.jsonPost(client, "/api/v1/custody/detentions/\(id)/response", as: otto, ["response": "petition"]).status == .forbidden)
            let answered = try await Self.jsonPost(client, "/api/v1/custody/detentions/\(id)/response", as: nina, ["response": "petition"])
            #expect(try answered.status == .ok && (answered.json()["detention"] as? [String: Any])?["response"] as? String == "petition", "\(answered.text)")
            let early = try await Self.jsonPost(client, "/api/v1/custody/detentions/\(id)/dispose", as: otto, ["disposition": "abandoned_destroyed", "witness": "sue"])
            #expect(early.status == .forbidden, "\(early.text)") // a petition is not an abandonment
            let released = try await Self.jsonPost(client, "/api/v1/custody/detentions/\(id)/dispose", as: otto, ["disposition": "released"])
            #expect(try released.status == .ok && (released.json()["detention"] as? [String: Any])?["disposition"] as? String == "released", "\(released.text)")

            // The inventory lists exactly the particulars' fields, with purpose and retention.
            let inventory = try await client.get("/api/v1/custody/privacy-inventory", as: pia, json: true)
            let elements = try #require(try inventory.json()["elements"] as? [[String: Any]])
            #expect(elements.compactMap { $0["field"] as? String } == ["name", "address_lines", "postcode"])
            #expect(try elements.allSatisfy { !(($0["purpose"] as? String) ?? "").isEmpty } && (try inventory.json()["retention_days"] as? Int) == 90)
            #expect(try await client.get("/api/v1/custody/privacy-inventory", as: rita, json: true).status == .forbidden)

            // 30 days; the purge takes the 2019 record, not the open one; reading it is 410.
            #expect(try await Self.jsonPost(client, "/api/v1/custody/privacy/retention", as: otto, ["days": 30, "reason": "x"]).status == .forbidden)
            let set = try await Self.jsonPost(client, "/api/v1/custody/privacy/retention", as: pia, ["days": 30, "reason": "the petition window ends at disposition"])
            #expect(try set.status == .ok && (try set.json()["retention_days"] as? Int) == 30, "\(set.text)")
            let dry = try await Self.jsonPost(client, "/api/v1/custody/privacy/purge", as: pia, [:] as [String: Any]) // a review unless commit
            #expect(try (try dry.json()["due"] as? [[String: Any]])?.compactMap { $0["s10"] as? String } == [old] && (try dry.json()["purge"]) == nil)
            // The archive signs from here: the purge, a destruction, is followed by a checkpoint naming it.
            try await CheckpointService(archive: f.archive).sign(reason: "signing begins", actor: "ada", createKey: true)
            let purged = try await Self.jsonPost(client, "/api/v1/custody/privacy/purge", as: pia, ["commit": true])
            let purge = try #require(try purged.json()["purge"] as? [String: Any], "\(purged.text)")
            let purgeID = try #require(purge["id"] as? Int)
            let vouched = try await CheckpointService(archive: f.archive).checkpoints().last.flatMap { CheckpointStatement.parse($0.statement)?.vouches } ?? []
            #expect(vouched.contains { $0.hasPrefix("custody-pii-purge:\(purgeID)=") }, "\(vouched)")
            #expect(purge["count"] as? Int == 1 && (purge["certificate"] as? String)?.contains(old) == true && !purged.text.contains("Ana Old"))
            let gone = try await client.get("/api/v1/custody/detentions/\(past.id)/addressee?purpose=inquiry", as: nina, json: true)
            #expect(gone.status == .gone && gone.errorCode == "gone" && !gone.text.contains("Ana"), "\(gone.text)")
            #expect(try await client.get("/api/v1/custody/detentions/\(id)/addressee?purpose=inquiry", as: nina, json: true).status == .ok)
            let noPurpose = try await client.get("/api/v1/custody/detentions/\(id)/addressee", as: nina, json: true)
            #expect(noPurpose.status == .unprocessableContent && noPurpose.errorCode == "REQUIRED_MISSING", "\(noPurpose.text)")
            let freeText = try await client.get("/api/v1/custody/detentions/\(id)/addressee?purpose=Jane%27s%20file", as: nina, json: true)
            #expect(freeText.status == .unprocessableContent && freeText.errorCode == "VALUE_UNKNOWN")
        }
        let reads = try await f.archive.store.auditEntries(target: "custody-detention:\(1 + past.id)", limit: 100).filter { $0.action == "custody.pii.read" }
        #expect(reads.map(\.actor) == ["nina", "nina"])
        let report = try await VerifyService(archive: f.archive).verify(actor: "dave")
        #expect(report.ok, "\(report.problems)")
    }

    /// `POST /api/v1/custody/imports`: a targeter uploads a site's XLSX export; read through its
    /// registered profile it is a dry run until commit=true, which stores it and names the profile.
    @Test func aTargeterImportsAnXLSXExportThroughTheAPI() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let store = try #require(f.archive.store as? any CustodyStore)
        let service = TargetImportService(store: store)
        for rule in CustodyFixtures.rules(for: .atsXLSX) { _ = try await service.addRule(rule, actor: "tina") }
        _ = try await service.addProfile(Data(CustodyFixtures.atsProfile.utf8), actor: "tina")
        let book = try CustodyFixtures.atsWorkbook(seed: 9)
        let tina = try await f.session("tina"), rita = try await f.session("rita")
        @Sendable func headers(_ s: BrowserSession) -> HTTPFields {
            var h = HTTPFields()
            h[.cookie] = s.cookie
            h[.accept] = "application/json"
            h[HTTPField.Name("X-CSRF-Token")!] = s.csrf
            return h
        }
        try await f.test { client in
            let refused = try await client.postMultipart("/api/v1/custody/imports", headers: headers(rita), fields: [("profile", "ats-jfk")],
                                                         file: ("ATS-export.xlsx", book))
            #expect(refused.status == .forbidden)
            let dry = try await client.postMultipart("/api/v1/custody/imports", headers: headers(tina), fields: [("profile", "ats-jfk")],
                                                     file: ("ATS-export.xlsx", book))
            #expect(try dry.status == .ok && dry.json()["accepted"] as? Int == 8 && dry.json()["dry_run"] as? Bool == true, "\(dry.status) \(dry.text)")
            #expect(try (dry.json()["rejected"] as? [[String: Any]])?.compactMap { $0["code"] as? String }.sorted() == ["DATE_INVALID", "DATE_INVALID", "VALUE_UNKNOWN"])
            #expect(try await store.targetCount() == 0)
            let unknown = try await client.postMultipart("/api/v1/custody/imports", headers: headers(tina), fields: [("profile", "nope")],
                                                         file: ("ATS-export.xlsx", book))
            #expect(unknown.status == .notFound, "\(unknown.text)")
            let done = try await client.postMultipart("/api/v1/custody/imports", headers: headers(tina), fields: [("profile", "ats-jfk@1"), ("commit", "true")],
                                                      file: ("ATS-export.xlsx", book))
            let stored = try #require(try done.json()["stored"] as? [String: Any], "\(done.text)")
            #expect(done.status == .created && stored["added"] as? Int == 8 && stored["mapping_profile"] as? String == "ats-jfk v1")
            let again = try await client.postMultipart("/api/v1/custody/imports", headers: headers(tina), fields: [("profile", "ats-jfk"), ("commit", "true")],
                                                       file: ("ATS-export.xlsx", book))
            #expect(try again.status == .ok && again.json()["already_imported"] as? Bool == true)
            // None of them presented: the re-request file for the carrier lists all eight once their grace has passed.
            let renotify = try await client.get("/api/v1/custody/export/renotify.csv?from=2019-06-17&to=2019-06-18&as_of=2019-06-21T00:00:00Z", as: tina)
            let lines = renotify.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(renotify.status == .ok && lines.first == "s10,rule,targeted_at,expected_arrival_at,due_at" && lines.count == 9, "\(renotify.text)")
            #expect(lines.dropFirst().allSatisfy { $0.hasSuffix("2019-06-18T16:00:00.000Z,2019-06-20T16:00:00.000Z") })
            let early = try await client.get("/api/v1/custody/export/renotify.csv?from=2019-06-17&to=2019-06-18&as_of=2019-06-20T15:59:59Z", as: tina)
            #expect(early.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 1) // still within the grace
            #expect(try await client.get("/api/v1/custody/export/renotify.csv?from=2019-06-17", as: rita).status == .forbidden)
            // The carrier's decisions file: eight holds, without the rules that asked for them; audited.
            let decisions = try await client.get("/api/v1/custody/export/cusrsp?from=2019-06-17&to=2019-06-18&as_of=2019-06-21T00:00:00Z", as: tina)
            let rows = decisions.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(decisions.status == .ok && rows.first == "s10,decision,decided_at,party,kind,amount,currency,entry" && rows.count == 9, "\(decisions.text)")
            #expect(rows.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false)[1] == "hold_requested" })
            #expect(decisions.headers[.contentDisposition]?.contains("decisions-2019-06-17.csv") == true)
            let rules = try await store.targetRules().map(\.code)
            #expect(!rules.isEmpty && rules.allSatisfy { !decisions.text.contains($0) })
            #expect(try await client.get("/api/v1/custody/export/cusrsp?from=2019-06-17", as: rita).status == .forbidden)
            #expect(try await client.get("/api/v1/custody/export/cusrsp?from=2019-06-01&to=2019-07-15", as: tina).status == .unprocessableContent)
        }
        #expect(try await store.targetCount() == 8)
        let exports = try await f.archive.store.auditEntries(afterSequence: 0, limit: 10_000).filter { $0.action == "custody.export.cusrsp" }
        #expect(exports.count == 1 && exports.first?.actor.contains("tina") == true && exports.first?.detail.contains("\"rows\":\"8\"") == true)
    }

    /// Referrals through the API: an officer refers, records the agency's answer and its
    /// collection; a receiver may not; R-REF shows it; an unknown step is 404.
    @Test func anOfficerRefersAnItemAndRecordsItsCollection() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let store = try #require(f.archive.store as? any CustodyStore & CustodyReferralStore)
        let receipts = ReceiptService(store: store, now: { CustodyTime.millis("2019-06-18T08:00:00Z")! })
        _ = try await receipts.addLocation(code: "HOLD-1", name: "Holding", kind: .holding, secured: true, alarmed: true, cctvCovered: true, maxDwellHours: nil, actor: "sue")
        let item = Self.s10(50_000_031)
        _ = try await receipts.receive(item, location: "HOLD-1", station: nil, clientScanID: nil, manualEntry: false, actor: "rita")
        _ = try await InspectionService(store: store, now: { CustodyTime.millis("2019-06-18T09:00:00Z")! }).start(item, method: .xray, location: nil, station: nil, clientScanID: nil, actor: "otto")
        _ = try await InspectionService(store: store, now: { CustodyTime.millis("2019-06-18T09:05:00Z")! }).end(
            item, result: .anomaly, found: "Seeds", substance: nil, equipment: nil, station: nil, clientScanID: nil, actor: "otto")
        let otto = try await f.session("otto"), rita = try await f.session("rita")
        try await f.test { client in
            let body: [String: Any] = ["s10": item, "agency": "USDA", "method": "email", "violation": "agriculture"]
            #expect(try await Self.jsonPost(client, "/api/v1/custody/referrals", as: rita, body).status == .forbidden)
            let referred = try await Self.jsonPost(client, "/api/v1/custody/referrals", as: otto, body)
            let id = try #require(try referred.json()["id"] as? Int, "\(referred.text)")
            #expect(referred.status == .created)
            let answered = try await Self.jsonPost(client, "/api/v1/custody/referrals/\(id)/answer", as: otto, ["note": "Collecting tomorrow"])
            #expect(try answered.status == .ok && answered.json()["responded_by"] as? String == "otto", "\(answered.text)")
            #expect(try await Self.jsonPost(client, "/api/v1/custody/referrals/\(id)/lose", as: otto, [:] as [String: Any]).status == .notFound)
            let noReason = try await Self.jsonPost(client, "/api/v1/custody/referrals/\(id)/decline", as: otto, [:] as [String: Any])
            #expect(noReason.status == .unprocessableContent && noReason.errorCode == "REQUIRED_MISSING", "\(noReason.text)")
            let collected = try await Self.jsonPost(client, "/api/v1/custody/referrals/\(id)/collect", as: otto, [:] as [String: Any])
            #expect(try collected.status == .ok && collected.json()["collected_by"] as? String == "otto", "\(collected.text)")
            let shown = try await client.get("/api/v1/custody/referrals/\(id)", as: otto, json: true)
            #expect(try shown.status == .ok && shown.json()["agency"] as? String == "USDA")
            let report = try await client.get("/api/v1/custody/reports/referrals?from=2019-06-01&to=2100-01-01", as: otto, json: true)
            #expect(report.status == .ok && report.text.contains("\"collected\":1"), "\(report.text)")
        }
        #expect(try await store.custodyEvents(s10: item).last?.type == "TO_AGENCY")
        let verified = try await VerifyService(archive: f.archive).verify(actor: "dave")
        #expect(verified.ok, "\(verified.problems)")
    }

    /// The funnel's inputs through the API: a targeter imports the carrier's counts (dry run, then
    /// commit), records a category request and sets the countries of interest; a receiver may not;
    /// R-FUN shows them as JSON, CSV and a page, and verify passes.
    @Test func aTargeterFeedsTheFunnelThroughTheAPI() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let store = try #require(f.archive.store as? any CustodyStore & CustodyFunnelStore)
        let tina = try await f.session("tina"), rita = try await f.session("rita"), otto = try await f.session("otto"), sue = try await f.session("sue")
        @Sendable func headers(_ s: BrowserSession) -> HTTPFields {
            var h = HTTPFields()
            h[.cookie] = s.cookie
            h[.accept] = "application/json"
            h[HTTPField.Name("X-CSRF-Token")!] = s.csrf
            return h
        }
        let counts = Data("date,origin_country,mail_class,pieces\n2019-06-18,CN,parcel,1000\n2019-06-18,HK,parcel,250\n2019-06-18,ZZ,parcel,4\n".utf8)
        try await f.test { client in
            let refused = try await client.postMultipart("/api/v1/custody/arrival-imports", headers: headers(rita), fields: [], file: ("gbs.csv", counts))
            #expect(refused.status == .forbidden)
            let dry = try await client.postMultipart("/api/v1/custody/arrival-imports", headers: headers(tina), fields: [], file: ("gbs.csv", counts))
            #expect(try dry.status == .ok && dry.json()["accepted"] as? Int == 2 && dry.json()["dry_run"] as? Bool == true, "\(dry.text)")
            #expect(try await store.arrivalImports().isEmpty)
            let done = try await client.postMultipart("/api/v1/custody/arrival-imports", headers: headers(tina), fields: [("commit", "true")], file: ("gbs.csv", counts))
            #expect(try done.status == .created && (done.json()["stored"] as? [String: Any])?["added"] as? Int == 2, "\(done.text)")
            let again = try await client.postMultipart("/api/v1/custody/arrival-imports", headers: headers(tina), fields: [("commit", "true")], file: ("gbs.csv", counts))
            #expect(try again.status == .ok && again.json()["already_imported"] as? Bool == true)

            let request: [String: Any] = ["day": "2019-06-18", "origin": "CN", "class": "parcel", "count": 40, "reason": "COI random exam"]
            #expect(try await Self.jsonPost(client, "/api/v1/custody/bulk-requests", as: rita, request).status == .forbidden)
            let bad = try await Self.jsonPost(client, "/api/v1/custody/bulk-requests", as: tina, request.merging(["class": "crate"]) { _, b in b })
            #expect(bad.status == .unprocessableContent && bad.errorCode == "VALUE_UNKNOWN", "\(bad.text)")
            let made = try await Self.jsonPost(client, "/api/v1/custody/bulk-requests", as: tina, request)
            #expect(try made.status == .created && made.json()["requested_count"] as? Int == 40, "\(made.text)")

            // The list is the yardstick of the targeting unit's own work: a custody supervisor keeps it.
            for who in [otto, tina] {
                #expect(try await Self.jsonPost(client, "/api/v1/custody/coi", as: who, ["countries": "CN", "reason": "x"]).status == .forbidden)
            }
            let coi = try await Self.jsonPost(client, "/api/v1/custody/coi", as: sue, ["countries": "CN,HK", "reason": "COI list of 2019-06"])
            #expect(coi.status == .ok && coi.text.contains("[\"CN\",\"HK\"]"), "\(coi.text)")
            let shown = try await client.get("/api/v1/custody/coi", as: otto, json: true)
            #expect(shown.status == .ok && shown.text.contains("[\"CN\",\"HK\"]"))

            // Advance data per piece (R-AED): a dry run, then stored.
            let aed = Data("item_id,origin_country,received_at,content_lines,hs_coded_lines,recipient\n\(Self.s10(50_000_301)),CN,2019-06-17T20:00:00Z,2,1,yes\n".utf8)
            #expect(try await client.postMultipart("/api/v1/custody/aed-imports", headers: headers(rita), fields: [], file: ("itmatt.csv", aed)).status == .forbidden)
            let aedDone = try await client.postMultipart("/api/v1/custody/aed-imports", headers: headers(tina), fields: [("commit", "true")], file: ("itmatt.csv", aed))
            #expect(try aedDone.status == .created && (aedDone.json()["stored"] as? [String: Any])?["added"] as? Int == 1, "\(aedDone.text)")
            let aedReport = try await client.get("/api/v1/custody/reports/aed?from=2019-06-18&to=2019-06-19", as: otto, json: true)
            #expect(aedReport.status == .ok && aedReport.text.contains("\"presented\":0"), "\(aedReport.text)")

            let query = "from=2019-06-18&to=2019-06-19" // as of now: the list and the request were recorded today
            let partDay = try await client.get("/api/v1/custody/reports/funnel?from=2019-06-18T12:00:00Z&to=2019-06-19", as: otto, json: true)
            #expect(partDay.status == .unprocessableContent, "\(partDay.text)")
            let json = try await client.get("/api/v1/custody/reports/funnel?\(query)", as: otto, json: true)
            let result = try #require(try json.json()["result"] as? [String: Any], "\(json.text)")
            let total = try #require(result["total"] as? [String: Any])
            #expect(json.status == .ok && total["carrier_arrivals"] as? Int == 1250 && total["bulk_requests"] as? Int == 1, "\(json.text)")
            let csv = try await client.get("/api/v1/custody/reports/funnel?\(query)&format=csv", as: otto)
            #expect(csv.text.contains("day,2019-06-18,CN,parcel,yes,1000,0,1,40,0,0,0,0,0,0,0.00,\r\n"), "\(csv.text)")
            let page = try await client.get("/custody/reports/funnel?\(query)", as: otto)
            #expect(page.status == .ok && page.text.contains("R-FUN") && page.text.contains("1250"))
            #expect(try await client.get("/api/v1/custody/reports/funnel?\(query)", as: rita, json: true).status == .forbidden)
        }
        let verified = try await VerifyService(archive: f.archive).verify(actor: "dave")
        #expect(verified.ok, "\(verified.problems)")
    }

    /// `POST /api/v1/custody/manifest-imports`: a receiver imports the carrier's manifest (dry run,
    /// then commit); a targeter may not; R-MAN shows the container's listed-not-received and
    /// received-not-listed pieces as JSON, CSV and a page; verify passes.
    @Test func aReceiverReconcilesTheCarriersManifestThroughTheAPI() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let store = try #require(f.archive.store as? any CustodyStore & CustodyManifestStore)
        _ = try await ReceiptService(store: store).addLocation(code: "RCV-1", name: "Dock", kind: .receiving, secured: true, alarmed: true, cctvCovered: true,
                                                               maxDwellHours: nil, actor: "sue")
        let scans = ScanService(store: store, now: { CustodyTime.millis("2019-06-18T06:00:00Z")! })
        let apc = try await scans.openContainer("APC-0042", carrier: "USPS", seal: "S-991", declared: 3, presentedBy: "J. Carrier", badge: "USPS-17",
                                                location: "RCV-1", station: nil, actor: "rita")
        let (a, b, c) = (Self.s10(50_000_501), Self.s10(50_000_502), Self.s10(50_000_503))
        let outcomes = try await scans.record([a, b].map { ScanService.Request(text: $0, action: .receive(location: "RCV-1", presentation: apc.id), station: "ST-1") },
                                              actor: "rita")
        #expect(outcomes.allSatisfy { if case .recorded = $0 { true } else { false } })
        let tina = try await f.session("tina"), rita = try await f.session("rita"), otto = try await f.session("otto")
        @Sendable func headers(_ s: BrowserSession) -> HTTPFields {
            var h = HTTPFields()
            h[.cookie] = s.cookie
            h[.accept] = "application/json"
            h[HTTPField.Name("X-CSRF-Token")!] = s.csrf
            return h
        }
        let manifest = Data("date,container_id,s10\n2019-06-18,APC-0042,\(a)\n2019-06-18,APC-0042,\(c)\n2019-06-18,APC-0042,LX123\n".utf8)
        try await f.test { client in
            #expect(try await client.postMultipart("/api/v1/custody/manifest-imports", headers: headers(tina), fields: [], file: ("gbs.csv", manifest)).status == .forbidden)
            let dry = try await client.postMultipart("/api/v1/custody/manifest-imports", headers: headers(rita), fields: [], file: ("gbs.csv", manifest))
            #expect(try dry.status == .ok && dry.json()["accepted"] as? Int == 2 && dry.json()["dry_run"] as? Bool == true, "\(dry.text)")
            #expect(try await store.manifestImports().isEmpty)
            let wrong = try await client.postMultipart("/api/v1/custody/manifest-imports", headers: headers(rita), fields: [("direction", "sideways")],
                                                       file: ("gbs.csv", manifest))
            #expect(wrong.status == .unprocessableContent && wrong.errorCode == "VALUE_UNKNOWN", "\(wrong.text)")
            let done = try await client.postMultipart("/api/v1/custody/manifest-imports", headers: headers(rita), fields: [("commit", "true")], file: ("gbs.csv", manifest))
            #expect(try done.status == .created && (done.json()["stored"] as? [String: Any])?["added"] as? Int == 2, "\(done.text)")

            let query = "from=2019-06-18&to=2019-06-19"
            let json = try await client.get("/api/v1/custody/reports/manifests?\(query)", as: otto, json: true)
            let result = try #require(try json.json()["result"] as? [String: Any], "\(json.text)")
            let totals = try #require(result["totals"] as? [String: Any])
            #expect(totals["listed"] as? Int == 2 && totals["matched"] as? Int == 1 && totals["missing"] as? Int == 1 && totals["unlisted"] as? Int == 1, "\(json.text)")
            let csv = try await client.get("/api/v1/custody/reports/manifests?\(query)&format=csv", as: otto)
            #expect(csv.text.contains("\"listed, not received\",2019-06-18,APC-0042,in,\(apc.id),\(c),,,,not received\r\n"), "\(csv.text)")
            #expect(csv.text.contains("\"received, not listed\",2019-06-18,APC-0042,in,\(apc.id),\(b),"), "\(csv.text)")
            let page = try await client.get("/custody/reports/manifests?\(query)", as: otto)
            #expect(page.status == .ok && page.text.contains("R-MAN") && page.text.contains(c))
        }
        let verified = try await VerifyService(archive: f.archive).verify(actor: "dave")
        #expect(verified.ok, "\(verified.problems)")
    }

    /// `POST /api/v1/custody/duties`: an officer records a duty after the inspection; a receiver may
    /// not; a bad sum is 422; R-REV lists it.
    @Test func anOfficerRecordsADutyAndRREVListsIt() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let store = try #require(f.archive.store as? any CustodyStore & CustodyDutyStore)
        let receipts = ReceiptService(store: store, now: { CustodyTime.millis("2019-06-18T08:00:00Z")! })
        _ = try await receipts.addLocation(code: "HOLD-1", name: "Holding", kind: .holding, secured: true, alarmed: true, cctvCovered: true, maxDwellHours: nil, actor: "sue")
        let item = Self.s10(50_000_047)
        _ = try await receipts.receive(item, location: "HOLD-1", station: nil, clientScanID: nil, manualEntry: false, actor: "rita")
        _ = try await InspectionService(store: store, now: { CustodyTime.millis("2019-06-18T09:00:00Z")! }).start(item, method: .manualOpen, location: nil, station: nil, clientScanID: nil, actor: "otto")
        _ = try await InspectionService(store: store, now: { CustodyTime.millis("2019-06-18T09:05:00Z")! }).end(
            item, result: .anomaly, found: "Undeclared jewellery", substance: nil, equipment: nil, station: nil, clientScanID: nil, actor: "otto")
        let otto = try await f.session("otto"), rita = try await f.session("rita")
        try await f.test { client in
            let body: [String: Any] = ["s10": item, "kind": "duty", "amount": "48.20", "entry": "ME-2019-0042"]
            #expect(try await Self.jsonPost(client, "/api/v1/custody/duties", as: rita, body).status == .forbidden)
            let bad = try await Self.jsonPost(client, "/api/v1/custody/duties", as: otto, body.merging(["amount": "48.205"]) { _, b in b })
            #expect(bad.status == .unprocessableContent && bad.errorCode == "VALUE_UNKNOWN", "\(bad.text)")
            let made = try await Self.jsonPost(client, "/api/v1/custody/duties", as: otto, body)
            #expect(try made.status == .created && made.json()["amount_minor"] as? Int == 4820, "\(made.text)")
            let twice = try await Self.jsonPost(client, "/api/v1/custody/duties", as: otto, body)
            #expect(twice.status == .forbidden, "\(twice.text)")
            let report = try await client.get("/api/v1/custody/reports/revenue?from=2019-06-18&to=2100-01-01", as: otto, json: true)
            #expect(report.status == .ok && report.text.contains("USD 48.20") && report.text.contains("\"other_assessments\":1"), "\(report.text)")
        }
        let verified = try await VerifyService(archive: f.archive).verify(actor: "dave")
        #expect(verified.ok, "\(verified.problems)")
    }

    /// AT2's API controls and the exam station's API: an end without a start, a start before the
    /// item arrived, a seizure without its violation or CF 6051S number are 422; a witnessed
    /// seizure, its SEACATS entry (PATCH, with the session's token) and the outcomes by type.
    @Test func anOfficerRecordsInspectionsSeizuresAndOutcomesThroughTheAPI() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let store = try #require(f.archive.store as? any CustodyStore & CustodyDutyStore)
        let receipts = ReceiptService(store: store)
        _ = try await receipts.addLocation(code: "HOLD-1", name: "Holding", kind: .holding, secured: true, alarmed: true, cctvCovered: true, maxDwellHours: nil, actor: "sue")
        _ = try await receipts.addLocation(code: "VAULT", name: "Vault", kind: .seizedProperty, secured: true, alarmed: true, cctvCovered: true, maxDwellHours: nil, actor: "sue")
        let (a, b, c) = (Self.s10(50_000_101), Self.s10(50_000_102), Self.s10(50_000_103))
        for item in [a, b, c] { _ = try await receipts.receive(item, location: "HOLD-1", station: nil, clientScanID: nil, manualEntry: false, actor: "rita") }
        let otto = try await f.session("otto"), rita = try await f.session("rita")
        try await f.test { client in
            func post(_ uri: String, _ body: [String: Any], as s: BrowserSession? = nil) async throws -> TestResponse {
                try await Self.jsonPost(client, uri, as: s ?? otto, body)
            }
            #expect(try await post("/api/v1/custody/inspections", ["s10": a, "event": "INSPECT_START", "method": "xray"], as: rita).status == .forbidden)
            let noStart = try await post("/api/v1/custody/inspections", ["s10": a, "event": "INSPECT_END", "result": "no_anomaly"])
            #expect(noStart.status == .unprocessableContent && noStart.errorCode == "REQUIRED_MISSING", "\(noStart.text)")
            // The station's clock says the inspection began an hour before the item arrived: refused.
            let early = try await post("/api/v1/custody/inspections", ["s10": a, "event": "INSPECT_START", "method": "xray",
                                                                      "client_ts": Timestamp.nowMillis() - 3_600_000])
            #expect(early.status == .unprocessableContent && early.errorCode == "DATE_ORDER", "\(early.text)")
            let longText = try await post("/api/v1/custody/inspections", ["s10": a, "event": "INSPECT_START", "method": "xray", "station": String(repeating: "S", count: 65)])
            #expect(longText.status == .unprocessableContent, "\(longText.text)")
            for item in [a, b, c] {
                let clientTime = Timestamp.nowMillis() + 1_000
                let started = try await post("/api/v1/custody/inspections", ["s10": item, "event": "INSPECT_START", "method": "xray", "station": "XR-1",
                                                                            "client_ts": clientTime])
                #expect(try started.status == .created && started.json()["type"] as? String == "INSPECT_START", "\(started.text)")
                // The event is at the server's time; the station's is kept beside it.
                #expect(try await store.custodyEvents(s10: item).last?.atMillis ?? 0 <= Timestamp.nowMillis())
                let ended = try await post("/api/v1/custody/inspections", ["s10": item, "event": "INSPECT_END", "result": "presumptive_positive",
                                                                          "found": "White powder", "equipment": "XR-1"])
                #expect(ended.status == .created, "\(ended.text)")
            }
            // A seizure without its violation, or without its CF 6051S number: 422.
            let seizure: [String: Any] = ["s10": a, "witness": "sue", "violation_type": "narcotics", "substance": "fentanyl", "net_weight_g": 12.5,
                                          "form_6051s": "2019-4601-000123", "storage_location": "VAULT"]
            for missing in ["violation_type", "form_6051s"] {
                var body = seizure
                body.removeValue(forKey: missing)
                let refused = try await post("/api/v1/custody/seizures", body)
                #expect(refused.status == .unprocessableContent && refused.errorCode == "REQUIRED_MISSING", "\(missing): \(refused.text)")
            }
            let unknownWitness = try await post("/api/v1/custody/seizures", seizure.merging(["witness": "nobody"]) { _, x in x })
            #expect(unknownWitness.status == .unprocessableContent && unknownWitness.errorCode == "WITNESS_REQUIRED", "\(unknownWitness.text)")
            let seized = try await post("/api/v1/custody/seizures", seizure)
            let id = try #require(try seized.json()["id"] as? Int, "\(seized.text)")
            #expect(seized.status == .created)
            // SEACATS by PATCH; without the session's token it is refused.
            let noToken = try await Self.jsonPost(client, "/api/v1/custody/seizures/\(id)/seacats", as: otto, ["case": "2019-4601-0001"], method: .patch, csrf: false)
            #expect(noToken.status == .forbidden, "\(noToken.text)")
            let entered = try await Self.jsonPost(client, "/api/v1/custody/seizures/\(id)/seacats", as: otto, ["case": "2019-4601-0001"], method: .patch)
            #expect(try entered.status == .ok && entered.json()["seacats_case"] as? String == "2019-4601-0001", "\(entered.text)")
            // Outcomes by type: one seized through /outcomes (its own form number), one assessed, one without a type.
            let viaOutcomes = try await post("/api/v1/custody/outcomes", seizure.merging(["s10": b, "type": "seized", "form_6051s": "2019-4601-000124"]) { _, x in x })
            #expect(viaOutcomes.status == .created, "\(viaOutcomes.text)")
            let noViolation = try await post("/api/v1/custody/outcomes", ["s10": c, "type": "seized", "witness": "sue", "form_6051s": "2019-4601-000125"])
            #expect(noViolation.status == .unprocessableContent && noViolation.errorCode == "REQUIRED_MISSING")
            let assessed = try await post("/api/v1/custody/outcomes", ["s10": c, "type": "duty_assessed", "kind": "fee", "amount": "9.10"])
            #expect(try assessed.status == .created && assessed.json()["amount_minor"] as? Int == 910, "\(assessed.text)")
            #expect(try await post("/api/v1/custody/outcomes", ["s10": c]).status == .unprocessableContent)
            let released = try await post("/api/v1/custody/outcomes", ["s10": c, "type": "released_to_carrier", "carrier": "USPS"])
            #expect(try released.status == .created && released.json()["type"] as? String == "RETURNED_TO_CARRIER", "\(released.text)")
        }
        #expect(try await store.inspections(s10: a).count == 1)
        #expect(try await store.seizures(seizedFrom: Int64.min, to: Int64.max).map(\.s10).sorted() == [a, b].sorted())
        let verified = try await VerifyService(archive: f.archive).verify(actor: "dave")
        #expect(verified.ok, "\(verified.problems)")
    }

    /// INSPECT mode through the scans API: the first scan of an item starts its inspection, the
    /// next ends it with the station's result; a batch keeps its order (receive, start, end); a
    /// scan id sent again is answered with what it recorded; a receiver cannot inspect.
    @Test func inspectScansStartAndEndInspectionsInOrder() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let store = try #require(f.archive.store as? any CustodyStore)
        let receipts = ReceiptService(store: store)
        _ = try await receipts.addLocation(code: "RCV-1", name: "Dock", kind: .receiving, secured: true, alarmed: true, cctvCovered: true, maxDwellHours: nil, actor: "sue")
        _ = try await receipts.addLocation(code: "EXAM-1", name: "Exam", kind: .examStation, secured: true, alarmed: true, cctvCovered: true, maxDwellHours: nil, actor: "sue")
        let (a, b) = (Self.s10(50_000_201), Self.s10(50_000_202))
        let otto = try await f.session("otto"), rita = try await f.session("rita")
        try await f.test { client in
            func scans(_ list: [[String: Any]], as s: BrowserSession) async throws -> [[String: Any]] {
                let r = try await Self.jsonPost(client, "/api/v1/custody/scans", as: s, ["station": "EX-1", "scans": list])
                return try #require(try r.json()["results"] as? [[String: Any]], "\(r.text)")
            }
            let inspect: (String, String) -> [String: Any] = { item, id in ["s10": item, "action": "inspect", "location": "EXAM-1", "method": "xray", "client_scan_id": id] }
            let first = try await scans([["s10": a, "action": "receive", "location": "RCV-1", "client_scan_id": "r-a"], inspect(a, "s-a"),
                                         inspect(a, "e-a").merging(["result": "anomaly", "found": "Tablets in foil"]) { _, x in x }], as: otto)
            #expect(first.map { $0["status"] as? String } == ["recorded", "recorded", "recorded"], "\(first)")
            #expect((first[1]["message"] as? String)?.hasPrefix("INSPECTION STARTED (xray) at EXAM-1") == true)
            #expect(first[2]["signal"] as? String == "amber" && (first[2]["message"] as? String)?.contains("anomaly – Tablets in foil") == true, "\(first[2])")
            // Sent again (a lost answer): what each recorded, nothing new.
            let again = try await scans([inspect(a, "s-a"), inspect(a, "e-a")], as: otto)
            #expect(again.map { $0["status"] as? String } == ["repeated", "repeated"], "\(again)")
            // An end needs what was found unless no anomaly; a receiver does not inspect.
            _ = try await scans([["s10": b, "action": "receive", "location": "RCV-1", "client_scan_id": "r-b"], inspect(b, "s-b")], as: otto)
            let noFound = try await scans([inspect(b, "e-b").merging(["result": "alert"]) { _, x in x }], as: otto)
            #expect(noFound[0]["code"] as? String == "REQUIRED_MISSING", "\(noFound)")
            let byReceiver = try await scans([inspect(b, "e-b2")], as: rita)
            #expect(byReceiver[0]["code"] as? String == "FORBIDDEN" && byReceiver[0]["signal"] as? String == "red")
            // A custody supervisor may end an officer's inspection.
            let sue = try await f.session("sue")
            let ended = try await scans([inspect(b, "e-b3")], as: sue)
            #expect(ended[0]["signal"] as? String == "green" && (ended[0]["message"] as? String)?.contains("no anomaly") == true, "\(ended)")
            // A start that carried a result: amber, the result not used; a scan id of another scan: refused.
            let carried = try await scans([inspect(b, "s-b2").merging(["result": "anomaly", "found": "x"]) { _, x in x }], as: otto)
            #expect(carried[0]["signal"] as? String == "amber" && (carried[0]["message"] as? String)?.contains("were not used") == true, "\(carried)")
            let reused = try await scans([inspect(b, "r-b")], as: otto)
            #expect(reused[0]["code"] as? String == "SCAN_ID_REUSED", "\(reused)")
            let otherItems = try await scans([inspect(b, "e-a")], as: otto)
            #expect(otherItems[0]["code"] as? String == "SCAN_ID_REUSED", "\(otherItems)")
            let page = try await client.get("/custody/scan?mode=inspect&location=EXAM-1&method=canine", as: otto)
            #expect(page.text.contains("INSPECT (canine) at EXAM-1") && page.text.contains("id=\"result\"") && page.text.contains("data-method=\"canine\""))
        }
        #expect(try await store.inspections(s10: a).map(\.result) == ["anomaly"])
        #expect(try await store.inspections(s10: b).map(\.result) == ["no_anomaly"])
        #expect(try await store.inspections(s10: b).map(\.officer) == ["sue"])
        #expect(try await store.custodyEvents(s10: a).map(\.type) == ["RECEIVED", "INSPECT_START", "INSPECT_END"])
    }

    /// AT6 in the browser: the notice clerk's pages. The queue lists the detention; the clerk
    /// records the notice through a form; the particulars stay masked until the clerk names why
    /// (the read audited with that purpose); an officer sees them masked; the answer is recorded
    /// through a form; receivers and officers cannot post either form.
    @Test func aNoticeClerkWorksTheQueueInTheBrowser() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let store = try #require(f.archive.store as? any CustodyStore & CustodyPrivacyStore)
        _ = try await ReceiptService(store: store).addLocation(code: "HOLD-1", name: "Holding", kind: .holding, secured: true, alarmed: true, cctvCovered: true,
                                                               maxDwellHours: nil, actor: "sue")
        let item = Self.s10(50_000_401)
        _ = try await ReceiptService(store: store).receive(item, location: "HOLD-1", station: nil, clientScanID: nil, manualEntry: false, actor: "rita")
        _ = try await InspectionService(store: store).start(item, method: .xray, location: nil, station: nil, clientScanID: nil, actor: "otto")
        _ = try await InspectionService(store: store).end(item, result: .anomaly, found: "Tablets", substance: nil, equipment: nil, station: nil, clientScanID: nil, actor: "otto")
        let d = try await DetentionService(store: store, keyFile: AddresseeKey.location(dataDirectory: f.archive.directory.url))
            .detain(item, violation: "prohibited", reason: "personal_use_prohibited", contents: "medicine", actor: "otto")
        let nina = try await f.session("nina"), otto = try await f.session("otto"), rita = try await f.session("rita")
        try await f.test { client in
            let queue = try await client.get("/custody/detentions", as: nina)
            #expect(queue.status == .ok && queue.text.contains(item) && queue.text.contains("notice not sent"), "\(queue.text)")
            #expect(try await client.get("/custody/detentions", as: rita).status == .forbidden)
            let page = try await client.get("/custody/detentions/\(d.id)", as: nina)
            #expect(page.text.contains("Send the notice") && page.text.contains("No particulars are held"))
            let form: [(String, String)] = [("name", "Jane <b>Q.</b> Addressee"), ("address", "1400 Example Avenue\nSpringfield, IL"), ("postcode", "62704"),
                                            ("answer_days", "30")]
            #expect(try await client.post("/custody/detentions/\(d.id)/notice", as: otto, form: form).status == .forbidden)
            // The letter is shown once, in the answer to the form.
            let sent = try await client.post("/custody/detentions/\(d.id)/notice", as: nina, form: form)
            #expect(sent.status == .ok && sent.text.contains("Notice recorded") && sent.text.contains("The notice to send") && sent.text.contains("1400 Example Avenue"),
                    "\(sent.status) \(sent.text)")
            // Opening the page (even with a purpose in the address) reads nothing: the reveal is a form.
            let masked = try await client.get("/custody/detentions/\(d.id)?purpose=notice", as: nina)
            #expect(masked.text.contains("Show the particulars") && !masked.text.contains("Example Avenue"))
            let noPurpose = try await client.post("/custody/detentions/\(d.id)/particulars", as: nina, form: [], json: true)
            #expect(noPurpose.status == .unprocessableContent, "\(noPurpose.text)")
            let shown = try await client.post("/custody/detentions/\(d.id)/particulars", as: nina, form: [("purpose", "notice")])
            #expect(shown.text.contains("Jane &lt;b&gt;Q.&lt;/b&gt; Addressee") && shown.text.contains("1400 Example Avenue") && shown.text.contains("62704"), "\(shown.text)")
            #expect(try await client.post("/custody/detentions/\(d.id)/particulars", as: otto, form: [("purpose", "notice")]).status == .forbidden)
            let officer = try await client.get("/custody/detentions/\(d.id)", as: otto)
            #expect(officer.status == .ok && !officer.text.contains("Example Avenue") && officer.text.contains("masked for your role"))
            let answered = try await client.post("/custody/detentions/\(d.id)/response", as: nina, form: [("response", "petition")])
            #expect(answered.status == .seeOther)
            #expect(try await client.get("/custody/detentions/\(d.id)", as: nina).text.contains("<dd>petition</dd>"))
        }
        let reads = try await f.archive.store.auditEntries(AuditFilter(action: "custody.pii.read", limit: 10))
        #expect(reads.map(\.actor) == ["nina"] && reads.first?.detail.contains("notice") == true, "\(reads)")
    }
}
