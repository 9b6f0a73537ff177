import Crypto
import Foundation

/// A SHA-256 digest, printed and stored as 64 lowercase hex characters.
///
/// Every blob (original export bytes, attachments) is addressed by its `ContentHash`, and every
/// record carries the `ContentHash` of its canonical serialisation so that `verify` can recompute it.
public struct ContentHash: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// Lowercase hex, 64 characters.
    public let hex: String

    /// Wraps a hex string; returns nil unless it is 64 lowercase hex characters.
    public init?(hex: String) {
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            return nil
        }
        self.hex = hex
    }

    init(digest: SHA256.Digest) {
        self.hex = ContentHash.hexString(digest)
    }

    /// The SHA-256 of `bytes`.
    public static func of<D: DataProtocol>(_ bytes: D) -> ContentHash {
        ContentHash(digest: SHA256.hash(data: bytes))
    }

    /// The SHA-256 of the UTF-8 encoding of `string`.
    public static func of(_ string: String) -> ContentHash {
        var s = string
        return s.withUTF8 { ContentHash(digest: SHA256.hash(data: UnsafeRawBufferPointer($0))) }
    }

    public var description: String { hex }

    public static func < (lhs: ContentHash, rhs: ContentHash) -> Bool { lhs.hex < rhs.hex }

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    static func hexString(_ digest: SHA256.Digest) -> String {
        // Written straight into the string's storage: one allocation per hash (capture makes two
        // hashes per message).
        digest.withUnsafeBytes { raw in
            String(unsafeUninitializedCapacity: 2 * raw.count) { out in
                for (i, b) in raw.enumerated() {
                    out[2 * i] = digits[Int(b >> 4)]
                    out[2 * i + 1] = digits[Int(b & 0x0f)]
                }
                return 2 * raw.count
            }
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let value = ContentHash(hex: raw) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a SHA-256 hex digest")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

/// Incremental SHA-256 for streams (blob writes, verification) so that memory stays flat.
public struct StreamingHasher: Sendable {
    private var hasher = SHA256()
    /// Number of bytes fed so far.
    public private(set) var byteCount: Int64 = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
        byteCount += Int64(bytes.count)
    }

    public mutating func update<D: DataProtocol>(_ data: D) {
        hasher.update(data: data)
        byteCount += Int64(data.count)
    }

    public func finalize() -> ContentHash {
        ContentHash(digest: hasher.finalize())
    }
}
