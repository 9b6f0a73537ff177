import Archive
import Custody
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Recordkeeper
import RecordkeeperCore

/// Custody of physical items on the web (issue 15): the scan station, the reconciliation
/// reports as pages, CSV and JSON from one run, and the JSON API a station or a script uses.
extension WebApp {
    static let custodyScanners: Access = .roles([.receiver, .custodyOfficer, .custodySupervisor])
    static let custodyReaders: Access = .roles([.targeter, .receiver, .custodyOfficer, .custodySupervisor, .auditor])
    static let custodyReporters: Access = .roles([.targeter, .custodyOfficer, .custodySupervisor, .auditor])

    var custodyStore: any CustodyStore {
        get throws {
            guard let s = archive.store as? any CustodyStore else { throw ArchiveError(.invalid, "this archive's store does not keep custody records") }
            return s
        }
    }

    struct AlertsAnswer: Encodable {
        var asOf: String
        var alerts: [CustodyAlert]
    }

    /// The alerts of a moment at most a minute ago (`CustodyAlertBoard`).
    func recentAlerts() async throws -> CustodyAlertBoard.Snapshot {
        let store = try custodyStore
        return try await alertBoard.current { at in try await AlertService(store: store).alerts(asOf: at) }
    }

    func addCustodyRoutes(_ r: RouteBuilder) {
        r.add(.get, "/custody", Self.custodyReaders, "Custody: the scan station and the reconciliation reports") { input in
            let p = try input.user
            let board = try await self.recentAlerts()
            return Respond.html(self.custodyIndexPage(p, locations: try await self.custodyStore.locations(), alerts: board.alerts,
                                                      alertsAsOf: board.asOfMillis))
        }
        r.add(.get, "/custody/scan", Self.custodyScanners, "Scan station (receive, move, audit, return) for keyboard-wedge scanners") { input in
            let p = try input.user
            return Respond.html(self.scanStationPage(p, query: input.query, locations: try await self.custodyStore.locations()))
        }
        r.add(.get, "/static/scan.js", .open, "Scan station script") { _ in
            StaticFiles.response(ScanStationScript.js, type: "text/javascript; charset=utf-8")
        }
        r.add(.get, "/custody/reports/:report", Self.custodyReporters, "A reconciliation report as a page (from, to, as_of, day, hours, grace)", limited: true) { input in
            let p = try input.user
            let request = try Self.reportRequest(input)
            let table = try await CustodyReports(store: try self.custodyStore).run(request).table
            try await self.archive.store.appendReadAudit(AuditDraft(actor: p.actor, action: "custody.report.view", target: "custody-report:\(request.id.rawValue)",
                                                                detail: ["query": input.request.uri.query ?? "", "via": "web"]))
            return Respond.html(self.custodyReportPage(p, request: request, table: table, query: input.request.uri.query ?? ""))
        }
        r.add(.get, "/api/v1/custody/reports/:report", Self.custodyReporters, "A reconciliation report as JSON, or CSV with format=csv", limited: true) { input in
            let p = try input.user
            let request = try Self.reportRequest(input)
            let run = try await CustodyReports(store: try self.custodyStore).run(request)
            let csv = input.query["format"] == "csv"
            try await self.archive.store.appendReadAudit(AuditDraft(actor: p.actor, action: "custody.report.view", target: "custody-report:\(request.id.rawValue)",
                                                                detail: ["query": input.request.uri.query ?? "", "via": csv ? "csv" : "api"]))
            if csv {
                return Respond.bytes(Data(run.table.csv.utf8), contentType: "text/csv; charset=utf-8",
                                     disposition: "attachment; filename=\"\(request.id.rawValue).csv\"")
            }
            struct Out: Encodable {
                var report: String
                var title: String
                var figures: [ReportTable.Figure]
                var result: AnyEncodable
            }
            return try Respond.json(Out(report: request.id.rawValue, title: run.table.title, figures: run.table.figures, result: AnyEncodable(run.report)))
        }
        r.add(.get, "/api/v1/custody/alerts", Self.custodyReaders, "What needs acting on now: SEACATS clocks (+12/+20/+24 h), targets past their grace, items held too long, container counts") { input in
            _ = try input.user
            let asked = try input.query["as_of"].map { text -> Int64 in
                guard let t = CustodyTime.millis(text) else { throw ArchiveError(.invalid, "DATE_INVALID: as_of=\(text) is not an ISO 8601 time with a zone") }
                return t
            }
            let board: CustodyAlertBoard.Snapshot
            if let asked {
                board = CustodyAlertBoard.Snapshot(asOfMillis: asked, alerts: try await AlertService(store: try self.custodyStore).alerts(asOf: asked))
            } else {
                board = try await self.recentAlerts()
            }
            return try Respond.json(AlertsAnswer(asOf: Timestamp.iso(millis: board.asOfMillis), alerts: board.alerts))
        }
        r.add(.post, "/api/v1/custody/scans", Self.custodyScanners,
              "Record a batch of scans (JSON: station, scans[]: s10, action, location, container, agency, carrier, supervisor, reason, witness, client_scan_id, client_ts, manual_entry)") { input in
            let p = try input.user
            // Only a JSON body is read here (a form body was read by the route builder already).
            guard (input.request.headers[.contentType] ?? "").lowercased().hasPrefix("application/json") else {
                throw WebError.badRequest("send the scans as JSON (Content-Type: application/json)")
            }
            let body = try await input.request.body.collect(upTo: 4 << 20)
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let batch: ScanBatchJSON
            do { batch = try decoder.decode(ScanBatchJSON.self, from: Data(body.readableBytesView)) } catch {
                throw WebError.badRequest("the body is not a batch of scans (JSON: {\"scans\": [{\"s10\": …, \"action\": \"receive\", …}]})")
            }
            let results = try await self.recordScans(batch, user: p.user, actor: p.actor)
            return try Respond.json(["results": results])
        }
        r.add(.post, "/api/v1/custody/containers", .roles([.receiver, .custodySupervisor]),
              "Open a container handed over, or with direction=out a return batch (JSON: container, carrier, seal, declared, presented_by, badge, location, station, direction)") { input in
            let p = try input.user
            let f = try await self.apiForm(input)
            guard let declared = f["declared"].flatMap(Int.init) else { throw ArchiveError(.invalid, "REQUIRED_MISSING: declared (the count the carrier declares)") }
            let opened = try await ScanService(store: try self.custodyStore).openContainer(
                f["container"] ?? "", carrier: f["carrier"] ?? "USPS", seal: f["seal"], declared: declared, presentedBy: f["presented_by"] ?? "",
                badge: f["badge"], location: f["location"] ?? "", station: f["station"], direction: (f["direction"] ?? "in").lowercased(), actor: p.actor)
            return try Respond.json(opened, status: .created)
        }
        r.add(.post, "/api/v1/custody/containers/:id/close", .roles([.receiver, .custodySupervisor]),
              "Close a container: scanned against declared; a difference needs a note (JSON: note)") { input in
            let p = try input.user
            let f = try await self.apiForm(input)
            return try Respond.json(try await ScanService(store: try self.custodyStore).closeContainer(try input.id(), note: f["note"], actor: p.actor))
        }
        r.add(.post, "/api/v1/custody/seizures/:id/correct", .roles([.custodySupervisor]),
              "A custody supervisor corrects a seizure's time, with a reason (JSON: seized_at, reason); the old and new times go to the audit log") { input in
            let p = try input.user
            let f = try await self.apiForm(input)
            guard let text = f["seized_at"], let at = CustodyTime.millis(text) else {
                throw ArchiveError(.invalid, "REQUIRED_MISSING: seized_at (ISO 8601 with a zone)")
            }
            let c = try await SeizureService(store: try self.custodyStore).correctSeizedAt(try input.id(), to: at, reason: f["reason"] ?? "", actor: p.actor,
                                                                                         directory: self.archive.store)
            return try Respond.json(c)
        }
        r.add(.get, "/api/v1/custody/items/:s10", Self.custodyReaders, "An item's custody chain: targets, events with their hashes, inspections") { input in
            let p = try input.user
            let text = input.context.parameters.get("s10") ?? ""
            guard case .success(let s10) = S10.parse(text) else { throw ArchiveError(.invalid, "S10_FORMAT: \(text) is not an S10 identifier") }
            let store = try self.custodyStore
            struct Out: Encodable {
                var s10: String
                var targets: [StoredTarget]
                var events: [StoredCustodyEvent]
                var inspections: [StoredInspection]
            }
            let out = Out(s10: s10.value, targets: try await store.targets(s10: s10.value), events: try await store.custodyEvents(s10: s10.value),
                          inspections: try await store.inspections(s10: s10.value))
            try await self.archive.store.appendReadAudit(AuditDraft(actor: p.actor, action: "custody.item.view", target: "custody-s10:\(s10.value)",
                                                                detail: ["via": "api"]))
            return try Respond.json(out)
        }
    }

    /// A report's parameters from the query: `from`/`to` (ISO 8601 instants or dates), `as_of`
    /// (default now), `day` for the balance, `hours` for aging, `grace` for not-presented.
    static func reportRequest(_ input: Input, name fixed: String? = nil) throws -> CustodyReportRequest {
        let name = fixed ?? input.context.parameters.get("report") ?? ""
        guard let id = CustodyReportID(rawValue: name) else {
            throw ArchiveError(.notFound, "no report \(name); the reports are \(CustodyReportID.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        func instant(_ key: String) throws -> Int64? {
            guard let text = input.query[key] else { return nil }
            if let t = CustodyTime.millis(text) { return t }
            if let d = CivilDate(text) { return Int64(d.dayNumber) * 86_400_000 }
            throw ArchiveError(.invalid, "DATE_INVALID: \(key)=\(text) is not a date (YYYY-MM-DD) or an ISO 8601 time with a zone")
        }
        let asOf = try instant("as_of") ?? Timestamp.nowMillis()
        func int(_ key: String, _ fallback: Int) throws -> Int {
            guard let text = input.query[key] else { return fallback }
            guard let v = Int(text), (0...87_600).contains(v) else {
                throw ArchiveError(.invalid, "VALUE_UNKNOWN: \(key)=\(text) is not a number of hours from 0 to 87,600")
            }
            return v
        }
        if id.isDaily {
            guard let day = try instant("day") ?? instant("from") else { throw ArchiveError(.invalid, "REQUIRED_MISSING: day=YYYY-MM-DD") }
            let start = day - day.floorMod(86_400_000)
            return CustodyReportRequest(id: id, from: start, to: start + 86_400_000, asOf: asOf)
        }
        guard let from = try instant("from") else { throw ArchiveError(.invalid, "REQUIRED_MISSING: from (the period's start)") }
        let to = try instant("to") ?? from + 86_400_000
        guard from < to else { throw ArchiveError(.invalid, "DATE_ORDER: from is not before to") }
        return CustodyReportRequest(id: id, from: from, to: to, asOf: asOf, hours: max(1, try int("hours", 72)), graceHours: try int("grace", 48))
    }

    /// Records a station's batch: each scan answered on its own with the signal the station shows.
    func recordScans(_ batch: ScanBatchJSON, user: UserAccount, actor: String) async throws -> [ScanResultJSON] {
        guard batch.scans.count <= ScanService.batchLimit else {
            throw ArchiveError(.invalid, "VALUE_UNKNOWN: at most \(ScanService.batchLimit) scans in one batch (\(batch.scans.count) sent)")
        }
        let store = try custodyStore
        var results = [ScanResultJSON?](repeating: nil, count: batch.scans.count)
        // Scans between two inspect scans go to the store as one batch; an inspect scan is an
        // inspection's start or end, recorded on its own, in the order the station sent them.
        var requests: [(Int, ScanService.Request)] = []
        func send() async throws {
            guard !requests.isEmpty else { return }
            let outcomes = try await ScanService(store: store, directory: archive.store).record(requests.map(\.1), actor: actor)
            for ((i, _), outcome) in zip(requests, outcomes) {
                let s = batch.scans[i]
                var result = ScanResultJSON(s, outcome: outcome)
                if s.action == "receive", let e = outcome.event, result.status != "duplicate" {
                    let rules = try await store.targets(s10: e.s10).map { "\($0.ruleCode) v\($0.ruleVersion)" }
                    result.targets = rules
                    result.signal = rules.isEmpty ? "blue" : "green"
                    result.message = rules.isEmpty ? "Not targeted (received at \(e.toLocation ?? "?"))" : "TARGET – rule \(rules.joined(separator: ", ")) → exam queue"
                    if result.status == "repeated" { result.message += " (recorded before)" }
                }
                results[i] = result
            }
            requests = []
        }
        for (i, s) in batch.scans.enumerated() {
            if s.action == "inspect" {
                try await send()
                results[i] = try await inspectScan(s, station: s.station ?? batch.station, user: user, actor: actor, store: store)
                continue
            }
            switch s.request(station: batch.station) {
            case .success(let r): requests.append((i, r))
            case .failure(let refusal): results[i] = ScanResultJSON(s, refused: refusal)
            }
        }
        try await send()
        return results.map { $0! }
    }

    /// An INSPECT-mode scan: it starts the item's inspection, or ends the open one with the
    /// station's result. A scan id seen before is answered with what it recorded. Only the
    /// officer who started an inspection (or a custody supervisor) ends it; a start that carried a
    /// result or a finding says they were not used.
    func inspectScan(_ s: ScanBatchJSON.Scan, station: String?, user: UserAccount, actor: String, store: any CustodyStore) async throws -> ScanResultJSON {
        func refused(_ code: String, _ message: String) -> ScanResultJSON { ScanResultJSON(s, refused: ScanRefusal(code, message)) }
        func clip(_ v: String?) -> String { String((v ?? "").prefix(40)) }
        guard user.has(.custodyOfficer) || user.has(.custodySupervisor) else {
            return refused("FORBIDDEN", "an inspection is recorded by a custody officer or supervisor")
        }
        guard case .success(let id) = S10.parse(s.s10) else { return refused("S10_FORMAT", "\(clip(s.s10)) is not an S10 identifier") }
        let events = try await store.custodyEvents(s10: id.value)
        if let scanID = s.clientScanId, let seen = events.first(where: { $0.clientScanID == scanID }) {
            guard seen.type == "INSPECT_START" || seen.type == "INSPECT_END" else {
                return refused("SCAN_ID_REUSED", "scan id \(clip(scanID)) was used for another scan (\(seen.type) of \(seen.s10))")
            }
            return ScanResultJSON(s, outcome: .repeated(seen))
        }
        // The open episode's events only (an earlier episode's are history).
        let episode = events.filter { $0.itemID == events.last?.itemID }
        let lastInspection = episode.last { $0.type == "INSPECT_START" || $0.type == "INSPECT_END" }
        let service = InspectionService(store: store)
        do {
            if let started = lastInspection, started.type == "INSPECT_START" {
                guard started.actor.lowercased() == actor.lowercased() || user.has(.custodySupervisor) else {
                    return refused("INSPECTION_OPEN", "\(id.value)'s inspection was started by \(started.actor); they (or a custody supervisor) end it")
                }
                guard let result = InspectionService.Result(rawValue: (s.result ?? "no_anomaly").lowercased()) else {
                    return refused("VALUE_UNKNOWN", "result \(clip(s.result)) is not one of \(InspectionService.Result.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let i = try await service.end(id.value, result: result, found: s.found, substance: nil, equipment: nil, station: station,
                                              clientScanID: s.clientScanId, clientTimestamp: s.clientTs, actor: actor)
                var out = ScanResultJSON(s, status: "recorded", signal: i.result == "no_anomaly" ? "green" : "amber",
                                         message: "INSPECTED (\(i.method), \(Int((i.endedAtMillis - i.startedAtMillis) / 60_000)) min): \(i.result.replacingOccurrences(of: "_", with: " "))"
                                             + (i.actualDescription.map { " – \($0)" } ?? "") + (i.result == "no_anomaly" ? "" : " → an outcome is due"))
                out.s10 = id.value
                return out
            }
            guard let method = InspectionService.Method(rawValue: (s.method ?? "xray").lowercased()), method != .lab else {
                return refused("VALUE_UNKNOWN", "method \(clip(s.method)) is not one of xray, canine, manual_open, field_analyzer")
            }
            let e = try await service.start(id.value, method: method, location: s.location, station: station, clientScanID: s.clientScanId,
                                            clientTimestamp: s.clientTs, actor: actor)
            var out = ScanResultJSON(s, outcome: .recorded(e))
            out.message = "INSPECTION STARTED (\(method.rawValue))\(e.toLocation.map { " at \($0)" } ?? ""): scan again to end it"
            // A result or finding sent with a scan that started an inspection was meant for an end: say it was not used.
            if (s.result.map { $0.lowercased() != "no_anomaly" } ?? false) || !(s.found ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                out.signal = "amber"
                out.message += " (no inspection was open, so the result and finding sent with it were not used)"
            }
            return out
        } catch let error as ArchiveError {
            return refused(String(error.message.prefix { $0.isUppercase || $0 == "_" }).nonEmpty ?? error.code.rawValue.uppercased(), error.message)
        } catch let error as CustodyError {
            return refused(String(error.message.prefix { $0.isUppercase || $0 == "_" }).nonEmpty ?? error.code.rawValue.uppercased(), error.message)
        }
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}

struct ScanBatchJSON: Decodable {
    struct Scan: Decodable {
        var s10: String
        /// receive, move, audit, to_lab, from_lab, to_agency, return, inspect
        var action: String
        var location: String?
        var container: Int64?
        var agency: String?
        var carrier: String?
        var supervisor: String?
        var reason: String?
        var witness: String?
        var station: String?
        var clientScanId: String?
        var clientTs: Int64?
        var manualEntry: Bool?
        /// inspect: the method of a start, the result and what was found of an end.
        var method: String?
        var result: String?
        var found: String?

        func request(station fallback: String?) -> Result<ScanService.Request, ScanRefusal> {
            func need(_ v: String?, _ what: String) -> Result<String, ScanRefusal> {
                guard let v, !v.trimmingCharacters(in: .whitespaces).isEmpty else { return .failure(ScanRefusal("REQUIRED_MISSING", "\(what) (for \(action))")) }
                return .success(v)
            }
            let act: Result<CustodyScan.Action, ScanRefusal> = switch action {
            case "receive": need(location, "location").map { .receive(location: $0, presentation: container) }
            case "move": need(location, "location").map { .move(to: $0) }
            case "audit": need(location, "location").map { .audit(at: $0) }
            case "to_lab": need(location, "location (the lab)").map { .toLab(lab: $0) }
            case "from_lab": need(location, "location").map { .fromLab(to: $0) }
            case "to_agency": need(agency, "agency").map { .toAgency(agency: $0) }
            case "return": need(carrier, "carrier").map { .returnToCarrier(carrier: $0, supervisor: supervisor, reason: reason, batch: container) }
            default: .failure(ScanRefusal("VALUE_UNKNOWN", "action \(action) is not one of receive, move, audit, to_lab, from_lab, to_agency, return, inspect"))
            }
            return act.map {
                ScanService.Request(text: s10, action: $0, witness: witness, station: station ?? fallback, clientScanID: clientScanId, clientTimestampMillis: clientTs,
                                    manualEntry: manualEntry ?? false)
            }
        }
    }
    var station: String?
    var scans: [Scan]
}

/// One scan's answer: `status` recorded, repeated (this scan id was recorded before), duplicate
/// (the item is in custody already) or refused; `signal` the colour the station shows.
struct ScanResultJSON: Encodable {
    var clientScanId: String?
    var s10: String
    var status: String
    var signal: String
    var code: String?
    var message: String
    var event: StoredCustodyEvent?
    var targets: [String] = []

    init(_ s: ScanBatchJSON.Scan, status: String, signal: String, message: String) {
        clientScanId = s.clientScanId
        s10 = s.s10
        self.status = status
        self.signal = signal
        self.message = message
    }

    init(_ s: ScanBatchJSON.Scan, refused r: ScanRefusal) {
        clientScanId = s.clientScanId
        s10 = s.s10
        status = "refused"
        signal = "red"
        code = r.code
        message = r.message
    }

    init(_ s: ScanBatchJSON.Scan, outcome: ScanOutcome) {
        clientScanId = s.clientScanId
        s10 = s.s10
        switch outcome {
        case .recorded(let e), .repeated(let e):
            if case .repeated = outcome { status = "repeated" } else { status = "recorded" }
            signal = "green"
            event = e
            s10 = e.s10
            message = "\(e.type.replacingOccurrences(of: "_", with: " "))\(e.toLocation.map { " at \($0)" } ?? "")"
        case .alreadyInCustody(let e):
            status = "duplicate"
            event = e
            s10 = e.s10
            let time = Timestamp.iso(millis: e.atMillis)
            signal = "amber"
            code = "DUPLICATE"
            message = "Already in custody: \(e.type.replacingOccurrences(of: "_", with: " ")) at \(e.toLocation ?? "?") by \(e.actor), \(time.dropFirst(11).prefix(5)) UTC on \(time.prefix(10))"
        case .refused(let r):
            status = "refused"
            signal = "red"
            code = r.code
            message = r.message
        }
    }
}

/// Encodes whatever report a run returned.
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

extension Int64 {
    func floorMod(_ d: Int64) -> Int64 { let r = self % d; return r >= 0 ? r : r + d }
}
