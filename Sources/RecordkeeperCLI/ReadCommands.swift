import ArgumentParser

import Foundation
import Custody
import Recordkeeper
import RecordkeeperCore

extension SearchRequest.Sort: ExpressibleByArgument {}

struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Full-text search across the archive.",
        discussion: """
            Query syntax: words (all must match), "exact phrases", prefix*, AND, OR, NOT (in \
            capitals), parentheses. Accents are ignored: operacion finds operación. Without \
            words, the filters alone collect every record they select, newest first (e.g. \
            `search --custodian k.walsh@cbp.example.gov --from 2021-03-01 --to 2021-03-31`). \
            Every search is written to the audit log.
            """)

    @Argument(help: "What to look for (leave out to collect everything the filters select).")
    var query: String?
    @Option(help: ArgumentHelp("Only this custodian's records.", valueName: "email"))
    var custodian: String?
    @Option(help: ArgumentHelp("Only this conversation (id, or text in its title).", valueName: "id-or-title"))
    var conversation: String?
    @Option(help: ArgumentHelp("Only conversations this person took part in (name or phone number).", valueName: "name"))
    var participant: String?
    @Option(help: ArgumentHelp("First day, YYYY-MM-DD (sent time as written).", valueName: "date"))
    var from: String?
    @Option(help: ArgumentHelp("Last day, YYYY-MM-DD, inclusive.", valueName: "date"))
    var to: String?
    @Option(help: "Most hits to show (1–1000).")
    var limit = 20
    @Option(help: "Hits to skip (paging).")
    var offset = 0
    @Option(help: ArgumentHelp("Only records from this platform (whatsapp, signal, sms, slack, telegram, matrix, email…).", valueName: "name"))
    var platform: String?
    @Flag(help: "Only records with at least one attachment.")
    var hasAttachment = false
    @Flag(help: "Only records an active legal hold covers.")
    var underHold = false
    @Option(help: "Order: date (newest sent first, fast) or relevance (BM25; needs words).")
    var sort: SearchRequest.Sort = .date
    @Flag(help: "Print JSON.")
    var json = false
    @OptionGroup var archive: ArchiveOptions

    struct Output: Encodable {
        var query: String
        /// Time the archive took to answer (query, filters, ranking, snippets, audit), in ms.
        var elapsedMs: Double
        var total: Int
        /// False when counting stopped at 10,000 (there are at least `total` hits).
        var totalIsExact: Bool
        /// What the search index covered: captured messages not yet searchable are counted here.
        var coverage: SearchCoverage?
        /// Set when a relevance search matched more messages than it ranks: the hits are the most
        /// relevant among the newest this many.
        var rankedAmongNewest: Int?
        /// `date` (newest first) or `relevance`: a collection without words is always `date`.
        var order: String
        var hits: [Hit]
        /// The API's field names (`/api/v1/search`); the snippet marks matches with « ».
        struct Hit: Encodable {
            var messageId: Int64, conversationId: Int64, conversationTitle: String, custodian: String
            var sender: String?, sentLocal: String, timeZone: String, sentUtc: String?, kind: String, snippet: String
        }
    }

    func validate() throws {
        if (query ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && custodian == nil && conversation == nil
            && participant == nil && from == nil && to == nil && platform == nil && !hasAttachment && !underHold {
            throw ValidationError("give words to search for, or at least one filter (--custodian, --conversation, --participant, "
                + "--from/--to, --platform, --has-attachment, --under-hold) to collect everything it selects")
        }
    }

    func run() async throws {
        try await CLIError.report {
            let handle = try await archive.open()
            var filters = SearchFilters(custodian: custodian, conversation: conversation, participant: participant, from: from,
                                        to: to, limit: limit, offset: offset, sort: sort)
            filters.platform = platform
            filters.hasAttachment = hasAttachment
            filters.underHold = underHold
            let query = self.query ?? ""
            let clock = ContinuousClock()
            let started = clock.now
            let results = try await SearchService(archive: handle).search(query, filters: filters, actor: archive.resolvedActor)
            let elapsed = clock.now - started
            let elapsedMs = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            if json {
                let out = Output(query: query, elapsedMs: (elapsedMs * 100).rounded() / 100, total: results.total, totalIsExact: results.totalIsExact,
                                 coverage: results.coverage.map(SearchCoverage.init), rankedAmongNewest: results.rankedAmongNewest,
                                 order: results.order.rawValue, hits: results.hits.map {
                    .init(messageId: $0.messageID, conversationId: $0.conversationID, conversationTitle: $0.conversationTitle,
                          custodian: $0.custodian, sender: $0.sender, sentLocal: $0.sentLocal, timeZone: $0.timeZone,
                          sentUtc: $0.sentAt.map(Timestamp.iso(seconds:)), kind: $0.kind, snippet: $0.snippet(open: "«", close: "»"))
                })
                print(Terminal.json(out, pretty: true))
                return
            }
            if let coverage = results.coverage, coverage.pending > 0 { Terminal.note(coverage.coverageStatement) }
            let what = query.isEmpty ? "records selected by the filters" : "hit\(results.total == 1 ? "" : "s") for \(query)"
            if results.hits.isEmpty {
                print(query.isEmpty ? "No records match those filters." : "No hits for \(query).")
                return
            }
            let first = offset + 1
            let plus = results.totalIsExact ? "" : "+"
            let order = results.order == .date ? "newest first" : "by relevance" + (results.rankedAmongNewest.map { " among the newest \(Terminal.count($0)) matches" } ?? "")
            print("\(Terminal.count(results.total))\(plus) \(what), \(order) (showing \(first)–\(offset + results.hits.count))")
            let (open, close) = Terminal.stdoutIsTTY ? ("\u{1B}[1m", "\u{1B}[0m") : ("«", "»")
            for h in results.hits {
                print("")
                let utc = h.sentAt.map { "  [\(Timestamp.iso(seconds: $0).replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC"))]" } ?? ""
                print("message \(h.messageID)  \(h.sentLocal.replacingOccurrences(of: "T", with: " ")) \(h.timeZone)\(utc)  \(h.conversationTitle) (conversation \(h.conversationID), \(h.custodian))")
                let snippet = h.snippet(open: open, close: close).replacingOccurrences(of: "\n", with: " ")
                print("  \(h.sender ?? "[system]"): \(snippet)")
            }
            if !results.totalIsExact || results.total > offset + results.hits.count {
                print("\n… more: --offset \(offset + results.hits.count)")
            }
        }
    }
}

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a message, a conversation's transcript, the conversations, or a capture batch.",
        subcommands: [ShowMessage.self, ShowConversation.self, ShowConversations.self, ShowParticipants.self, ShowBatch.self])
}

struct ShowMessage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "message", abstract: "A message's metadata, provenance and hashes.")
    @Argument(help: "Message id (from search).") var id: Int64
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var archive: ArchiveOptions

    struct Output: Encodable {
        var id: Int64, conversationId: Int64, conversation: String, custodian: String, platform: String
        var sentLocal: String, timeZone: String, sentAtUtc: String, capturedAt: String
        var sender: String?, senderAsWritten: String?, kind: String, flags: [String], body: String
        /// What a placeholder or marker means, in words.
        var explanation: String?
        var attachments: [ArchivedAttachment]
        var provenance: Provenance
        var identityKey: String, contentHash: String, contentHashValid: Bool
        struct Provenance: Encodable {
            var batchId: Int64, batchStartedAt: String, ingestedAs: String, originalFile: String, originalSha256: String
            var member: String, line: Int, lines: Int, rawText: String
        }
    }

    func run() async throws {
        try await CLIError.report {
            let handle = try await archive.open()
            let d = try await RecordService(archive: handle).message(id: id, actor: archive.resolvedActor)
            let m = d.stored.message
            let out = Output(
                id: d.stored.id, conversationId: d.conversation.id, conversation: d.conversation.title,
                custodian: d.conversation.custodianEmail, platform: m.platform.rawValue, sentLocal: m.sentLocal.description,
                timeZone: m.timeZone, sentAtUtc: Timestamp.iso(millis: m.sentAt * 1000), capturedAt: Timestamp.iso(millis: m.capturedAtMillis),
                sender: m.sender, senderAsWritten: m.senderRaw, kind: m.kind.rawValue, flags: m.flags.names, body: m.body,
                explanation: MessageExplanation.text(kind: m.kind, flags: m.flags), attachments: m.attachments,
                provenance: .init(batchId: d.batch.id, batchStartedAt: d.batch.startedAt, ingestedAs: d.batch.format,
                                  originalFile: d.batch.sourceName, originalSha256: d.batch.sourceHash.hex, member: m.sourceMember,
                                  line: m.sourceLine, lines: m.lineCount, rawText: m.raw),
                identityKey: m.identityKey.hex, contentHash: d.stored.storedContentHash.hex, contentHashValid: d.contentHashValid)
            if json {
                print(Terminal.json(out, pretty: true))
                return
            }
            print("Message \(out.id) in \"\(out.conversation)\" (conversation \(out.conversationId), \(out.platform), custodian \(out.custodian))")
            print("  sent      \(out.sentLocal) as written; \(out.timeZone) assumed → \(out.sentAtUtc)")
            print("  captured  \(out.capturedAt)")
            print("  sender    \(out.sender ?? "[system]")\(out.senderAsWritten.map { $0 != out.sender ? " (written \"\($0)\")" : "" } ?? "")")
            print("  kind      \(out.kind)\(out.flags.isEmpty ? "" : "  flags: " + out.flags.joined(separator: ", "))")
            print("  text")
            for line in out.body.split(separator: "\n", omittingEmptySubsequences: false) { print("    \(line)") }
            if let meaning = out.explanation { print("  meaning   \(meaning)") }
            if !out.attachments.isEmpty {
                print("  attachments")
                for a in out.attachments {
                    if let h = a.blob {
                        print("    \(a.fileName)  \(Terminal.bytes(a.size ?? 0))  sha256 \(h.hex)")
                    } else {
                        print("    \(a.fileName)  MISSING: named in the chat, not included in the export")
                    }
                }
            }
            let p = out.provenance
            print("  provenance")
            print("    batch     \(p.batchId), started \(p.batchStartedAt), read as \(p.ingestedAs)")
            print("    original  \(p.originalFile)  sha256 \(p.originalSha256)")
            print("    location  \(p.member), line \(p.line)\(p.lines > 1 ? "–\(p.line + p.lines - 1)" : "")")
            print("  hashes")
            print("    identity  \(out.identityKey)")
            print("    content   \(out.contentHash)  \(out.contentHashValid ? "(recomputed now: matches)" : "(recomputed now: DOES NOT MATCH — run recordkeeper verify)")")
        }
    }
}

struct ShowConversation: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "conversation", abstract: "A conversation's transcript in sent order.")
    @Argument(help: "Conversation id.") var id: Int64
    @Option(help: "Messages to skip.") var offset = 0
    @Option(help: "Most messages to print.") var limit = 500
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var archive: ArchiveOptions

    struct Output: Encodable {
        var conversation: Conversation
        var messages: [Line]
        struct Line: Encodable {
            var id: Int64, sentLocal: String, sender: String?, kind: String, body: String, attachments: [String]
        }
    }

    func run() async throws {
        try await CLIError.report {
            let handle = try await archive.open()
            let (c, messages) = try await RecordService(archive: handle).transcript(conversationID: id, offset: offset, limit: limit,
                                                                                    actor: archive.resolvedActor)
            if json {
                print(Terminal.json(Output(conversation: c, messages: messages.map {
                    .init(id: $0.id, sentLocal: $0.message.sentLocal.description, sender: $0.message.sender, kind: $0.message.kind.rawValue,
                          body: $0.message.body, attachments: $0.message.attachments.map(\.fileName))
                }), pretty: true))
                return
            }
            print("\(c.title) — conversation \(c.id), \(c.platform.rawValue), custodian \(c.custodianEmail)")
            print("\(Terminal.count(c.messageCount)) messages, \(c.firstSent ?? "-") … \(c.lastSent ?? "-"); participants: \(c.participants.joined(separator: ", "))")
            print("")
            for s in messages {
                let m = s.message
                let when = m.sentLocal.description.replacingOccurrences(of: "T", with: " ")
                let who = m.sender ?? "*"
                let marker = m.kind == .user ? "" : " [\(m.kind.rawValue)]"
                let lines = m.body.split(separator: "\n", omittingEmptySubsequences: false)
                print("[\(when)] #\(s.id) \(who)\(marker): \(lines.first ?? "")")
                for l in lines.dropFirst() { print("    \(l)") }
                for a in m.attachments { print("    📎 \(a.fileName)\(a.isMissing ? " (missing from export)" : "")") }
            }
            if offset + messages.count < c.messageCount {
                print("\n… more: --offset \(offset + messages.count)")
            }
        }
    }
}

struct ShowConversations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "conversations", abstract: "List conversations.")
    @Option(help: "Only titles containing this text.") var title: String?
    @Option(help: "Most to list.") var limit = 200
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var archive: ArchiveOptions

    func run() async throws {
        try await CLIError.report {
            let handle = try await archive.open()
            let list = try await RecordService(archive: handle).conversations(titleContains: title, limit: limit, actor: archive.resolvedActor)
            if json { print(Terminal.json(list, pretty: true)); return }
            if list.isEmpty { print("No conversations."); return }
            for c in list {
                print("\(c.id)\t\(c.platform.rawValue)\t\(c.custodianEmail)\t\(Terminal.count(c.messageCount)) messages\t\(c.firstSent?.prefix(10) ?? "-")…\(c.lastSent?.prefix(10) ?? "-")\t\(c.title)")
            }
        }
    }
}

struct ShowBatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "batch", abstract: "A capture batch: source, decisions, totals and every defect.")
    @Argument(help: "Batch id.") var id: Int64
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var archive: ArchiveOptions

    struct Output: Encodable { var batch: CaptureBatch; var defects: [CaptureDefect] }

    func run() async throws {
        try await CLIError.report {
            let handle = try await archive.open()
            let (b, defects) = try await RecordService(archive: handle).batch(id: id, actor: archive.resolvedActor)
            if json { print(Terminal.json(Output(batch: b, defects: defects), pretty: true)); return }
            print("Batch \(b.id): \(b.sourceName) (\(b.status))")
            print("  sha256 \(b.sourceHash.hex), \(Terminal.bytes(b.sourceSize)), read as \(b.format), chat text \(b.textMember)")
            if let d = b.dateOrder { print("  date order \(d.order.rawValue) (\(d.certain ? "certain" : "uncertain"), \(d.basis)): \(d.evidence.joined(separator: "; "))") }
            print("  time zone \(b.timeZone) (from \(b.timeZoneBasis)); started \(b.startedAt), finished \(b.finishedAt ?? "-")")
            print("  \(b.totals.messagesAdded) added, \(b.totals.duplicates) duplicates, \(b.totals.attachmentsStored) attachments stored, \(b.totals.attachmentsMissing) missing, \(b.totals.defects) defects")
            for d in defects {
                print("  defect \(d.file):\(d.line) \(d.code): \(d.detail)")
                print("    \(d.text)")
            }
        }
    }
}

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Counts of what the archive holds.")
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var archive: ArchiveOptions

    func run() async throws {
        try await CLIError.report {
            let handle = try await archive.open()
            let s = try await RecordService(archive: handle).stats(actor: archive.resolvedActor)
            let index = try await IndexService(archive: handle).status()
            if json {
                // The archive's counts at the top level (as before), the index beside them.
                struct Out: Encodable {
                    var archive: ArchiveStats; var searchIndex: SearchCoverage; var indexLagSeconds: Double
                    enum K: String, CodingKey { case searchIndex, indexLagSeconds }
                    func encode(to encoder: any Encoder) throws {
                        try archive.encode(to: encoder)
                        var c = encoder.container(keyedBy: K.self)
                        try c.encode(searchIndex, forKey: .searchIndex)
                        try c.encode(indexLagSeconds, forKey: .indexLagSeconds)
                    }
                }
                print(Terminal.json(Out(archive: s, searchIndex: SearchCoverage(index), indexLagSeconds: (index.lagSeconds() * 10).rounded() / 10), pretty: true))
                return
            }
            print("custodians     \(Terminal.count(s.custodians))")
            print("conversations  \(Terminal.count(s.conversations))")
            print("messages       \(Terminal.count(s.messages))")
            print("attachments    \(Terminal.count(s.attachments)) (\(Terminal.count(s.attachmentsMissing)) missing from their exports)")
            print("batches        \(Terminal.count(s.batches))\(s.unfinishedBatches > 0 ? " (\(s.unfinishedBatches) interrupted: run the same ingest again to resume)" : "")")
            print("blobs          \(Terminal.count(s.blobs)), \(Terminal.bytes(s.blobBytes))")
            print("defects        \(Terminal.count(s.defects))")
            print("audit entries  \(Terminal.count(s.auditEntries))")
            print("search index   " + (index.pending == 0 ? "up to date" : "\(Terminal.count(index.pending)) captured messages not yet searchable"
                + String(format: " (oldest waiting %.0f s)", index.lagSeconds())))
        }
    }
}

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute every blob hash, every record's content hash and the audit chain.",
        discussion: """
            Exits 0 when everything matches, 3 when anything was altered or is missing (each item is \
            named). With --day (or --from and --to) it verifies what was written in that period only: \
            the part of the audit chain written then, the custody events it anchors or that were \
            recorded then, and the ingest batches and custody imports it anchors; the report lists \
            what it leaves to the whole verify. Days verified one after another cover the chain once.

            Signed checkpoints are checked too: each signature, each checkpoint's place in the chain, \
            and that every capture batch since signing began was named by one. --against FILE checks \
            the archive against checkpoints a witness kept (`checkpoint export`): it must still extend \
            every one of them, so entries removed from the end, a rewritten chain and a fabricated \
            batch are named.
            """)
    @Option(help: ArgumentHelp("Also check the archive against the checkpoints in this file (from `checkpoint export`).", valueName: "file"))
    var against: String?
    @Option(help: "Verify what was written on this UTC day only (YYYY-MM-DD).") var day: String?
    @Option(help: "Verify what was written from this moment (ISO 8601 with a zone), with --to.") var from: String?
    @Option(help: "… to this moment, exclusive.") var to: String?
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var archive: ArchiveOptions

    /// The period asked for, if any.
    func period() throws -> (from: Int64, to: Int64)? {
        if let day {
            guard from == nil, to == nil else { throw ArchiveError(.invalid, "give --day, or --from and --to, not both") }
            guard day.count == 10, let d = CivilDate(day) else { throw ArchiveError(.invalid, "DATE_INVALID: --day \(day) is not a date (YYYY-MM-DD)") }
            return (Int64(d.dayNumber) * 86_400_000, Int64(d.dayNumber + 1) * 86_400_000)
        }
        guard from != nil || to != nil else { return nil }
        guard let f = from.flatMap({ CustodyTime.millis($0) }), let t = to.flatMap({ CustodyTime.millis($0) }) else {
            throw ArchiveError(.invalid, "DATE_INVALID: --from and --to are both needed, each ISO 8601 with a zone (2019-06-18T00:00:00Z)")
        }
        return (f, t)
    }

    func run() async throws {
        var ok = true
        try await CLIError.report {
            let window = try period()
            let handle = try await archive.open(.operator)
            let service = VerifyService(archive: handle)
            let witness = try against.map { path -> (source: String, checkpoints: [SignedCheckpoint]) in
                guard window == nil else { throw ArchiveError(.invalid, "--against checks the whole archive; leave out --day, --from and --to") }
                guard let data = FileManager.default.contents(atPath: path) else { throw ArchiveError(.notFound, "cannot read the checkpoint file \(path)") }
                return (URL(fileURLWithPath: path).lastPathComponent, try CheckpointService.read(data))
            }
            let report = if let window {
                try await service.verifyWindow(from: window.from, to: window.to, actor: archive.resolvedActor, progress: { Terminal.progress($0) })
            } else {
                try await service.verify(actor: archive.resolvedActor, witness: witness, progress: { Terminal.progress($0) })
            }
            Terminal.endProgress()
            ok = report.ok
            if json { print(Terminal.json(report, pretty: true)); return }
            if let w = report.window {
                let part = w.firstSequence.map { "audit entries \($0)…\(w.lastSequence ?? $0)" } ?? "no audit entries"
                print("[\(w.from), \(w.to)): \(part): \(Terminal.count(report.auditEntriesChecked)) audit entries, \(Terminal.count(report.custodyEventsChecked)) custody events, "
                    + "\(report.batchesChecked) batch anchor\(report.batchesChecked == 1 ? "" : "s"), \(w.importsChecked) custody import\(w.importsChecked == 1 ? "" : "s") checked in \(String(format: "%.2f", report.seconds)) s")
                print("left to the whole verify: " + w.notChecked.joined(separator: "; "))
                if report.ok { print("OK: nothing written in the period altered, nothing it recorded missing") } else {
                    print("FAILED: \(report.problems.count) problem\(report.problems.count == 1 ? "" : "s")")
                    for p in report.problems { print("  \(p.code)  \(p.item)  \(p.detail)") }
                }
                return
            }
            let mbps = report.seconds > 0 ? Double(report.bytesHashed) / 1_000_000 / report.seconds : 0
            print("checked \(Terminal.count(report.blobsChecked)) blobs (\(Terminal.bytes(report.blobBytes))), \(Terminal.count(report.messagesChecked)) messages, \(Terminal.count(report.auditEntriesChecked)) audit entries in \(String(format: "%.2f", report.seconds)) s (\(Terminal.bytes(report.bytesHashed)) hashed, \(String(format: "%.0f", mbps)) MB/s)")
            if report.custodyEventsChecked > 0 { print("\(Terminal.count(report.custodyEventsChecked)) custody events checked against their audit entries") }
            print("\(report.batchesChecked) batch anchor\(report.batchesChecked == 1 ? "" : "s") and \(report.dispositionsChecked) disposition\(report.dispositionsChecked == 1 ? "" : "s") checked; search index complete: \(report.problems.contains { $0.code == "search_index_incomplete" } ? "no" : "yes")")
            if !report.unanchoredBatches.isEmpty {
                print("note: batch\(report.unanchoredBatches.count == 1 ? "" : "es") \(report.unanchoredBatches.map(String.init).joined(separator: ", ")) were interrupted and have no anchor yet; run the same ingest again to finish \(report.unanchoredBatches.count == 1 ? "it" : "them")")
            }
            for id in report.dispositionsFinished {
                print("note: disposition \(id) had been interrupted after its records left; its files and certificate were finished first (`dispose certificate \(id)`)")
            }
            if report.destroyedKeptUnderLock > 0 {
                print("note: \(report.destroyedKeptUnderLock) file\(report.destroyedKeptUnderLock == 1 ? "" : "s") released by dispositions \(report.destroyedKeptUnderLock == 1 ? "is" : "are") still kept by Object Lock; \(report.destroyedKeptUnderLock == 1 ? "it goes" : "they go") when the lock ends")
            }
            if report.checkpointsChecked > 0 || report.witnessCheckpointsChecked != nil {
                print("\(report.checkpointsChecked) signed checkpoint\(report.checkpointsChecked == 1 ? "" : "s") checked"
                    + (report.witnessCheckpointsChecked.map { "; the archive checked against \($0) kept in \(witness?.source ?? "the file")" } ?? ""))
            } else {
                print("note: no signed checkpoints yet (`recordkeeper checkpoint sign` starts signing; `init` does it for a new archive)")
            }
            for note in report.checkpointKeyChanges { print("note: \(note)") }
            if let sealed = report.blobsSealed {
                if sealed < report.blobsChecked {
                    print("note: \(Terminal.count(report.blobsChecked - sealed)) of \(Terminal.count(report.blobsChecked)) blobs are stored in the clear "
                          + "(from before sealing began): `recordkeeper keys seal` seals them")
                } else {
                    print("all \(Terminal.count(report.blobsChecked)) blobs sealed at rest")
                }
            }
            if let head = report.auditHead { print("audit chain head \(head)") }
            if report.ok {
                print("OK: nothing altered, nothing missing")
            } else {
                print("FAILED: \(report.problems.count) problem\(report.problems.count == 1 ? "" : "s")")
                for p in report.problems { print("  \(p.code)  \(p.item)  \(p.detail)") }
            }
        }
        if !ok { throw ExitCode(3) }
    }
}
