import Foundation
import Testing
@testable import Connectors
import RecordkeeperCore

/// Everything one WhatsApp source yielded, in source order.
struct ParsedExport {
    var description: SourceDescription
    var items: [CaptureItem]

    var messages: [CapturedMessage] {
        items.compactMap { if case .message(let m) = $0 { m } else { nil } }
    }

    var defects: [CaptureDefect] {
        items.compactMap { if case .defect(let d) = $0 { d } else { nil } }
    }
}

enum WhatsAppFixtures {
    /// `Tests/ConnectorsTests/Fixtures/whatsapp` as copied into the test bundle.
    static var directory: URL {
        get throws {
            let root = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
            return root.appendingPathComponent("whatsapp", isDirectory: true)
        }
    }

    static func url(_ relativePath: String) throws -> URL {
        let url = try directory.appendingPathComponent(relativePath)
        #expect(FileManager.default.fileExists(atPath: url.path), "missing fixture \(relativePath)")
        return url
    }

    /// A fresh empty directory, removed by `body`'s caller when done.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("recordkeeper-connectors-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Opens `url` with the WhatsApp connector and drains the reader.
    static func parse(_ url: URL, dateOrder: DateOrder? = nil, displayName: String? = nil) throws -> ParsedExport {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let reader = try WhatsAppConnector().open(SourceFile(url: url, displayName: displayName),
                                                  options: ParseOptions(dateOrder: dateOrder), scratch: scratch)
        defer { reader.close() }
        var items: [CaptureItem] = []
        while let item = try reader.next() { items.append(item) }
        return ParsedExport(description: reader.description, items: items)
    }

    static func parseFixture(_ relativePath: String, dateOrder: DateOrder? = nil) throws -> ParsedExport {
        try parse(url(relativePath), dateOrder: dateOrder)
    }

    /// Writes `text` (exact bytes, UTF-8) to a temporary `.txt` and parses it.
    static func parse(text: String, dateOrder: DateOrder? = nil, fileName: String = "chat.txt") throws -> ParsedExport {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(fileName)
        try Data(text.utf8).write(to: url)
        return try parse(url, dateOrder: dateOrder)
    }
}

extension MessageFlags: CustomTestStringConvertible {
    public var testDescription: String { "[\(names.joined(separator: ","))]" }
}
