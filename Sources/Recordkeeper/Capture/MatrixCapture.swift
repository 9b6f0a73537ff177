import Archive
import Connectors
import Crypto
import Foundation
import Logging
import RecordkeeperCore
import Yams
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An Application Service registration, as the homeserver reads it (`app_service_config_files`).
public struct MatrixRegistration: Codable, Sendable, Hashable {
    public struct Namespace: Codable, Sendable, Hashable {
        public var exclusive: Bool
        public var regex: String
    }
    public struct Namespaces: Codable, Sendable, Hashable {
        public var users: [Namespace]
        public var aliases: [Namespace]
        public var rooms: [Namespace]
    }
    public var id: String
    public var url: String
    public var asToken: String
    public var hsToken: String
    public var senderLocalpart: String
    public var namespaces: Namespaces
    public var rateLimited: Bool?

    enum CodingKeys: String, CodingKey {
        case id, url, namespaces
        case asToken = "as_token", hsToken = "hs_token", senderLocalpart = "sender_localpart", rateLimited = "rate_limited"
    }

    /// A registration that sees every event of every room on the homeserver (non-exclusive
    /// namespaces claim nothing: users keep their accounts), with fresh random tokens.
    public static func capturingEverything(id: String, url: String, senderLocalpart: String) -> MatrixRegistration {
        func token() -> String { (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() }
        let all = [Namespace(exclusive: false, regex: ".*")]
        return MatrixRegistration(id: id, url: url, asToken: token(), hsToken: token(), senderLocalpart: senderLocalpart,
                                  namespaces: Namespaces(users: [Namespace(exclusive: false, regex: "@.*")], aliases: all, rooms: all),
                                  rateLimited: false)
    }

    public func yaml() throws -> String { try YAMLEncoder().encode(self) }

    public static func load(_ url: URL) throws -> MatrixRegistration {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw IngestError(.notFound, "cannot read the registration file \(url.path)")
        }
        do { return try YAMLDecoder().decode(MatrixRegistration.self, from: text) } catch {
            throw IngestError(.notFound, "\(url.path) is not an Application Service registration (id, url, as_token, hs_token, sender_localpart, namespaces): \(error)")
        }
    }
}

/// Where and as whom live Matrix capture runs.
public struct MatrixCaptureConfiguration: Sendable {
    /// The homeserver's client-server API base, e.g. http://127.0.0.1:8008.
    public var homeserver: URL
    public var registration: MatrixRegistration
    /// The custodian the captured rooms are filed under (usually the records office's account).
    public var custodian: String
    /// The largest media file fetched; larger ones are recorded as missing, with a defect.
    public var maxMediaBytes = 256 << 20
    public init(homeserver: URL, registration: MatrixRegistration, custodian: String) {
        self.homeserver = homeserver
        self.registration = registration
        self.custodian = custodian
    }
}

/// What became of one pushed transaction.
public enum MatrixTransactionOutcome: Sendable, Hashable {
    /// Archived now: the batches it made and how many records they added.
    case archived(batches: [Int64], added: Int, duplicates: Int)
    /// Archived before (the homeserver sent it again): nothing done.
    case alreadyArchived
    /// The body could not be read as events: its bytes are kept in the blob store and the
    /// failure is in the audit log; the homeserver is not asked to send it again.
    case kept(reason: String)
}

/// Live capture from a Matrix homeserver, as an Application Service: the homeserver pushes
/// every event to `receive`, as it happens, before any client could delete it.
///
/// Each transaction's body is archived byte for byte as the original of its batches, with the
/// media its events name fetched through the media API. Transactions are idempotent by their id
/// (a repeat is answered at once) and events by their event id (a transaction re-sent under a
/// new id after a crash adds nothing), so a restart of either side loses and doubles nothing:
/// the homeserver keeps and retries what was not acknowledged.
public actor MatrixCaptureService {
    public nonisolated let archive: ArchiveHandle
    public let configuration: MatrixCaptureConfiguration
    let logger: Logger
    let session: URLSession
    private var roomNames: [String: String] = [:]
    public static let actor = "matrix-appservice"

    public init(archive: ArchiveHandle, configuration: MatrixCaptureConfiguration, logger: Logger = Logger(label: "recordkeeper.matrix")) {
        self.archive = archive
        self.configuration = configuration
        self.logger = logger
        let c = URLSessionConfiguration.ephemeral
        c.timeoutIntervalForRequest = 60
        session = URLSession(configuration: c)
    }

    var sourceName: String { "matrix:" + configuration.registration.id }

    /// Checks the homeserver's token on a push (constant time).
    public nonisolated func authorized(_ token: String?) -> Bool {
        guard let token else { return false }
        let a = Array(SHA256.hash(data: Data(token.utf8))), b = Array(SHA256.hash(data: Data(configuration.registration.hsToken.utf8)))
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Archives one transaction. Throws only when the archive could not store it (the
    /// homeserver then retries); a body that is not events is kept and acknowledged.
    public func receive(transactionID: String, body: Data) async throws -> MatrixTransactionOutcome {
        guard !transactionID.isEmpty, transactionID.count <= 255 else { throw IngestError(.notFound, "a transaction id must be 1–255 characters") }
        if try await archive.store.liveTransactionDone(source: sourceName, id: transactionID) { return .alreadyArchived }
        let work = archive.directory.scratchURL.appendingPathComponent("matrix-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: work) }
        // The file name carries a digest of the id, never the id itself (it is the homeserver's text).
        let stem = "matrix-txn-" + String(SHA256.hash(data: Data(transactionID.utf8)).map { String(format: "%02x", $0) }.joined().prefix(16))
        let file = work.appendingPathComponent(stem + ".json")
        try body.write(to: file)
        let events = ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?["events"] as? [[String: Any]] ?? []
        try await fetchMedia(events, into: work.appendingPathComponent(stem + ".media", isDirectory: true))
        try await nameRooms(events)
        var names: [String: String] = [:]
        for e in events { if let room = e["room_id"] as? String, let name = roomNames[room] { names[room] = name } }
        try JSONSerialization.data(withJSONObject: names).write(to: work.appendingPathComponent(stem + ".rooms.json"))

        let service = IngestService(archive: archive, connectors: [MatrixConnector()], logger: logger)
        let request = IngestRequest(paths: [file], custodian: configuration.custodian, timeZone: "UTC", actor: Self.actor)
        let outcome: MatrixTransactionOutcome
        var reports: [BatchReport] = []
        do {
            reports = try await service.ingestSource(SourceFile(url: file), request)
            outcome = .archived(batches: reports.compactMap(\.batchID), added: reports.reduce(0) { $0 + $1.messagesAdded },
                                duplicates: reports.reduce(0) { $0 + $1.duplicatesSkipped })
        } catch let error as ConnectorError {
            // Nothing more can be made of these bytes by asking again: they go to the blob
            // store as they came, the audit log says why, and the homeserver moves on.
            let kept = try await archive.blobs.put(file: file)
            try await archive.store.registerBlob(kept)
            try await archive.store.appendAudit(AuditDraft(actor: Self.actor, action: "ingest.failed", target: "source", detail: [
                "source": sourceName, "sha256": kept.hash.hex, "error": error.description]))
            outcome = .kept(reason: error.description)
        }
        try await archive.store.recordLiveTransaction(source: sourceName, id: transactionID, events: events.count, batches: reports.compactMap(\.batchID))
        logger.info("matrix.transaction", metadata: ["matrix.events": "\(events.count)", "matrix.batches": "\(reports.count)"])
        return outcome
    }

    /// Fetches each mxc URI the events name into `<server>/<media id>`, through the
    /// authenticated media API (the legacy one as fallback). A file that cannot be fetched is
    /// left out: the record then names it as missing.
    func fetchMedia(_ events: [[String: Any]], into folder: URL) async throws {
        let uris = Set(events.flatMap(MatrixConnector.mediaURIs(in:)))
        for uri in uris.sorted() {
            guard let (server, id) = MatrixConnector.mxcParts(uri) else { continue }
            let target = folder.appendingPathComponent(server, isDirectory: true).appendingPathComponent(id)
            var fetched = false
            for path in ["_matrix/client/v1/media/download/\(server)/\(id)", "_matrix/media/v3/download/\(server)/\(id)"] where !fetched {
                var request = URLRequest(url: configuration.homeserver.appendingPathComponent(path))
                request.setValue("Bearer \(configuration.registration.asToken)", forHTTPHeaderField: "Authorization")
                guard let (data, response) = try? await session.data(for: request),
                      (response as? HTTPURLResponse)?.statusCode == 200, data.count <= configuration.maxMediaBytes else { continue }
                try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try data.write(to: target)
                fetched = true
            }
            if !fetched { logger.warning("matrix.media.unfetched", metadata: ["matrix.server": "\(server)"]) }
        }
    }

    /// Learns each room's name (asking as one of the room's senders, whom the registration
    /// may act for), so a conversation is titled as its members see it.
    func nameRooms(_ events: [[String: Any]]) async throws {
        var askAs: [String: String] = [:]
        for e in events {
            guard let room = e["room_id"] as? String else { continue }
            if e["type"] as? String == "m.room.name", let name = (e["content"] as? [String: Any])?["name"] as? String, !name.isEmpty {
                roomNames[room] = name
            }
            if roomNames[room] == nil, askAs[room] == nil, let sender = e["sender"] as? String { askAs[room] = sender }
        }
        for (room, user) in askAs where roomNames[room] == nil {
            var components = URLComponents(url: configuration.homeserver, resolvingAgainstBaseURL: false)!
            let encodedRoom = room.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? room
            components.percentEncodedPath = (components.percentEncodedPath.hasSuffix("/") ? String(components.percentEncodedPath.dropLast()) : components.percentEncodedPath)
                + "/_matrix/client/v3/rooms/\(encodedRoom)/state/m.room.name/"
            components.queryItems = [URLQueryItem(name: "user_id", value: user)]
            guard let url = components.url else { continue }
            var request = URLRequest(url: url)
            request.setValue("Bearer \(configuration.registration.asToken)", forHTTPHeaderField: "Authorization")
            if let (data, response) = try? await session.data(for: request), (response as? HTTPURLResponse)?.statusCode == 200,
               let name = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["name"] as? String, !name.isEmpty {
                roomNames[room] = name
            }
        }
    }
}
