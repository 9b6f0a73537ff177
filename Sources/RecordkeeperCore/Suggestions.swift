/// "Did you mean …?" for names a person typed: the known names closest to what was typed.
public enum Suggestions {
    /// Up to `limit` of `candidates` within a small edit distance of `typed` (case-insensitive),
    /// nearest first; also any candidate that contains what was typed or is contained in it.
    public static func closest(to typed: String, among candidates: [String], limit: Int = 3) -> [String] {
        let t = Array(typed.lowercased().unicodeScalars)
        guard !t.isEmpty else { return [] }
        let budget = min(3, max(1, t.count / 4))
        var scored: [(Int, String)] = []
        for c in candidates {
            let lower = c.lowercased()
            if lower == typed.lowercased() { continue }
            let d = distance(t, Array(lower.unicodeScalars), budget: budget)
            if d <= budget {
                scored.append((d, c))
            } else if t.count >= 3, lower.contains(typed.lowercased()) || typed.lowercased().contains(lower) {
                scored.append((budget + 1, c))
            }
        }
        return scored.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.prefix(limit).map(\.1)
    }

    /// " Did you mean a, b or c?" (empty when there is nothing close).
    public static func phrase(_ typed: String, among candidates: [String]) -> String {
        let close = closest(to: typed, among: candidates)
        guard let last = close.last else { return "" }
        let list = close.count == 1 ? last : close.dropLast().joined(separator: ", ") + " or " + last
        return " Did you mean \(list)?"
    }

    /// Levenshtein distance, giving up (returning budget + 1) once it exceeds `budget`.
    static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar], budget: Int) -> Int {
        if abs(a.count - b.count) > budget { return budget + 1 }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...max(1, a.count) where !a.isEmpty {
            current[0] = i
            var rowMin = current[0]
            for j in 1...max(1, b.count) where !b.isEmpty {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                rowMin = min(rowMin, current[j])
            }
            if rowMin > budget { return budget + 1 }
            swap(&previous, &current)
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
