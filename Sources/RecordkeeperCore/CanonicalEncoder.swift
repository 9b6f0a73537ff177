/// Builds the canonical byte serialisation that record content hashes and audit-chain hashes are
/// computed over.
///
/// The format is deliberately simple and stable: each field is written as
/// `name=<byte length>:<value>\n`, in the order the caller adds them. Length-prefixing makes the
/// encoding unambiguous whatever the values contain (newlines, `=`, NUL). Changing the field list
/// of a record kind is a format change: bump the record's `hashVersion` and keep the old recipe.
public struct CanonicalEncoder: Sendable {
    private(set) var bytes: [UInt8] = []

    public init(kind: String, version: Int) {
        bytes.reserveCapacity(256)
        add("kind", kind)
        add("v", String(version))
    }

    public mutating func add(_ name: String, _ value: String?) {
        bytes.append(contentsOf: name.utf8)
        guard let value else {
            bytes.append(contentsOf: "=-\n".utf8)
            return
        }
        bytes.append(UInt8(ascii: "="))
        bytes.append(contentsOf: String(value.utf8.count).utf8)
        bytes.append(UInt8(ascii: ":"))
        bytes.append(contentsOf: value.utf8)
        bytes.append(UInt8(ascii: "\n"))
    }

    public mutating func add(_ name: String, _ value: Int64?) {
        add(name, value.map { String($0) })
    }

    public var hash: ContentHash { ContentHash.of(bytes) }
}
