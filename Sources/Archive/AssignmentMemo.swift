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
