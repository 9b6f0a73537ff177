import Archive
import Foundation
import RecordkeeperCore
import Testing

@Suite("CaptureStore, MessageStore and IntegrityStore conformance (every backend)")
struct ArchiveStoreConformanceTests {
    typealias Store = any ConversationStore & CaptureStore & MessageStore & IntegrityStore

    struct Fixture {
        let store: Store
        let custodian: Custodian
        let conversation: Conversation
        let batch: CaptureBatch
        let source: BlobInfo
    }

    static func fixture(_ store: Store) async throws -> Fixture {
        let custodian = try await store.saveCustodian(email: "A.Person@Agency.example.gov", timeZone: nil)
        let conversation = try await store.ensureConversation(key: "whatsapp:a.person@agency.example.gov:ops", platform: .whatsapp,
                                                              custodianID: custodian.id, title: "Ops 100%")
        let source = BlobInfo(hash: ContentHash.of("original export"), size: 15)
        try await store.registerBlob(source)
        let batch = try await store.startBatch(NewBatch(
            custodianID: custodian.id, conversationID: conversation.id, actor: "tester", sourceName: "export.txt", source: source,
            platform: .whatsapp, format: "whatsapp-android-txt", textMember: "export.txt",
            dateOrder: DateOrderDecision(order: .dmy, certain: true, basis: "evidence", evidence: ["first field exceeds 12"]),
            timeZone: "UTC", timeZoneBasis: "flag", startedAtMillis: 1_000))
        return Fixture(store: store, custodian: custodian, conversation: conversation, batch: batch, source: source)
    }

    static func message(_ f: Fixture, _ n: Int, minute: Int, body: String, sender: String? = "Ann",
                        attachments: [ArchivedAttachment] = []) -> ArchivedMessage {
        let sent = LocalDateTime(year: 2021, month: 3, day: 1, hour: 9, minute: minute)
        return ArchivedMessage(
            identityKey: IdentityKey.forMessage(platform: .whatsapp, conversationKey: f.conversation.key,
                                                senderKey: IdentityKey.senderKey(sender), sentLocal: sent, body: body, duplicateOrdinal: 0),
            platform: .whatsapp, conversationKey: f.conversation.key, sourceOrdinal: n, duplicateOrdinal: 0, sentLocal: sent,
            timeZone: "UTC", sentAt: sent.secondsSinceEpochAsUTC, capturedAtMillis: 2_000, sender: sender, senderRaw: sender,
            body: body, raw: "01/03/2021, 09:\(minute) - \(sender ?? ""): \(body)", kind: sender == nil ? .system : .user,
            flags: attachments.isEmpty ? [] : [.hasAttachment], sourceBlob: f.source.hash, sourceMember: "export.txt",
            sourceLine: n, lineCount: 1, attachments: attachments)
    }

    /// Text that a bulk-load format must escape comes back byte for byte: backslashes (also
    /// before N, COPY's null), tabs, carriage returns, newlines, and a sender that is absent.
    @Test(arguments: Backends.capture)
    func textComesBackExactlyAsCaptured(_ backend: Backend<Store>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let f = try await Self.fixture(open.store)
        let awkward = ["C:\\Users\\N\\new\\N", "a\tb\t\tc", "line one\r\nline two\nline three", "\\N", "tab at end\t", "émoji 👍🏽 \\"]
        var messages = awkward.enumerated().map { i, body in Self.message(f, i + 1, minute: i + 1, body: body) }
        messages.append(Self.message(f, 10, minute: 10, body: "Messages are end-to-end encrypted.", sender: nil))
        let r = try await f.store.append(batchID: f.batch.id, conversationID: f.conversation.id, messages: messages, defects: [])
        #expect(r.added == messages.count)
        let stored = try await f.store.transcript(conversationID: f.conversation.id, offset: 0, limit: 20)
        #expect(stored.map(\.message.body) == messages.map(\.body))
        #expect(stored.map(\.message.raw) == messages.map(\.raw))
        #expect(stored.last?.message.sender == nil && stored.last?.message.kind == .system)
        #expect(stored.allSatisfy { $0.message.contentHash == $0.message.computeContentHash() })
    }

    @Test(arguments: Backends.capture)
    func appendSkipsKnownIdentitiesAndKeepsTotals(_ backend: Backend<Store>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let f = try await Self.fixture(open.store)
        let photo = BlobInfo(hash: ContentHash.of("jpeg bytes"), size: 10)
        let first = [Self.message(f, 1, minute: 1, body: "one"),
                     Self.message(f, 2, minute: 2, body: "IMG-1.jpg (file attached)", attachments: [
                        ArchivedAttachment(fileName: "IMG-1.jpg", blob: photo.hash, size: photo.size),
                        ArchivedAttachment(fileName: "IMG-2.jpg", blob: nil, size: nil)])]
        let defect = CaptureDefect(file: "export.txt", line: 9, code: "orphan_line", detail: "d", text: "stray")
        let r1 = try await f.store.append(batchID: f.batch.id, conversationID: f.conversation.id, messages: first, defects: [defect])
        var expected1 = AppendResult(added: 2, duplicates: 0, alreadyInBatch: 0, defectsAdded: 1, attachmentsStored: 1, attachmentsMissing: 1)
        expected1.assigned = ["0002": 2] // the default plan assigns every stored record in the same transaction
        #expect(r1 == expected1)
        // The same batch again (a resumed run): its own messages and defects are not counted twice.
        let r2 = try await f.store.append(batchID: f.batch.id, conversationID: f.conversation.id,
                                          messages: first + [Self.message(f, 3, minute: 3, body: "three")], defects: [defect])
        var expected2 = AppendResult(added: 1, duplicates: 2, alreadyInBatch: 2, defectsAdded: 0, attachmentsStored: 0, attachmentsMissing: 0)
        expected2.assigned = ["0002": 1]
        #expect(r2 == expected2)
        let batch = try #require(try await f.store.batch(id: f.batch.id))
        #expect(batch.totals.messagesAdded == 3 && batch.totals.duplicates == 0 && batch.totals.defects == 1)
        #expect(batch.totals.attachmentsStored == 1 && batch.totals.attachmentsMissing == 1)
        // Another batch of an overlapping export: those are its duplicates.
        let other = try await f.store.startBatch(NewBatch(
            custodianID: f.custodian.id, conversationID: f.conversation.id, actor: "tester", sourceName: "later.txt", source: f.source,
            platform: .whatsapp, format: "whatsapp-android-txt", textMember: "later.txt", dateOrder: nil, timeZone: "UTC",
            timeZoneBasis: "flag", startedAtMillis: 3_000))
        let r3 = try await f.store.append(batchID: other.id, conversationID: f.conversation.id, messages: first, defects: [])
        #expect(r3.duplicates == 2 && r3.alreadyInBatch == 0)
        #expect(try await f.store.batch(id: other.id)?.totals.duplicates == 2)
        #expect(batch.dateOrder?.evidence == ["first field exceeds 12"])
        #expect(try await f.store.defects(batchID: f.batch.id, limit: 10) == [defect])
        // The attachment's blob was registered with the message.
        #expect(try await f.store.blobs(after: nil, limit: 10).map(\.hash).contains(photo.hash))
        let stats = try await f.store.stats()
        #expect(stats.messages == 3 && stats.attachments == 2 && stats.attachmentsMissing == 1 && stats.defects == 1)
    }

    @Test(arguments: Backends.capture)
    func messagesReadBackExactlyAsWritten(_ backend: Backend<Store>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let f = try await Self.fixture(open.store)
        let written = [Self.message(f, 2, minute: 5, body: "later, multi\nline ✓"), Self.message(f, 1, minute: 4, body: "earlier"),
                       Self.message(f, 3, minute: 6, body: "Ann added Bob", sender: nil)]
        _ = try await f.store.append(batchID: f.batch.id, conversationID: f.conversation.id, messages: written, defects: [])
        let transcript = try await f.store.transcript(conversationID: f.conversation.id, offset: 0, limit: 10)
        #expect(transcript.map(\.message.body) == ["earlier", "later, multi\nline ✓", "Ann added Bob"]) // sent order
        for stored in transcript {
            var expected = try #require(written.first { $0.identityKey == stored.message.identityKey })
            expected.id = stored.id
            #expect(stored.message == expected)
            #expect(stored.storedContentHash == expected.contentHash)
            #expect(stored.batchID == f.batch.id && stored.conversationID == f.conversation.id)
        }
        let conversation = try #require(try await f.store.conversation(id: f.conversation.id))
        #expect(conversation.participants == ["Ann"] && conversation.messageCount == 3)
        #expect(conversation.firstSent == "2021-03-01T09:04:00")
    }

    @Test(arguments: Backends.capture)
    func hashChecksCoverEveryMessageOnceAndMatchTheRecipe(_ backend: Backend<Store>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let f = try await Self.fixture(open.store)
        let photo = ArchivedAttachment(fileName: "IMG-1.jpg", blob: ContentHash.of("jpeg"), size: 4)
        var messages = (1...25).map { Self.message(f, $0, minute: $0, body: "m\($0)") }
        messages[3] = Self.message(f, 4, minute: 4, body: "photo", attachments: [photo, ArchivedAttachment(fileName: "x.pdf", blob: nil, size: nil)])
        messages[5] = Self.message(f, 6, minute: 6, body: "Ann added Bob", sender: nil)
        _ = try await f.store.append(batchID: f.batch.id, conversationID: f.conversation.id, messages: messages, defects: [])
        let range = try #require(try await f.store.messageIDRange())
        var checks: [MessageHashCheck] = []
        var after = range.lowerBound - 1
        let through = range.lowerBound + 11
        while true {
            let page = try await f.store.verifyMessageHashes(afterID: after, throughID: through, limit: 5)
            guard let last = page.last else { break }
            checks += page
            after = last.id
        }
        #expect(checks.map(\.id) == Array(range.lowerBound...through))
        // Hashed from the stored bytes, the recipe gives exactly the hash computed at capture.
        for (check, message) in zip(checks, messages) {
            // No mismatch: the hash recomputed through the reused buffer is the stored one, over the
            // same serialisation a fresh encoder gives.
            #expect(check.mismatch == nil)
            #expect(check.bytes == ArchivedMessage.canonicalDigest(from: message).size)
            #expect(check.sourceBlob == f.source.hash)
            #expect(check.bytes > message.body.utf8.count)
        }
        #expect(checks[3].attachmentBlobs == [photo.blob!])
        let rest = try await f.store.verifyMessageHashes(afterID: through, throughID: range.upperBound, limit: 100)
        #expect(rest.count == 25 - 12)
    }

    @Test(arguments: Backends.capture)
    func unfinishedBatchesAreFoundUntilFinished(_ backend: Backend<Store>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let f = try await Self.fixture(open.store)
        #expect(try await f.store.unfinishedBatch(sourceHash: f.source.hash, custodianID: f.custodian.id)?.id == f.batch.id)
        #expect(try await f.store.unfinishedBatch(sourceHash: ContentHash.of("other"), custodianID: f.custodian.id) == nil)
        try await f.store.finishBatch(id: f.batch.id)
        #expect(try await f.store.unfinishedBatch(sourceHash: f.source.hash, custodianID: f.custodian.id) == nil)
        #expect(try await f.store.batch(id: f.batch.id)?.status == "complete")
    }

    /// Two ingests of overlapping exports of one chat, at the same moment (on PostgreSQL, on
    /// separate connections): every message is stored exactly once, and what one stored the
    /// other counts as a duplicate.
    @Test(arguments: Backends.capture)
    func overlappingIngestsAtOnceStoreEachMessageExactlyOnce(_ backend: Backend<Store>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let f = try await Self.fixture(open.store)
        let other = try await f.store.startBatch(NewBatch(
            custodianID: f.custodian.id, conversationID: f.conversation.id, actor: "tester", sourceName: "other.txt", source: f.source,
            platform: .whatsapp, format: "whatsapp-android-txt", textMember: "other.txt", dateOrder: nil, timeZone: "UTC",
            timeZoneBasis: "flag", startedAtMillis: 3_000))
        let all = (1...59).map { Self.message(f, $0, minute: $0, body: "message \($0)") }
        let a = Array(all[0..<40]), b = Array(all[20..<59])
        let store = f.store, conversation = f.conversation.id, first = f.batch.id
        let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
            for round in 0..<4 {
                group.addTask { try await store.append(batchID: round % 2 == 0 ? first : other.id, conversationID: conversation,
                                                       messages: round % 2 == 0 ? a : b, defects: []) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let added: Int = results.map(\.added).reduce(0, +)
        let seen: Int = results.map { (r: AppendResult) -> Int in r.added + r.duplicates }.reduce(0, +)
        #expect(added == 59)
        #expect(seen == 158) // each of the four appends saw all of its messages: 40 + 39 + 40 + 39
        let stored = try await f.store.transcript(conversationID: f.conversation.id, offset: 0, limit: 100)
        #expect(stored.map(\.message.body) == all.map(\.body))
        #expect(Set(stored.map(\.id)).count == 59)
        let range = try #require(try await f.store.messageIDRange())
        #expect(try await f.store.verifyMessageHashes(afterID: range.lowerBound - 1, throughID: range.upperBound, limit: 100).count == 59)
        #expect(try await f.store.stats().messages == 59)
    }
}
