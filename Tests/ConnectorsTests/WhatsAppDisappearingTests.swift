@testable import Connectors
import RecordkeeperCore
import Testing

@Suite("WhatsApp disappearing-message placeholder")
struct WhatsAppDisappearingTests {
    @Test func authorColonPeriodIsADisappearedMessageOfThatAuthor() throws {
        let text = """
            23/03/2022, 10:00 - Ann: see you at the gate
            23/03/2022, 10:01 - Ann:.
            23/03/2022, 10:02 - Bob: Ann: that was quick
            """
        let parsed = try WhatsAppFixtures.parse(text: text)
        #expect(parsed.messages.count == 3)
        let gone = parsed.messages[1]
        #expect(gone.sender == "Ann")
        #expect(gone.kind == .deleted)
        #expect(gone.flags.contains(.disappearing))
        #expect(gone.body == ".")
        // A colon later in ordinary text changes nothing.
        #expect(parsed.messages[2].sender == "Bob" && parsed.messages[2].body == "Ann: that was quick")
        #expect(parsed.messages[2].kind == .user)
    }
}
