import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

private let fixture = packageRoot.appendingPathComponent("Tests/ConnectorsTests/Fixtures/matrix/txn-port-ops.json")

private func registration() -> MatrixRegistration {
    MatrixRegistration.capturingEverything(id: "recordkeeper-test", url: "http://127.0.0.1:9", senderLocalpart: "recordkeeper")
}

@Suite("Matrix live capture")
struct MatrixCaptureTests {
    /// The service without a homeserver: transactions pushed by hand (nothing listens where the
    /// media would be fetched, so the image is recorded as missing).
    @Test func transactionsAreIdempotentByIdAndByEventAndUnreadableBodiesAreKept() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let reg = registration()
        let service = MatrixCaptureService(archive: archive, configuration: MatrixCaptureConfiguration(
            homeserver: URL(string: "http://127.0.0.1:9")!, registration: reg, custodian: "records@cbp.example.gov"))
        #expect(service.authorized(reg.hsToken) && !service.authorized(reg.asToken) && !service.authorized(nil) && !service.authorized(""))

        let body = try Data(contentsOf: fixture)
        guard case .archived(let batches, let added, 0) = try await service.receive(transactionID: "1", body: body) else {
            Issue.record("the first push was not archived"); return
        }
        #expect(batches.count == 2 && added == 18) // one batch per room
        // The homeserver sends the same transaction again (it never saw the answer): nothing done.
        #expect(try await service.receive(transactionID: "1", body: body) == .alreadyArchived)
        // The same events under a new transaction id (a homeserver that lost its own log): no doubles.
        #expect(try await service.receive(transactionID: "2", body: body) == .archived(batches: [3, 4], added: 0, duplicates: 18))
        // A body that is not events is kept byte for byte and acknowledged, with the reason audited.
        guard case .kept = try await service.receive(transactionID: "3", body: Data("{\"events\": 7".utf8)) else {
            Issue.record("an unreadable body was not kept"); return
        }
        let digest = ContentHash.of(Data("{\"events\": 7".utf8))
        #expect(try await archive.blobs.contains(digest))
        let audit = try await archive.store.auditEntries(afterSequence: 0, limit: 500)
        #expect(audit.contains { $0.action == "ingest.failed" && $0.detail.contains(digest.hex) })

        let conversations = try await archive.store.conversations(titleContains: nil, limit: 10)
        // A room the homeserver could not name (none here) keeps its id as title until it is named.
        #expect(Set(conversations.map(\.title)) == ["Port Ops", "!harbor:agency.example.gov"])
        let portOps = try #require(conversations.first { $0.title == "Port Ops" })
        #expect(portOps.platform == .matrix && portOps.messageCount == 17)
        let transcript = try await archive.store.transcript(conversationID: portOps.id, offset: 0, limit: 50)
        #expect(transcript.filter { $0.message.body == "ok" }.count == 2)
        #expect(transcript.contains { $0.message.body == "Seal numbers do not match the manifest" })
        #expect(transcript.contains { $0.message.kind == .deleted && $0.message.body.contains("redacted $msg4") })
        #expect(try await VerifyService(archive: archive).verify(actor: "test").ok)
    }

    /// End to end against a real Synapse (started by scripts/test.sh): users, a room, text, an
    /// edit, a redaction and an image; then the capture stops, a message is sent, the capture
    /// comes back as part of `serve`, and the homeserver's retry brings the message in.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["RECORDKEEPER_SYNAPSE_URL"] != nil, "needs Synapse (scripts/test.sh starts it)"),
          .timeLimit(.minutes(5)))
    func capturesEverythingASynapseHomeserverCarriesIncludingRedactedOriginals() async throws {
        let env = ProcessInfo.processInfo.environment
        let hs = try #require(env["RECORDKEEPER_SYNAPSE_URL"].flatMap(URL.init(string:)))
        let registrationPath = try #require(env["RECORDKEEPER_SYNAPSE_REGISTRATION"])
        let reg = try MatrixRegistration.load(URL(fileURLWithPath: registrationPath))
        let listen = try #require(URL(string: reg.url)).port.map { "127.0.0.1:\($0)" } ?? "127.0.0.1:9009"

        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let data = tmp.url.appendingPathComponent("data").path
        let matrixArgs = ["--matrix-registration", registrationPath, "--matrix-homeserver", hs.absoluteString, "--matrix-listen", listen,
                          "--matrix-custodian", "records@cbp.example.gov", "--data-dir", data]
        var (capture, banner) = try CLI.start(["capture", "matrix"] + matrixArgs, until: "Stop with")
        defer { if capture.isRunning { capture.terminate(); capture.waitUntilExit() } }
        #expect(banner.contains("listening on \(listen)"))

        let run = String(UUID().uuidString.prefix(8)).lowercased()
        let client = MatrixTestClient(homeserver: hs)
        let alice = try await client.register("alice-\(run)")
        let bob = try await client.register("bob-\(run)")
        let room = try await client.createRoom(alice, name: "Port Ops \(run)", invite: "@bob-\(run):localhost")
        try await client.join(bob, room: room)
        let original = try await client.send(alice, room: room, content: ["msgtype": "m.text", "body": "Inspection at berth 4 at 10:00"])
        _ = try await client.send(alice, room: room, content: [
            "msgtype": "m.text", "body": "* Inspection at berth 4 moved to 11:00",
            "m.new_content": ["msgtype": "m.text", "body": "Inspection at berth 4 moved to 11:00"],
            "m.relates_to": ["rel_type": "m.replace", "event_id": original]])
        let doomed = try await client.send(bob, room: room, content: ["msgtype": "m.text", "body": "Seal numbers do not match, delete this \(run)"])
        try await client.redact(bob, room: room, event: doomed, reason: "sent too early")
        let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array("seal photo \(run)".utf8))
        let mxc = try await client.upload(alice, data: png, name: "seal.png")
        _ = try await client.send(alice, room: room, content: ["msgtype": "m.image", "body": "seal.png", "url": mxc,
                                                              "info": ["mimetype": "image/png", "size": png.count]])

        // Everything arrives as it happens; wait for the image, the last event sent.
        let conversation = try await eventually("the room's events") { () -> Conversation? in
            guard let c = try await archive.store.conversations(titleContains: "Port Ops \(run)", limit: 5).first else { return nil }
            let t = try await archive.store.transcript(conversationID: c.id, offset: 0, limit: 200)
            return t.contains { !$0.message.attachments.isEmpty } ? c : nil
        }
        var transcript = try await archive.store.transcript(conversationID: conversation.id, offset: 0, limit: 200)
        let bodies = transcript.map(\.message.body)
        #expect(bodies.contains("Inspection at berth 4 at 10:00"))
        #expect(transcript.contains { $0.message.body == "Inspection at berth 4 moved to 11:00" && $0.message.flags.contains(.edited) })
        // The redacted original is in the archive, and so is the redaction.
        #expect(bodies.contains("Seal numbers do not match, delete this \(run)"))
        #expect(transcript.contains { $0.message.kind == .deleted && $0.message.body.contains("redacted \(doomed)") && $0.message.body.contains("sent too early") })
        #expect(transcript.contains { $0.message.body.contains("invited @bob-\(run):localhost") })
        // The image's bytes, fetched through the media API.
        let image = try #require(transcript.first { !$0.message.attachments.isEmpty })
        let blob = try #require(image.message.attachments.first?.blob)
        var stored = Data()
        try await archive.blobs.read(blob) { stored.append(contentsOf: $0) }
        #expect(stored == png)

        // The capture stops; a message is sent while it is down; it comes back inside `serve`.
        capture.terminate()
        capture.waitUntilExit()
        let whileDown = "Sent while the archive was down \(run)"
        _ = try await client.send(bob, room: room, content: ["msgtype": "m.text", "body": whileDown])
        // Long enough for the homeserver to try, fail and record the service as down (a homeserver
        // killed within that second never learns it owed anything; that is Synapse's to keep).
        try await Task.sleep(for: .seconds(5))
        if let dir = env["RECORDKEEPER_SYNAPSE_DIR"] {
            // The homeserver restarts too, before the archive is back: it keeps what it owes.
            try await restartSynapse(dir: dir, registration: registrationPath, log: tmp.url.appendingPathComponent("synapse-restart.log"))
        }
        (capture, banner) = try CLI.start(["serve", "--port", "0"] + matrixArgs, until: "Capturing from Matrix")
        // A restarted Synapse resumes its Application Service stream when its next event comes
        // (a running one retries on its own): send one, and both must arrive.
        _ = try await client.send(alice, room: room, content: ["msgtype": "m.text", "body": "After the restart \(run)"])
        _ = try await eventually("the message sent while capture was down, and the next", timeout: 180) { () -> Bool? in
            let t = try await archive.store.transcript(conversationID: conversation.id, offset: 0, limit: 200)
            return t.contains { $0.message.body == whileDown } && t.contains { $0.message.body == "After the restart \(run)" } ? true : nil
        }
        // Nothing doubled: one record per event.
        transcript = try await archive.store.transcript(conversationID: conversation.id, offset: 0, limit: 500)
        let eventIDs = transcript.compactMap { record -> String? in
            (try? JSONSerialization.jsonObject(with: Data(record.message.raw.utf8)) as? [String: Any])?["event_id"] as? String
        }
        #expect(eventIDs.count == transcript.count && Set(eventIDs).count == eventIDs.count)
        #expect(transcript.filter { $0.message.body == whileDown }.count == 1)
        let verified = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(verified.ok, "\(verified.problems)")
    }
}

/// Restarts the test homeserver through scripts/synapse.sh. Output goes to a file and the end is
/// seen from a marker file, never through `Process.waitUntilExit`: Synapse daemonizes, and
/// waiting on the script from a test's task hung the run.
private func restartSynapse(dir: String, registration: String, log: URL) async throws {
    let done = log.appendingPathExtension("status")
    let script = packageRoot.appendingPathComponent("scripts/synapse.sh").path
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", "\"$0\" stop \"$1\" && \"$0\" start \"$1\" \"$2\"; echo $? > \"$3\"", script, dir, registration, done.path]
    FileManager.default.createFile(atPath: log.path, contents: nil)
    let out = try FileHandle(forWritingTo: log)
    p.standardOutput = out
    p.standardError = out
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let status: String = try await eventually("Synapse to restart", timeout: 120) {
        (try? String(contentsOf: done, encoding: .utf8)).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
    }
    try? out.close()
    #expect(status == "0", "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
}

/// Polls until `probe` gives a value.
private func eventually<T>(_ what: String, timeout: Double = 60, _ probe: () async throws -> T?) async throws -> T {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if let value = try await probe() { return value }
        try await Task.sleep(for: .milliseconds(250))
    }
    throw TestFailure("timed out waiting for \(what)")
}

/// Just enough of the client-server API to play two users.
private struct MatrixTestClient {
    let homeserver: URL
    let session = URLSession(configuration: .ephemeral)

    func call(_ method: String, _ path: String, token: String? = nil, json: Any? = nil, body: Data? = nil, contentType: String? = nil) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: homeserver.absoluteString + path)!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let body {
            request.httpBody = body
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await session.data(for: request)
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw TestFailure("\(method) \(path) → \((response as? HTTPURLResponse)?.statusCode ?? 0): \(String(decoding: data, as: UTF8.self))")
        }
        return object
    }

    static func encode(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s }

    func register(_ user: String) async throws -> String {
        let r = try await call("POST", "/_matrix/client/v3/register", json: ["username": user, "password": "pw-\(user)-123", "auth": ["type": "m.login.dummy"]])
        guard let token = r["access_token"] as? String else { throw TestFailure("no access token for \(user)") }
        return token
    }

    func createRoom(_ token: String, name: String, invite: String) async throws -> String {
        let r = try await call("POST", "/_matrix/client/v3/createRoom", token: token, json: ["name": name, "preset": "private_chat", "invite": [invite]])
        guard let room = r["room_id"] as? String else { throw TestFailure("no room id") }
        return room
    }

    func join(_ token: String, room: String) async throws {
        _ = try await call("POST", "/_matrix/client/v3/rooms/\(Self.encode(room))/join", token: token, json: [String: Any]())
    }

    func send(_ token: String, room: String, content: [String: Any]) async throws -> String {
        let r = try await call("PUT", "/_matrix/client/v3/rooms/\(Self.encode(room))/send/m.room.message/\(UUID().uuidString)", token: token, json: content)
        guard let id = r["event_id"] as? String else { throw TestFailure("no event id") }
        return id
    }

    func redact(_ token: String, room: String, event: String, reason: String) async throws {
        _ = try await call("PUT", "/_matrix/client/v3/rooms/\(Self.encode(room))/redact/\(Self.encode(event))/\(UUID().uuidString)", token: token,
                           json: ["reason": reason])
    }

    func upload(_ token: String, data: Data, name: String) async throws -> String {
        let r = try await call("POST", "/_matrix/media/v3/upload?filename=\(Self.encode(name))", token: token, body: data, contentType: "image/png")
        guard let uri = r["content_uri"] as? String else { throw TestFailure("no content uri") }
        return uri
    }
}
