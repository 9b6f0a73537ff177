import Foundation
import RecordkeeperCore
import Testing

/// Issue 17: Foundation's XMLParser traps on a repeated attribute and on a name that is not
/// UTF-8. The gate decides how much of a document the parser may see.
@Suite("XMLGate: what Foundation's XMLParser may be given")
struct XMLGateTests {
    func check(_ text: String) -> XMLGate { XMLGate.check(Array(text.utf8)) }

    @Test func wellFormedDocumentsPassWhole() {
        let doc = """
            <?xml version='1.0' encoding='UTF-8' standalone='yes' ?>
            <!--File Created By SMS Backup & Restore-->
            <smses count="2"><sms a="1" b='x &amp; y' c="é"/><mms><parts><part data="QUJD" /></parts></mms>
            <x><![CDATA[ <not a tag> ]]>text &lt; more</x></smses>
            """
        let g = check(doc)
        #expect(g.stop == nil && g.safeLength == Int64(doc.utf8.count))
    }

    @Test func whatMakesFoundationTrapStopsTheGateBeforeIt() {
        let cases: [(String, String, Int)] = [
            ("<r>\n<sms a=\"1\" b=\"2\" a=\"3\"/></r>", "gives the attribute a twice", 2),
            ("<r><sms date=\"1\"/>\n<sms date=\"1\" date=\"2\"/></r>", "twice", 2),
            ("<!DOCTYPE r [<!ENTITY x \"y\">]><r/>", "document type", 1),
            ("<r a=\"<\"/>", "'<' inside an attribute value", 1),
            ("<r a=1/>", "without quotes", 1),
            ("<r>\n<?pi unterminated", "ends inside markup", 2),
        ]
        for (text, reason, line) in cases {
            let g = check(text)
            #expect(g.stop != nil && g.stop!.reason.contains(reason) && g.stop!.line == line, "\(text): \(String(describing: g.stop))")
        }
        // A byte that is not UTF-8 (in a name or anywhere), and the last complete markup before it.
        var bytes = Array("<r><sms a=\"1\"/><sm".utf8) + [0xF4] + Array("s/></r>".utf8)
        var g = XMLGate.check(bytes)
        #expect(g.stop?.reason == "a byte that is not UTF-8" && g.safeLength == Int64("<r><sms a=\"1\"/>".utf8.count))
        bytes = Array("<r>caf".utf8) + [0xE9] + Array("</r>".utf8)
        g = XMLGate.check(bytes)
        #expect(g.stop != nil && g.safeLength == 6)
    }

    /// Ways past the gate a review found, each checked against libxml2 2.9.14: what the gate
    /// skipped as CDATA, a processing instruction or text, libxml2 read as elements.
    @Test func whatLibxml2ReadsAsMarkupIsNeverSkippedByTheGate() {
        // "]]]>" ends CDATA; what follows is markup again.
        var g = check(#"<x><![CDATA[a]]]><r a="1" a="2"/>]]></x>"#)
        #expect(g.stop?.reason.contains("twice") == true, "\(String(describing: g.stop))")
        // A processing instruction needs a target name; libxml2 reads on after one without.
        for text in [#"<x><? <r a="1" a="2"/> ?></x>"#, #"<x><?1 <r a="1" a="2"/> ?></x>"#, #"<x><?-p <r/> ?></x>"#] {
            g = check(text)
            #expect(g.stop?.reason.contains("without a target name") == true, "\(text): \(String(describing: g.stop))")
            #expect(g.safeLength == 3)
        }
        // Another encoding would be decoded by libxml2 into markup the gate saw as text.
        g = check(#"<?xml version="1.0" encoding="UTF-7"?><x>+ADw-s a+AD0AIg-1+ACI- a+AD0AIg-2+ACI-/+AD4-</x>"#)
        #expect(g.stop?.reason.contains("UTF-7") == true && g.safeLength == 0, "\(String(describing: g.stop))")
        g = check(#"<x/><?xml version="1.0" encoding="IBM037"?>"#)
        #expect(g.stop?.reason.contains("not at the start") == true)
        // UTF-8 declared, single-quoted, and other processing instructions pass.
        g = check("<?xml version='1.0' encoding='utf-8' standalone='yes' ?><?xml-stylesheet href=\"a\"?><x/>")
        #expect(g.stop == nil)
    }

    @Test func chunksAnywhereGiveTheSameAnswer() {
        let doc = Array("<r><sms a=\"1\" body=\"caf\u{E9} ok\"/><sms a=\"1\" a=\"2\"/></r>".utf8)
        let whole = XMLGate.check(doc)
        for size in 1...7 {
            var g = XMLGate()
            var i = 0
            while i < doc.count, g.feed(doc[i..<min(i + size, doc.count)]) { i += size }
            g.finish()
            #expect(g.stop == whole.stop && g.safeLength == whole.safeLength, "chunks of \(size)")
        }
        #expect(whole.stop?.reason.contains("twice") == true)
    }
}
