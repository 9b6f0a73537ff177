import Crypto

/// Builds the canonical byte serialisation that record content hashes and audit-chain hashes are
/// computed over.
///
/// The format is deliberately simple and stable: each field is written as
/// `name=<byte length>:<value>\n`, in the order the caller adds them. Length-prefixing makes the
/// encoding unambiguous whatever the values contain (newlines, `=`, NUL). Changing the field list
/// of a record kind is a format change: bump the record's `hashVersion` and keep the old recipe.
public struct CanonicalEncoder: Sendable {
    /// The serialisation so far.
    public private(set) var bytes: [UInt8] = []

    public init(kind: String, version: Int, capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
        add("kind", kind)
        add("v", String(version))
    }

    public mutating func add(_ name: String, _ value: String?) {
        bytes.append(contentsOf: name.utf8)
        guard var value else {
            bytes.append(contentsOf: "=-\n".utf8)
            return
        }
        bytes.append(UInt8(ascii: "="))
        value.withUTF8 { utf8 in
            appendDecimal(Int64(utf8.count))
            bytes.append(UInt8(ascii: ":"))
            bytes.append(contentsOf: utf8)
        }
        bytes.append(UInt8(ascii: "\n"))
    }

    /// Adds a text field given as UTF-8 bytes (nil when absent): the same bytes as `add(_:_:)`
    /// with the equivalent `String`.
    public mutating func add(_ name: String, utf8 value: UnsafeRawBufferPointer?) {
        bytes.append(contentsOf: name.utf8)
        guard let value else {
            bytes.append(contentsOf: "=-\n".utf8)
            return
        }
        bytes.append(UInt8(ascii: "="))
        appendDecimal(Int64(value.count))
        bytes.append(UInt8(ascii: ":"))
        bytes.append(contentsOf: value)
        bytes.append(UInt8(ascii: "\n"))
    }

    public mutating func add(_ name: String, _ value: Int64?) {
        bytes.append(contentsOf: name.utf8)
        guard let value else {
            bytes.append(contentsOf: "=-\n".utf8)
            return
        }
        // Same bytes as add(name, String(value)): length prefix, then the decimal digits, written
        // in place (no array per number: `verify` and capture encode six per message).
        var digitCount = 0
        var v = value.magnitude
        repeat { digitCount += 1; v /= 10 } while v > 0
        bytes.append(UInt8(ascii: "="))
        appendDecimal(Int64(digitCount + (value < 0 ? 1 : 0)))
        bytes.append(UInt8(ascii: ":"))
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(UInt8(48), count: digitCount))
        v = value.magnitude
        var i = start + digitCount - 1
        while v > 0 {
            bytes[i] = UInt8(48 + v % 10)
            v /= 10
            i -= 1
        }
        bytes.append(UInt8(ascii: "\n"))
    }

    private mutating func appendDecimal(_ n: Int64) {
        if n < 10 { bytes.append(UInt8(48 + n)); return }
        var divisor: Int64 = 1
        while divisor * 10 <= n { divisor *= 10 }
        var rest = n
        while divisor > 0 {
            bytes.append(UInt8(48 + rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    public var hash: ContentHash { ContentHash.of(bytes) }

    /// Starts a new record in the same buffer (its capacity is kept: no allocation per record
    /// when one encoder serialises many, as `verify` does).
    public mutating func reset(kind: String, version: Int) {
        bytes.removeAll(keepingCapacity: true)
        add("kind", kind)
        add("v", String(version))
    }

    /// The SHA-256 of the bytes so far as 64 lowercase hex digits, written into `hex` (resized to
    /// 64 once, then reused), for comparing with a stored hash without making a `String`.
    public func hexDigest(into hex: inout [UInt8]) {
        if hex.count != 64 { hex = [UInt8](repeating: 0, count: 64) }
        let digest = SHA256.hash(data: bytes)
        digest.withUnsafeBytes { raw in
            for (i, b) in raw.enumerated() {
                hex[2 * i] = CanonicalEncoder.hexDigits[Int(b >> 4)]
                hex[2 * i + 1] = CanonicalEncoder.hexDigits[Int(b & 0x0f)]
            }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Bytes serialised so far.
    public var count: Int { bytes.count }

    /// The first 64 bits of the SHA-256, for in-memory bookkeeping where a full hash is not
    /// worth its memory (never stored, never used as evidence).
    public var hashPrefix64: UInt64 {
        let digest = SHA256.hash(data: bytes)
        return digest.withUnsafeBytes { raw in raw.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
    }
}
