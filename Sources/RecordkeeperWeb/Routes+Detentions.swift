import Archive
import Custody
import Foundation
import Hummingbird
import Recordkeeper
import RecordkeeperCore

/// Detentions, the notice queue and the addressee's particulars on the API (issue 15, AT6): the
/// particulars in clear only for a notice clerk or privacy officer (each read audited), masked for
/// other roles, 410 once purged; the privacy inventory and the purge for the privacy officer.
extension WebApp {
    static let detentionReaders: Access = .roles([.custodyOfficer, .custodySupervisor, .auditor, .noticeClerk, .privacyOfficer])
    static let privacyReaders: Access = .roles([.privacyOfficer, .auditor, .custodySupervisor])
    static let custodyReadersWithOutcomes: Access = .roles([.targeter, .custodyOfficer, .custodySupervisor, .auditor])

    var referrals: ReferralService {
        get throws {
            guard let s = archive.store as? any CustodyStore & CustodyReferralStore else { throw ArchiveError(.invalid, "this archive's store does not keep referrals") }
            return ReferralService(store: s)
        }
    }

    var detentions: DetentionService {
        get throws {
            guard let s = archive.store as? any CustodyStore & CustodyPrivacyStore else {
                throw ArchiveError(.invalid, "this archive's store does not keep detentions")
            }
            return DetentionService(store: s, keyFile: AddresseeKey.location(dataDirectory: archive.directory.url))
        }
    }

    /// A detention as the API shows it, with whether particulars are held (never the particulars).
    struct DetentionJSON: Encodable {
        var detention: StoredDetention
        var addressee: String
        var notice: String?
    }

    func addresseeStatus(_ id: Int64) async throws -> String {
        guard let store = archive.store as? any CustodyPrivacyStore else { return AddresseeStatus.none.rawValue }
        return (try await store.addresseeStatus(detentionIDs: [id])[id] ?? AddresseeStatus.none).rawValue
    }

    func addDetentionRoutes(_ r: RouteBuilder) {
        r.add(.post, "/api/v1/custody/imports", .roles([.targeter, .custodySupervisor]),
              "Import a target list (multipart: file (CSV or XLSX), profile, commit); a dry run unless commit=true", body: .stream, limited: true) { input in
            let p = try input.user
            let upload = try await UploadReceiver.receive(input.request, scratch: self.archive.directory.scratchURL, limit: self.configuration.maxUploadBytes,
                                                          extensions: ["csv", "txt", "xlsx"], kind: "a target list: a .csv (or .txt) or an .xlsx workbook")
            defer { upload.remove() }
            guard let file = upload.file else { throw WebError.badRequest("send the target list as the part named \"file\"") }
            let service = TargetImportService(store: try self.custodyStore)
            var profile: MappingProfile?
            if let name = upload.fields["profile"], !name.isEmpty { profile = try await service.profile(name) }
            let commit = upload.fields["commit"] == "true"
            let outcome = commit ? try await service.commit(file, profile: profile, actor: p.actor) : try await service.dryRun(file, profile: profile)
            struct Out: Encodable {
                var file: String
                var sha256: String
                var dryRun: Bool
                var alreadyImported: Bool
                var mappingProfile: String?
                var rows: Int
                var accepted: Int
                var rejected: [RejectedRow]
                var merged: Int
                var unknownColumns: [String]
                var stored: StoredTargetImport?
            }
            let plan = outcome.plan
            return try Respond.json(Out(file: upload.fileName ?? file.lastPathComponent, sha256: outcome.fileHash, dryRun: !commit,
                                        alreadyImported: outcome.alreadyImported, mappingProfile: profile?.label, rows: plan.rowsTotal,
                                        accepted: plan.acceptedCount, rejected: plan.rejected, merged: plan.mergedDuplicates.count,
                                        unknownColumns: plan.unknownColumns, stored: outcome.stored),
                                    status: commit && !outcome.alreadyImported ? .created : .ok)
        }
        r.add(.post, "/api/v1/custody/detentions", .roles([.custodyOfficer, .custodySupervisor]),
              "Detain an inspected item for a notice to its addressee (JSON: s10, violation, reason, contents)") { input in
            let p = try input.user
            let f = try await self.apiForm(input)
            let d = try await self.detentions.detain(f["s10"] ?? "", violation: f["violation"] ?? "", reason: f["reason"] ?? "", contents: f["contents"] ?? "",
                                                     actor: p.actor)
            return try Respond.json(DetentionJSON(detention: d, addressee: "none"), status: .created)
        }
        r.add(.get, "/api/v1/custody/detentions/:id", Self.detentionReaders, "A detention: its notice, answer and disposition (the particulars' state only)") { input in
            let p = try input.user
            let id = try input.id()
            guard let store = self.archive.store as? any CustodyPrivacyStore, let d = try await store.detention(id: id) else {
                throw ArchiveError(.notFound, "no detention \(id)")
            }
            let status = try await store.addresseeStatus(detentionIDs: [id])[id] ?? .none
            try await self.archive.store.appendReadAudit(AuditDraft(actor: p.actor, action: "custody.detention.view", target: "custody-detention:\(id)", detail: ["via": "api"]))
            return try Respond.json(DetentionJSON(detention: d, addressee: status.rawValue))
        }
        r.add(.get, "/api/v1/custody/detentions/:id/addressee", Self.detentionReaders,
              "The addressee's particulars: in clear for a notice clerk or privacy officer (the read audited; purpose=notice|inquiry|petition|correction|privacy_review|audit), masked for other roles; 410 once purged") { input in
            let p = try input.user
            let id = try input.id()
            let purpose = (input.query["purpose"] ?? "").trimmingCharacters(in: .whitespaces)
            let view = try await self.detentions.view(id, reader: p.user, actor: p.actor, purpose: String(purpose.prefix(40)))
            struct Out: Encodable {
                var detention: Int64
                var masked: Bool
                var name: String
                var addressLines: [String]
                var postcode: String
            }
            switch view.addressee {
            case .shown(let a): return try Respond.json(Out(detention: id, masked: false, name: a.name, addressLines: a.addressLines, postcode: a.postcode))
            case .masked:
                let m = AddresseeParticulars.mask
                return try Respond.json(Out(detention: id, masked: true, name: m, addressLines: [m], postcode: m))
            case .purged(let t):
                throw ArchiveError(.gone, "the addressee particulars of detention \(id) were purged (purge \(t.purgeID.map(String.init) ?? "?"), "
                                   + "disposed of \(Timestamp.iso(millis: t.disposedAtMillis))); only the tombstone remains: sealed_sha256 \(t.sealedSHA256)")
            case .none: throw ArchiveError(.notFound, "detention \(id) has no addressee particulars (no notice was recorded)")
            }
        }
        r.add(.post, "/api/v1/custody/detentions/:id/notice", .roles([.noticeClerk]),
              "Record the notice with the addressee's particulars, sealed (JSON: name, address_lines[], postcode, answer_days); answers with the notice's text") { input in
            let p = try input.user
            let f = try await self.apiForm(input)
            let lines = f.all("address_lines").flatMap { $0.components(separatedBy: "\n") }
            let days = try f["answer_days"].map { t -> Int in
                guard let v = Int(t) else { throw ArchiveError(.invalid, "VALUE_UNKNOWN: answer_days=\(t) is not a number of days") }
                return v
            } ?? DetentionService.defaultAnswerDays
            let (d, notice) = try await self.detentions.sendNotice(try input.id(), to: AddresseeParticulars(name: f["name"] ?? "", addressLines: lines,
                                                                                                           postcode: f["postcode"] ?? ""),
                                                                   answerDays: days, actor: p.actor)
            return try Respond.json(DetentionJSON(detention: d, addressee: "held", notice: notice), status: .created)
        }
        r.add(.post, "/api/v1/custody/detentions/:id/response", .roles([.noticeClerk]),
              "Record the addressee's answer (JSON: response = none, consent_abandon, petition or other)") { input in
            let p = try input.user
            let f = try await self.apiForm(input)
            let d = try await self.detentions.recordResponse(try input.id(), response: f["response"] ?? "", actor: p.actor)
            return try Respond.json(DetentionJSON(detention: d, addressee: try await self.addresseeStatus(d.id)))
        }
        r.add(.post, "/api/v1/custody/detentions/:id/dispose", .roles([.custodyOfficer, .custodySupervisor]),
              "Dispose of a detention (JSON: disposition = released, forwarded or abandoned_destroyed; witness, another user, for a destruction)") { input in
            let p = try input.user
            let f = try await self.apiForm(input)
            let d = try await self.detentions.dispose(try input.id(), disposition: f["disposition"] ?? "", witness: f["witness"], actor: p.actor,
                                                      directory: self.archive.store)
            return try Respond.json(DetentionJSON(detention: d, addressee: try await self.addresseeStatus(d.id)))
        }
        r.add(.get, "/api/v1/custody/export/renotify.csv", .roles([.targeter, .custodySupervisor]),
              "The re-request file for the carrier: targets not presented once their grace passed (from, to, as_of, grace)", limited: true) { input in
            let p = try input.user
            var q = try Self.reportRequest(input, name: "not-presented")
            q.graceHours = max(0, q.graceHours)
            let report = try await ReceiptService(store: try self.custodyStore).notPresented(from: q.from, to: q.to, asOf: q.asOf, graceHours: q.graceHours)
            try await self.archive.store.appendAudit(AuditDraft(actor: p.actor, action: "custody.export.renotify", target: "custody-report:not-presented",
                                                                detail: ["query": input.request.uri.query ?? "", "rows": String(report.notPresented.count)]))
            return Respond.bytes(Data(report.renotifyCSV.utf8), contentType: "text/csv; charset=utf-8", disposition: "attachment; filename=\"renotify.csv\"")
        }
        r.add(.get, "/api/v1/custody/export/cusrsp", .roles([.targeter, .custodySupervisor]),
              "The carrier's decisions file (the CUSRSP role, as CSV): holds, referrals, detentions, seizures, duties, releases, hand-overs, destructions (from, to, as_of; at most 31 days)", limited: true) { input in
            let p = try input.user
            let q = try Self.reportRequest(input, name: "decisions")
            let run = try await CustodyReports(store: try self.custodyStore).run(q)
            try await self.archive.store.appendAudit(AuditDraft(actor: p.actor, action: "custody.export.cusrsp", target: "custody-report:decisions",
                                                                detail: ["query": input.request.uri.query ?? "", "rows": String(run.table.rows.count)]))
            let day = String(Timestamp.iso(millis: q.from).prefix(10))
            return Respond.bytes(Data(run.table.csv.utf8), contentType: "text/csv; charset=utf-8", disposition: "attachment; filename=\"decisions-\(day).csv\"")
        }
        r.add(.post, "/api/v1/custody/referrals", .roles([.custodyOfficer, .custodySupervisor]),
              "Refer an inspected item to an agency (JSON: s10, agency, method, violation)") { input in
            let p = try input.user
            let f = try await self.apiForm(input)
            return try Respond.json(try await self.referrals.refer(f["s10"] ?? "", agency: f["agency"] ?? "", method: f["method"] ?? "",
                                                                   violation: f["violation"], actor: p.actor), status: .created)
        }
        r.add(.get, "/api/v1/custody/referrals/:id", Self.custodyReadersWithOutcomes, "A referral and its steps") { input in
            let p = try input.user
            let id = try input.id()
            guard let store = self.archive.store as? any CustodyReferralStore, let referral = try await store.referral(id: id) else {
                throw ArchiveError(.notFound, "no referral \(id)")
            }
            try await self.archive.store.appendReadAudit(AuditDraft(actor: p.actor, action: "custody.referral.view", target: "custody-referral:\(id)", detail: ["via": "api"]))
            return try Respond.json(referral)
        }
        r.add(.post, "/api/v1/custody/referrals/:id/:step", .roles([.custodyOfficer, .custodySupervisor]),
              "Record a referral's step: answer (JSON: note), collect (JSON: witness, for a seized item), decline (JSON: reason)") { input in
            let p = try input.user
            let id = try input.id()
            let f = try await self.apiForm(input)
            let service = try self.referrals
            switch input.context.parameters.get("step") ?? "" {
            case "answer": return try Respond.json(try await service.recordResponse(id, note: f["note"], actor: p.actor))
            case "collect": return try Respond.json(try await service.recordCollection(id, witness: f["witness"], actor: p.actor, directory: self.archive.store))
            case "decline": return try Respond.json(try await service.recordDecline(id, reason: f["reason"] ?? "", actor: p.actor))
            default: throw ArchiveError(.notFound, "a referral's steps are answer, collect and decline")
            }
        }
        r.add(.get, "/api/v1/custody/privacy-inventory", Self.privacyReaders,
              "The privacy inventory of the addressee particulars: each field with its purpose, the retention, who may read, how they are kept (for a privacy threshold analysis)", limited: true) { input in
            let p = try input.user
            try await self.archive.store.appendAudit(AuditDraft(actor: p.actor, action: "custody.privacy.inventory", target: "custody-privacy", detail: ["via": "api"]))
            return try Respond.json(try await self.detentions.inventory())
        }
        r.add(.post, "/api/v1/custody/privacy/retention", .roles([.privacyOfficer]),
              "Set how many days addressee particulars are kept after their detention's disposition (JSON: days, reason)") { input in
            let p = try input.user
            let f = try await self.apiForm(input)
            guard let days = f["days"].flatMap(Int.init) else { throw ArchiveError(.invalid, "REQUIRED_MISSING: days") }
            try await self.detentions.setRetention(days: days, reason: f["reason"] ?? "", actor: p.actor)
            return try Respond.json(try await self.detentions.inventory())
        }
        r.add(.post, "/api/v1/custody/privacy/purge", .roles([.privacyOfficer]),
              "Purge the addressee particulars past their retention: a review of what is due unless commit=true (JSON: commit); answers with what was purged and the disposal certificate") { input in
            let p = try input.user
            let f = try await self.apiForm(input)
            let result = try await self.detentions.purge(actor: p.actor, dryRun: f["commit"] != "true")
            // A destruction is followed by a signed checkpoint naming it (issue 16).
            if let purge = result.purge {
                try await CheckpointService(archive: self.archive).signIfSigning(vouching: ["custody-pii-purge:\(purge.id)"], reason: "addressee purge", actor: p.actor)
            }
            return try Respond.json(result)
        }
    }
}
