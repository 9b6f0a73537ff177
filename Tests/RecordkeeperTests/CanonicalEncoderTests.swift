import RecordkeeperCore
import Testing

/// The canonical serialisation is evidence: its fast paths must give the very bytes of the plain
/// ones, or stored content hashes stop matching.
@Suite("Canonical encoder")
struct CanonicalEncoderTests {
    @Test func numbersAreWrittenAsTheirDecimalText() {
        var seed: UInt64 = 7
        var values: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, 1_000_000_007, -987_654_321, .max, .min, .max - 1, .min + 1]
        for _ in 0..<2000 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            values.append(Int64(bitPattern: seed) >> Int64(seed % 63))
        }
        for v in values {
            var fast = CanonicalEncoder(kind: "t", version: 1)
            fast.add("n", v)
            var text = CanonicalEncoder(kind: "t", version: 1)
            text.add("n", String(v))
            #expect(fast.bytes == text.bytes, "\(v)")
        }
    }

    @Test func aResetEncoderGivesAFreshEncodersBytesAndHash() {
        var reused = CanonicalEncoder(kind: "message", version: 1)
        reused.add("body", "a long body that leaves capacity behind " + String(repeating: "x", count: 500))
        var hex: [UInt8] = []
        for body in ["", "short", "Operación Ríos\nline two", "=-\n"] {
            reused.reset(kind: "message", version: 1)
            reused.add("body", body)
            reused.add("line", Int64(body.count))
            var fresh = CanonicalEncoder(kind: "message", version: 1)
            fresh.add("body", body)
            fresh.add("line", Int64(body.count))
            #expect(reused.bytes == fresh.bytes)
            reused.hexDigest(into: &hex)
            #expect(String(decoding: hex, as: UTF8.self) == fresh.hash.hex)
        }
    }
}
