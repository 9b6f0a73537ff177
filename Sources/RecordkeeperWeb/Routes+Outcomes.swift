import Archive
import Custody
import Foundation
import Hummingbird
import Recordkeeper
import RecordkeeperCore

/// Inspections, seizures, SEACATS entries and outcomes on the API (CUSTODY.md §8): what an officer
/// records at the exam station, with the same controls as the CLI (AT2: an end without a start,
/// a start before the item arrived, a seizure without its violation or CF 6051S number are 422).
extension WebApp {
    static let outcomeRecorders: Access = .roles([.custodyOfficer, .custodySupervisor])

    /// A station's time from field `name` (milliseconds since the epoch, as scans send it, or
    /// ISO 8601 with a zone), or nil when absent.
    static func time(_ f: Form, _ name: String) throws -> Int64? {
        guard let text = f[name], !text.isEmpty else { return nil }
        guard let t = Int64(text) ?? CustodyTime.millis(text) else {
            throw ArchiveError(.invalid, "DATE_INVALID: \(name)=\(text) is not a time (milliseconds since 1970, or ISO 8601 with a zone)")
        }
        return t
    }

    func recordSeizure(_ f: Form, actor: String) async throws -> StoredSeizure {
        guard let text = f["violation_type"], !text.isEmpty else { throw ArchiveError(.invalid, "REQUIRED_MISSING: violation_type (a seizure's violation)") }
        guard let violation = SeizureService.Violation(rawValue: text.lowercased()) else {
            throw ArchiveError(.invalid, "VALUE_UNKNOWN: violation_type \(text) is not one of \(SeizureService.Violation.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let form = f["form_6051s"], !form.isEmpty else { throw ArchiveError(.invalid, "REQUIRED_MISSING: form_6051s (the CF 6051S number)") }
        guard let weight = f["net_weight_g"].flatMap(Double.init) else { throw ArchiveError(.invalid, "REQUIRED_MISSING: net_weight_g (grams)") }
        return try await SeizureService(store: try custodyStore).seize(f["s10"] ?? "", witness: f["witness"] ?? "", violation: violation,
                                                                      substance: f["substance"] ?? "", netWeightGrams: weight, form6051S: form,
                                                                      storageLocation: f["storage_location"] ?? "", actor: actor, directory: archive.store)
    }

    func addOutcomeRoutes(_ r: RouteBuilder) {
        r.add(.post, "/api/v1/custody/inspections", Self.outcomeRecorders,
              "Record an inspection's start or end at the server's time (JSON: s10, event INSPECT_START|INSPECT_END; start: method, location, station; end: result, found, substance, equipment; either: client_scan_id, client_ts (the station's time, kept beside it))") { input in
            let p = try input.user
            let f = try await self.apiForm(input)
            let service = InspectionService(store: try self.custodyStore)
            let clientTime = try Self.time(f, "client_ts")
            switch (f["event"] ?? "").uppercased() {
            case "INSPECT_START", "START":
                guard let m = f["method"], let method = InspectionService.Method(rawValue: m.lowercased()) else {
                    throw ArchiveError(.invalid, "VALUE_UNKNOWN: method is one of \(InspectionService.Method.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let e = try await service.start(f["s10"] ?? "", method: method, location: f["location"], station: f["station"], clientScanID: f["client_scan_id"],
                                                clientTimestamp: clientTime, actor: p.actor)
                return try Respond.json(e, status: .created)
            case "INSPECT_END", "END":
                guard let text = f["result"], let result = InspectionService.Result(rawValue: text.lowercased()) else {
                    throw ArchiveError(.invalid, "VALUE_UNKNOWN: result is one of \(InspectionService.Result.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let i = try await service.end(f["s10"] ?? "", result: result, found: f["found"], substance: f["substance"], equipment: f["equipment"],
                                              station: f["station"], clientScanID: f["client_scan_id"], clientTimestamp: clientTime, actor: p.actor)
                return try Respond.json(i, status: .created)
            default:
                throw ArchiveError(.invalid, "REQUIRED_MISSING: event (INSPECT_START or INSPECT_END)")
            }
        }
        r.add(.post, "/api/v1/custody/seizures", Self.outcomeRecorders,
              "Seize an inspected item into seized property (JSON: s10, witness (another registered user), violation_type, substance, net_weight_g, form_6051s, storage_location); the 24-hour SEACATS clock starts") { input in
            let p = try input.user
            return try Respond.json(try await self.recordSeizure(try await self.apiForm(input), actor: p.actor), status: .created)
        }
        r.add(.patch, "/api/v1/custody/seizures/:id/seacats", Self.outcomeRecorders,
              "Record a seizure's SEACATS entry, once (JSON: case, late_reason when more than 24 hours after the seizure)") { input in
            let p = try input.user
            let f = try await self.apiForm(input)
            return try Respond.json(try await SeizureService(store: try self.custodyStore).recordSEACATS(
                seizureID: try input.id(), caseNumber: f["case"] ?? "", lateReason: f["late_reason"], actor: p.actor))
        }
        r.add(.post, "/api/v1/custody/outcomes", Self.outcomeRecorders,
              "Record an inspected item's outcome by type (JSON: s10, type seized|detained_notice|referred|duty_assessed|released_to_carrier, and that outcome's fields)") { input in
            let p = try input.user
            let f = try await self.apiForm(input)
            let s10 = f["s10"] ?? ""
            switch (f["type"] ?? "").lowercased() {
            case "seized":
                return try Respond.json(try await self.recordSeizure(f, actor: p.actor), status: .created)
            case "detained_notice":
                let d = try await self.detentions.detain(s10, violation: f["violation_type"] ?? f["violation"] ?? "", reason: f["reason"] ?? "",
                                                         contents: f["contents"] ?? "", actor: p.actor)
                return try Respond.json(DetentionJSON(detention: d, addressee: "none"), status: .created)
            case "referred":
                return try Respond.json(try await self.referrals.refer(s10, agency: f["agency"] ?? "", method: f["method"] ?? "",
                                                                       violation: f["violation_type"] ?? f["violation"], actor: p.actor), status: .created)
            case "duty_assessed":
                guard let s = self.archive.store as? any CustodyStore & CustodyDutyStore else { throw ArchiveError(.invalid, "this archive's store does not keep duty assessments") }
                return try Respond.json(try await DutyService(store: s).assess(s10, kind: f["kind"] ?? "", amount: f["amount"] ?? "", currency: f["currency"] ?? "USD",
                                                                              entry: f["entry"], actor: p.actor), status: .created)
            case "released_to_carrier":
                let outcome = try await ScanService(store: try self.custodyStore).record(ScanService.Request(
                    text: s10, action: .returnToCarrier(carrier: f["carrier"] ?? "USPS", supervisor: f["supervisor"], reason: f["reason"]), station: f["station"],
                    clientScanID: f["client_scan_id"]), actor: p.actor)
                switch outcome {
                case .recorded(let e), .repeated(let e), .alreadyInCustody(let e): return try Respond.json(e, status: .created)
                case .refused(let r): throw r.archiveError
                }
            default:
                throw ArchiveError(.invalid, "REQUIRED_MISSING: type (seized, detained_notice, referred, duty_assessed or released_to_carrier)")
            }
        }
    }
}
