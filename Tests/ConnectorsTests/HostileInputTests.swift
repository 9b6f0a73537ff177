import Foundation
@testable import Connectors
import RecordkeeperCore
import Testing

@Suite("Hostile input: memory stays bounded, nothing is lost, line numbers hold")
struct HostileInputTests {
    @Test func longLinesArePiecedAtCharacterBoundariesUnderOneLineNumber() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rk-long-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("lines.txt")
        try Data("abcdé€fghij\nshort\n".utf8).write(to: url)
        let reader = try LineReader(url: url, chunkSize: 4, maxLineBytes: 5)
        var pieces: [(Int, String, Bool)] = []
        while let piece = try reader.nextLine({ String(decoding: $0, as: UTF8.self) }) {
            pieces.append((reader.lineNumber, piece, reader.lastLineWasSplit))
        }
        #expect(pieces.map(\.1).joined() == "abcdé€fghijshort")
        #expect(pieces.dropLast().allSatisfy { $0.0 == 1 && $0.2 })  // every piece of line 1 says so
        #expect(pieces.last?.0 == 2 && pieces.last?.1 == "short" && pieces.last?.2 == false)
        #expect(!pieces.contains { $0.1.contains("\u{FFFD}") })       // no character was cut
    }

    @Test func aHugeLineStaysInItsMessageAndLaterLinesKeepTheirNumbers() throws {
        let huge = String(repeating: "señal ", count: 400_000) // 2.8 MB, more than one piece
        let text = "23/03/2022, 13:31 - Ann: start\n\(huge)\n23/03/2022, 13:32 - Bob: after\n"
        let parsed = try WhatsAppFixtures.parse(text: text)
        #expect(parsed.messages.count == 2)
        #expect(parsed.messages[0].body == "start\n" + huge)
        #expect(parsed.messages[0].lineCount == 2)
        #expect(parsed.messages[1].line == 3 && parsed.messages[1].body == "after")
        #expect(parsed.defects.map(\.code) == ["long_line"])
        #expect(parsed.defects.first?.line == 2)
    }

    @Test func anEndlessMessageIsCappedAndTheOverflowKeptAsDefects() throws {
        let line = String(repeating: "x", count: 1023)
        let lines = Array(repeating: line, count: 9000)            // ~9.2 MB of continuation
        let text = "23/03/2022, 13:31 - Ann: begin\n" + lines.joined(separator: "\n") + "\n23/03/2022, 13:32 - Bob: next\n"
        let parsed = try WhatsAppFixtures.parse(text: text)
        #expect(parsed.messages.count == 2)
        #expect(parsed.messages[0].raw.utf8.count <= WhatsAppReader.maxMessageBytes)
        let overflow = parsed.defects.filter { $0.code == "message_too_long" }
        #expect(!overflow.isEmpty)
        // Every continuation line is in the message or in a defect: none vanished.
        #expect(parsed.messages[0].lineCount - 1 + overflow.count == 9000)
        #expect(overflow.allSatisfy { $0.text.utf8.count <= WhatsAppReader.maxDefectTextBytes + 100 })
        #expect(parsed.messages[1].line == 9002 && parsed.messages[1].sender == "Bob")
    }
}

@Suite("WhatsApp bare-style headers")
struct BareStyleTests {
    @Test func anAuthorNamedAmIsNotAMeridiemInA24HourFile() throws {
        let text = """
            13. 6. 2018. 09:05:00 Am Lee: morning
            13. 6. 2018. 14:05:00 Am Lee: afternoon
            14. 6. 2018. 21:25:15 Bob: night
            """
        let parsed = try WhatsAppFixtures.parse(text: text)
        #expect(parsed.messages.map(\.sender) == ["Am Lee", "Am Lee", "Bob"])
        #expect(parsed.messages.map(\.sentLocal.description) == ["2018-06-13T09:05:00", "2018-06-13T14:05:00", "2018-06-14T21:25:15"])
        #expect(parsed.description.headerStyle == "bare")
    }

    @Test func aTwelveHourBareFileKeepsItsMeridiems() throws {
        let text = """
            13. 6. 2018. 9:05:00 AM Ann: morning
            13. 6. 2018. 2:05:00 PM Ann: afternoon
            """
        let parsed = try WhatsAppFixtures.parse(text: text)
        #expect(parsed.messages.map(\.sentLocal.description) == ["2018-06-13T09:05:00", "2018-06-13T14:05:00"])
        #expect(parsed.messages.map(\.sender) == ["Ann", "Ann"])
    }
}
