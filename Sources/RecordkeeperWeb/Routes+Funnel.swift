import Archive
import Custody
import Foundation
import Hummingbird
import Recordkeeper
import RecordkeeperCore

/// The volume funnel's inputs on the API (R-FUN): the carrier's daily counts, category requests and
/// the countries-of-interest list. The report itself is `/custody/reports/funnel` and
/// `/api/v1/custody/reports/funnel` like the others.
extension WebApp {
    static let funnelEditors: Access = .roles([.targeter, .custodySupervisor])

    var funnel: FunnelService {
        get throws {
            guard let s = archive.store as? any CustodyStore & CustodyFunnelStore else { throw ArchiveError(.invalid, "this archive's store does not keep carrier counts") }
            return FunnelService(store: s)
        }
    }

    func addFunnelRoutes(_ r: RouteBuilder) {
        r.add(.post, "/api/v1/custody/arrival-imports", Self.funnelEditors,
              "Import the carrier's daily arrival counts (multipart: file (CSV or XLSX: date, origin_country, mail_class, pieces), commit); a dry run unless commit=true",
              body: .stream, limited: true) { input in
            let p = try input.user
            // A day's counts are a few hundred rows: 16 MB is ample, and bounds what a hostile upload costs.
            let upload = try await UploadReceiver.receive(input.request, scratch: self.archive.directory.scratchURL,
                                                          limit: min(self.configuration.maxUploadBytes, Int64(ArrivalCounts.maxFileBytes)),
                                                          extensions: ["csv", "txt", "xlsx"], kind: "the carrier's counts: a .csv (or .txt) or an .xlsx workbook")
            defer { upload.remove() }
            guard let file = upload.file else { throw WebError.badRequest("send the counts as the part named \"file\"") }
            let commit = upload.fields["commit"] == "true"
            let out = try await self.funnel.importArrivals(file, fileName: upload.fileName ?? file.lastPathComponent, commit: commit, actor: p.actor)
            return try Respond.json(out, status: commit && !out.alreadyImported ? .created : .ok)
        }
        r.add(.post, "/api/v1/custody/aed-imports", Self.funnelEditors,
              "Import advance electronic data per piece (multipart: file (CSV or XLSX: item_id, origin_country, received_at, content_lines, hs_coded_lines, recipient), commit); a dry run unless commit=true",
              body: .stream, limited: true) { input in
            let p = try input.user
            guard let s = self.archive.store as? any CustodyStore & CustodyFunnelStore & CustodyAdvanceDataStore else {
                throw ArchiveError(.invalid, "this archive's store does not keep advance data")
            }
            let upload = try await UploadReceiver.receive(input.request, scratch: self.archive.directory.scratchURL,
                                                          limit: min(self.configuration.maxUploadBytes, Int64(AdvanceData.maxFileBytes)),
                                                          extensions: ["csv", "txt", "xlsx"], kind: "advance data: a .csv (or .txt) or an .xlsx workbook")
            defer { upload.remove() }
            guard let file = upload.file else { throw WebError.badRequest("send the advance data as the part named \"file\"") }
            let commit = upload.fields["commit"] == "true"
            let out = try await AdvanceDataService(store: s).importFile(file, fileName: upload.fileName ?? file.lastPathComponent, commit: commit, actor: p.actor)
            return try Respond.json(out, status: commit && !out.alreadyImported ? .created : .ok)
        }
        r.add(.post, "/api/v1/custody/manifest-imports", .roles([.receiver, .custodySupervisor]),
              "Import the carrier's manifest of its containers (multipart: file (CSV or XLSX: date, container_id, s10), direction (in or out), commit); a dry run unless commit=true",
              body: .stream, limited: true) { input in
            let p = try input.user
            guard let s = self.archive.store as? any CustodyStore & CustodyManifestStore else { throw ArchiveError(.invalid, "this archive's store does not keep manifests") }
            let upload = try await UploadReceiver.receive(input.request, scratch: self.archive.directory.scratchURL,
                                                          limit: min(self.configuration.maxUploadBytes, Int64(Manifest.maxFileBytes)),
                                                          extensions: ["csv", "txt", "xlsx"], kind: "a manifest: a .csv (or .txt) or an .xlsx workbook")
            defer { upload.remove() }
            guard let file = upload.file else { throw WebError.badRequest("send the manifest as the part named \"file\"") }
            let commit = upload.fields["commit"] == "true"
            let out = try await ManifestService(store: s).importFile(file, fileName: upload.fileName ?? file.lastPathComponent,
                                                                     direction: upload.fields["direction"] ?? "in", commit: commit, actor: p.actor)
            return try Respond.json(out, status: commit && !out.alreadyImported ? .created : .ok)
        }
        r.add(.post, "/api/v1/custody/bulk-requests", Self.funnelEditors,
              "Record a category request (JSON: day, origin, class, count (optional), reason)") { input in
            let p = try input.user
            let f = try await self.apiForm(input)
            var count: Int?
            if let text = f["count"], !text.isEmpty {
                guard let n = Int(text) else { throw ArchiveError(.invalid, "VALUE_UNKNOWN: count \(text) is not a whole number") }
                count = n
            }
            return try Respond.json(try await self.funnel.requestBulk(day: f["day"] ?? "", origin: f["origin"] ?? "", mailClass: f["class"] ?? "", count: count,
                                                                      reason: f["reason"] ?? "", actor: p.actor), status: .created)
        }
        r.add(.post, "/api/v1/custody/duties", .roles([.custodyOfficer, .custodySupervisor]),
              "Record the duty or fee an inspection found owing (JSON: s10, kind (duty, fee, duty_and_fee), amount, currency, entry)") { input in
            let p = try input.user
            guard let s = self.archive.store as? any CustodyStore & CustodyDutyStore else { throw ArchiveError(.invalid, "this archive's store does not keep duty assessments") }
            let f = try await self.apiForm(input)
            return try Respond.json(try await DutyService(store: s).assess(f["s10"] ?? "", kind: f["kind"] ?? "", amount: f["amount"] ?? "",
                                                                          currency: f["currency"] ?? "USD", entry: f["entry"], actor: p.actor), status: .created)
        }
        r.add(.get, "/api/v1/custody/coi", Self.custodyReaders, "The countries-of-interest list in force") { input in
            _ = try input.user
            return try Respond.json(["countries": try await self.funnel.coiCountries()])
        }
        r.add(.post, "/api/v1/custody/coi", .roles([.custodySupervisor]),
              "A custody supervisor replaces the countries-of-interest list (JSON: countries (comma-separated ISO codes), reason)") { input in
            let p = try input.user
            let f = try await self.apiForm(input)
            return try Respond.json(["countries": try await self.funnel.setCOI(f["countries"] ?? "", reason: f["reason"] ?? "", actor: p.actor)])
        }
    }
}
