import Foundation
import RecordkeeperCore

/// The first bytes of a source, as text, for detection.
enum SourceHead {
    static func text(of url: URL, bytes: Int = 64 * 1024) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        return String(decoding: try handle.read(upToCount: bytes) ?? Data(), as: UTF8.self)
    }
}

/// Attachments that are files on disk, found by `resolve`. Only regular files are ever read:
/// a symbolic link named like an attachment must not pull in any file the ingesting user can read.
protocol FileBackedAttachments: AttachmentProvider {
    /// The file a message's reference names, or nil (the attachment is then recorded as missing).
    func resolve(_ name: String) -> URL?
}

extension FileBackedAttachments {
    func contains(named name: String) -> Bool { resolve(name) != nil }

    func withAttachment(named name: String, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        guard let url = resolve(name) else { return false }
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
            try data.withUnsafeBytes { try sink($0) }
        }
        return true
    }

    /// `url` when it is a regular file.
    static func regularFile(_ url: URL) -> URL? {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: url.path),
              attrs[.type] as? FileAttributeType == .typeRegular else { return nil }
        return url
    }
}

/// Files named by a relative path inside an export's folder (`photos/…`, `media/…`): never an
/// absolute path, `..`, `.` or an empty component.
final class ExportFolderFiles: FileBackedAttachments {
    let root: URL
    init(root: URL) { self.root = root.standardizedFileURL }

    /// The components of a relative path that stays inside its folder, or nil.
    static func safeComponents(_ path: String) -> [Substring]? {
        var relative = path[...]
        while relative.hasPrefix("./") { relative = relative.dropFirst(2) }
        let parts = relative.split(separator: "/", omittingEmptySubsequences: false)
        guard !relative.isEmpty, !relative.hasPrefix("/"), !relative.contains("\\"), !relative.contains("\u{0}"),
              !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else { return nil }
        return parts
    }

    func resolve(_ path: String) -> URL? {
        guard let parts = Self.safeComponents(path) else { return nil }
        return Self.regularFile(root.appendingPathComponent(parts.joined(separator: "/")))
    }
}

/// Canonical JSON text of a parsed value (keys sorted): what a record keeps of a JSON source
/// whose parser does not give back the bytes as written.
enum JSONText {
    static func canonical(_ value: Any) -> String {
        // Wrapped in an array, so a bare string or number (which JSONSerialization refuses with a
        // fatal error, not a thrown one) is written too; anything still invalid is described.
        guard JSONSerialization.isValidJSONObject([value]),
              let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys, .withoutEscapingSlashes]) else { return "\(value)" }
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}

/// JSON objects read off a file line by line, whatever their line breaks (one per line, several
/// per line, pretty-printed), with everything that is not a whole object turned into a defect.
/// Brackets and commas between objects (a saved JSON array) are not content and are skipped.
final class JSONObjectStream {
    enum Item {
        case object(String, line: Int, lineCount: Int)
        case defect(CaptureDefect)
    }

    private let lines: LineReader
    private let file: String
    private let maxBytes: Int
    private var framer: JSONObjectFramer
    private var queued: [Item] = []
    private var done = false

    init(url: URL, maxBytes: Int) throws {
        lines = try LineReader(url: url, maxLineBytes: maxBytes)
        file = url.lastPathComponent
        self.maxBytes = maxBytes
        framer = JSONObjectFramer(maxBytes: maxBytes)
    }

    var bytesConsumed: Int64 { lines.bytesConsumed }

    func next() throws -> Item? {
        while queued.isEmpty {
            guard !done else { return nil }
            guard let line = try lines.nextLine({ String(decoding: $0, as: UTF8.self) }) else {
                done = true
                if let rest = framer.finish() {
                    queued.append(defect(framer.startLine, "unterminated_object", "a JSON object that never closes; kept verbatim here", rest))
                }
                continue
            }
            let number = lines.lineNumber
            for piece in framer.feed(line) {
                switch piece {
                case .stray(let text) where text.trimmingCharacters(in: CharacterSet(charactersIn: " \t,[]")).isEmpty:
                    continue
                case .stray(let text):
                    queued.append(defect(number, "not_json", "text outside any JSON object; kept verbatim here", text))
                case .broken(let text):
                    queued.append(defect(framer.startLine, "truncated_object", "a JSON object cut off mid-line; kept verbatim here", text))
                case .tooLarge:
                    queued.append(defect(number, "object_too_large", "a JSON object larger than \(maxBytes >> 20) MiB; its bytes stay in the archived original", ""))
                case .object(let text, let start):
                    queued.append(.object(text, line: start, lineCount: number - start + 1))
                }
            }
        }
        return queued.removeFirst()
    }

    func defect(_ line: Int, _ code: String, _ detail: String, _ text: String) -> Item {
        .defect(CaptureDefect(file: file, line: line, code: code, detail: detail, text: text))
    }
}

/// Cuts a stream of lines into whole JSON objects, whatever their line breaks: one per line,
/// several on a line, or one over many lines. Braces inside strings do not count.
struct JSONObjectFramer {
    /// A whole object (with the line it began on), text outside any object, an object over the
    /// size limit, or one cut off mid-string.
    enum Piece: Equatable { case object(String, line: Int), stray(String), tooLarge, broken(String) }
    let maxBytes: Int
    private var buffer = ""
    private var depth = 0
    private var inString = false
    private var escaped = false
    /// The line (1-based, as fed) where the current object began.
    private(set) var startLine = 0
    private var fed = 0

    init(maxBytes: Int) { self.maxBytes = maxBytes }

    mutating func feed(_ line: String) -> [Piece] {
        fed += 1
        var out: [Piece] = []
        var stray = ""
        for ch in line {
            if depth == 0 {
                if ch == "{" {
                    if !stray.trimmingCharacters(in: .whitespaces).isEmpty { out.append(.stray(stray)) }
                    stray = ""
                    buffer = "{"
                    depth = 1
                    startLine = fed
                    inString = false
                    escaped = false
                } else {
                    stray.append(ch)
                }
                continue
            }
            buffer.append(ch)
            if inString {
                if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == "\"" { inString = false }
            } else if ch == "\"" {
                inString = true
            } else if ch == "{" {
                depth += 1
            } else if ch == "}" {
                depth -= 1
                if depth == 0 {
                    out.append(.object(buffer, line: startLine))
                    buffer = ""
                }
            }
        }
        if depth > 0, inString {
            // JSON strings never hold a raw line break: this object was cut off mid-string (a
            // writer killed mid-line). It ends here, so the next line starts afresh.
            out.append(.broken(buffer))
            buffer = ""
            depth = 0
            inString = false
            escaped = false
        } else if depth > 0 {
            buffer.append("\n")
            if buffer.utf8.count > maxBytes {
                out.append(.tooLarge)
                buffer = ""
                depth = 0
            }
        }
        if !stray.trimmingCharacters(in: .whitespaces).isEmpty { out.append(.stray(stray)) }
        return out
    }

    /// What is left at the end of the input: an object that never closed.
    mutating func finish() -> String? {
        guard depth > 0 else { return nil }
        defer { buffer = ""; depth = 0 }
        return buffer
    }
}
