import Archive
@testable import Custody
import Foundation
import RecordkeeperCore
import Testing

/// Issue 15, first part: UPU S10 identifiers, the canonical target list, and its import (AT2 of
/// CUSTODY.md §6: the OIG's data-entry defect classes are rejected with their reason codes).
@Suite("Custody: S10 identifiers and target lists")
struct CustodyTargetTests {
    @Test func s10CheckDigitsFollowTheUPUWeights() {
        #expect(S10.checkDigit(serial: [1, 2, 3, 4, 5, 6, 7, 8]) == 5)
        for valid in ["EB000717595HK", "EE471108151FR", "RR473124829GB", " ee471108151fr "] {
            #expect((try? S10.parse(valid).get())?.value == valid.trimmingCharacters(in: .whitespaces).uppercased(), "\(valid)")
        }
        #expect(S10.parse("EB000717594HK") == .failure(.checkDigit(expected: 5, found: 4)))
        #expect(S10.parse("EB000717594HK").failureCode == "S10_CHECK")
        #expect(S10.parse("JA000717595HK") == .failure(.reservedServiceIndicator("JA")))
        #expect(S10.parse("JA000717595HK").failureCode == "S10_FORMAT")
        #expect(S10.parse("EB000717595XX") == .failure(.unknownCountry("XX")))
        for bad in ["", "EB00071759HK", "EB0007175955HK", "E1000717595HK", "EB000717595H1", "EB000 717595HK"] {
            #expect(S10.parse(bad) == .failure(.format), "\(bad)")
        }
        #expect(ISO3166.alpha2.count == 249)
    }

    @Test func csvRecordsKeepQuotingLineBreaksAndTheRowAsWritten() {
        let text = "\u{FEFF}a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n2,\"two\nlines\",z\n3,\"open,z\n4,ok,ok\n5,\"q\"x,z\n"
        let records = Array(CSVRecords(Data(text.utf8)))
        #expect(records.map(\.line) == [1, 2, 3, 5, 6, 7])
        #expect(records[0].fields == ["a", "b", "c"])
        #expect(records[1].fields == ["1", "x, y", "say \"hi\""] && records[1].raw == "1,\"x, y\",\"say \"\"hi\"\"\"")
        #expect(records[2].fields == ["2", "two\nlines", "z"] && records[2].malformed == nil)
        // An unclosed quote spoils its own line only; the next line is read as a record again.
        #expect(records[3].malformed != nil && records[3].raw == "3,\"open,z")
        #expect(records[4].fields == ["4", "ok", "ok"] && records[4].malformed == nil)
        #expect(records[5].malformed != nil)
    }

    @Test func timesNeedADateATimeAndAZone() {
        #expect(ISOInstant.millis("2019-06-17T08:00:00Z") == 1_560_758_400_000)
        #expect(ISOInstant.millis("2019-06-17T04:00-04:00") == 1_560_758_400_000)
        #expect(ISOInstant.millis("2019-06-17 08:00:00.5Z") == 1_560_758_400_500)
        for bad in ["2019-06-31T09:00:00Z", "next Tuesday", "2019-06-17", "2019-06-17T08:00:00", "2019-02-29T00:00Z", "2019-06-17T24:00Z", "06/17/2019 08:00"] {
            #expect(ISOInstant.millis(bad) == nil, "\(bad)")
        }
    }

    @Test func aHeaderWithoutTheRequiredColumnsIsRefusedWhole() throws {
        #expect(throws: CustodyError.self) { try TargetImport.plan(Data("s10,rule_code\nEB000717595HK,NARC-01\n".utf8), rules: []) }
        #expect(throws: CustodyError.self) { try TargetImport.plan(Data(), rules: []) }
        let extra = try TargetImport.plan(Data((TargetImport.columns + ["ats_score"]).joined(separator: ",").utf8 + Array("\n".utf8)), rules: [])
        #expect(extra.unknownColumns == ["ats_score"] && extra.rowsTotal == 0)
    }
}

extension Result where Failure == S10.Problem {
    var failureCode: String? { if case .failure(let p) = self { return p.code }; return nil }
}

/// Duties are stored in their currency's minor unit (ISO 4217: none for the yen, three decimals
/// for the Kuwaiti dinar, two for most) and shown with as many decimals.
@Suite("Duty amounts in each currency's minor unit")
struct DutyAmountTests {
    @Test func amountsAreReadAndShownWithTheCurrencysDecimals() {
        for (text, currency, minor, shown) in [("12.5", "USD", Int64(1250), "USD 12.50"), ("0.05", "EUR", 5, "EUR 0.05"), ("1500", "JPY", 1500, "JPY 1500"),
                                               ("1.125", "KWD", 1125, "KWD 1.125"), ("0.5", "KWD", 500, "KWD 0.500"), ("7", "USD", 700, "USD 7.00")] {
            let places = DutyService.decimals(currency)
            #expect(DutyService.minorUnits(text, decimals: places) == minor, "\(text) \(currency)")
            #expect(DutyService.money(minor, currency) == shown)
        }
        for (text, currency) in [("12.345", "USD"), ("12.5", "JPY"), ("1.", "USD"), (".5", "USD"), ("1.1255", "KWD"), ("-1", "USD"), ("1,5", "EUR")] {
            #expect(DutyService.minorUnits(text, decimals: DutyService.decimals(currency)) == nil, "\(text) \(currency)")
        }
    }
}
