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
        let list = try await store.custodianProfiles()
        try await store.appendReadAudit(AuditDraft(actor: actor, action: "custodian.list", target: "custodians", detail: ["count": String(list.count)]))
        return list
    }

    public func profile(email: String) async throws -> CustodianProfile {
        guard let p = try await store.custodianProfile(email: email) else {
            throw ArchiveError(.notFound, "no custodian \(email); add one with `recordkeeper custodian add \(email) --name NAME --office OFFICE`")
        }
        return p
    }

    public func save(email: String, name: String?, office: String?, actor: String) async throws -> CustodianProfile {
        guard IngestService.isPlausibleEmail(email) else { throw ArchiveError(.invalid, "'\(email)' is not an e-mail address; custodians are named by their official address") }
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "custodian.update", target: "custodian:\(email.lowercased())")
        let result = try await store.applyRetentionChange(
            .profile(email: email, name: name, office: office),
            audit: AuditDraft(actor: actor, action: "custodian.update", target: "custodian:\(email.lowercased())", detail: ["name": name ?? "", "office": office ?? ""]),
            reason: "profile of \(email.lowercased())")
        return result.profile!
    }

    public func addAccount(email: String, platform: String, address: String, official: Bool, actor: String) async throws -> (PlatformAccount, RetentionDiff) {
        let p = try await profile(email: email)
        guard !address.trimmingCharacters(in: .whitespaces).isEmpty else { throw ArchiveError(.invalid, "give the account's --address") }
        guard !platform.trimmingCharacters(in: .whitespaces).isEmpty else { throw ArchiveError(.invalid, "give the account's --platform") }
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "custodian.account", target: "custodian:\(p.email)")
        let account = PlatformAccount(platform: platform, address: address, official: official)
        let result = try await store.applyRetentionChange(
            .account(custodianEmail: p.email, account),
            audit: AuditDraft(actor: actor, action: "custodian.account", target: "custodian:\(p.email)",
                              detail: ["platform": account.platform, "address": account.normalized, "official": String(official)]),
            reason: "account added to \(p.email)")
        return (result.account!, result.diff)
    }

    /// Previews (or applies) a new role designation.
    public func designate(email: String, designation: RoleDesignation, apply: Bool, actor: String) async throws -> RetentionDiff {
        if let ends = designation.ends, ends < designation.starts {
            throw ArchiveError(.invalid, "the designation ends (\(ends)) before it starts (\(designation.starts))")
        }
        guard !designation.role.trimmingCharacters(in: .whitespaces).isEmpty else { throw ArchiveError(.invalid, "give the --role") }
        let p = try await profile(email: email)
        if !apply {
            var facts = try await store.custodianProfiles().map(\.facts)
            if let i = facts.firstIndex(where: { $0.email == p.email }) { facts[i].designations.append(designation) }
            return try await store.recomputeAssignments(context: try await RetentionService(archive: archive).context(custodians: facts), scope: .all, apply: false)
        }
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "custodian.designate", target: "custodian:\(p.email)")
        return try await store.applyRetentionChange(
            .designation(custodianEmail: p.email, designation),
            audit: AuditDraft(actor: actor, action: "custodian.designate", target: "custodian:\(p.email)", detail: [
                "role": designation.role, "capstone": String(designation.capstone),
                "starts": designation.starts.description, "ends": designation.ends?.description ?? "",
            ]),
            reason: "designation of \(p.email)").diff
    }

    /// Previews (or applies) the end of a designation.
    public func endDesignation(id: Int64, ends: CivilDate, apply: Bool, actor: String) async throws -> RetentionDiff {
        let profiles = try await store.custodianProfiles()
        guard let owner = profiles.first(where: { $0.designations.contains { $0.id == id } }),
              let j = owner.designations.firstIndex(where: { $0.id == id }) else {
            throw ArchiveError(.notFound, "no designation with id \(id); `recordkeeper custodian show EMAIL` lists them")
        }
        let d = owner.designations[j]
        guard ends >= d.designation.starts else { throw ArchiveError(.invalid, "designation \(id) starts on \(d.designation.starts); it cannot end before that") }
        if !apply {
            var facts = profiles.map(\.facts)
            if let i = facts.firstIndex(where: { $0.email == owner.email }) { facts[i].designations[j].ends = ends }
            return try await store.recomputeAssignments(context: try await RetentionService(archive: archive).context(custodians: facts), scope: .all, apply: false)
        }
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "custodian.end-designation", target: "custodian:\(owner.email)")
        return try await store.applyRetentionChange(
            .endDesignation(id: id, ends: ends),
            audit: AuditDraft(actor: actor, action: "custodian.end-designation", target: "custodian:\(owner.email)", detail: [
                "designation": String(id), "role": d.designation.role, "ends": ends.description,
            ]),
            reason: "designation \(id) of \(owner.email) ended").diff
    }
}
