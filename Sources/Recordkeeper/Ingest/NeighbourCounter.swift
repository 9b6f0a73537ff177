import Foundation
import RecordkeeperCore

/// Counts identical neighbours (same sender, sent time and text) so that the second "ok" sent in
/// the same minute gets ordinal 1 and keeps its own identity.
///
/// Memory is bounded: past `capacity` keys the oldest are forgotten. Identical messages are
/// neighbours in practice (same minute), so forgetting old keys does not change ordinals. Keys
/// are 64-bit prefixes of SHA-256 (a collision among 50,000 keys has odds of about 1 in 10^10).
struct NeighbourCounter {
    private var counts: [UInt64: Int] = [:]
    private var order: [UInt64] = []
    private var head = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    mutating func next(_ key: UInt64) -> Int {
        if let n = counts[key] {
            counts[key] = n + 1
            return n + 1
        }
        counts[key] = 0
        order.append(key)
        if order.count - head > capacity {
            counts[order[head]] = nil
            head += 1
            if head > capacity {
                order.removeFirst(head)
                head = 0
            }
        }
        return 0
    }
}

/// Turns wall-clock times into instants in one zone, remembering the offset per half hour
/// (offsets change on the hour or half hour in practice; each half hour is looked up once).
struct ZoneOffsetCache {
    let zone: TimeZone
    private var lastHour: Int64 = .min
    private var lastOffset: Int64 = 0

    init(zone: TimeZone) { self.zone = zone }

    mutating func instant(_ t: LocalDateTime) -> Int64 {
        let asUTC = t.secondsSinceEpochAsUTC
        let hour = asUTC / 1800
        if hour != lastHour {
            lastHour = hour
            lastOffset = asUTC - Int64(t.instant(in: zone).timeIntervalSince1970)
        }
        return asUTC - lastOffset
    }
}

/// Errors in an ingest request. `description` never quotes record content.
public struct IngestError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable {
        public let rawValue: String
        public static let notFound = Code(rawValue: "not_found")
        public static let badCustodian = Code(rawValue: "bad_custodian")
        public static let badTimeZone = Code(rawValue: "bad_time_zone")
        /// The source file was written to while it was being captured.
        public static let sourceChanged = Code(rawValue: "source_changed")
    }
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { "\(code.rawValue): \(message)" }
}
