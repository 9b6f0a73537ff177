import RecordkeeperCore

/// Records of the same conversation, day, custodian and sender-custodian get the same retention
/// assignment; capture and recomputation ask the engine once per distinct combination. Shared by
/// every backend, so the rule that assigns a record is the engine's alone.
public struct AssignmentMemo {
    struct Key: Hashable { var day: Int; var conversation: String; var custodian: String; var sender: String? }
    public let context: RetentionContext
    var memo: [Key: RetentionAssignment] = [:]

    public init(context: RetentionContext) { self.context = context }

    public mutating func assign(_ f: RecordFacts) -> RetentionAssignment {
        let key = Key(day: f.sentDate.dayNumber, conversation: f.conversationKey, custodian: f.custodianEmail, sender: f.senderCustodianEmail)
        if let hit = memo[key] { return hit }
        let a = context.assign(f).0
        if memo.count > 200_000 { memo.removeAll(keepingCapacity: true) }
        memo[key] = a
        return a
    }
}

/// One pass of retention recomputation over stored records, the same on every backend: each
/// record's facts and its stored assignment go in; out come the assignment to write (if any)
/// and, at the end, the diff (moves between items, date changes, unchanged).
public struct RetentionRecomputation {
    public let planVersion: Int
    public let apply: Bool
    var memo: AssignmentMemo
    var diff = RetentionDiff()
    var moves: [String: (String?, String, Int)] = [:]

    public init(context: RetentionContext, planVersion: Int, apply: Bool) {
        self.memo = AssignmentMemo(context: context)
        self.planVersion = planVersion
        self.apply = apply
    }

    /// Counts one record. Returns the assignment to store when applying and it changed (or was
    /// made under another plan version); nil otherwise. `facts` nil: a record whose date cannot
    /// be read is examined and left as it is.
    public mutating func examine(_ facts: RecordFacts?, old: RetentionAssignment?, oldVersion: Int?) -> RetentionAssignment? {
        diff.examined += 1
        guard let facts else { return nil }
        let new = memo.assign(facts)
        if old == new {
            diff.unchanged += 1
            return apply && oldVersion != planVersion ? new : nil
        }
        if let old, old.itemID == new.itemID { diff.datesChanged += 1 } else {
            let key = (old?.itemID ?? "\u{0}") + "\u{1}" + new.itemID
            moves[key, default: (old?.itemID, new.itemID, 0)].2 += 1
        }
        return apply ? new : nil
    }

    public var result: RetentionDiff {
        var d = diff
        d.moves = moves.values.map { RetentionDiff.Move(from: $0.0, to: $0.1, count: $0.2) }.sorted { ($0.from ?? "", $0.to) < ($1.from ?? "", $1.to) }
        d.applied = apply
        return d
    }
}

extension RetentionDiff {
    /// The audit entry a recomputation writes (every backend writes the same one).
    public func auditDraft(actor: String, action: String, target: String, reason: String) -> AuditDraft {
        AuditDraft(actor: actor, action: action, target: target, detail: [
            "examined": String(examined), "unchanged": String(unchanged), "dates_changed": String(datesChanged),
            "reason": reason, "moves": moves.map { "\($0.from ?? "none")->\($0.to):\($0.count)" }.joined(separator: ","),
        ])
    }
}
