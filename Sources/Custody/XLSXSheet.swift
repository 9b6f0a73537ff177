import Foundation
import RecordkeeperCore
#if canImport(FoundationXML)
import FoundationXML
#endif
import SafeZip
import ZIPFoundation

/// The first worksheet of an XLSX workbook (Office Open XML, ECMA-376 part 1, SpreadsheetML) as
/// rows of cell text, for target lists exported from a spreadsheet (CUSTODY.md §4.1: "XLSX is
/// read by the first sheet, header row required"). Shared strings, inline strings, numbers,
/// booleans and formula results are read as the text they hold; a number stays a number (an
/// Excel date is a serial number: a mapping profile says whether to read it as one). Cells are
/// placed by their reference, so a row with empty cells keeps its columns.
///
/// The workbook is hostile input: each part it reads is bounded (a decompression bomb is
/// refused), checked against its CRC-32, and parsed without external entities. Written here
/// because no package this project may use reads XLSX; ZIPFoundation unpacks it.
enum XLSXSheet {
    /// Largest part (sheet, shared strings) read out of a workbook.
    static let maxPartBytes = 256 << 20
    /// A target list has a dozen columns; a cell far to the right is not one (and would make every
    /// row that wide in memory).
    static let maxColumns = 256
    /// Excel's own limits on a sheet's rows; shared strings beyond the cells they could fill.
    static let maxRows = 1_048_576
    static let maxSharedStrings = 4_000_000

    struct Row {
        /// The row's number in the sheet (1-based), as a CSV line number is.
        var line: Int
        var cells: [String]
    }

    static func isWorkbook(_ data: Data) -> Bool { data.starts(with: [0x50, 0x4B, 0x03, 0x04]) }

    static func rows(_ data: Data) throws -> [Row] {
        // Read from a private temporary file: ZIPFoundation's in-memory archive traps on some
        // hostile workbooks (a range past the data's end in its memory-backed file; found by
        // fuzzing, issue 17), while its file-backed one reads them as short.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rk-workbook-\(UUID().uuidString).xlsx")
        guard FileManager.default.createFile(atPath: file.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CustodyError(.invalid, "the workbook could not be staged in \(FileManager.default.temporaryDirectory.path); check free space")
        }
        defer { try? FileManager.default.removeItem(at: file) }
        let zip: ZIPFoundation.Archive
        do { zip = try ZIPFoundation.Archive(url: file, accessMode: .read) } catch {
            throw CustodyError(.invalid, "the file starts like a zip (XLSX) but is not a readable one")
        }
        func part(_ path: String) throws -> Data? {
            guard let entry = zip[path] else { return nil }
            guard entry.uncompressedSize <= UInt64(maxPartBytes) else {
                throw CustodyError(.invalid, "\(path) in the workbook expands beyond \(maxPartBytes >> 20) MB; refused as a possible decompression bomb")
            }
            var out = Data()
            let crc: CRC32
            do {
                crc = try SafeZip.extract(entry, from: .file(file), bufferSize: 1 << 20) { chunk in
                out.append(chunk)
                    if out.count > maxPartBytes {
                        throw CustodyError(.invalid, "\(path) in the workbook expands beyond \(maxPartBytes >> 20) MB; refused as a possible decompression bomb")
                    }
                }
            } catch let f as SafeZip.Failure { throw CustodyError(.invalid, "the workbook is damaged: \(f)") }
            guard crc == entry.checksum else { throw CustodyError(.invalid, "\(path) in the workbook is damaged (CRC-32 mismatch)") }
            // SpreadsheetML never declares a document type: one here is an entity attack, not a workbook.
            if out.range(of: Data("<!DOCTYPE".utf8)) != nil || out.range(of: Data("<!ENTITY".utf8)) != nil {
                throw CustodyError(.invalid, "\(path) in the workbook declares a document type or entities; refused")
            }
            return out
        }
        // The first sheet: workbook.xml's first <sheet>, through its relationship; else sheet1.xml.
        var sheetPath = "xl/worksheets/sheet1.xml"
        if let workbook = try part("xl/workbook.xml"), let rels = try part("xl/_rels/workbook.xml.rels") {
            let sheets = try XMLElements.collect(workbook, names: ["sheet", "workbookPr"])
            if let pr = sheets.first(where: { $0.name == "workbookPr" }), ["1", "true"].contains(pr.attributes["date1904"]?.lowercased() ?? "") {
                throw CustodyError(.invalid, "the workbook uses the 1904 date system (its serial dates would read 1,462 days off); save it with the 1900 date system")
            }
            let relations = try XMLElements.collect(rels, names: ["Relationship"])
            if let first = sheets.first(where: { $0.name == "sheet" }), let rid = first.attributes["r:id"] ?? first.attributes.first(where: { $0.key.hasSuffix(":id") })?.value,
               let target = relations.first(where: { $0.attributes["Id"] == rid })?.attributes["Target"] {
                sheetPath = target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
            }
        }
        guard let sheet = try part(sheetPath) else { throw CustodyError(.invalid, "the workbook has no worksheet (\(sheetPath))") }
        let shared = try part("xl/sharedStrings.xml").map(SharedStrings.parse) ?? []
        return try SheetRows.parse(sheet, shared: shared)
    }

    /// "BC12" → 54 (0-based column of a cell reference).
    static func column(_ reference: String) -> Int? {
        var n = 0
        var letters = 0
        for u in reference.utf8 {
            guard u >= 65, u <= 90 else { break }
            n = n * 26 + Int(u - 64)
            letters += 1
        }
        return letters == 0 || letters > 3 ? nil : n - 1
    }
}

/// Elements with given names and their attributes, from a small XML part.
private final class XMLElements: NSObject, XMLParserDelegate {
    struct Element { var name: String; var attributes: [String: String] }
    let names: Set<String>
    var found: [Element] = []
    init(names: Set<String>) { self.names = names }

    static func collect(_ data: Data, names: Set<String>) throws -> [Element] {
        let d = XMLElements(names: names)
        let parser = try guardedParser(data)
        parser.shouldResolveExternalEntities = false
        parser.delegate = d
        guard parser.parse() else { throw CustodyError(.invalid, "the workbook's XML is malformed (\(parser.parserError.map { "\($0)" } ?? "?"))") }
        return d.found
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if names.contains(name) { found.append(Element(name: name, attributes: attributes)) }
    }
}

/// `xl/sharedStrings.xml`: each `<si>`'s text (its `<t>` runs joined; phonetic runs left out).
private final class SharedStrings: NSObject, XMLParserDelegate {
    var strings: [String] = []
    var current = ""
    var inText = false
    var phonetic = 0
    var failure: String?

    static func parse(_ data: Data) throws -> [String] {
        let d = SharedStrings()
        let parser = try guardedParser(data)
        parser.shouldResolveExternalEntities = false
        parser.delegate = d
        let ok = parser.parse()
        if let f = d.failure { throw CustodyError(.invalid, f) }
        guard ok else { throw CustodyError(.invalid, "the workbook's shared strings are malformed XML") }
        return d.strings
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        switch name {
        case "si": current = ""
        case "rPh": phonetic += 1
        case "t": inText = phonetic == 0
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { current += string } }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "si":
            strings.append(current)
            if strings.count > XLSXSheet.maxSharedStrings { failure = "the workbook has more shared strings than a sheet can use"; parser.abortParsing() }
        case "rPh": phonetic -= 1
        case "t": inText = false
        default: break
        }
    }
}

/// A worksheet's rows: `<row r="N">` of `<c r="A1" t="s|inlineStr|str|b|n|e|d"><v>…</v></c>`.
private final class SheetRows: NSObject, XMLParserDelegate {
    let shared: [String]
    var rows: [XLSXSheet.Row] = []
    var row: [Int: String] = [:]
    var rowNumber = 0
    var cellColumn = 0
    var cellType = "n"
    var text = ""
    var capturing = false
    var failure: String?

    init(shared: [String]) { self.shared = shared }

    static func parse(_ data: Data, shared: [String]) throws -> [XLSXSheet.Row] {
        let d = SheetRows(shared: shared)
        let parser = try guardedParser(data)
        parser.shouldResolveExternalEntities = false
        parser.delegate = d
        let ok = parser.parse()
        if let f = d.failure { throw CustodyError(.invalid, f) }
        guard ok else { throw CustodyError(.invalid, "the worksheet is malformed XML (\(parser.parserError.map { "\($0)" } ?? "?"))") }
        return d.rows
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        switch name {
        case "row":
            rowNumber = attributes["r"].flatMap(Int.init) ?? rowNumber + 1
            if rowNumber > XLSXSheet.maxRows || rows.count >= XLSXSheet.maxRows {
                failure = "the sheet has more than \(XLSXSheet.maxRows) rows"; parser.abortParsing()
            }
            row = [:]
            cellColumn = -1
        case "c":
            cellColumn = attributes["r"].flatMap(XLSXSheet.column) ?? cellColumn + 1
            cellType = attributes["t"] ?? "n"
            text = ""
            if cellColumn >= XLSXSheet.maxColumns {
                failure = "row \(rowNumber) has a cell beyond column \(XLSXSheet.maxColumns) (a target list has a dozen columns)"; parser.abortParsing()
            }
        case "v", "t": capturing = true
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { if capturing { text += string } }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "v", "t": capturing = false
        case "c":
            switch cellType {
            case "s":
                if text.isEmpty { row[cellColumn] = ""; return }
                guard let i = Int(text), shared.indices.contains(i) else {
                    failure = "row \(rowNumber) names a shared string that does not exist"; parser.abortParsing(); return
                }
                row[cellColumn] = shared[i]
            case "b": row[cellColumn] = text == "1" ? "TRUE" : "FALSE"
            default: row[cellColumn] = text
            }
        case "row":
            let width = (row.keys.max() ?? -1) + 1
            rows.append(XLSXSheet.Row(line: rowNumber, cells: (0..<width).map { row[$0] ?? "" }))
        default: break
        }
    }
}

/// A parser for one XML part of a workbook, refused unless `XMLGate` accepts the part whole:
/// Foundation's `XMLParser` traps on some malformed XML, which would end the process.
private func guardedParser(_ data: Data) throws -> XMLParser {
    let gate = XMLGate.check(data)
    if let stop = gate.stop {
        throw CustodyError(.invalid, "the workbook's XML is malformed (line \(stop.line): \(stop.reason)); save it again from the spreadsheet program")
    }
    return XMLParser(data: data)
}
