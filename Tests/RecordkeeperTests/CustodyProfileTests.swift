import Archive
@testable import Custody
import Foundation
import RecordkeeperCore
import Testing
import ZIPFoundation

/// Issue 15: a site's own target export read through a mapping profile (CUSTODY.md §4.1): its
/// columns, codes, local time format and Excel serial dates, from CSV or an XLSX workbook's first
/// sheet; impossible dates and times refused with their code, rows kept as written.
@Suite("Custody: mapping profiles and XLSX target lists")
struct CustodyProfileTests {
    static let rules: Set<RuleKey> = [RuleKey(code: "NARC-01", version: 1), RuleKey(code: "COI-CN-01", version: 1)]
    static func iso(_ t: Int64?) -> String? { t.map { Timestamp.iso(millis: $0) } }

    @Test func aProfilesTimesAreItsFormatInItsZoneAndOnlyRealOnes() throws {
        let p = try MappingProfile.parse(Data(CustodyFixtures.atsProfile.utf8))
        #expect(p.label == "ats-jfk v1")
        #expect(Self.iso(p.millis("06/17/2019 08:15")) == "2019-06-17T12:15:00.000Z") // EDT, UTC-4
        #expect(Self.iso(p.millis("01/17/2019 08:15")) == "2019-01-17T13:15:00.000Z") // EST, UTC-5
        #expect(Self.iso(p.millis("2019-06-17T08:15:00Z")) == "2019-06-17T08:15:00.000Z") // ISO 8601 with a zone always
        #expect(Self.iso(p.millis("43633.34375")) == "2019-06-17T12:15:00.000Z") // Excel serial: 2019-06-17 08:15 Eastern
        for bad in ["06/31/2019 08:00", "02/29/2019 10:00", "03/10/2019 02:30", "6/17/2019 08:15", "06/17/2019 8:15", "06/17/2019 08:15:00", "next Tuesday", ""] {
            #expect(p.millis(bad) == nil, "\(bad)")
        }
        // An hour that happens twice (clocks back on 3 November 2019): which one was meant cannot be told.
        #expect(p.millis("11/03/2019 01:30") == nil && Self.iso(p.millis("11/03/2019 02:30")) == "2019-11-03T07:30:00.000Z")
        #expect(p.millis("0x1p3") == nil) // a hexadecimal number is not a serial date
        #expect(Self.iso(p.millis("43633.9999999999")) == "2019-06-18T04:00:00.000Z") // rounds to the next midnight, Eastern
        var loose = p
        loose.dateFormat = "M/D/YYYY H:mm"
        loose.excelSerialDates = nil
        #expect(Self.iso(loose.millis("6/7/2019 8:05")) == "2019-06-07T12:05:00.000Z")
        #expect(loose.millis("43633.34375") == nil) // serial dates only when the profile says so
        #expect(Self.iso(p.millis("02/29/2020 00:00")) == "2020-02-29T05:00:00.000Z")
    }

    @Test func aProfileIsRefusedWithEveryMistakeNamed() throws {
        func refusal(_ json: String) -> String? {
            do { _ = try MappingProfile.parse(Data(json.utf8)); return nil } catch let e as CustodyError { return e.message } catch { return "\(error)" }
        }
        let base = #""name": "x", "version": 1, "constants": {"targeted_by": "ATS"}"#
        let cols = #""A": "s10", "B": "rule_code", "C": "rule_version", "D": "reason_code", "E": "targeted_at""#
        #expect(refusal("{\(base), \"columns\": {\(cols)}}") == nil)
        #expect(refusal("{\(base), \"columns\": {\(cols), \"F\": \"colour\"}}")?.contains("colour, which is not one of") == true)
        #expect(refusal("{\(base), \"columns\": {\(cols), \"F\": \"s10\"}}")?.contains("both map to s10") == true)
        #expect(refusal("{\"name\": \"x\", \"version\": 1, \"columns\": {\(cols)}}")?.contains("targeted_by") == true)
        #expect(refusal("{\(base), \"columns\": {\(cols)}, \"time_zone\": \"Mars/Olympus\"}")?.contains("not an IANA zone") == true)
        #expect(refusal("{\(base), \"columns\": {\(cols)}, \"date_format\": \"DD.MM.YYYY\"}")?.contains("has no HH") == true)
        #expect(refusal("{\"name\": \"x\", \"version\": 0, \"constants\": {\"targeted_by\": \"ATS\"}, \"columns\": {\(cols)}}")?.contains("positive") == true)
        #expect(refusal("{\"name\": \"bad name!\", \"version\": 1, \"columns\": {}}")?.contains("profile name") == true)
        #expect(refusal("[1, 2]")?.contains("not the expected JSON") == true)
    }

    @Test func anXLSXExportIsReadThroughItsProfile() throws {
        let book = try CustodyFixtures.atsWorkbook(seed: 3)
        #expect(try CustodyFixtures.atsWorkbook(seed: 3) == book) // deterministic by seed
        #expect(XLSXSheet.isWorkbook(book))
        let rows = try XLSXSheet.rows(book)
        #expect(rows.count == 13 && rows[0].cells.first == "Item Number" && rows[1].cells[4] == "06/17/2019 08:15")
        #expect(abs((Double(rows[2].cells[4]) ?? 0) - (43633.34375 + 1.0 / 24)) < 1e-9) // a number cell, as written
        let p = try MappingProfile.parse(Data(CustodyFixtures.atsProfile.utf8))
        let plan = try TargetImport.plan(book, rules: Self.rules, profile: p)
        #expect(plan.rowsTotal == 12 && plan.accepted.count == 8 && plan.mergedDuplicates.count == 1)
        #expect(plan.rejectedByCode == ["DATE_INVALID": 2, "VALUE_UNKNOWN": 1])
        #expect(plan.unknownColumns == ["Notes"])
        let first = plan.accepted[0], second = plan.accepted[1]
        #expect(Self.iso(first.targetedAtMillis) == "2019-06-17T12:15:00.000Z" && first.reasonCode == "narcotics" && first.targetedBy == "ATS")
        #expect(Self.iso(first.expectedArrivalAtMillis) == "2019-06-18T16:00:00.000Z" && first.mailClass == "ems" && first.originCountry == "CN")
        #expect(Self.iso(second.targetedAtMillis) == "2019-06-17T13:15:00.000Z" && second.reasonCode == "coi_bulk" && second.mailClass == "parcel") // a serial date
        #expect(plan.accepted.map(\.line) == [2, 3, 4, 5, 6, 7, 8, 9])
        let bad = plan.rejected.first { $0.detail.contains("06/31/2019") }
        #expect(bad?.code == "DATE_INVALID" && bad?.line == 10 && bad?.raw.contains("06/31/2019 08:00") == true)
        #expect(bad?.detail.contains("MM/DD/YYYY HH:mm (America/New_York)") == true)
        #expect(plan.rejected.contains { $0.code == "DATE_INVALID" && $0.raw.contains("03/10/2019 02:30") })
        // Without the profile the workbook's columns are not the canonical ones.
        #expect(throws: CustodyError.self) { _ = try TargetImport.plan(book, rules: Self.rules) }
    }

    @Test func aCSVExportIsReadThroughTheSameProfile() throws {
        let p = try MappingProfile.parse(Data(CustodyFixtures.atsProfile.utf8))
        let csv = """
            Item Number,Rule,Rule Ver,Reason,Targeted (ET),ETA (ET),Notes
            EB000717595HK,NARC-01,1,narc,06/17/2019 08:15,06/18/2019 12:00,first
            EE471108151FR,NARC-01,1,NARC,2019-06-17T08:15:00Z,,iso
            RR473124829GB,COI-CN-01,1,COI,06/17/2019 25:00,,bad hour

            """
        let plan = try TargetImport.plan(Data(csv.utf8), rules: Self.rules, profile: p)
        #expect(plan.accepted.map(\.s10) == ["EB000717595HK", "EE471108151FR"] && plan.accepted.allSatisfy { $0.reasonCode == "narcotics" })
        #expect(plan.rejected.map(\.code) == ["DATE_INVALID"] && plan.rejected[0].raw == "RR473124829GB,COI-CN-01,1,COI,06/17/2019 25:00,,bad hour")
        // A file lacking a column the profile maps a required field from is refused whole, naming it.
        do {
            _ = try TargetImport.plan(Data("Item Number,Rule,Reason\nEB000717595HK,NARC-01,NARC\n".utf8), rules: Self.rules, profile: p)
            Issue.record("a header without the profile's columns was read")
        } catch let e as CustodyError { #expect(e.message.contains("rule_version (\"Rule Ver\")") && e.message.contains("ats-jfk v1")) }
    }

    @Test func aHostileWorkbookIsRefusedWithoutReadingIt() throws {
        // Not a zip at all after its first bytes.
        #expect(throws: CustodyError.self) { _ = try XLSXSheet.rows(Data([0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0])) }
        // A worksheet that expands beyond the bound: a decompression bomb.
        let zip = try ZIPFoundation.Archive(data: Data(), accessMode: .create)
        let size = Int64(XLSXSheet.maxPartBytes + 1)
        try zip.addEntry(with: "xl/worksheets/sheet1.xml", type: .file, uncompressedSize: size, compressionMethod: .deflate) { position, chunk in
            Data(repeating: 0x20, count: Int(min(Int64(chunk), size - position)))
        }
        do {
            _ = try XLSXSheet.rows(zip.data!)
            Issue.record("a bomb was read")
        } catch let e as CustodyError { #expect(e.message.contains("decompression bomb")) }
        // An external entity is not fetched or expanded.
        let evil = try XLSXWriter.workbook([[.text("s10")]])
        let archive = try ZIPFoundation.Archive(data: evil, accessMode: .update)
        try archive.remove(archive["xl/sharedStrings.xml"]!)
        let sst = #"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&e;</t></si></sst>"#
        try archive.addEntry(with: "xl/sharedStrings.xml", type: .file, uncompressedSize: Int64(sst.utf8.count)) { p, n in
            Data(sst.utf8).subdata(in: Int(p)..<min(sst.utf8.count, Int(p) + n))
        }
        do {
            _ = try XLSXSheet.rows(archive.data!)
            Issue.record("a workbook declaring entities was read")
        } catch let e as CustodyError { #expect(e.message.contains("declares a document type or entities")) }
        // A cell that gives an attribute twice: Foundation's XMLParser would trap (issue 17's fuzzing).
        let repeated = try ZIPFoundation.Archive(data: try XLSXWriter.workbook([[.text("s10")]]), accessMode: .update)
        try repeated.remove(repeated["xl/sharedStrings.xml"]!)
        let twice = #"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" count="2"><si><t>x</t></si></sst>"#
        try repeated.addEntry(with: "xl/sharedStrings.xml", type: .file, uncompressedSize: Int64(twice.utf8.count)) { p, n in
            Data(twice.utf8).subdata(in: Int(p)..<min(twice.utf8.count, Int(p) + n))
        }
        do {
            _ = try XLSXSheet.rows(repeated.data!)
            Issue.record("a workbook repeating an attribute was read")
        } catch let e as CustodyError { #expect(e.message.contains("gives the attribute count twice"), "\(e.message)") }
    }
}
