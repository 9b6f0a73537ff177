import Foundation
import ZIPFoundation

/// A minimal SpreadsheetML workbook (one sheet of text and number cells), for the fixtures an
/// XLSX import is tested with: the parts a spreadsheet program writes and reads (content types,
/// relationships, workbook, one worksheet, shared strings, a style sheet), deflated, with fixed
/// timestamps so a seed gives the same bytes.
enum XLSXWriter {
    enum Cell { case text(String), number(Double) }

    static func workbook(_ rows: [[Cell]], sheetName: String = "Targets") throws -> Data {
        var shared: [String] = []
        var sharedIndex: [String: Int] = [:]
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
                .replacingOccurrences(of: "\"", with: "&quot;")
        }
        func column(_ i: Int) -> String {
            var n = i + 1, s = ""
            while n > 0 { let r = (n - 1) % 26; s = String(UnicodeScalar(65 + r)!) + s; n = (n - 1) / 26 }
            return s
        }
        var sheet = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
            + #"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#
        for (r, row) in rows.enumerated() {
            sheet += #"<row r="\#(r + 1)">"#
            for (c, cell) in row.enumerated() {
                let ref = column(c) + String(r + 1)
                switch cell {
                case .text(let t):
                    if t.isEmpty { continue }
                    let i = sharedIndex[t] ?? { shared.append(t); sharedIndex[t] = shared.count - 1; return shared.count - 1 }()
                    sheet += #"<c r="\#(ref)" t="s"><v>\#(i)</v></c>"#
                case .number(let n):
                    sheet += #"<c r="\#(ref)"><v>\#(n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n))</v></c>"#
                }
            }
            sheet += "</row>"
        }
        sheet += "</sheetData></worksheet>"
        let strings = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
            + #"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="\#(shared.count)" uniqueCount="\#(shared.count)">"#
            + shared.map { #"<si><t xml:space="preserve">\#(escape($0))</t></si>"# }.joined() + "</sst>"
        let parts: [(String, String)] = [
            ("[Content_Types].xml", #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n" + """
                <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
                <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
                <Default Extension="xml" ContentType="application/xml"/>\
                <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
                <Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
                <Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>\
                <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
                </Types>
                """),
            ("_rels/.rels", #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n" + """
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
                </Relationships>
                """),
            ("xl/workbook.xml", #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n" + """
                <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
                xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
                <sheets><sheet name="\(escape(sheetName))" sheetId="1" r:id="rId1"/></sheets></workbook>
                """),
            ("xl/_rels/workbook.xml.rels", #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n" + """
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>\
                <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>\
                <Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
                </Relationships>
                """),
            ("xl/styles.xml", #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n" + """
                <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
                <fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>\
                <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
                <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
                <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
                <cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>\
                </styleSheet>
                """),
            ("xl/worksheets/sheet1.xml", sheet),
            ("xl/sharedStrings.xml", strings),
        ]
        let zip = try ZIPFoundation.Archive(data: Data(), accessMode: .create)
        let fixed = Date(timeIntervalSince1970: 1_560_729_600) // 2019-06-17: the same bytes for the same rows
        for (path, text) in parts {
            let bytes = Data(text.utf8)
            try zip.addEntry(with: path, type: .file, uncompressedSize: Int64(bytes.count), modificationDate: fixed, compressionMethod: .deflate) { position, size in
                bytes.subdata(in: Int(position)..<min(bytes.count, Int(position) + size))
            }
        }
        return zip.data ?? Data()
    }
}
