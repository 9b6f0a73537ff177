import Archive
import Crypto
import Custody
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Recordkeeper
import RecordkeeperCore
import RecordkeeperWeb
import Testing

/// Custody alerts pushed to a webhook (CUSTODY.md §3, P4), received by a real HTTP server: each
/// alert once per severity (the SEACATS clock escalating is a new push), signed, recorded in the
/// audit log, and tried again when the receiver refuses it.
@Suite("Custody alerts pushed to a webhook", .serialized)
struct AlertPushTests {
    actor Receiver {
        var bodies: [(signature: String?, body: Data)] = []
        var status: HTTPResponse.Status = .noContent
        func record(_ signature: String?, _ body: Data) -> HTTPResponse.Status { bodies.append((signature, body)); return status }
        func set(_ s: HTTPResponse.Status) { status = s }
        func all() -> [(signature: String?, body: Data)] { bodies }
    }

    @Test func aSeizuresClockIsPushedOncePerEscalationSignedAndRetriedWhenRefused() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let store = try #require(f.archive.store as? any CustodyStore)
        @Sendable func at(_ iso: String) -> @Sendable () -> Int64 { { CustodyTime.millis(iso)! } }
        let receipts = ReceiptService(store: store, now: at("2019-06-18T08:00:00Z"))
        _ = try await receipts.addLocation(code: "RCV-1", name: "Receiving", kind: .receiving, secured: true, alarmed: true, cctvCovered: true, maxDwellHours: nil, actor: "sue")
        _ = try await receipts.addLocation(code: "VAULT", name: "Vault", kind: .seizedProperty, secured: true, alarmed: true, cctvCovered: true, maxDwellHours: nil, actor: "sue")
        let item = CustodyWebTests.s10(50_000_041)
        _ = try await receipts.receive(item, location: "RCV-1", station: nil, clientScanID: nil, manualEntry: false, actor: "rita")
        _ = try await InspectionService(store: store, now: at("2019-06-18T09:00:00Z")).start(item, method: .xray, location: nil, station: nil, clientScanID: nil, actor: "otto")
        _ = try await InspectionService(store: store, now: at("2019-06-18T09:05:00Z")).end(item, result: .anomaly, found: "Powder", substance: nil, equipment: nil,
                                                                                        station: nil, clientScanID: nil, actor: "otto")
        _ = try await SeizureService(store: store, now: at("2019-06-18T10:00:00Z")).seize(item, witness: "sue", violation: .narcotics, substance: "powder",
                                                                                       netWeightGrams: 3, form6051S: "2019-4601-000901", storageLocation: "VAULT", actor: "otto")

        let receiver = Receiver()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            return Response(status: await receiver.record(request.headers[HTTPField.Name("X-Recordkeeper-Signature")!], Data(body.readableBytesView)))
        }
        let hook = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await hook.test(.live) { client in
            let url = URL(string: "http://127.0.0.1:\(try #require(client.port))/hook")!
            func push(_ iso: String) -> CustodyAlertPush { CustodyAlertPush(archive: f.archive, webhook: url, secret: "s3cret", now: at(iso)) }

            // +11 h: nothing to say. +13 h: the seizing officer's warning, once.
            #expect(try await push("2019-06-18T21:00:00Z").pass() == (0, 0))
            #expect(try await push("2019-06-18T23:00:00Z").pass() == (1, 0))
            #expect(try await push("2019-06-18T23:00:30Z").pass() == (0, 0))
            // +21 h: the receiver is down; the supervisor's alert is not recorded as sent, and goes out once it is back.
            await receiver.set(.internalServerError)
            #expect(try await push("2019-06-19T07:00:00Z").pass() == (0, 1))
            await receiver.set(.ok)
            #expect(try await push("2019-06-19T07:00:30Z").pass() == (1, 0))
            // +25 h: the port director's.
            #expect(try await push("2019-06-19T11:00:00Z").pass() == (1, 0))
        }
        let got = await receiver.all()
        #expect(got.count == 4) // one of them refused
        var severities: [String] = []
        for (signature, body) in got {
            let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data("s3cret".utf8)))
            #expect(signature == "sha256=" + Data(mac).map { String(format: "%02x", $0) }.joined())
            let json = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            let alert = try #require(json["alert"] as? [String: Any])
            #expect(alert["kind"] as? String == "seacats" && alert["s10"] as? String == item)
            severities.append(alert["severity"] as? String ?? "")
        }
        #expect(severities == ["warning", "high", "high", "critical"])
        let sent = try await f.archive.store.auditEntries(AuditFilter(action: "custody.alert.push")).map(\.target)
        #expect(sent.count == 3 && sent.allSatisfy { $0.hasPrefix("custody-alert:seacats|seizure ") })
    }
}
