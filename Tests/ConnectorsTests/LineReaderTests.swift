import Foundation
import Testing
@testable import Connectors
import RecordkeeperCore

@Suite("LineReader")
struct LineReaderTests {
    static let text = "\u{FEFF}first\r\nsecond\rthird\n\r\nfifth é\r\n\r\n[12/6/21, 9:07:12\u{202F}AM] last"
    static let lines = ["first", "second", "third", "", "fifth é", "", "[12/6/21, 9:07:12\u{202F}AM] last"]

    @Test("lines split on CRLF, CR and LF at any chunk size; BOM skipped; last line without newline kept",
          arguments: [1, 2, 3, 4, 5, 7, 16, 1 << 20])
    func chunked(_ chunkSize: Int) throws {
        let dir = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("lines.txt")
        let data = Data(Self.text.utf8)
        try data.write(to: url)

        let reader = try LineReader(url: url, chunkSize: chunkSize)
        var lines: [String] = []
        var numbers: [Int] = []
        while let line = try reader.nextLine({ String(decoding: $0, as: UTF8.self) }) {
            lines.append(line)
            numbers.append(reader.lineNumber)
        }
        #expect(lines == Self.lines)
        #expect(numbers == Array(1...Self.lines.count))
        #expect(reader.bytesConsumed == Int64(data.count))
    }

    @Test("an empty file has no lines")
    func empty() throws {
        let dir = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("empty.txt")
        try Data().write(to: url)
        let reader = try LineReader(url: url, chunkSize: 4)
        #expect(try reader.nextLine { _ in true } == nil)
    }

    @Test("the reader reports progress up to the whole chat text", arguments: fixtureCases.map(\.file))
    func progress(_ file: String) throws {
        let url = try WhatsAppFixtures.url(file)
        let scratch = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let reader = try WhatsAppConnector().open(SourceFile(url: url), options: ParseOptions(), scratch: scratch)
        defer { reader.close() }
        let size = try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber).int64Value
        #expect(reader.totalBytes == size)
        #expect(reader.bytesRead == 0)
        while try reader.next() != nil {}
        #expect(reader.bytesRead == size)
    }
}
