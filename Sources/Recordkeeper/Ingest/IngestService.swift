import Archive
import Connectors
import Foundation
import Logging
import RecordkeeperCore

/// What a user asks of one ingest run.
public struct IngestRequest: Sendable {
    /// Files or folders; a folder contributes the `.txt` and `.zip` exports directly inside it.
    public var paths: [URL]
    /// The custodian's official e-mail address: whose records these are.
    public var custodian: String
    /// IANA zone to assume for the exports' wall-clock times; otherwise the custodian's recorded
    /// zone, otherwise this machine's zone (recorded as such on the batch).
    public var timeZone: String?
    /// Forces the day/month order instead of deciding it from each file's evidence.
    public var dateOrder: DateOrder?
    /// Names the conversation when the file name does not.
    public var conversationTitle: String?
    /// Who is ingesting (goes to the audit log and the batch).
    public var actor: String
    /// After capture, wait until what was captured is in the search index (the CLI's default).
    /// Capture itself never waits: its records are durable before indexing starts.
    public var waitForIndex = true

    public init(paths: [URL], custodian: String, timeZone: String? = nil, dateOrder: DateOrder? = nil,
                conversationTitle: String? = nil, actor: String) {
        self.paths = paths
        self.custodian = custodian
        self.timeZone = timeZone
        self.dateOrder = dateOrder
        self.conversationTitle = conversationTitle
        self.actor = actor
    }
}

/// Progress of one source, reported every chunk.
public struct IngestProgress: Sendable {
    public var source: String
    public var bytesRead: Int64
    public var totalBytes: Int64
    public var messages: Int
    public var elapsed: Double
}

/// The outcome of one source: one capture batch (printed by `ingest --json`).
public struct BatchReport: Sendable, Codable, Hashable {
    public var source: String
    public var batchID: Int64?
    public var resumedBatch: Bool
    public var format: String?
    public var dateOrder: DateOrderDecision?
    public var timeZone: String?
    public var timeZoneBasis: String?
    public var conversationID: Int64?
    public var conversation: String?
    public var sourceSHA256: String?
    public var messagesAdded: Int
    public var duplicatesSkipped: Int
    public var attachmentsStored: Int
    public var attachmentsMissing: Int
    public var defects: Int
    /// The first few defects (all are kept in the archive; `show batch` lists them).
    public var defectSamples: [CaptureDefect]
    public var seconds: Double
    /// Set when the source could not be ingested at all.
    public var error: String?
    /// Set when the export arrived inside an e-mail: the e-mail record and its date.
    public var carriedBy: CarriedBy?

    init(source: String) {
        self.source = source
        resumedBatch = false
        messagesAdded = 0
        duplicatesSkipped = 0
        attachmentsStored = 0
        attachmentsMissing = 0
        defects = 0
        defectSamples = []
        seconds = 0
    }
}

/// Turns exports into capture batches: detect, stream, identify, dedupe, hash, store.
public struct IngestService: Sendable {
    public let archive: ArchiveHandle
    public let connectors: [any Connector]
    let logger: Logger
    /// Messages per transaction: large enough to be fast, small enough that a crash loses little
    /// work (the next run resumes from what was committed).
    public var chunkSize = IngestService.configuredChunkSize()

    /// Environment variable: messages per capture transaction (default 10,000). Each commit
    /// waits for the disk (fsync), so fewer, larger chunks capture faster; a crash loses at most
    /// one chunk of work, which the next run redoes.
    public static let chunkSizeVariable = "RECORDKEEPER_INGEST_CHUNK"

    static func configuredChunkSize(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        environment[chunkSizeVariable].flatMap(Int.init).map { min(max(100, $0), 1_000_000) } ?? 10_000
    }

    public init(archive: ArchiveHandle, connectors: [any Connector] = [WhatsAppConnector(), SignalConnector(), WickrConnector(), SMSBackupConnector(), TelegramConnector(), SlackConnector(), TeamsConnector(), MailConnector(), MatrixConnector()], logger: Logger = Logger(label: "recordkeeper.ingest")) {
        self.archive = archive
        self.connectors = connectors
        self.logger = logger
    }

    /// Expands folders and checks every path exists before anything is written.
    public static func sources(for paths: [URL]) throws -> [SourceFile] {
        var out: [SourceFile] = []
        for path in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDir) else {
                throw IngestError(.notFound, "\(path.path) does not exist")
            }
            if isDir.boolValue {
                // A signal-export chat folder, or a signal-export destination holding one per chat.
                if let chat = signalChat(in: path) {
                    out.append(chat)
                    continue
                }
                let names = try FileManager.default.contentsOfDirectory(atPath: path.path).sorted().filter { !$0.hasPrefix(".") }
                let chats = names.compactMap { signalChat(in: path.appendingPathComponent($0, isDirectory: true)) }
                let exports = names.filter { let e = ($0 as NSString).pathExtension.lowercased(); return ["txt", "zip", "json", "jsonl", "xml", "eml", "mbox", "msg"].contains(e) }
                if exports.isEmpty && chats.isEmpty {
                    throw IngestError(.notFound, "\(path.path) holds no export: no WhatsApp .txt or .zip, and no Signal chat folder (data.json or chat.md)")
                }
                out += exports.map { SourceFile(url: path.appendingPathComponent($0)) } + chats
            } else {
                out.append(SourceFile(url: path))
            }
        }
        return out
    }

    /// The file to read in a signal-export chat folder: `data.json` (exact) or else `chat.md`.
    static func signalChat(in folder: URL) -> SourceFile? {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDir), isDir.boolValue else { return nil }
        for name in ["data.json", "chat.md"] {
            let url = folder.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: url.path) {
                return SourceFile(url: url, displayName: folder.lastPathComponent + "/" + name)
            }
        }
        return nil
    }

    /// Ingests every source in turn; a source that fails is reported and the others go on.
    public func ingest(_ request: IngestRequest, progress: (@Sendable (IngestProgress) -> Void)? = nil,
                       report: (@Sendable (BatchReport) -> Void)? = nil,
                       indexing: (@Sendable (IndexProgress) -> Void)? = nil) async throws -> [BatchReport] {
        guard IngestService.isPlausibleEmail(request.custodian) else {
            throw IngestError(.badCustodian, "--custodian must be the custodian's e-mail address (got something that is not one)")
        }
        if let tz = request.timeZone, TimeZone(identifier: tz) == nil {
            throw IngestError(.badTimeZone, "unknown time zone '\(tz)'; use an IANA name such as America/New_York or UTC")
        }
        let sources = try IngestService.sources(for: request.paths)
        // Shared with other ingests on a shared database (the identity key keeps them apart);
        // dispositions wait for every one of them.
        let reports = try await archive.withWriteLock(purpose: "ingest", shared: true) {
            try await ingestAll(sources, request, progress: progress, report: report)
        }
        await sweepDestroyedFilesIfAlone()
        try await signCheckpoint(for: reports, actor: request.actor, throwing: true)
        // Captured: durable, hashed, audited. Findable next, outside the write lock (indexing
        // removes no file and takes the store's writer one batch at a time).
        if request.waitForIndex {
            try await IndexService(archive: archive).catchUp(progress: indexing)
        }
        return reports
    }

    /// One source, under the archive's write lock, failures thrown (not reported): for live
    /// capture, which must tell a storage failure (retry) from unreadable input (keep, move on).
    public func ingestSource(_ source: SourceFile, _ request: IngestRequest) async throws -> [BatchReport] {
        let reports = try await archive.withWriteLock(purpose: "capture", shared: true) { try await ingestOne(source, request, progress: nil) }
        await sweepDestroyedFilesIfAlone()
        // Live capture: a failure to sign is logged, not thrown (the sender would send the same
        // transaction again, and each retry would be one more batch nobody signed for).
        try await signCheckpoint(for: reports, actor: request.actor, throwing: false)
        return reports
    }

    /// A signed checkpoint naming the batches just written (when the archive signs: issue 16).
    /// Capture is durable by then; a failure to sign says so rather than passing in silence.
    private func signCheckpoint(for reports: [BatchReport], actor: String, throwing: Bool) async throws {
        let batches = reports.compactMap { r in r.error == nil ? r.batchID.map { "batch:\($0)" } : nil }
        guard !batches.isEmpty else { return }
        do {
            try await CheckpointService(archive: archive).signIfSigning(vouching: batches, reason: "capture", actor: actor)
        } catch {
            logger.error("checkpoint.failed", metadata: ["error.code": "\((error as? ArchiveError)?.code.rawValue ?? "unexpected")"])
            guard throwing else { return }
            throw ArchiveError(.invalid, "the records were captured (\(batches.joined(separator: ", "))) but no checkpoint could be signed for them: "
                                + ((error as? ArchiveError)?.message ?? "\(error)") + "; `verify` will list them as not vouched until one is")
        }
    }

    private func ingestAll(_ sources: [SourceFile], _ request: IngestRequest, progress: (@Sendable (IngestProgress) -> Void)?,
                           report: (@Sendable (BatchReport) -> Void)?) async throws -> [BatchReport] {
        var reports: [BatchReport] = []
        for source in sources {
            let r: [BatchReport]
            do {
                r = try await ingestOne(source, request, progress: progress)
            } catch {
                var failed = BatchReport(source: source.displayName)
                failed.error = userMessage(for: error)
                // File names carry chat titles and contact names: logs get only the position and code.
                logger.error("ingest.failed", metadata: ["ingest.source.index": "\(reports.count + 1)", "error.code": "\(IngestService.code(of: error))"])
                try? await removeDestroyedFiles()
                _ = try? await archive.store.appendAudit(AuditDraft(actor: request.actor, action: "ingest.failed", target: "source",
                                                                detail: ["source": source.displayName, "error": userMessage(for: error)]))
                r = [failed]
            }
            for one in r { report?(one) }
            reports += r
        }
        return reports
    }

    static func code(of error: any Error) -> String {
        switch error {
        case let e as IngestError: return e.code.rawValue
        case let e as ConnectorError: return e.code.rawValue
        case let e as ArchiveError: return e.code.rawValue
        default: return "unexpected"
        }
    }

    /// True for something shaped like an e-mail address (what names a custodian).
    public static func isPlausibleEmailAddress(_ s: String) -> Bool { isPlausibleEmail(s) }

    static func isPlausibleEmail(_ s: String) -> Bool {
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !s.contains(where: \.isWhitespace)
    }

    /// One report per conversation the source held (one, for most exports).
    func ingestOne(_ source: SourceFile, _ request: IngestRequest, progress: (@Sendable (IngestProgress) -> Void)?,
                   carrier: CarrierContext? = nil) async throws -> [BatchReport] {
        let started = Date()
        var report = BatchReport(source: source.displayName)
        report.carriedBy = carrier.map { CarriedBy(messageID: $0.messageID, forwardedAt: Timestamp.iso(millis: $0.forwardedAt * 1000), attachment: $0.attachment, member: $0.member) }
        let store = archive.store

        // An export carried by an e-mail is read by the chat connectors only.
        guard let connector = try connectors.filter({ carrier == nil || $0.platform != .email })
            .compactMap({ c in try c.detect(source).map { (c, $0) } })
            .max(by: { $0.1 < $1.1 })?.0 else {
            throw ConnectorError(.unsupported, "\(source.displayName) is not a recognised export (WhatsApp .txt or .zip, a signal-export chat folder, a Wickr data-retention messages file, an SMS Backup & Restore XML file, a Telegram Desktop result.json, a Slack export zip, Teams chatMessage JSON, or e-mail (.eml, .mbox))")
        }

        var custodian = try await store.saveCustodian(email: request.custodian, timeZone: nil)
        if custodian.timeZone == nil, let tz = request.timeZone {
            // The first zone given for a custodian becomes theirs, for later exports without --timezone.
            custodian = try await store.saveCustodian(email: request.custodian, timeZone: tz)
        }
        var zoneID: String
        var zoneBasis: String
        if let tz = request.timeZone {
            zoneID = tz; zoneBasis = "flag"
        } else if let tz = custodian.timeZone {
            zoneID = tz; zoneBasis = "custodian"
        } else {
            zoneID = TimeZone.current.identifier; zoneBasis = "system"
        }
        guard var zone = TimeZone(identifier: zoneID) else {
            throw IngestError(.badTimeZone, "the custodian's recorded time zone '\(zoneID)' is unknown to this machine")
        }

        // The original bytes first, durably: every message will point at them. A file that is
        // still being written (a copy in progress, a sync client) must not give messages that
        // are not in the original kept: it is watched from here to the last chunk.
        let snapshot = SourceSnapshot.of(source.url)
        func unchanged(_ stage: String) throws {
            do { try snapshot?.check(source.url, displayName: source.displayName, stage: stage) } catch let e as SourceSnapshot.Changed {
                throw IngestError(.sourceChanged, e.message)
            }
        }
        let original = try await archive.blobs.put(file: source.url)
        try unchanged("while its original was copied; nothing was kept")
        try await store.registerBlob(original)
        report.sourceSHA256 = original.hash.hex

        let options = ParseOptions(dateOrder: request.dateOrder, conversationTitle: request.conversationTitle, timeZone: zoneID)
        let reader = try connector.open(source, options: options, scratch: archive.directory.scratchURL)
        defer { reader.close() }
        let description = reader.description
        if let tz = description.sourceTimeZone, let sourceZone = TimeZone(identifier: tz) {
            // The source writes absolute times: they are shown in the zone it gives them in.
            zoneID = tz; zoneBasis = "source"; zone = sourceZone
        }
        report.format = description.format
        report.dateOrder = description.dateOrder
        report.timeZone = zoneID
        report.timeZoneBasis = zoneBasis

        // A source holds one conversation (a WhatsApp export, a Signal chat folder) or several (a
        // Wickr, SMS or Slack export), announced by `.conversation` items. Each conversation gets
        // its own batch, so a batch always belongs to one conversation; chunks of all of them go
        // to the store in order, at most `chunkSize` messages buffered at a time.
        final class Stream {
            let conversation: Conversation
            let key: String
            let batch: CaptureBatch
            var report: BatchReport
            var ordinals = NeighbourCounter(capacity: 50_000)
            var messages: [ArchivedMessage] = []
            var defects: [CaptureDefect] = []
            var assigned: [String: Int] = [:]
            init(conversation: Conversation, key: String, batch: CaptureBatch, report: BatchReport) {
                self.conversation = conversation
                self.key = key
                self.batch = batch
                self.report = report
            }
        }
        var streams: [Stream] = []
        var byKey: [String: Stream] = [:]
        func stream(key: String, title: String, sourceID: String?) async throws -> Stream {
            if let known = byKey[key] { return known }
            var conversation = try await store.ensureConversation(key: key, platform: description.platform, custodianID: custodian.id, title: title)
            if let sourceID, conversation.title == sourceID, title != sourceID,
               try await store.retitleConversation(id: conversation.id, standIn: sourceID, title: title) {
                // Live capture may see a room before its name: the id stood in until now.
                try await store.appendAudit(AuditDraft(actor: request.actor, action: "conversation.retitle", target: "conversation:\(conversation.id)",
                                                       detail: ["from": sourceID, "to": title]))
                conversation.title = title
            }
            var r = report
            r.conversationID = conversation.id
            r.conversation = conversation.title
            let member = sourceID.map { description.textMember + "#" + $0 } ?? description.textMember
            let batch: CaptureBatch
            if let unfinished = try await store.unfinishedBatch(sourceHash: original.hash, custodianID: custodian.id, conversationID: conversation.id), unfinished.timeZone == zoneID,
               unfinished.dateOrder?.order == description.dateOrder?.order {
                // Same bytes, same decisions: finish what the interrupted run started.
                batch = unfinished
                r.resumedBatch = true
            } else {
                batch = try await store.startBatch(NewBatch(
                    custodianID: custodian.id, conversationID: conversation.id, actor: request.actor, sourceName: source.displayName,
                    source: original, platform: description.platform, format: description.format, textMember: member,
                    dateOrder: description.dateOrder, timeZone: zoneID, timeZoneBasis: zoneBasis, startedAtMillis: Timestamp.nowMillis()))
            }
            r.batchID = batch.id
            if let carrier {
                try await store.recordCarriage(Carriage(batchID: batch.id, carrierMessageID: carrier.messageID, forwardedAt: carrier.forwardedAt,
                                                        attachment: carrier.attachment, member: carrier.member))
            }
            logger.info("ingest.batch.start", metadata: ["ingest.batch": "\(batch.id)", "ingest.format": "\(description.format)",
                                                         "ingest.resumed": "\(r.resumedBatch)"])
            let s = Stream(conversation: conversation, key: key, batch: batch, report: r)
            streams.append(s)
            byKey[key] = s
            return s
        }
        let sourceKey = IdentityKey.conversationKey(platform: description.platform, custodian: custodian.email, title: description.conversationTitle)
        // The source's own conversation: made at once for a one-conversation source (as before),
        // on first use for a multi-conversation source (it then only collects what no announced
        // conversation owns, such as a defect before the first one).
        var current: Stream? = reader.isMultiConversation ? nil
            : try await stream(key: sourceKey, title: description.conversationTitle, sourceID: nil)

        var offsets = ZoneOffsetCache(zone: zone)
        var buffered = 0
        var ordinal = 0
        var lastProgress = Date.distantPast

        // Chunks are written while the next one is parsed (two cores: one parses and hashes, one
        // runs SQLite). Chunks still commit in order, one transaction each, so a crash leaves a
        // prefix of the export stored and the next run resumes after it.
        var inFlight: (Stream, Task<AppendResult, any Error>)?
        func settle() async throws {
            guard let (s, task) = inFlight else { return }
            inFlight = nil
            let r = try await task.value
            s.assigned.merge(r.assigned, uniquingKeysWith: +)
            s.report.messagesAdded += r.added
            s.report.duplicatesSkipped += r.duplicates
            s.report.attachmentsStored += r.attachmentsStored
            s.report.attachmentsMissing += r.attachmentsMissing
            s.report.defects += r.defectsAdded
        }
        func flush() async throws {
            // Every byte this chunk came from was read before now: if the file is unchanged now, they are the original's.
            try unchanged("part-way through; what was read before the change is kept in an interrupted batch, nothing read after it")
            for s in streams where !s.messages.isEmpty || !s.defects.isEmpty {
                try await settle()
                if s.report.defectSamples.count < 20 { s.report.defectSamples += s.defects.prefix(20 - s.report.defectSamples.count) }
                let chunk = s.messages, chunkDefects = s.defects, batchID = s.batch.id, conversationID = s.conversation.id
                inFlight = (s, Task {
                    try await store.append(batchID: batchID, conversationID: conversationID, messages: chunk, defects: chunkDefects)
                })
                s.messages = []
                s.messages.reserveCapacity(min(chunkSize, 1024))
                s.defects.removeAll(keepingCapacity: true)
            }
            buffered = 0
            if let progress, Date().timeIntervalSince(lastProgress) >= 0.25 {
                lastProgress = Date()
                progress(IngestProgress(source: source.displayName, bytesRead: reader.bytesRead, totalBytes: reader.totalBytes,
                                        messages: ordinal, elapsed: Date().timeIntervalSince(started)))
            }
        }
        func owner() async throws -> Stream {
            if let current { return current }
            let s = try await stream(key: sourceKey, title: description.conversationTitle, sourceID: nil)
            current = s
            return s
        }

        let capturedAt = Timestamp.nowMillis()
        var senderKeys: [String: String] = [:]
        // E-mail attachments that may be chat exports, examined once the e-mail is stored.
        var carried: [CarriedCandidate] = []
        do {
            while let item = try reader.next() {
                switch item {
                case .conversation(let h):
                    let key = IdentityKey.conversationKey(platform: description.platform, custodian: custodian.email, sourceID: h.sourceID)
                    current = try await stream(key: key, title: h.title, sourceID: h.sourceID)
                case .defect(let d):
                    let s: Stream
                    if let c = current { s = c } else { s = try await owner() }
                    s.defects.append(d)
                    buffered += 1
                case .message(let m):
                    // The hot path: no suspension point unless a new conversation begins.
                    let s: Stream
                    if let c = current { s = c } else { s = try await owner() }
                    ordinal += 1
                    let senderKey: String
                    if let sender = m.sender {
                        if let known = senderKeys[sender] { senderKey = known } else {
                            senderKey = IdentityKey.senderKey(sender)
                            if senderKeys.count < 10_000 { senderKeys[sender] = senderKey }
                        }
                    } else {
                        senderKey = ""
                    }
                    let dup = s.ordinals.next(IdentityKey.neighbourKey(senderKey: senderKey, sentLocal: m.sentLocal, body: m.body))
                    var attachments: [ArchivedAttachment] = []
                    for ref in m.attachments {
                        do {
                            attachments.append(try await storeAttachment(ref, from: reader.attachments))
                        } catch {
                            // A damaged or refused attachment must not stop the export: it is
                            // recorded as missing, with a defect saying why.
                            attachments.append(ArchivedAttachment(fileName: ref.fileName, blob: nil, size: nil))
                            s.defects.append(CaptureDefect(file: description.textMember, line: m.line, code: "attachment_unreadable",
                                                           detail: "the attachment named here could not be read from the export (\(IngestService.code(of: error))); recorded as missing",
                                                           text: ref.fileName))
                        }
                    }
                    let identity = m.nativeID.map { IdentityKey.forNativeMessage(platform: description.platform, conversationKey: s.key, nativeID: $0) }
                        ?? IdentityKey.forMessage(platform: description.platform, conversationKey: s.key, senderKey: senderKey,
                                                  sentLocal: m.sentLocal, body: m.body, duplicateOrdinal: dup)
                    if description.platform == .email, carrier == nil {
                        let forwarded = offsets.instant(m.sentLocal)
                        for a in attachments {
                            if let blob = a.blob { carried.append(CarriedCandidate(identity: identity, sentLocal: m.sentLocal, sentAt: forwarded, fileName: a.fileName, blob: blob)) }
                        }
                    }
                    s.messages.append(ArchivedMessage(
                        identityKey: identity, platform: description.platform, conversationKey: s.key, sourceOrdinal: ordinal,
                        duplicateOrdinal: dup, sentLocal: m.sentLocal, timeZone: zoneID, sentAt: offsets.instant(m.sentLocal),
                        capturedAtMillis: capturedAt, sender: m.sender, senderRaw: m.senderRaw, body: m.body, raw: m.raw, kind: m.kind,
                        flags: m.flags, sourceBlob: original.hash, sourceMember: description.textMember, sourceLine: m.line,
                        lineCount: m.lineCount, attachments: attachments))
                    buffered += 1
                }
                if buffered >= chunkSize { try await flush() }
            }
            try await flush()
            try await settle()
        } catch {
            // Whatever failed, a chunk already handed to the store finishes (or fails) before the
            // failure is reported, so the audit entry and the exit come after the last commit.
            _ = try? await inFlight?.1.value
            throw error
        }
        if streams.isEmpty {
            // A multi-conversation source with nothing in it still leaves its batch.
            _ = try await owner()
        }
        for s in streams {
            if s.report.resumedBatch, let totals = try await store.batch(id: s.batch.id)?.totals {
                // A resumed batch's defects were partly stored by the interrupted run.
                s.report.defects = totals.defects
            }
            s.report.seconds = Date().timeIntervalSince(started)
            let anchor = try await store.batchDigest(batchID: s.batch.id)
            // Complete and anchored in one transaction: killed before it, the batch is resumed by
            // the next run; after it, it is whole.
            try await store.finishBatch(id: s.batch.id, audit: AuditDraft(actor: request.actor, action: "ingest", target: "batch:\(s.batch.id)", detail: [
                "batch_messages": String(anchor.messages), "batch_digest": anchor.digest.hex,
                "source": source.displayName, "sha256": original.hash.hex, "format": description.format,
                "conversation": "conversation:\(s.conversation.id)", "added": String(s.report.messagesAdded),
                "duplicates": String(s.report.duplicatesSkipped), "defects": String(s.report.defects),
                "resumed": String(s.report.resumedBatch),
            ]))
            // Every record got its place in the file plan in the transaction that stored it.
            try await store.appendAudit(AuditDraft(actor: request.actor, action: "retention.assign", target: "batch:\(s.batch.id)", detail: [
                "reason": "new records", "examined": String(s.report.messagesAdded),
                "moves": s.assigned.sorted { $0.key < $1.key }.map { "none->\($0.key):\($0.value)" }.joined(separator: ","),
            ]))
            logger.info("ingest.batch.complete", metadata: ["ingest.batch": "\(s.batch.id)", "ingest.added": "\(s.report.messagesAdded)",
                                                            "ingest.duplicates": "\(s.report.duplicatesSkipped)", "ingest.defects": "\(s.report.defects)"])
        }
        progress?(IngestProgress(source: source.displayName, bytesRead: reader.bytesRead, totalBytes: reader.totalBytes,
                                 messages: ordinal, elapsed: Date().timeIntervalSince(started)))
        try await removeDestroyedFiles()
        var reports = streams.map(\.report)
        for candidate in carried {
            reports += await ingestCarried(candidate, from: source, request, progress: progress)
        }
        return reports
    }

    /// A re-submitted export carries the files of records already disposed of; those records
    /// are not captured again (their tombstones stop it), so their files go again too, and so
    /// does the export itself unless the capture stored records from it (`append` then marks
    /// it live). Runs after every ingest, failed ones included.
    /// On a shared database ingests run side by side, and one ingest's sweep could delete a
    /// file another has just named again: there the sweep runs after the ingest, only under the
    /// exclusive lock and only if it is free at once (else a later ingest sweeps).
    func removeDestroyedFiles(exclusive: Bool = false) async throws {
        if archive.archiveLock != nil && !exclusive { return }
        for hash in try await archive.store.destroyedBlobs(dispositionID: nil) where try await archive.blobs.contains(hash) {
            do { try await archive.blobs.destroy(hash) } catch let e as ArchiveError where e.code == .refused {
                continue // still under Object Lock: a sweep after the lock ends removes it
            }
        }
    }

    func sweepDestroyedFilesIfAlone() async {
        guard archive.archiveLock != nil else { return }
        _ = try? await archive.withWriteLock(purpose: "ingest.sweep", archiveTimeout: .zero) { try await removeDestroyedFiles(exclusive: true) }
    }

    private func storeAttachment(_ ref: AttachmentReference, from provider: any AttachmentProvider) async throws -> ArchivedAttachment {
        guard provider.contains(named: ref.fileName) else {
            return ArchivedAttachment(fileName: ref.fileName, blob: nil, size: nil)
        }
        // The blob is durable before the message that names it is committed; the store registers
        // it in the same transaction as the message.
        var found = false
        let info = try await archive.blobs.put { write in
            found = try provider.withAttachment(named: ref.fileName) { try write($0) }
        }
        // Gone between the check and the read: missing, not an empty file.
        guard found else { return ArchivedAttachment(fileName: ref.fileName, blob: nil, size: nil) }
        return ArchivedAttachment(fileName: ref.fileName, blob: info.hash, size: info.size)
    }
}
