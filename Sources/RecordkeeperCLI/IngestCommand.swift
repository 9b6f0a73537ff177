import ArgumentParser
import Foundation
import Recordkeeper
import RecordkeeperCore

extension DateOrder: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.uppercased()) }
}

struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Capture WhatsApp, Signal, Wickr, SMS/MMS, Telegram, Slack, Teams and e-mail exports into the archive.",
        discussion: """
            Each file becomes a capture batch: the original bytes are kept, every message is \
            identified, deduplicated and hashed, attachments are stored (or recorded as missing). \
            Ingesting the same export again adds nothing; a later export of the same chat adds only \
            what is new. An interrupted ingest is resumed by running it again. A folder stands for \
            the .txt and .zip exports directly inside it; a signal-export folder gives one batch per \
            chat folder (its data.json, else its chat.md), with the files under media/. A Wickr \
            data-retention messages file gives one batch per conversation in it, with the files from \
            the bot's attachments folder; its times are absolute and kept in UTC. An Android "SMS Backup \
            & Restore" XML file (messages or calls) gives one batch per thread, and a Telegram Desktop \
            result.json one batch per chat, a Slack workspace export zip one batch per channel, and Teams \
            Export API pages (chatMessage JSON) one batch per chat or channel. E-mail (.eml, .mbox) \
            gives one batch per thread.

            A message is captured (durable, hashed, audited) before it is indexed for search; by \
            default the command then waits until what it captured is searchable, and says so. \
            --no-wait-index returns at capture.
            """)

    @Argument(help: ArgumentHelp("Export files or folders.", valueName: "path"))
    var paths: [String]

    @Option(help: ArgumentHelp("The custodian's official e-mail address: whose records these are.", valueName: "email"))
    var custodian: String

    @Option(help: ArgumentHelp("IANA time zone the export's times were written in (default: the custodian's recorded zone, else this machine's).", valueName: "zone"))
    var timezone: String?

    @Option(name: .customLong("date-order"), help: ArgumentHelp("Day/month order of the dates, overriding the evidence.", valueName: "order"))
    var dateOrder: DateOrder?

    @Option(help: ArgumentHelp("Name of the conversation, when the file name does not say.", valueName: "title"))
    var conversation: String?

    @Flag(help: "Print one JSON object per batch on stdout.")
    var json = false

    @Flag(name: .customLong("no-wait-index"), help: ArgumentHelp(
        "Return as soon as capture is durable; the records become searchable when an indexer (`serve`, `index catch-up`) reaches them."))
    var noWaitIndex = false

    @OptionGroup var archive: ArchiveOptions

    func run() async throws {
        var failed = 0
        try await CLIError.report {
            let handle = try await archive.open()
            let service = IngestService(archive: handle)
            var request = IngestRequest(paths: paths.map { URL(fileURLWithPath: $0) }, custodian: custodian, timeZone: timezone,
                                        dateOrder: dateOrder, conversationTitle: conversation, actor: archive.resolvedActor)
            request.waitForIndex = !noWaitIndex
            let json = self.json
            let reports = try await service.ingest(request, progress: { p in
                let rate = p.elapsed > 0 ? Double(p.messages) / p.elapsed : 0
                let total = p.totalBytes > 0 ? " / \(Terminal.bytes(p.totalBytes))" : ""
                Terminal.progress("\(p.source): \(Terminal.bytes(p.bytesRead))\(total)  \(Terminal.count(p.messages)) messages  \(Terminal.count(Int(rate))) msg/s")
            }, report: { r in
                Terminal.endProgress()
                if json { print(Terminal.json(r)) } else { IngestCommand.printHuman(r) }
            }, indexing: { p in
                Terminal.progress("captured; indexing for search: \(Terminal.count(p.indexed)) indexed, \(Terminal.count(p.pending)) to go")
            })
            Terminal.endProgress()
            let status = try await IndexService(archive: handle).status()
            if noWaitIndex || status.pending > 0 {
                Terminal.note("captured (durable). " + status.coverageStatement)
            }
            failed = reports.filter { $0.error != nil }.count
        }
        if failed > 0 { throw ExitCode(4) }
    }

    static func printHuman(_ r: BatchReport) {
        if let error = r.error {
            Terminal.error("\(r.source): \(error)")
            return
        }
        print("\(r.source) → batch \(r.batchID ?? 0)\(r.resumedBatch ? " (resumed an interrupted batch)" : ""), conversation \(r.conversationID ?? 0) \"\(r.conversation ?? "")\"")
        print("  format \(r.format ?? "?"), sha256 \(r.sourceSHA256 ?? "?")")
        if let c = r.carriedBy {
            print("  carried by e-mail record \(c.messageID) (forwarded \(c.forwardedAt)), attachment \(c.attachment)\(c.member.map { ", inside it \($0)" } ?? "")")
        }
        if let d = r.dateOrder {
            print("  date order \(d.order.rawValue) (\(d.certain ? "certain" : "uncertain"), \(d.basis)): \(d.evidence.joined(separator: "; "))")
        }
        print("  time zone \(r.timeZone ?? "?") (from \(r.timeZoneBasis ?? "?"))")
        print("  \(Terminal.count(r.messagesAdded)) messages added, \(Terminal.count(r.duplicatesSkipped)) duplicates skipped, \(r.attachmentsStored) attachments stored, \(r.attachmentsMissing) missing, \(r.defects) defects  (\(String(format: "%.1f", r.seconds)) s)")
        for d in r.defectSamples.prefix(5) {
            print("  defect \(d.file):\(d.line) \(d.code): \(d.detail)")
        }
        if r.defects > 5 { print("  … `recordkeeper show batch \(r.batchID ?? 0)` lists all \(r.defects) defects") }
    }
}
