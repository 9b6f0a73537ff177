import Archive
import Crypto
import Foundation
import NIOCore
@testable import ObjectStorage
import RecordkeeperCore
import Testing

@Suite("SigV4 signing")
struct SigV4Tests {
    /// AWS's worked example for a signed S3 GET (Signature Version 4, "GET Object" with a Range
    /// header; the same vector other implementations test against).
    @Test func awsWorkedExampleGetObject() throws {
        let signer = SigV4Signer(accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
        let date = Date(timeIntervalSince1970: 1_369_353_600) // 2013-05-24T00:00:00Z
        let headers = signer.sign(method: "GET", path: "/test.txt", query: [],
                                  headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9")],
                                  payloadHash: SigV4Signer.emptyPayloadHash, date: date)
        let auth = try #require(headers.first { $0.0 == "Authorization" }?.1)
        #expect(auth == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(headers.contains { $0 == ("x-amz-date", "20130524T000000Z") })
    }

    @Test func encodingKeepsOnlyUnreservedCharacters() {
        #expect(SigV4Signer.encode("a b/c~d_e.f-g*h") == "a%20b%2Fc~d_e.f-g%2Ah")
        #expect(SigV4Signer.encode("é") == "%C3%A9")
    }

    @Test func locationsNameBucketEndpointAndRegionButNeverCredentials() throws {
        let l = try S3Location.parse("s3://records-prod?endpoint=https://s3.agency.example.gov:9000/&region=us-gov-west-1")
        #expect(l == S3Location(bucket: "records-prod", endpoint: "https://s3.agency.example.gov:9000", region: "us-gov-west-1"))
        #expect(try S3Location.parse("s3://b").endpoint == "https://s3.us-east-1.amazonaws.com")
        #expect(throws: ArchiveError.self) { try S3Location.parse("s3://key:secret@bucket?endpoint=http://x") }
        #expect(throws: ArchiveError.self) { try S3Location.parse("https://bucket") }
        #expect(throws: ArchiveError.self) { try S3Location.parse("s3://b?endpoint=ftp://x") }
    }
}

/// The real S3 server `scripts/test.sh` starts (SeaweedFS, with Object Lock), from
/// `RECORDKEEPER_TEST_S3="ENDPOINT ACCESS SECRET"`; without it these tests are left out, except
/// under `CI=true`, where they fail.
enum TestS3 {
    static let config = ProcessInfo.processInfo.environment["RECORDKEEPER_TEST_S3"].flatMap { $0.isEmpty ? nil : $0 }
    static var wanted: Bool { config != nil || ProcessInfo.processInfo.environment["CI"] == "true" }

    /// A client on a new bucket with Object Lock enabled.
    static func freshBucket() async throws -> S3Client {
        guard let parts = config?.split(separator: " ").map(String.init), parts.count == 3 else {
            throw ArchiveError(.invalid, "the object-storage tests need a server: set RECORDKEEPER_TEST_S3 (scripts/test.sh starts one)")
        }
        let bucket = "rk-test-" + UUID().uuidString.lowercased().prefix(18)
        let client = S3Client(location: S3Location(bucket: String(bucket), endpoint: parts[0], region: "us-east-1"), accessKey: parts[1], secretKey: parts[2])
        try await client.createBucket(objectLock: true)
        return client
    }
}

@Suite("S3 client against a real server with Object Lock", .enabled(if: TestS3.wanted))
struct S3ClientTests {
    static func upload(_ client: S3Client, key: String, _ bytes: [UInt8], retention: ObjectRetention?, legalHold: Bool = false) async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let file = tmp.url.appendingPathComponent("blob")
        try Data(bytes).write(to: file)
        try await client.putObject(key: key, file: file, size: Int64(bytes.count), sha256Hex: SigV4Signer.hex(SHA256.hash(data: bytes)),
                                   md5Base64: Data(Insecure.MD5.hash(data: bytes)).base64EncodedString(), retention: retention, legalHold: legalHold)
    }

    static func read(_ client: S3Client, key: String) async throws -> [UInt8] {
        var out: [UInt8] = []
        try await client.getObject(key: key) { out += $0.readableBytesView }
        return out
    }

    @Test func objectsRoundTripStreamedAndBadCredentialsAreRefused() async throws {
        let client = try await TestS3.freshBucket()
        #expect(try await client.objectLockEnabled())
        // 3 MiB and a bit: several upload and download chunks.
        var g = SystemRandomNumberGenerator()
        let bytes = (0..<(3 << 20) + 17).map { _ in UInt8.random(in: 0...255, using: &g) }
        try await Self.upload(client, key: "blobs/ab/cd/abcdef", bytes, retention: nil)
        #expect(try await client.headObject(key: "blobs/ab/cd/abcdef") == Int64(bytes.count))
        #expect(try await Self.read(client, key: "blobs/ab/cd/abcdef") == bytes)
        #expect(try await client.headObject(key: "blobs/no/ne/none") == nil)
        await #expect(throws: ArchiveError.self) { _ = try await Self.read(client, key: "blobs/no/ne/none") }

        let wrong = S3Client(location: client.location, accessKey: "rk-not-a-key", secretKey: "wrong")
        do {
            _ = try await wrong.headObject(key: "blobs/ab/cd/abcdef")
            Issue.record("the server accepted a request signed with unknown credentials")
        } catch let e as S3Error {
            #expect(e.status == 403)
        }
    }

    /// The records-law property itself, proved on the real server: a version under COMPLIANCE
    /// retention cannot be deleted or have its retention shortened; a legal hold blocks deletion
    /// until it is lifted; a plain delete only hides the name and the bytes stay readable.
    @Test func compliancePropertiesAreEnforcedByTheServer() async throws {
        let client = try await TestS3.freshBucket()
        let until = Date().addingTimeInterval(3600)
        try await Self.upload(client, key: "locked", Array("permanent record".utf8), retention: ObjectRetention(mode: .compliance, until: until))
        let version = try #require(try await client.versions(key: "locked").first { !$0.isDeleteMarker })
        let retention = try #require(try await client.retention(key: "locked"))
        #expect(retention.mode == .compliance && abs(retention.until.timeIntervalSince(until)) < 2)

        do {
            try await client.deleteVersion(key: "locked", versionID: version.versionID)
            Issue.record("the server deleted a version under COMPLIANCE retention")
        } catch let e as S3Error {
            #expect(e.isRefusal, "\(e)")
        }
        do {
            try await client.setRetention(key: "locked", versionID: version.versionID, ObjectRetention(mode: .compliance, until: Date().addingTimeInterval(60)))
            Issue.record("the server shortened COMPLIANCE retention")
        } catch let e as S3Error {
            #expect(e.status >= 400)
        }
        // Extending is allowed.
        try await client.setRetention(key: "locked", versionID: version.versionID, ObjectRetention(mode: .compliance, until: until.addingTimeInterval(86_400)))
        #expect(try await client.retention(key: "locked", versionID: version.versionID)!.until > until.addingTimeInterval(86_000))

        // A delete without a version only adds a marker: the locked version is still there.
        try await client.deleteObject(key: "locked")
        let versions = try await client.versions(key: "locked")
        #expect(versions.contains { $0.isDeleteMarker })
        #expect(versions.contains { $0.versionID == version.versionID && !$0.isDeleteMarker })

        // A legal hold alone (no retention) blocks deletion until it is lifted.
        try await Self.upload(client, key: "held", Array("evidence".utf8), retention: nil, legalHold: true)
        let held = try #require(try await client.versions(key: "held").first { !$0.isDeleteMarker })
        #expect(try await client.legalHold(key: "held", versionID: held.versionID))
        do {
            try await client.deleteVersion(key: "held", versionID: held.versionID)
            Issue.record("the server deleted a version under legal hold")
        } catch let e as S3Error {
            #expect(e.isRefusal, "\(e)")
        }
        try await client.setLegalHold(key: "held", versionID: held.versionID, on: false)
        #expect(try await client.legalHold(key: "held", versionID: held.versionID) == false)
        try await client.deleteVersion(key: "held", versionID: held.versionID)
        #expect(try await client.versions(key: "held").filter { !$0.isDeleteMarker }.isEmpty)
    }
}
