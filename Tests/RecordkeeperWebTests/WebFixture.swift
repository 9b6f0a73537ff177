import Archive
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Recordkeeper
import RecordkeeperCore
import RecordkeeperWeb
import Testing

/// A fresh temporary directory, removed by `cleanup()`.
struct TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("rk-web-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func sub(_ name: String) throws -> URL {
        let u = url.appendingPathComponent(name, isDirectory: true)
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// An archive with two custodians' chats (one carrying hostile text and a photo), a user for
/// every role and a FOIA hold, served by a `WebApp` driven through HummingbirdTesting's router.
struct WebFixture {
    /// Jane Doe's export of a chat with Sam Lee: a photo, a script tag and a bidi override among
    /// ordinary port-operations messages.
    static let janeChat = """
        30/12/2020, 09:15 - Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.
        30/12/2020, 09:16 - Jane Doe: Crane 4 is down again
        02/01/2021, 08:00 - Sam Lee: Shift change at 0800
        14/03/2021, 10:00 - Jane Doe: Manifest review tomorrow
        15/03/2021, 10:00 - Sam Lee: Approved the manifest <script>alert('manifest')</script>
        05/05/2021, 11:30 - Jane Doe: IMG-20210505-WA0001.jpg (file attached)
        Photo of the seized pallet
        05/05/2021, 11:31 - Sam Lee: Hold that pallet for the inspector general \u{202E}gpj.exe
        31/08/2021, 17:00 - Sam Lee: Last day in the front office

        """
    /// Sam Lee's own export of a different chat.
    static let samChat = """
        03/02/2021, 14:00 - Sam Lee: The manifest for vessel Aurora is missing a page
        03/02/2021, 14:05 - Omar Reyes: I will rescan the manifest tonight
        04/02/2021, 09:00 - Omar Reyes: Rescanned and filed

        """
    /// A real JPEG header (enough for a browser to call it an image).
    static let photo = Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0x02, 0x03])
    static let jane = "jane.doe@agency.example.gov"
    static let sam = "sam.lee@agency.example.gov"
    static let password = "correct horse battery staple"

    /// User name for each role (nil: signed out).
    static let users: [(String, UserRole)] = [("ada", .admin), ("alice", .recordsOfficer), ("carol", .reviewer), ("dave", .auditor), ("jane", .custodian),
                                                 ("rita", .receiver), ("sue", .custodySupervisor), ("otto", .custodyOfficer),
                                                 ("nina", .noticeClerk), ("pia", .privacyOfficer), ("tina", .targeter)]

    let tmp: TempDir
    let archive: ArchiveHandle
    let web: WebApp
    let janeBatch: BatchReport
    let samBatch: BatchReport
    let holdID: Int64

    static func make() async throws -> WebFixture {
        let tmp = try TempDir()
        let archive = try await DataDirectory(url: tmp.url.appendingPathComponent("data")).create(actor: "test")
        let janeDir = try tmp.sub("jane")
        let txt = janeDir.appendingPathComponent("WhatsApp Chat with Sam Lee.txt")
        try Data(janeChat.utf8).write(to: txt)
        try photo.write(to: janeDir.appendingPathComponent("IMG-20210505-WA0001.jpg"))
        let samTxt = try tmp.sub("sam").appendingPathComponent("WhatsApp Chat with Omar Reyes.txt")
        try Data(samChat.utf8).write(to: samTxt)
        let ingest = IngestService(archive: archive)
        let jb = try await ingest.ingest(IngestRequest(paths: [txt], custodian: jane, timeZone: "America/New_York", actor: "test"))
        let sb = try await ingest.ingest(IngestRequest(paths: [samTxt], custodian: sam, timeZone: "America/New_York", actor: "test"))
        let service = UserService(archive: archive)
        let credentials = CredentialService(archive: archive, cost: 4)
        for (name, role) in users {
            _ = try await service.save(name: name, displayName: name.capitalized, roles: [role], custodianEmail: role == .custodian ? jane : nil,
                                       actor: "ada")
            try await credentials.setPassword(user: name, password: password, actor: "ada")
        }
        _ = try await service.save(name: "bob", displayName: "Bob", roles: [.recordsOfficer], actor: "ada")
        try await credentials.setPassword(user: "bob", password: password, actor: "ada")
        let hold = try await HoldService(archive: archive).create(name: "FOIA manifests", matter: .foia, reference: "FOIA-2021-0042",
                                                                  requestedBy: "FOIA office", scope: HoldScope(query: "manifest"), actor: "alice")
        var config = WebConfiguration()
        config.bcryptCost = 4
        config.port = 0
        return WebFixture(tmp: tmp, archive: archive, web: WebApp(archive: archive, configuration: config), janeBatch: jb[0], samBatch: sb[0],
                          holdID: hold.hold.id)
    }

    /// Runs `body` against the application through the router test framework (no sockets).
    func test<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        var logger = Logger(label: "test")
        logger.logLevel = .warning // request lines would drown the test output
        return try await web.application(logger: logger).test(.router) { client in try await body(client) }
    }

    /// A signed-in browser session for `user` (made directly, without a password round-trip).
    func session(_ user: String) async throws -> BrowserSession {
        let s = try await web.sessions.create(user: user)
        return BrowserSession(cookie: "rk_session=\(s.id)", csrf: s.csrf)
    }

    func messageID(_ prefix: String) async throws -> Int64 {
        for batch in [janeBatch, samBatch] {
            let (_, messages) = try await RecordService(archive: archive).transcript(conversationID: batch.conversationID!, actor: "test")
            if let m = messages.first(where: { $0.message.body.hasPrefix(prefix) }) { return m.id }
        }
        throw TestFailure("no message starting \(prefix)")
    }
}

struct BrowserSession: Sendable {
    var cookie: String
    var csrf: String
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var location: String? { headers[.location] }
    func json() throws -> [String: Any] {
        guard let o = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else { throw TestFailure("not a JSON object") }
        return o
    }
    var errorCode: String? { ((try? json())?["error"] as? [String: Any])?["code"] as? String }
}

extension TestClientProtocol {
    func get(_ uri: String, as s: BrowserSession? = nil, json: Bool = false, headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers = extra
        if let s { headers[.cookie] = s.cookie }
        if json { headers[.accept] = "application/json" }
        return try await execute(uri: uri, method: .get, headers: headers)
    }

    /// A form POST as a browser sends it, with the session's CSRF token unless told otherwise.
    func post(_ uri: String, as s: BrowserSession?, form: [(String, String)] = [], csrf: Bool = true, json: Bool = false,
              headers extra: HTTPFields = [:], method: HTTPRequest.Method = .post) async throws -> TestResponse {
        var headers = extra
        headers[.contentType] = "application/x-www-form-urlencoded"
        if let s { headers[.cookie] = s.cookie }
        if json { headers[.accept] = "application/json" }
        var fields = form
        if csrf, let s { fields.append(("csrf", s.csrf)) }
        let body = fields.map { "\(Self.enc($0.0))=\(Self.enc($0.1))" }.joined(separator: "&")
        return try await execute(uri: uri, method: method, headers: headers, body: ByteBuffer(string: body))
    }

    func postMultipart(_ uri: String, headers base: HTTPFields, fields: [(String, String)], file: (name: String, data: Data)) async throws -> TestResponse {
        let boundary = "----rk\(UUID().uuidString)"
        var body = Data()
        for (k, v) in fields {
            body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(k)\"\r\n\r\n\(v)\r\n".utf8))
        }
        body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(file.name)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8))
        body.append(file.data)
        body.append(Data("\r\n--\(boundary)--\r\n".utf8))
        var headers = base
        headers[.contentType] = "multipart/form-data; boundary=\(boundary)"
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }

    static func enc(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
