import Archive
import Foundation
import HTTPTypes
import Hummingbird
import MultipartKit
import NIOCore
import Recordkeeper
import RecordkeeperCore

/// An export received from a browser or a script, spooled to the scratch directory.
struct UploadedExport {
    var directory: URL
    var file: URL?
    var fileName: String?
    var size: Int64 = 0
    var fields: [String: String] = [:]

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// Reads a `multipart/form-data` body as it arrives: the file part goes straight to disk (never
/// whole into memory), other fields are kept if small. Hostile input: one file, bounded size,
/// a file name reduced to a safe last path component.
enum UploadReceiver {
    static let maxFieldBytes = 16 * 1024
    /// More fields than the form has means the request was not made by it.
    static let maxFields = 32

    /// The extensions an export may have.
    static let exportExtensions: Set<String> = ["txt", "zip", "xml", "json", "jsonl", "eml", "mbox"]

    static func receive(_ request: Request, scratch: URL, limit: Int64, extensions: Set<String> = exportExtensions,
                        kind: String = "an export: a WhatsApp .txt or .zip, an SMS Backup & Restore .xml, or a Wickr retention .txt/.json file") async throws -> UploadedExport {
        guard let contentType = request.headers[.contentType], contentType.lowercased().hasPrefix("multipart/form-data"),
              let boundary = boundary(contentType) else {
            throw WebError.badRequest("send the export as multipart/form-data with a part named \"file\"")
        }
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let dir = scratch.appendingPathComponent("upload-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        let state = State(directory: dir, limit: limit, extensions: extensions, kind: kind)
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in state.header(name, value) }
        parser.onBody = { buffer in state.body(&buffer) }
        parser.onPartComplete = { state.complete() }
        do {
            for try await chunk in request.body {
                try parser.execute(chunk)
                if let error = state.error { throw error }
            }
            state.finish()
            if let error = state.error { throw error }
        } catch {
            state.finish()
            try? FileManager.default.removeItem(at: dir)
            if error is WebError { throw error }
            throw WebError.badRequest("the upload was cut short or is not valid multipart/form-data; try again")
        }
        guard state.result.file != nil else {
            try? FileManager.default.removeItem(at: dir)
            throw WebError.badRequest("choose \(kind) to upload")
        }
        return state.result
    }

    static func boundary(_ contentType: String) -> String? {
        for part in contentType.split(separator: ";") {
            let kv = part.trimmingCharacters(in: .whitespaces)
            if kv.lowercased().hasPrefix("boundary=") {
                var b = String(kv.dropFirst("boundary=".count))
                if b.hasPrefix("\""), b.hasSuffix("\""), b.count >= 2 { b = String(b.dropFirst().dropLast()) }
                return b.isEmpty || b.count > 200 ? nil : b
            }
        }
        return nil
    }

    /// The last path component, without control characters or leading dots; .txt or .zip only.
    static func safeFileName(_ raw: String, extensions: Set<String> = exportExtensions,
                             kind: String = "an export: a WhatsApp .txt or .zip, an SMS Backup & Restore .xml, or a Wickr retention .txt/.json file") throws -> String {
        let last = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var name = String(String.UnicodeScalarView(last.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
        while name.hasPrefix(".") { name.removeFirst() }
        name = String(name.prefix(200))
        let ext = (name as NSString).pathExtension.lowercased()
        guard !name.isEmpty, extensions.contains(ext) else {
            throw WebError.badRequest("upload \(kind)")
        }
        return name
    }

    final class State {
        let directory: URL
        let limit: Int64
        var result: UploadedExport
        var error: (any Error)?
        var partName: String?
        var partFileName: String?
        var handle: FileHandle?
        var field = Data()
        var headersDone = false
        let extensions: Set<String>
        let kind: String

        init(directory: URL, limit: Int64, extensions: Set<String>, kind: String) {
            self.directory = directory
            self.limit = limit
            self.extensions = extensions
            self.kind = kind
            result = UploadedExport(directory: directory)
        }

        func header(_ name: String, _ value: String) {
            guard name.lowercased() == "content-disposition" else { return }
            for piece in value.split(separator: ";") {
                let kv = piece.trimmingCharacters(in: .whitespaces)
                func unquote(_ s: Substring) -> String {
                    var v = String(s)
                    if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
                    return v
                }
                if kv.hasPrefix("name=") { partName = unquote(kv.dropFirst(5)) }
                if kv.hasPrefix("filename=") { partFileName = unquote(kv.dropFirst(9)) }
            }
        }

        func body(_ buffer: inout ByteBuffer) {
            guard error == nil else { return }
            if partName == "file", let fileName = partFileName {
                if handle == nil {
                    guard result.file == nil else { error = WebError.badRequest("upload one export at a time"); return }
                    do {
                        let safe = try UploadReceiver.safeFileName(fileName, extensions: extensions, kind: kind)
                        let url = directory.appendingPathComponent(safe)
                        guard FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                            error = ArchiveError(.storage, "cannot write to the scratch directory"); return
                        }
                        handle = try FileHandle(forWritingTo: url)
                        result.file = url
                        result.fileName = safe
                    } catch { self.error = error; return }
                }
                result.size += Int64(buffer.readableBytes)
                guard result.size <= limit else {
                    error = WebError.tooLarge("the export is larger than this server accepts (\(Fmt.bytes(limit))); ask the operator, or ingest it with the command line")
                    return
                }
                if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                    do { try handle?.write(contentsOf: bytes) } catch { self.error = ArchiveError(.storage, "cannot write the upload to disk") }
                }
            } else {
                guard result.fields.count < UploadReceiver.maxFields else { error = WebError.badRequest("too many form fields"); return }
                guard field.count + buffer.readableBytes <= UploadReceiver.maxFieldBytes else {
                    error = WebError.badRequest("a form field is too long"); return
                }
                if let bytes = buffer.readBytes(length: buffer.readableBytes) { field.append(contentsOf: bytes) }
            }
        }

        func complete() {
            if let handle {
                try? handle.close()
                self.handle = nil
            } else if let name = partName, partFileName == nil {
                result.fields[name] = String(decoding: field, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            partName = nil
            partFileName = nil
            field = Data()
        }

        func finish() {
            try? handle?.close()
            handle = nil
        }
    }
}

extension WebApp {
    /// Receives an upload and ingests it for the custodian the principal may upload for.
    func ingestUpload(_ input: Input) async throws -> [BatchReport] {
        let p = try input.user
        let upload = try await UploadReceiver.receive(input.request, scratch: archive.directory.scratchURL, limit: configuration.maxUploadBytes)
        defer { upload.remove() }
        let custodian: String
        if p.has(.recordsOfficer) {
            guard let c = upload.fields["custodian"] ?? p.user.custodianEmail, !c.isEmpty else {
                throw WebError.badRequest("say whose export this is: the custodian's e-mail address")
            }
            custodian = c
        } else if let own = p.user.custodianEmail {
            if let asked = upload.fields["custodian"], !asked.isEmpty, asked.lowercased() != own.lowercased() {
                throw ArchiveError(.refused, "you can upload only your own exports (\(own))")
            }
            custodian = own
        } else {
            throw ArchiveError(.refused, "your account is not linked to a custodian; ask an admin")
        }
        var dateOrder: DateOrder?
        if let d = upload.fields["date_order"], !d.isEmpty {
            guard let order = DateOrder(rawValue: d.uppercased()) else { throw WebError.badRequest("date order must be one of \(DateOrder.allCases.map(\.rawValue).joined(separator: ", "))") }
            dateOrder = order
        }
        let tz = upload.fields["time_zone"].flatMap { $0.isEmpty ? nil : $0 }
        var request = IngestRequest(paths: [upload.file!], custodian: custodian, timeZone: tz, dateOrder: dateOrder,
                                    conversationTitle: upload.fields["title"].flatMap { $0.isEmpty ? nil : $0 }, actor: p.actor)
        // The answer comes once the records are captured; the server's indexer makes them
        // searchable moments later (search answers say how many are still waiting).
        request.waitForIndex = false
        return try await IngestService(archive: archive).ingest(request)
    }

    func addUploadRoutes(_ r: RouteBuilder) {
        let uploaders: Access = .roles([.custodian, .recordsOfficer])
        r.add(.get, "/upload", uploaders, "Upload form for a WhatsApp export") { input in
            let p = try input.user
            return Respond.html(self.uploadPage(p))
        }
        r.add(.post, "/upload", uploaders, "Receive an export (multipart), ingest it, show the batch summary", body: .stream, limited: true) { input in
            let reports = try await self.ingestUpload(input)
            if let failed = reports.first(where: { $0.error != nil }) {
                throw WebError.badRequest("the export could not be ingested: \(failed.error ?? "")")
            }
            guard let batch = reports.first?.batchID else { throw WebError.badRequest("the upload held no export to ingest") }
            return Respond.seeOther("/batches/\(batch)")
        }
    }

    func uploadPage(_ p: Principal) -> HTML {
        let custodian: HTML = p.has(.recordsOfficer) ? """
            <p><label for="custodian">Custodian's e-mail address</label><input id="custodian" name="custodian" type="email" required value="\(p.user.custodianEmail ?? "")" aria-describedby="custodian-hint">
            <span class="hint" id="custodian-hint">Whose records these are: the official account holder.</span></p>
            """ : "<p>This export will be filed as your records (<strong>\(p.user.custodianEmail ?? "no custodian linked")</strong>).</p>"
        return pages.page("Upload an export", principal: p, current: "/upload", """
            <p>In WhatsApp, open the chat, choose <em>Export chat</em> (with media if you can), and upload the .zip or .txt it makes. Nothing is lost:
            lines that cannot be read are kept verbatim and listed on the summary.</p>
            <form method="post" action="/upload?csrf=\(p.csrf ?? "")" enctype="multipart/form-data" class="stack narrow" id="upload-form" data-progress="upload-progress">
            \(custodian)
            <p><label for="file">Export file (WhatsApp .zip or .txt, SMS Backup &amp; Restore .xml, Wickr retention .txt/.json, Telegram result.json, Slack export .zip, Teams export .json, e-mail .eml/.mbox)</label><input id="file" name="file" type="file" accept=".zip,.txt,.xml,.json,.jsonl,.eml,.mbox" required></p>
            <details><summary>More options</summary>
            <p><label for="time_zone">Time zone of the phone (IANA name, e.g. America/New_York)</label><input id="time_zone" name="time_zone" aria-describedby="tz-hint">
            <span class="hint" id="tz-hint">Leave empty to use the custodian's recorded zone.</span></p>
            <p><label for="date_order">Date order</label><select id="date_order" name="date_order"><option value="">Decide from the file</option>
            \(DateOrder.allCases.html { "<option value=\"\($0.rawValue)\">\($0.rawValue)</option>" })</select></p>
            <p><label for="title">Conversation title (if the file name does not give it)</label><input id="title" name="title"></p>
            </details>
            <p><button type="submit">Upload and ingest</button></p>
            <div id="upload-progress" class="progress" hidden><label for="upload-bar">Upload progress</label>
            <progress id="upload-bar" max="100" value="0"></progress> <span id="upload-status" role="status" aria-live="polite"></span></div>
            </form>
            """)
    }
}
