/// Deterministic PRNG (SplitMix64) so corpora are reproducible from a seed.
///
/// The sequence depends only on the seed and is the same on every platform and Swift version
/// (unlike `SystemRandomNumberGenerator`). The generator helpers in this module draw bounded
/// values with their own arithmetic rather than `Int.random(in:using:)`, so sample exports stay
/// byte-identical across toolchains too.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Starts the sequence for `seed` (any value, including 0).
    public init(seed: UInt64) {
        self.state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<n` (multiply-high reduction; `n` must be positive).
    mutating func below(_ n: Int) -> Int {
        Int(UInt64(n).multipliedFullWidth(by: next()).high)
    }

    /// A value in `range`.
    mutating func between(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// True with probability 1/`n` (never when `n` <= 0).
    mutating func oneIn(_ n: Int) -> Bool {
        n > 0 && below(n) == 0
    }

    /// True with probability `percent`/100.
    mutating func percent(_ percent: Int) -> Bool {
        below(100) < percent
    }

    /// A random element of a non-empty array.
    mutating func pick<T>(_ items: [T]) -> T {
        items[below(items.count)]
    }
}
