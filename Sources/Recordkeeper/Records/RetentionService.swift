import Archive
import Foundation
import RecordkeeperCore

/// A record's retention, explained.
public struct RetentionExplanation: Sendable, Codable {
    public var messageID: Int64
    public var stored: StoredAssignment?
    /// What the current plan gives it now (differs from `stored` only when a recomputation is due).
    public var current: RetentionAssignment
    public var item: ScheduleItem?
    public var reasons: [String]
    public var holds: [LegalHold]
    public var tombstone: Tombstone?
    /// For a disposed record: the batch that let it go (who proposed, approved and executed it).
    public var disposition: DispositionBatch?
}

/// Computes, stores and explains every record's place in the file plan.
public struct RetentionService: Sendable {
    public let archive: ArchiveHandle
    public init(archive: ArchiveHandle) { self.archive = archive }

    var store: any ArchiveStore { archive.store }

    func plan() async throws -> StoredFilePlan {
        guard let plan = try await store.currentFilePlan() else {
            throw ArchiveError(.storage, "the archive has no file plan; run `recordkeeper verify`")
        }
        return plan
    }

    /// Everything the engine needs, optionally with a different plan or custodian facts.
    func context(plan: FilePlan? = nil, custodians: [CustodianFacts]? = nil) async throws -> RetentionContext {
        let p: FilePlan
        if let plan { p = plan } else { p = try await self.plan().plan }
        let facts: [CustodianFacts]
        if let custodians { facts = custodians } else { facts = try await store.custodianProfiles().map(\.facts) }
        return RetentionContext(plan: p, custodians: facts, events: try await store.cutoffEvents())
    }

    /// Recomputes every record's assignment: a dry run unless `apply` (records officers only;
    /// audited with every move).
    public func recompute(apply: Bool, actor: String) async throws -> RetentionDiff {
        guard apply else { return try await store.recomputeAssignments(context: nil, scope: .all, apply: false) }
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "retention.recompute", target: "archive")
        return try await store.applyRetentionChange(.recompute, audit: AuditDraft(actor: actor, action: "retention.recompute.requested", target: "archive"),
                                                    reason: "recompute requested").diff
    }

    /// Assigns any record that has no assignment yet (an archive from before the file plan, or
    /// an ingest interrupted between storing and assigning).
    @discardableResult
    public func assignUnassigned(actor: String) async throws -> RetentionDiff {
        let diff = try await store.recomputeAssignments(context: nil, scope: .unassigned, apply: true)
        if diff.changed > 0 { try await auditDiff(diff, actor: actor, action: "retention.assign", target: "archive", reason: "records without an assignment") }
        return diff
    }

    func auditDiff(_ diff: RetentionDiff, actor: String, action: String, target: String, reason: String) async throws {
        var detail = ["examined": String(diff.examined), "unchanged": String(diff.unchanged), "dates_changed": String(diff.datesChanged),
                      "reason": reason]
        detail["moves"] = diff.moves.map { "\($0.from ?? "none")->\($0.to):\($0.count)" }.joined(separator: ",")
        try await store.appendAudit(AuditDraft(actor: actor, action: action, target: target, detail: detail))
    }

    /// Records due for destruction or transfer by `asOf`, grouped by item (held ones counted).
    public func due(asOf: CivilDate, actor: String) async throws -> [DueGroup] {
        try await assignUnassigned(actor: actor)
        let groups = try await store.due(asOf: asOf)
        try await store.appendReadAudit(AuditDraft(actor: actor, action: "retention.due", target: "archive", detail: ["as_of": asOf.description]))
        return groups
    }

    public func summary(actor: String) async throws -> [DueGroup] {
        let groups = try await store.retentionSummary()
        try await store.appendReadAudit(AuditDraft(actor: actor, action: "retention.summary", target: "archive"))
        return groups
    }

    /// Why a record has the assignment it has, and whether anything keeps it.
    public func explain(messageID: Int64, actor: String) async throws -> RetentionExplanation {
        if let tomb = try await store.tombstone(messageID: messageID) {
            let plan = try await plan()
            try await store.appendReadAudit(AuditDraft(actor: actor, action: "retention.show", target: "message:\(messageID)"))
            return RetentionExplanation(messageID: messageID, stored: nil,
                                        current: RetentionAssignment(itemID: tomb.itemID, ruleID: nil, action: .retain, cutoff: nil, eligible: nil),
                                        item: plan.plan.item(tomb.itemID), reasons: ["\(tomb.outcome) on \(tomb.disposedAt) by disposition \(tomb.dispositionID)"],
                                        holds: [], tombstone: tomb, disposition: try await store.disposition(id: tomb.dispositionID))
        }
        guard let facts = try await store.retentionFacts(messageID: messageID) else {
            throw ArchiveError(.notFound, "no message with id \(messageID); search to find message ids")
        }
        let plan = try await plan()
        let (current, reasons) = try await context(plan: plan.plan).assign(facts, explain: true)
        let covering = Set(try await store.holdsCovering(messageID: messageID))
        let holding = try await store.holds(includeReleased: false).filter { covering.contains($0.id) }
        try await store.appendReadAudit(AuditDraft(actor: actor, action: "retention.show", target: "message:\(messageID)"))
        return RetentionExplanation(messageID: messageID, stored: try await store.assignment(messageID: messageID), current: current,
                                    item: plan.plan.item(current.itemID), reasons: reasons, holds: holding, tombstone: nil, disposition: nil)
    }

    /// Records that a cutoff event happened in a conversation (e.g. "conversation closed"),
    /// previewing or applying the change in assignments.
    public func recordEvent(conversationID: Int64, name: String, date: CivilDate, apply: Bool, actor: String) async throws -> RetentionDiff {
        guard let conversation = try await store.conversation(id: conversationID) else {
            throw ArchiveError(.notFound, "no conversation with id \(conversationID); `recordkeeper show conversations` lists them")
        }
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ArchiveError(.invalid, "give the event's --name") }
        if !apply {
            var ctx = try await context()
            ctx.events[conversation.key, default: [:]][name.lowercased()] = date
            return try await store.recomputeAssignments(context: ctx, scope: .all, apply: false)
        }
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "retention.event", target: "conversation:\(conversationID)")
        return try await store.applyRetentionChange(
            .cutoffEvent(conversationID: conversationID, name: name, date: date),
            audit: AuditDraft(actor: actor, action: "retention.event", target: "conversation:\(conversationID)", detail: ["event": name, "date": date.description]),
            reason: "cutoff event '\(name)' on \(date)").diff
    }
}
