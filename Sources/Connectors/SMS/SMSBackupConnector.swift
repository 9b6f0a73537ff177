import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import RecordkeeperCore

/// Android "SMS Backup & Restore" XML (`sms-*.xml` messages, `calls-*.xml` call log): every text,
/// picture message and call on the phone, all threads interleaved by date. Each thread (the
/// other party's number, or the set of numbers of a group message) is a conversation. Times are
/// absolute (ms since 1970) and shown in the batch's zone. See docs/connectors/sms.md.
public struct SMSBackupConnector: Connector {
    public let platform = Platform.sms

    public init() {}

    public func detect(_ source: SourceFile) throws -> Detection? {
        guard let head = try? SourceHead.text(of: source.url) else { return nil }
        let start = head.prefix(4096)
        if start.contains("<smses") { return Detection(confidence: 90, format: "sms-backup-restore-xml") }
        if start.contains("<calls") && start.contains("<call ") { return Detection(confidence: 90, format: "sms-backup-restore-calls-xml") }
        return nil
    }

    public func open(_ source: SourceFile, options: ParseOptions, scratch: URL) throws -> any CaptureReader {
        let calls = try detect(source)?.format == "sms-backup-restore-calls-xml"
        let size = (try? FileManager.default.attributesOfItem(atPath: source.url.path)[.size] as? NSNumber)?.int64Value ?? 0
        let work = scratch.appendingPathComponent("sms-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Emoji arrive as numeric references to UTF-16 surrogate halves, which XML forbids: they
        // are joined into one reference (in a scratch copy; the original is archived as it is).
        let repaired = work.appendingPathComponent("repaired.xml")
        let (loneSurrogates, gateStop) = try SurrogateRepair.copy(from: source.url, to: repaired)
        let description = SourceDescription(platform: .sms, format: calls ? "sms-backup-restore-calls-xml" : "sms-backup-restore-xml",
                                            textMember: source.url.lastPathComponent,
                                            conversationTitle: "SMS backup \(source.displayName)", dateOrder: nil, headerStyle: "xml")
        return SMSReader(xml: repaired, work: work, description: description, totalBytes: size,
                         zone: options.timeZone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!,
                         file: source.url.lastPathComponent, loneSurrogates: loneSurrogates, gateStop: gateStop)
    }
}

/// Rewrites `&#55357;&#56832;` (a surrogate pair written as two references) to `&#128512;`, and
/// a lone surrogate reference to U+FFFD, streaming in chunks. The copy ends where `XMLGate` stops
/// (Foundation's parser would trap on what follows); returns how many lone surrogates it met and
/// where and why the gate stopped, if it did.
enum SurrogateRepair {
    static func copy(from input: URL, to output: URL) throws -> (loneSurrogates: Int, gateStop: XMLGate.Stop?) {
        let reader = try FileHandle(forReadingFrom: input)
        defer { try? reader.close() }
        FileManager.default.createFile(atPath: output.path, contents: nil, attributes: [.posixPermissions: 0o600])
        let writer = try FileHandle(forWritingTo: output)
        defer { try? writer.close() }
        var carry: [UInt8] = []
        var lone = 0
        var gate = XMLGate()
        while true {
            let chunk = try reader.read(upToCount: 1 << 20) ?? Data()
            let atEnd = chunk.isEmpty
            var bytes = carry + [UInt8](chunk)
            carry = []
            if !atEnd, let amp = bytes.lastIndex(of: UInt8(ascii: "&")), bytes.count - amp < 24 {
                // A reference (or pair) may continue in the next chunk.
                carry = Array(bytes[amp...])
                bytes.removeSubrange(amp...)
            }
            let (out, n) = repair(bytes)
            lone += n
            try writer.write(contentsOf: out)
            guard gate.feed(out) else { break }
            if atEnd { break }
        }
        gate.finish()
        if gate.stop != nil { try writer.truncate(atOffset: UInt64(gate.safeLength)) }
        return (lone, gate.stop)
    }

    /// The numeric reference starting at `i` (`&#123;` or `&#x7B;`): its value and end index.
    static func reference(_ b: [UInt8], at i: Int) -> (UInt32, Int)? {
        guard i + 3 < b.count, b[i] == 38, b[i + 1] == 35 else { return nil }
        var j = i + 2
        var hex = false
        if b[j] == 120 || b[j] == 88 { hex = true; j += 1 }
        var v: UInt32 = 0
        let start = j
        while j < b.count, j - start < 8 {
            let c = b[j]
            if c == 59 { return j > start ? (v, j + 1) : nil }
            if c >= 48, c <= 57 { v = v * (hex ? 16 : 10) + UInt32(c - 48) }
            else if hex, let d = "abcdef".utf8.firstIndex(of: c | 0x20) { v = v * 16 + UInt32("abcdef".utf8.distance(from: "abcdef".utf8.startIndex, to: d) + 10) }
            else { return nil }
            j += 1
        }
        return nil
    }

    static func repair(_ b: [UInt8]) -> ([UInt8], Int) {
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var lone = 0
        var i = 0
        while i < b.count {
            if b[i] == 38, let (v, end) = reference(b, at: i), (0xD800...0xDFFF).contains(v) {
                if (0xD800...0xDBFF).contains(v), let (low, end2) = reference(b, at: end), (0xDC00...0xDFFF).contains(low) {
                    let combined = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                    out += Array("&#\(combined);".utf8)
                    i = end2
                } else {
                    out += Array("&#65533;".utf8)
                    lone += 1
                    i = end
                }
                continue
            }
            out.append(b[i])
            i += 1
        }
        return (out, lone)
    }
}

/// Files carried inside the backup (MMS parts, base64), decoded into the scratch folder as
/// they are met and looked up by the name the message gives them.
final class DecodedParts: FileBackedAttachments, @unchecked Sendable {
    private let lock = NSLock()
    private var files: [String: URL] = [:]

    func add(_ name: String, _ url: URL) { lock.lock(); files[name] = url; lock.unlock() }

    func resolve(_ name: String) -> URL? { lock.lock(); defer { lock.unlock() }; return files[name] }
}

/// Hands items from the parsing thread to the reader, a few at a time (the parser waits when
/// the reader falls behind, so memory stays flat).
final class ItemQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [CaptureItem?] = []
    private let capacity: Int
    private(set) var cancelled = false

    init(capacity: Int) { self.capacity = capacity }

    func put(_ item: CaptureItem?) {
        condition.lock()
        while items.count >= capacity && !cancelled { condition.wait() }
        if !cancelled { items.append(item) }
        condition.broadcast()
        condition.unlock()
    }

    func take() -> CaptureItem?? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !cancelled { condition.wait() }
        guard !items.isEmpty else { return .some(nil) }
        let item = items.removeFirst()
        condition.broadcast()
        return .some(item)
    }

    func cancel() {
        condition.lock()
        cancelled = true
        items.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}

final class SMSReader: CaptureReader, @unchecked Sendable {
    let description: SourceDescription
    let totalBytes: Int64
    var attachments: any AttachmentProvider { parts }
    var isMultiConversation: Bool { true }
    var bytesRead: Int64 { finished ? totalBytes : 0 }
    private let parts = DecodedParts()
    private let queue = ItemQueue(capacity: 64)
    private let work: URL
    private var finished = false
    private var thread: Thread?

    init(xml: URL, work: URL, description: SourceDescription, totalBytes: Int64, zone: TimeZone, file: String, loneSurrogates: Int,
         gateStop: XMLGate.Stop? = nil) {
        self.description = description
        self.totalBytes = totalBytes
        self.work = work
        let handler = SMSParserDelegate(queue: queue, parts: parts, work: work, zone: zone, file: file)
        let queue = self.queue
        let thread = Thread {
            // Said at the end, so it files with a conversation rather than making one of its own.
            defer {
                if loneSurrogates > 0 {
                    queue.put(.defect(CaptureDefect(file: file, line: 0, code: "lone_surrogate",
                                                    detail: "\(loneSurrogates) character reference(s) to half of a UTF-16 pair; shown as U+FFFD, the original bytes are archived", text: "")))
                }
                queue.put(nil)
            }
            guard let stream = InputStream(url: xml) else {
                queue.put(.defect(CaptureDefect(file: file, line: 0, code: "unreadable", detail: "the backup could not be opened", text: "")))
                return
            }
            let parser = XMLParser(stream: stream)
            parser.shouldResolveExternalEntities = false
            parser.delegate = handler
            handler.parser = parser
            let ok = parser.parse()
            if (!ok || handler.firstError != nil || gateStop != nil), !queue.cancelled {
                // The parser was given only what came before the gate's stop, so its own complaint
                // there (a premature end) is the gate's: the gate says why.
                var first: (line: Int, reason: String)? = handler.firstError
                if let stop = gateStop, first.map({ $0.line >= stop.line }) ?? true { first = (stop.line, stop.reason) }
                let reason = first?.reason ?? parser.parserError.map { "\($0.localizedDescription)" } ?? "unknown error"
                queue.put(.defect(CaptureDefect(file: file, line: first?.line ?? parser.lineNumber, code: "xml_error",
                                                detail: "the XML stops being readable here (\(reason)); everything before it was captured, and the whole file is archived as it is",
                                                text: "")))
            }
        }
        thread.stackSize = 4 << 20
        self.thread = thread
        thread.start()
    }

    func next() throws -> CaptureItem? {
        guard !finished else { return nil }
        guard let item = queue.take() else { return nil }
        guard let item else { finished = true; return nil }
        return item
    }

    func close() {
        queue.cancel()
        try? FileManager.default.removeItem(at: work)
    }
}

/// Turns `<sms>`, `<mms>` (with `<part>` and `<addr>`) and `<call>` elements into items.
final class SMSParserDelegate: NSObject, XMLParserDelegate, @unchecked Sendable {
    let queue: ItemQueue
    let parts: DecodedParts
    let work: URL
    let zone: TimeZone
    let file: String
    weak var parser: XMLParser?
    private var currentThread: String?
    private var mms: (attrs: [String: String], line: Int, parts: [[String: String]], addrs: [[String: String]])?
    private var partCount = 0
    /// Set at the first XML error: libxml2 may go on in recovery mode, but nothing it reads from
    /// there is trusted as a message (it is kept as a defect instead).
    private(set) var firstError: (line: Int, reason: String)?

    init(queue: ItemQueue, parts: DecodedParts, work: URL, zone: TimeZone, file: String) {
        self.queue = queue
        self.parts = parts
        self.work = work
        self.zone = zone
        self.file = file
    }

    static func value(_ a: [String: String], _ key: String) -> String? {
        guard let v = a[key], v != "null", !v.isEmpty else { return nil }
        return v
    }

    func local(_ millis: String?) -> LocalDateTime? {
        guard let millis, let ms = Double(millis), ms > 0 else { return nil }
        return LocalDateTime(secondsSinceEpoch: ms / 1000, in: zone)
    }

    /// A thread's stable id: its numbers, normalised (the last ten digits of a phone number, so
    /// "+1 202-555-0143" and "2025550143" are one thread), sorted.
    static func threadID(_ addresses: [String]) -> String {
        let ids = addresses.map { raw -> String in
            let digits = raw.filter(\.isASCII).filter(\.isNumber)
            if AccountAddress.isPhoneLike(raw) || (digits.count >= 7 && digits.count == raw.filter { !" -().+".contains($0) }.count) {
                return "tel:" + String(digits.suffix(10))
            }
            return raw.lowercased()
        }
        return Array(Set(ids)).sorted().joined(separator: "~")
    }

    func announce(_ addresses: [String], names: String?) {
        let id = Self.threadID(addresses)
        guard id != currentThread else { return }
        currentThread = id
        // `contact_name` lists a name per address ("(Unknown)" for numbers not in contacts).
        let listed = names.map { $0.components(separatedBy: ", ") } ?? []
        let title = addresses.enumerated().map { i, address in
            i < listed.count && listed[i] != "(Unknown)" && !listed[i].isEmpty ? listed[i] : address
        }.joined(separator: ", ")
        queue.put(.conversation(ConversationHeader(sourceID: id, title: title.isEmpty ? "Unknown number" : title)))
    }

    static func raw(_ element: String, _ a: [String: String], omitting: Set<String> = []) -> String {
        "<\(element) " + a.keys.sorted().map { k in omitting.contains(k) ? "\(k)=\"[\(a[k]!.count) base64 characters, stored as an attachment]\"" : "\(k)=\"\(a[k]!)\"" }.joined(separator: " ") + "/>"
    }

    func parser(_ parser: XMLParser, parseErrorOccurred error: any Error) {
        if firstError == nil { firstError = (parser.lineNumber, "\(error.localizedDescription)") }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes a: [String: String] = [:]) {
        if queue.cancelled { parser.abortParsing(); return }
        let line = parser.lineNumber
        if firstError != nil, ["sms", "mms", "call"].contains(name) {
            queue.put(.defect(CaptureDefect(file: file, line: line, code: "after_xml_error",
                                            detail: "read after the XML became unreadable, so not trusted as a message; the original bytes are archived",
                                            text: Self.raw(name, a, omitting: ["data"]))))
            return
        }
        switch name {
        case "sms":
            let address = Self.value(a, "address") ?? "unknown"
            guard let sent = local(a["date"]) else {
                queue.put(.defect(CaptureDefect(file: file, line: line, code: "no_time", detail: "an <sms> without a readable date; kept here", text: Self.raw(name, a))))
                return
            }
            let addresses = address.split(separator: "~").map(String.init)
            announce(addresses, names: Self.value(a, "contact_name"))
            let type = Int(a["type"] ?? "") ?? 0
            let outgoing = [2, 4, 5, 6].contains(type)
            let sender = outgoing ? "Me" : (Self.value(a, "contact_name").flatMap { $0 == "(Unknown)" ? nil : $0 } ?? address)
            let flags = MessageFlags()
            queue.put(.message(CapturedMessage(line: line, lineCount: 1, raw: Self.raw(name, a), sentLocal: sent, senderRaw: outgoing ? "Me" : address,
                                               sender: sender, body: Self.value(a, "body") ?? "", kind: .user, flags: flags, attachments: [])))
        case "mms":
            mms = (a, line, [], [])
        case "part":
            if mms != nil { mms!.parts.append(a) }
        case "addr":
            if mms != nil { mms!.addrs.append(a) }
        case "call":
            guard let sent = local(a["date"]) else {
                queue.put(.defect(CaptureDefect(file: file, line: line, code: "no_time", detail: "a <call> without a readable date; kept here", text: Self.raw(name, a))))
                return
            }
            let number = Self.value(a, "number") ?? "unknown"
            announce([number], names: Self.value(a, "contact_name"))
            let type = Int(a["type"] ?? "") ?? 0
            let seconds = Int(a["duration"] ?? "") ?? 0
            let what = [1: "Incoming call", 2: "Outgoing call", 3: "Missed call", 4: "Voicemail", 5: "Rejected call", 6: "Blocked call"][type] ?? "Call"
            let body = seconds > 0 ? "\(what), \(seconds / 60) min \(seconds % 60) s" : what
            queue.put(.message(CapturedMessage(line: line, lineCount: 1, raw: Self.raw(name, a), sentLocal: sent, senderRaw: type == 2 ? "Me" : number,
                                               sender: type == 2 ? "Me" : (Self.value(a, "contact_name") ?? number), body: body, kind: .system,
                                               flags: .call, attachments: [])))
        default:
            break
        }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        guard name == "mms", let m = mms else { return }
        mms = nil
        if firstError != nil { return }
        let a = m.attrs
        guard let sent = local(a["date"]) else {
            queue.put(.defect(CaptureDefect(file: file, line: m.line, code: "no_time", detail: "an <mms> without a readable date; kept here", text: Self.raw("mms", a))))
            return
        }
        let box = Int(a["msg_box"] ?? "") ?? 0
        let outgoing = box == 2 || box == 4
        let from = m.addrs.first { $0["type"] == "137" }?["address"]
        // The <mms> `address` names the thread (its other parties); the <addr> list also holds
        // the phone's own number, so it is used only when `address` is missing.
        var addresses = (Self.value(a, "address") ?? "").split(separator: "~").map(String.init)
        if addresses.isEmpty {
            addresses = m.addrs.compactMap { Self.value($0, "address") }.filter { $0 != "insert-address-token" && $0 != from || !outgoing }
        }
        if addresses.isEmpty { addresses = ["unknown"] }
        announce(addresses, names: Self.value(a, "contact_name"))
        var texts: [String] = []
        var refs: [AttachmentReference] = []
        for p in m.parts {
            let type = (p["ct"] ?? "").lowercased()
            if type == "application/smil" { continue }
            if type == "text/plain" {
                if let t = Self.value(p, "text") { texts.append(t) }
                continue
            }
            guard let data = Self.value(p, "data"), let bytes = Data(base64Encoded: data, options: .ignoreUnknownCharacters) else {
                let name = Self.value(p, "cl") ?? Self.value(p, "name") ?? "part"
                refs.append(AttachmentReference(fileName: "mms-missing/\(name)"))
                continue
            }
            partCount += 1
            let name = (Self.value(p, "cl") ?? Self.value(p, "name") ?? Self.value(p, "fn") ?? "part\(partCount)")
                .split(separator: "/").last.map(String.init) ?? "part"
            let key = "mms\(partCount)/\(name)"
            let url = work.appendingPathComponent("part-\(partCount)")
            if (try? bytes.write(to: url)) != nil { parts.add(key, url) }
            refs.append(AttachmentReference(fileName: key))
        }
        var flags = MessageFlags()
        if !refs.isEmpty { flags.insert(.hasAttachment) }
        let sender = outgoing ? "Me" : (from ?? addresses.first ?? "unknown")
        var raw = Self.raw("mms", a)
        for p in m.parts { raw += "\n  " + Self.raw("part", p, omitting: ["data"]) }
        for ad in m.addrs { raw += "\n  " + Self.raw("addr", ad) }
        queue.put(.message(CapturedMessage(line: m.line, lineCount: 1, raw: raw, sentLocal: sent, senderRaw: sender, sender: sender,
                                           body: texts.joined(separator: "\n"), kind: texts.isEmpty && refs.isEmpty ? .mediaPlaceholder : .user,
                                           flags: flags, attachments: refs)))
    }
}
