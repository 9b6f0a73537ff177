import Archive
import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Where blobs live in object storage: `s3://bucket?endpoint=https://host:port&region=us-east-1`
/// (path-style addressing, which every S3-compatible server accepts). Credentials come from the
/// environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`), never from the URL, so they do not
/// end up in logs, process lists or the config file.
public struct S3Location: Sendable, Hashable {
    public var bucket: String
    public var endpoint: String
    public var region: String

    public static func parse(_ text: String) throws -> S3Location {
        guard let c = URLComponents(string: text), c.scheme?.lowercased() == "s3", let bucket = c.host, !bucket.isEmpty else {
            throw ArchiveError(.invalid, "a blob store URL looks like s3://bucket?endpoint=https://s3.example.gov&region=us-east-1")
        }
        guard c.user == nil, c.password == nil else {
            throw ArchiveError(.invalid, "put no credentials in the blob store URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        let q = Dictionary((c.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, b in b })
        let endpoint = q["endpoint"] ?? "https://s3.\(q["region"] ?? "us-east-1").amazonaws.com"
        guard let e = URL(string: endpoint), let scheme = e.scheme, scheme == "http" || scheme == "https", e.host != nil else {
            throw ArchiveError(.invalid, "the blob store's endpoint must be an http(s) URL (not \(endpoint))")
        }
        return S3Location(bucket: bucket, endpoint: endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint, region: q["region"] ?? "us-east-1")
    }
}

/// Object Lock retention on one object version.
public struct ObjectRetention: Sendable, Hashable {
    public enum Mode: String, Sendable { case compliance = "COMPLIANCE", governance = "GOVERNANCE" }
    public var mode: Mode
    public var until: Date
    public init(mode: Mode, until: Date) {
        self.mode = mode
        self.until = until
    }
}

/// An error the object store answered with (its code and message, never a credential).
public struct S3Error: Error, CustomStringConvertible, Sendable {
    public var status: Int
    public var code: String
    public var message: String
    public var operation: String
    public var description: String { "\(operation): the object store answered \(status) \(code)\(message.isEmpty ? "" : ": " + message)" }
    /// The store refused because of Object Lock (retention or legal hold) or permissions.
    public var isRefusal: Bool { status == 403 || code == "AccessDenied" || code == "InvalidRequest" && message.lowercased().contains("lock") }
}

/// A small S3 client on AsyncHTTPClient: the operations a records archive needs, with Object
/// Lock, streaming both ways. Every request is signed with SigV4 (`SigV4Signer`).
public struct S3Client: Sendable {
    public let location: S3Location
    let signer: SigV4Signer
    let http: HTTPClient
    public var timeout: TimeAmount = .seconds(300)

    public init(location: S3Location, accessKey: String, secretKey: String, http: HTTPClient = .shared) {
        self.location = location
        self.signer = SigV4Signer(accessKey: accessKey, secretKey: secretKey, region: location.region)
        self.http = http
    }

    /// Reads the credentials from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`.
    public static func fromEnvironment(_ location: S3Location, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> S3Client {
        guard let access = environment["AWS_ACCESS_KEY_ID"], !access.isEmpty, let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
            throw ArchiveError(.invalid, "the blob store needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        return S3Client(location: location, accessKey: access, secretKey: secret)
    }

    // MARK: Buckets

    /// Creates the bucket with Object Lock enabled (which also turns versioning on). An existing
    /// bucket that is ours is not an error.
    public func createBucket(objectLock: Bool) async throws {
        var headers: [(String, String)] = []
        if objectLock { headers.append(("x-amz-bucket-object-lock-enabled", "true")) }
        let r = try await send("PUT", key: nil, headers: headers, operation: "creating bucket \(location.bucket)")
        if r.status == 409, r.code == "BucketAlreadyOwnedByYou" || r.code == "BucketAlreadyExists" { return }
        try r.check()
    }

    /// True when the bucket has Object Lock enabled.
    public func objectLockEnabled() async throws -> Bool {
        let r = try await send("GET", key: nil, query: [("object-lock", "")], operation: "reading the bucket's Object Lock configuration")
        if r.code == "ObjectLockConfigurationNotFoundError" { return false }
        try r.check()
        return XMLNode.parse(r.body)?.first("ObjectLockEnabled")?.text == "Enabled"
    }

    // MARK: Objects

    /// Uploads a file (streamed from disk) under `key`, with its SHA-256 (hex) signed and its
    /// MD5 sent for the store to check, and Object Lock settings when given.
    public func putObject(key: String, file: URL, size: Int64, sha256Hex: String, md5Base64: String,
                          retention: ObjectRetention?, legalHold: Bool) async throws {
        var headers: [(String, String)] = [("content-length", String(size)), ("content-md5", md5Base64),
                                           ("content-type", "application/octet-stream")]
        if let retention {
            headers.append(("x-amz-object-lock-mode", retention.mode.rawValue))
            headers.append(("x-amz-object-lock-retain-until-date", Self.iso(retention.until)))
        }
        if legalHold { headers.append(("x-amz-object-lock-legal-hold", "ON")) }
        let r = try await send("PUT", key: key, headers: headers, payloadHash: sha256Hex, body: .stream(FileChunks(url: file), length: .known(size)),
                               operation: "storing \(key)")
        try r.check()
    }

    /// The object's size, or nil when there is no current version.
    public func headObject(key: String) async throws -> Int64? {
        let r = try await send("HEAD", key: key, operation: "looking up \(key)")
        if r.status == 404 { return nil }
        try r.check()
        return r.headers.first(name: "content-length").flatMap { Int64($0) }
    }

    /// Streams the object's bytes to `consume`; throws `blob_missing` when absent.
    public func getObject(key: String, firstBytes: Int? = nil, _ consume: (ByteBuffer) async throws -> Void) async throws {
        let headers = firstBytes.map { [("range", "bytes=0-\(max(0, $0 - 1))")] } ?? []
        let (request, operation) = try signed("GET", key: key, query: [], headers: headers, payloadHash: SigV4Signer.emptyPayloadHash,
                                              body: nil, operation: "reading \(key)")
        let response = try await execute(request, operation: operation)
        // 416: a range past the end of an empty object.
        if firstBytes != nil, response.status.code == 416 { return }
        guard response.status == .ok || (firstBytes != nil && response.status == .partialContent) else {
            let body = try await response.body.collect(upTo: 1 << 20)
            let r = Response(status: Int(response.status.code), headers: response.headers, body: Data(body.readableBytesView), operation: operation)
            if r.status == 404 { throw ArchiveError(.blobMissing, "\(key) is not in bucket \(location.bucket)") }
            try r.check()
            return
        }
        for try await chunk in response.body { try await consume(chunk) }
    }

    public struct Version: Sendable, Hashable {
        public var versionID: String
        public var isDeleteMarker: Bool
    }

    /// Every version (and delete marker) of exactly `key`.
    public func versions(key: String) async throws -> [Version] {
        var out: [Version] = []
        var keyMarker: String?
        var versionMarker: String?
        repeat {
            var query = [("versions", ""), ("prefix", key)]
            if let keyMarker { query.append(("key-marker", keyMarker)) }
            if let versionMarker { query.append(("version-id-marker", versionMarker)) }
            let r = try await send("GET", key: nil, query: query, operation: "listing the versions of \(key)")
            try r.check()
            guard let root = XMLNode.parse(r.body) else { throw S3Error(status: r.status, code: "MalformedXML", message: "", operation: r.operation) }
            for node in root.children where (node.name == "Version" || node.name == "DeleteMarker") && node.first("Key")?.text == key {
                if let id = node.first("VersionId")?.text { out.append(Version(versionID: id, isDeleteMarker: node.name == "DeleteMarker")) }
            }
            if root.first("IsTruncated")?.text == "true" {
                keyMarker = root.first("NextKeyMarker")?.text
                versionMarker = root.first("NextVersionIdMarker")?.text
            } else {
                keyMarker = nil
            }
        } while keyMarker != nil
        return out
    }

    /// Deletes one version for good. A version under retention or legal hold is refused by the
    /// store (`S3Error.isRefusal`).
    public func deleteVersion(key: String, versionID: String) async throws {
        let r = try await send("DELETE", key: key, query: [("versionId", versionID)], operation: "deleting \(key) version \(versionID)")
        if r.status == 404 { return }
        try r.check()
    }

    /// Deletes the current version's name only (a delete marker; locked versions stay).
    public func deleteObject(key: String) async throws {
        let r = try await send("DELETE", key: key, operation: "deleting \(key)")
        if r.status == 404 { return }
        try r.check()
    }

    public func retention(key: String, versionID: String? = nil) async throws -> ObjectRetention? {
        var query = [("retention", "")]
        if let versionID { query.append(("versionId", versionID)) }
        let r = try await send("GET", key: key, query: query, operation: "reading the retention of \(key)")
        if r.status == 404 || r.code == "NoSuchObjectLockConfiguration" { return nil }
        try r.check()
        guard let root = XMLNode.parse(r.body), let mode = root.first("Mode").flatMap({ ObjectRetention.Mode(rawValue: $0.text) }),
              let until = root.first("RetainUntilDate").flatMap({ Self.date($0.text) }) else { return nil }
        return ObjectRetention(mode: mode, until: until)
    }

    /// Sets (or, in COMPLIANCE mode, only ever extends) an object version's retention.
    public func setRetention(key: String, versionID: String? = nil, _ retention: ObjectRetention) async throws {
        var query = [("retention", "")]
        if let versionID { query.append(("versionId", versionID)) }
        let xml = "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>\(retention.mode.rawValue)</Mode>"
            + "<RetainUntilDate>\(Self.iso(retention.until))</RetainUntilDate></Retention>"
        try await sendXML(key: key, query: query, xml: xml, operation: "setting the retention of \(key)")
    }

    public func legalHold(key: String, versionID: String? = nil) async throws -> Bool {
        var query = [("legal-hold", "")]
        if let versionID { query.append(("versionId", versionID)) }
        let r = try await send("GET", key: key, query: query, operation: "reading the legal hold of \(key)")
        // Never set: some stores answer 404 (with a code of their own) rather than OFF.
        if r.status == 404 || r.code == "NoSuchObjectLockConfiguration" { return false }
        try r.check()
        return XMLNode.parse(r.body)?.first("Status")?.text == "ON"
    }

    public func setLegalHold(key: String, versionID: String? = nil, on: Bool) async throws {
        var query = [("legal-hold", "")]
        if let versionID { query.append(("versionId", versionID)) }
        let xml = "<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>\(on ? "ON" : "OFF")</Status></LegalHold>"
        try await sendXML(key: key, query: query, xml: xml, operation: "\(on ? "setting" : "lifting") the legal hold on \(key)")
    }

    // MARK: Wire

    struct Response {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
        var operation: String
        var code: String { XMLNode.parse(body)?.first("Code")?.text ?? "" }
        func check() throws {
            guard !(200..<300).contains(status) else { return }
            let root = XMLNode.parse(body)
            throw S3Error(status: status, code: root?.first("Code")?.text ?? "", message: root?.first("Message")?.text ?? "", operation: operation)
        }
    }

    func sendXML(key: String, query: [(String, String)], xml: String, operation: String) async throws {
        let data = Data(xml.utf8)
        let md5 = Data(Insecure.MD5.hash(data: data)).base64EncodedString()
        let r = try await send("PUT", key: key, query: query, headers: [("content-md5", md5), ("content-type", "application/xml")],
                               payloadHash: SigV4Signer.hex(SHA256.hash(data: data)), body: .bytes(ByteBuffer(bytes: data)), operation: operation)
        try r.check()
    }

    func send(_ method: String, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [],
              payloadHash: String = SigV4Signer.emptyPayloadHash, body: HTTPClientRequest.Body? = nil, operation: String) async throws -> Response {
        let (request, operation) = try signed(method, key: key, query: query, headers: headers, payloadHash: payloadHash, body: body, operation: operation)
        let response = try await execute(request, operation: operation)
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Response(status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView), operation: operation)
    }

    func execute(_ request: HTTPClientRequest, operation: String) async throws -> HTTPClientResponse {
        do {
            return try await http.execute(request, timeout: timeout)
        } catch {
            throw ArchiveError(.storage, "\(operation): cannot reach the object store at \(location.endpoint)", underlying: error)
        }
    }

    func signed(_ method: String, key: String?, query: [(String, String)], headers: [(String, String)], payloadHash: String,
                body: HTTPClientRequest.Body?, operation: String) throws -> (HTTPClientRequest, String) {
        guard let endpoint = URL(string: location.endpoint), let host = endpoint.host else {
            throw ArchiveError(.invalid, "the blob store's endpoint is not a URL: \(location.endpoint)")
        }
        let hostHeader = endpoint.port.map { "\(host):\($0)" } ?? host
        var path = endpoint.path + "/" + SigV4Signer.encode(location.bucket)
        if let key { path += "/" + key.split(separator: "/", omittingEmptySubsequences: false).map { SigV4Signer.encode(String($0)) }.joined(separator: "/") }
        let all = headers + [("host", hostHeader)]
        let auth = signer.sign(method: method, path: path, query: query, headers: all, payloadHash: payloadHash, date: Date())
        let queryString = query.map { SigV4Signer.encode($0.0) + "=" + SigV4Signer.encode($0.1) }.joined(separator: "&")
        var request = HTTPClientRequest(url: "\(endpoint.scheme!)://\(hostHeader)\(path)\(queryString.isEmpty ? "" : "?" + queryString)")
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers + auth where name.lowercased() != "host" { request.headers.add(name: name, value: value) }
        request.body = body
        return (request, operation)
    }

    static func iso(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    static func date(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)
    }
}

/// A file's bytes as an async sequence of 1 MiB buffers, read as the upload asks for them.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let url: URL

    struct AsyncIterator: AsyncIteratorProtocol {
        var handle: FileHandle?
        let url: URL
        mutating func next() async throws -> ByteBuffer? {
            if handle == nil { handle = try FileHandle(forReadingFrom: url) }
            guard let data = try handle?.read(upToCount: 1 << 20), !data.isEmpty else {
                try? handle?.close()
                return nil
            }
            return ByteBuffer(bytes: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: nil, url: url) }
}

/// Just enough XML for S3's answers: elements, their text and children (no attributes).
final class XMLNode {
    let name: String
    var text = ""
    var children: [XMLNode] = []
    init(name: String) { self.name = name }

    /// The first descendant with this name (depth first).
    func first(_ name: String) -> XMLNode? {
        for c in children {
            if c.name == name { return c }
            if let d = c.first(name) { return d }
        }
        return nil
    }

    static func parse(_ data: Data) -> XMLNode? {
        guard !data.isEmpty else { return nil }
        let builder = Builder()
        let parser = XMLParser(data: data)
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        guard parser.parse() else { return nil }
        return builder.root
    }

    final class Builder: NSObject, XMLParserDelegate {
        var root: XMLNode?
        var stack: [XMLNode] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            let node = XMLNode(name: name)
            if let parent = stack.last { parent.children.append(node) } else { root = node }
            stack.append(node)
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { stack.last?.text += string }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if let last = stack.popLast() { last.text = last.text.trimmingCharacters(in: .whitespacesAndNewlines) }
        }
    }
}
