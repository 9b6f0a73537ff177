import Foundation
import RecordkeeperCore
import SafeZip
import ZIPFoundation

/// Reads WhatsApp "Export chat" output: Android `.txt`, iOS `_chat.txt`, and `.zip` exports with
/// media (FORMATS.md §1).
public struct WhatsAppConnector: Connector {
    public let platform = Platform.whatsapp

    /// Largest chat text accepted from a zip (a guard against decompression bombs).
    public static let maxChatTextBytes: Int64 = 16 << 30

    public init() {}

    public func detect(_ source: SourceFile) throws -> Detection? {
        let ext = source.url.pathExtension.lowercased()
        if ext == "zip" {
            let archive: Archive
            do { archive = try Archive(url: source.url, accessMode: .read) } catch { return nil }
            // Any zip naming a member twice is refused here, whatever it holds ("not a recognised
            // export" would hide why); a WhatsApp export also by how its attachments are looked up.
            try ZipNames.requireUnique(archive, displayName: source.displayName)
            guard let member = try? WhatsAppConnector.chatMember(in: archive) else { return nil }
            try ZipNames.requireUnique(archive, displayName: source.displayName, key: WhatsAppConnector.memberKey)
            var head = Data()
            _ = try? SafeZip.extract(member, from: .file(source.url), bufferSize: 16_384, skipCRC32: true) { chunk in
                if head.count < 65_536 { head.append(chunk) } else { throw StopExtraction() }
            }
            return WhatsAppConnector.headerCount(in: head) > 0 ? Detection(confidence: 90, format: "whatsapp-zip") : nil
        }
        guard ext == "txt" || ext.isEmpty else { return nil }
        let handle = try FileHandle(forReadingFrom: source.url)
        defer { try? handle.close() }
        let head = try handle.read(upToCount: 65_536) ?? Data()
        return WhatsAppConnector.headerCount(in: head) > 0 ? Detection(confidence: 90, format: "whatsapp-txt") : nil
    }

    public func open(_ source: SourceFile, options: ParseOptions, scratch: URL) throws -> any CaptureReader {
        let isZip = source.url.pathExtension.lowercased() == "zip"
        var textURL = source.url
        var member = source.displayName
        var cleanup: () -> Void = {}
        let provider: any AttachmentProvider
        if isZip {
            let archive: Archive
            do {
                archive = try Archive(url: source.url, accessMode: .read)
            } catch {
                throw ConnectorError(.unreadable, "\(source.displayName) is not a readable zip archive; check the file was copied completely", underlying: error)
            }
            try ZipNames.requireUnique(archive, displayName: source.displayName, key: WhatsAppConnector.memberKey)
            let entry = try WhatsAppConnector.chatMember(in: archive)
            member = entry.path
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            let temp = scratch.appendingPathComponent("chat-\(UUID().uuidString).txt")
            guard FileManager.default.createFile(atPath: temp.path, contents: nil) else {
                throw ConnectorError(.unreadable, "cannot create a scratch file in \(scratch.path); check permissions and free space")
            }
            let out = try FileHandle(forWritingTo: temp)
            var written: Int64 = 0
            do {
                let crc = try SafeZip.extract(entry, from: .file(source.url), bufferSize: 1 << 20) { chunk in
                    written += Int64(chunk.count)
                    if written > WhatsAppConnector.maxChatTextBytes {
                        throw ConnectorError(.hostileArchive, "\(source.displayName): chat text expands beyond \(WhatsAppConnector.maxChatTextBytes) bytes; refusing it as a possible decompression bomb")
                    }
                    try out.write(contentsOf: chunk)
                }
                try out.close()
                // The streaming extract returns the checksum; comparing it is the caller's job.
                guard crc == entry.checksum else {
                    throw ConnectorError(.unreadable, "\(source.displayName): the chat text inside the zip is damaged (CRC-32 mismatch); ask the custodian for a new export")
                }
            } catch {
                try? out.close()
                try? FileManager.default.removeItem(at: temp)
                if error is ConnectorError { throw error }
                throw ConnectorError(.unreadable, "\(source.displayName): the chat text inside the zip could not be extracted (damaged archive?)", underlying: error)
            }
            textURL = temp
            cleanup = { try? FileManager.default.removeItem(at: temp) }
            provider = try ZipAttachments(url: source.url)
        } else {
            provider = SiblingAttachments(directory: source.url.deletingLastPathComponent(), exclude: source.url.lastPathComponent)
        }

        // Pass 1: headers only, to decide the date order and header style from the evidence.
        var evidence = DateOrderEvidence()
        var styles: [WhatsAppHeader.Style: Int] = [:]
        var bareWithMeridiem = 0
        let scan = try LineReader(url: textURL)
        while let header = try scan.nextLine({ WhatsAppHeader.scan($0) }) {
            guard let h = header else { continue }
            styles[h.style, default: 0] += 1
            if h.style == .bare, h.meridiem != nil { bareWithMeridiem += 1 }
            if h.style != .bare { evidence.add(h, line: scan.lineNumber) }
        }
        let framed = (styles[.bracket] ?? 0) + (styles[.dash] ?? 0)
        let acceptBare = (styles[.bare] ?? 0) > framed
        // In bare-style files a Latin am/pm counts only if most headers carry one (a 12-hour file).
        let bareLatinMeridiem = bareWithMeridiem * 2 > (styles[.bare] ?? 0)
        if acceptBare {
            // Bare-style files: collect the evidence from their headers instead.
            evidence = DateOrderEvidence()
            let again = try LineReader(url: textURL)
            while let header = try again.nextLine({ WhatsAppHeader.scan($0, bareLatinMeridiem: bareLatinMeridiem) }) {
                if let h = header { evidence.add(h, line: again.lineNumber) }
            }
        }
        let decision = evidence.decide(override: options.dateOrder)
        let bracket = styles[.bracket] ?? 0, dash = styles[.dash] ?? 0
        let style: String
        if acceptBare { style = "bare" } else if bracket > 0, dash > 0 { style = "mixed" } else if bracket > 0 { style = "bracket" } else { style = "dash" }
        let device = style == "bracket" ? "ios" : style == "dash" ? "android" : style
        let format = "whatsapp-\(device)-\(isZip ? "zip" : "txt")"
        let title = options.conversationTitle ?? WhatsAppConnector.conversationTitle(fileName: source.displayName)
        if title == "_chat" {
            cleanup()
            // An iPhone chat text taken out of its zip no longer says which chat it is.
            throw ConnectorError(.needsConversationTitle, "\(source.displayName) is an iPhone chat text without its zip, so its chat is unknown; ingest the zip, or pass --conversation with the chat's name")
        }
        let description = SourceDescription(platform: .whatsapp, format: format, textMember: member,
                                            conversationTitle: title, dateOrder: decision, headerStyle: style)
        let size = (try? FileManager.default.attributesOfItem(atPath: textURL.path)[.size] as? NSNumber)?.int64Value ?? 0
        return try WhatsAppReader(textURL: textURL, fileLabel: isZip ? "\(source.displayName)/\(member)" : source.displayName,
                                  description: description, order: decision, acceptBare: acceptBare,
                                  bareLatinMeridiem: bareLatinMeridiem,
                                  attachments: provider, totalBytes: size, cleanup: cleanup)
    }

    /// File-name prefixes WhatsApp gives exports, per language (spaces may be `_`).
    static let fileNamePrefixes = [
        "WhatsApp Chat - ", "WhatsApp Chat with ", "Chat de WhatsApp con ", "Chat WhatsApp con ",
        "Conversa no WhatsApp com ", "Conversa do WhatsApp com ", "WhatsApp Chat mit ", "WhatsApp-Chat mit ",
        "Discussion WhatsApp avec ", "Чат WhatsApp с ",
    ]

    /// The conversation's title from an export's file name ("WhatsApp Chat with Ann.txt" → "Ann").
    /// A download-duplicate suffix such as " (1)" is dropped so later exports match earlier ones.
    public static func conversationTitle(fileName: String) -> String {
        var base = (fileName as NSString).deletingPathExtension
        if let r = base.range(of: #" \(\d+\)$"#, options: .regularExpression) { base.removeSubrange(r) }
        for prefix in fileNamePrefixes {
            for variant in [prefix, prefix.replacingOccurrences(of: " ", with: "_")]
            where base.lowercased().hasPrefix(variant.lowercased()) {
                let name = String(base.dropFirst(variant.count)).replacingOccurrences(of: "_", with: " ")
                    .trimmingCharacters(in: .whitespaces)
                if !name.isEmpty { return name }
            }
        }
        return base
    }

    /// The chat text inside a zip: `_chat.txt`, else the one `*chat*.txt`/`*whatsapp*.txt`, else
    /// the only `.txt`.
    /// How a member is found: attachments by file name in any folder (`AttachmentName.key`);
    /// macOS's `__MACOSX/` resource forks and `._` files are not members anyone looks up.
    static func memberKey(_ path: String) -> String {
        let name = (path as NSString).lastPathComponent
        return path.hasPrefix("__MACOSX/") || name.hasPrefix("._") ? "\u{0}" + path : AttachmentName.key(name)
    }

    static func chatMember(in archive: Archive) throws -> Entry {
        var texts: [Entry] = []
        for entry in archive where entry.type == .file {
            let name = (entry.path as NSString).lastPathComponent
            if name == "_chat.txt" { return entry }
            if name.lowercased().hasSuffix(".txt"), !name.hasPrefix("._") { texts.append(entry) }
        }
        let named = texts.filter {
            let n = ($0.path as NSString).lastPathComponent.lowercased()
            return n.contains("chat") || n.contains("whatsapp")
        }
        if named.count == 1 { return named[0] }
        if texts.count == 1 { return texts[0] }
        if texts.isEmpty {
            throw ConnectorError(.noChatText, "the zip holds no chat text (_chat.txt or a WhatsApp .txt); is it a WhatsApp export?")
        }
        throw ConnectorError(.ambiguousChatText, "the zip holds \(texts.count) text files and none is clearly the chat; extract the chat .txt and ingest it directly")
    }

    static func headerCount(in head: Data) -> Int {
        var count = 0
        let bytes = [UInt8](head)
        var i = 0
        var lines = 0
        var lineStart = 0
        while i <= bytes.count, lines < 200 {
            if i == bytes.count || bytes[i] == 0x0A || bytes[i] == 0x0D {
                if i > lineStart, let h = WhatsAppHeader.scan(bytes[lineStart..<i]), h.style != .bare { count += 1 }
                lines += 1
                lineStart = i + 1
            }
            i += 1
        }
        return count
    }
}

struct StopExtraction: Error {}

/// Attachments carried inside the export zip, found by file name.
final class ZipAttachments: AttachmentProvider {
    private let archive: Archive
    private let url: URL
    private var byName: [String: Entry] = [:]
    /// Largest attachment accepted (a guard against decompression bombs).
    static let maxAttachmentBytes: Int64 = 4 << 30

    init(url: URL) throws {
        self.url = url
        archive = try Archive(url: url, accessMode: .read)
        for entry in archive where entry.type == .file {
            let name = (entry.path as NSString).lastPathComponent
            byName[AttachmentName.key(name)] = entry
        }
    }

    func contains(named name: String) -> Bool { byName[AttachmentName.key(name)] != nil }

    func withAttachment(named name: String, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        guard let entry = byName[AttachmentName.key(name)] else { return false }
        var total: Int64 = 0
        let crc: CRC32
        do {
            crc = try SafeZip.extract(entry, from: .file(url), bufferSize: 1 << 18) { chunk in
                total += Int64(chunk.count)
                if total > ZipAttachments.maxAttachmentBytes {
                    throw ConnectorError(.hostileArchive, "attachment expands beyond \(ZipAttachments.maxAttachmentBytes) bytes; refused")
                }
                try chunk.withUnsafeBytes { try sink($0) }
            }
        } catch let f as SafeZip.Failure { throw ConnectorError(.unreadable, "attachment is damaged in the zip: \(f)") }
        guard crc == entry.checksum else {
            throw ConnectorError(.unreadable, "attachment is damaged in the zip (CRC-32 mismatch)")
        }
        return true
    }
}

/// Attachments lying beside an Android `.txt` export (the share sheet sends them side by side).
final class SiblingAttachments: FileBackedAttachments {
    private let directory: URL
    private let exclude: String
    private lazy var byName: [String: String] = {
        var map: [String: String] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where name != exclude {
            map[AttachmentName.key(name)] = name
        }
        return map
    }()

    init(directory: URL, exclude: String) {
        self.directory = directory
        self.exclude = exclude
    }

    /// Only a plain file name in the export's own folder: never a path the chat text invents.
    func resolve(_ name: String) -> URL? {
        guard !name.contains("/"), !name.contains("\\"), name != "..", name != ".",
              let actual = byName[AttachmentName.key(name)] else { return nil }
        return Self.regularFile(directory.appendingPathComponent(actual))
    }
}

enum AttachmentName {
    /// Matching key: Unicode-normalised (NFC), lowercased.
    static func key(_ name: String) -> String { name.precomposedStringWithCanonicalMapping.lowercased() }
}
