import Archive
import Connectors
import Foundation
import Logging
import RecordkeeperCore

/// The e-mail that carried an export: the link every batch of the export records.
struct CarrierContext: Sendable {
    var messageID: Int64
    /// The e-mail's date, Unix seconds: when the custodian forwarded the messages.
    var forwardedAt: Int64
    var attachment: String
    var member: String?
}

/// An e-mail attachment that may be a chat export.
struct CarriedCandidate: Sendable {
    var identity: ContentHash
    var sentLocal: LocalDateTime
    var sentAt: Int64
    var fileName: String
    var blob: ContentHash
}

/// In a batch report: the e-mail that carried the export.
public struct CarriedBy: Sendable, Codable, Hashable {
    public var messageID: Int64
    public var forwardedAt: String
    public var attachment: String
    public var member: String?
}

extension IngestService {
    /// How deep zips inside zips are opened.
    static let maxZipDepth = 3

    /// The 20-day rule's legal route is "forward a complete copy to an official account": a
    /// chat export attached to an e-mail (in any part, a forwarded message inside it, or a zip,
    /// zips within zips too) is ingested as chat, each of its batches linked to the e-mail
    /// record, whose date is kept as the forwarding time. An attachment that is not an export
    /// stays what it was: a file of the e-mail.
    func ingestCarried(_ candidate: CarriedCandidate, from mail: SourceFile, _ request: IngestRequest,
                       progress: (@Sendable (IngestProgress) -> Void)?) async -> [BatchReport] {
        let label = "\(mail.displayName) › \(candidate.fileName)"
        do {
            guard let messageID = try await archive.store.messageID(identityKey: candidate.identity, sentLocal: candidate.sentLocal) else { return [] }
            let work = archive.directory.scratchURL.appendingPathComponent("carried-\(UUID().uuidString)", isDirectory: true)
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            defer { try? FileManager.default.removeItem(at: work) }
            // The attachment under its own name (connectors detect by name too), from the blob store.
            let base = candidate.fileName.split(separator: "/").last.map(String.init) ?? "attachment"
            let name = ExportNames.safe(base)
            let file = work.appendingPathComponent(name)
            guard FileManager.default.createFile(atPath: file.path, contents: nil), let handle = try? FileHandle(forWritingTo: file) else {
                throw IngestError(.notFound, "could not write a scratch copy of an attachment")
            }
            do {
                defer { try? handle.close() }
                try await archive.blobs.read(candidate.blob) { try handle.write(contentsOf: Data($0)) }
            }
            var reports: [BatchReport] = []
            for found in try findExports(in: file, displayName: name, member: nil, work: work, depth: 0) {
                let carrier = CarrierContext(messageID: messageID, forwardedAt: candidate.sentAt, attachment: candidate.fileName, member: found.member)
                do {
                    reports += try await ingestOne(found.source, request, progress: progress, carrier: carrier)
                } catch {
                    reports.append(failedCarried(found.source.displayName, error: error, request: request))
                    _ = try? await archive.store.appendAudit(AuditDraft(actor: request.actor, action: "ingest.failed", target: "message:\(messageID)", detail: [
                        "source": found.source.displayName, "error": userMessage(for: error), "carried_by": "message:\(messageID)"]))
                }
            }
            return reports
        } catch {
            _ = try? await archive.store.appendAudit(AuditDraft(actor: request.actor, action: "ingest.failed", target: "source",
                                                            detail: ["source": label, "error": userMessage(for: error)]))
            return [failedCarried(label, error: error, request: request)]
        }
    }

    private func failedCarried(_ name: String, error: any Error, request: IngestRequest) -> BatchReport {
        var failed = BatchReport(source: name)
        failed.error = userMessage(for: error)
        logger.error("ingest.carried.failed", metadata: ["error.code": "\(IngestService.code(of: error))"])
        return failed
    }

    /// The exports in one file: the file itself when a chat connector reads it, else (for a zip
    /// no connector reads whole) the exports unpacked from it, Signal chat folders included.
    func findExports(in file: URL, displayName: String, member: String?, work: URL, depth: Int) throws -> [(source: SourceFile, member: String?)] {
        let source = SourceFile(url: file, displayName: displayName)
        let chat = connectors.filter { $0.platform != .email }
        if try chat.contains(where: { try $0.detect(source) != nil }) { return [(source, member)] }
        guard depth < Self.maxZipDepth, NestedZip.looksLikeZip(file) else { return [] }
        let folder = work.appendingPathComponent("unpacked-\(UUID().uuidString)", isDirectory: true)
        let paths = try NestedZip.unpack(file, into: folder)
        var found: [(source: SourceFile, member: String?)] = []
        var signalFolders = Set<String>()
        for relative in paths.sorted() {
            let inner = (member.map { $0 + "/" } ?? "") + relative
            let url = folder.appendingPathComponent(relative)
            let parent = (relative as NSString).deletingLastPathComponent
            // A signal-export chat folder: data.json (or chat.md) with its media beside it.
            if ["data.json", "chat.md"].contains(url.lastPathComponent), !signalFolders.contains(parent),
               let chatFile = IngestService.signalChat(in: url.deletingLastPathComponent()) {
                signalFolders.insert(parent)
                let within = parent.isEmpty ? chatFile.url.lastPathComponent : parent + "/" + chatFile.url.lastPathComponent
                // Named as signal-export names a chat: its folder and file.
                let s = SourceFile(url: chatFile.url, displayName: within)
                if try chat.contains(where: { try $0.detect(s) != nil }) { found.append((s, (member.map { $0 + "/" } ?? "") + within)) }
                continue
            }
            if signalFolders.contains(where: { !$0.isEmpty && relative.hasPrefix($0 + "/") }) { continue }
            let ext = url.pathExtension.lowercased()
            guard ["txt", "zip", "json", "jsonl", "xml"].contains(ext) else { continue }
            found += try findExports(in: url, displayName: url.lastPathComponent, member: inner, work: work, depth: depth + 1)
        }
        return found
    }
}

/// File names from hostile sources, made safe to create in a scratch folder.
enum ExportNames {
    static func safe(_ name: String) -> String {
        let cleaned = String(name.unicodeScalars.map { s -> Character in
            s == "/" || s == "\\" || s.value < 0x20 || s == "\u{0}" ? "_" : Character(s)
        }).trimmingCharacters(in: CharacterSet(charactersIn: ". "))
        return cleaned.isEmpty ? "attachment" : String(cleaned.prefix(200))
    }
}
