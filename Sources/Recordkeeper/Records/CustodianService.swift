import Archive
import Foundation
import RecordkeeperCore

/// Custodians, their platform accounts and their role designations (Capstone among them).
/// A designation change is previewed as a retention diff before it is applied.
public struct CustodianService: Sendable {
    public let archive: ArchiveHandle
    public init(archive: ArchiveHandle) { self.archive = archive }
    var store: any ArchiveStore { archive.store }

    public func list(actor: String) async throws -> [CustodianProfile] {
        try await store.custodianProfiles()
    }

    public func profile(email: String) async throws -> CustodianProfile {
        guard let p = try await store.custodianProfile(email: email) else {
            throw ArchiveError(.notFound, "no custodian \(email); add one with `recordkeeper custodian add \(email) --name NAME --office OFFICE`")
        }
        return p
    }

    public func save(email: String, name: String?, office: String?, actor: String) async throws -> CustodianProfile {
        guard IngestService.isPlausibleEmail(email) else { throw ArchiveError(.invalid, "'\(email)' is not an e-mail address; custodians are named by their official address") }
        let existing = try await store.custodianProfile(email: email)
        let p = try await store.saveCustodianProfile(email: email, name: name, office: office)
        try await store.appendAudit(AuditDraft(actor: actor, action: existing == nil ? "custodian.add" : "custodian.update", target: "custodian:\(p.email)",
                                               detail: ["name": name ?? "", "office": office ?? "", "previous_office": existing?.office ?? ""]))
        if existing?.office != p.office, existing != nil {
            // Office rules may now match differently.
            _ = try await RetentionService(archive: archive).recompute(apply: true, actor: actor, reason: "office of \(p.email) changed")
        }
        return p
    }

    public func addAccount(email: String, platform: String, address: String, official: Bool, actor: String) async throws -> (PlatformAccount, RetentionDiff) {
        let p = try await profile(email: email)
        guard !address.trimmingCharacters(in: .whitespaces).isEmpty else { throw ArchiveError(.invalid, "give the account's --address") }
        let account = try await store.addAccount(custodianID: p.id, account: PlatformAccount(platform: platform, address: address, official: official))
        try await store.appendAudit(AuditDraft(actor: actor, action: "custodian.account", target: "custodian:\(p.email)",
                                               detail: ["platform": account.platform, "address": account.normalized, "official": String(official)]))
        // The account may make a sender recognisable as this custodian.
        let diff = try await RetentionService(archive: archive).recompute(apply: true, actor: actor, reason: "account added to \(p.email)")
        return (account, diff)
    }

    /// Previews (or applies) a new role designation.
    public func designate(email: String, designation: RoleDesignation, apply: Bool, actor: String) async throws -> RetentionDiff {
        if let ends = designation.ends, ends < designation.starts {
            throw ArchiveError(.invalid, "the designation ends (\(ends)) before it starts (\(designation.starts))")
        }
        guard !designation.role.trimmingCharacters(in: .whitespaces).isEmpty else { throw ArchiveError(.invalid, "give the --role") }
        let p = try await profile(email: email)
        if apply { try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "custodian.designate", target: "custodian:\(p.email)") }
        var facts = try await store.custodianProfiles().map(\.facts)
        if let i = facts.firstIndex(where: { $0.email == p.email }) { facts[i].designations.append(designation) }
        let retention = RetentionService(archive: archive)
        let plan = try await retention.plan()
        let preview = try await store.recomputeAssignments(context: try await retention.context(plan: plan.plan, custodians: facts),
                                                           planVersion: plan.version, scope: .all, apply: false)
        guard apply else { return preview }
        let saved = try await store.addDesignation(custodianID: p.id, designation: designation, actor: actor)
        try await store.appendAudit(AuditDraft(actor: actor, action: "custodian.designate", target: "custodian:\(p.email)", detail: [
            "designation": String(saved.id), "role": designation.role, "capstone": String(designation.capstone),
            "starts": designation.starts.description, "ends": designation.ends?.description ?? "",
        ]))
        return try await retention.recompute(apply: true, actor: actor, reason: "designation \(saved.id) of \(p.email)")
    }

    /// Previews (or applies) the end of a designation.
    public func endDesignation(id: Int64, ends: CivilDate, apply: Bool, actor: String) async throws -> RetentionDiff {
        let profiles = try await store.custodianProfiles()
        guard let owner = profiles.first(where: { $0.designations.contains { $0.id == id } }),
              let d = owner.designations.first(where: { $0.id == id }) else {
            throw ArchiveError(.notFound, "no designation with id \(id); `recordkeeper custodian show EMAIL` lists them")
        }
        guard ends >= d.designation.starts else { throw ArchiveError(.invalid, "designation \(id) starts on \(d.designation.starts); it cannot end before that") }
        if apply { try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "custodian.end-designation", target: "custodian:\(owner.email)") }
        var facts = profiles.map(\.facts)
        if let i = facts.firstIndex(where: { $0.email == owner.email }), let j = owner.designations.firstIndex(where: { $0.id == id }) {
            facts[i].designations[j].ends = ends
        }
        let retention = RetentionService(archive: archive)
        let plan = try await retention.plan()
        let preview = try await store.recomputeAssignments(context: try await retention.context(plan: plan.plan, custodians: facts),
                                                           planVersion: plan.version, scope: .all, apply: false)
        guard apply else { return preview }
        _ = try await store.endDesignation(id: id, ends: ends)
        try await store.appendAudit(AuditDraft(actor: actor, action: "custodian.end-designation", target: "custodian:\(owner.email)", detail: [
            "designation": String(id), "role": d.designation.role, "ends": ends.description, "previous_ends": d.designation.ends?.description ?? "",
        ]))
        return try await retention.recompute(apply: true, actor: actor, reason: "designation \(id) of \(owner.email) ended")
    }
}
