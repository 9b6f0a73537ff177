import Archive
import Foundation
import RecordkeeperCore

/// A realistic week at an international mail facility, the OIG's site visit of 17–20 June 2019,
/// loaded through the same services a facility uses (so every event is hashed and audited), for
/// `recordkeeper demo`: targets imported from a list, containers handed over with one short,
/// receipts, inspections, seizures with their SEACATS entries (one late, the last day's still
/// open), a hand-over to the FDA, returns (a few uninspected, with a supervisor),
/// evening counts with one item nobody saw, and daily checks of the secure rooms but one.
/// Deterministic by seed.
public enum CustodyDemo {
    public static let receiver = "r.receiver", officer = "o.officer", supervisor = "m.chief", targeter = "t.targeter"
    public static let clerk = "n.clerk", privacyOfficer = "p.privacy"

    public struct Summary: Sendable {
        public var targets = 0
        public var received = 0
        public var inspected = 0
        public var seized = 0
        public var returned = 0
        public var detained = 0
        public var referred = 0
        public var carrierCounts = 0
        public var dutiesAssessed = 0
        public var advanceData = 0
    }

    static func millis(_ iso: String) -> Int64 { CustodyTime.millis(iso)! }

    /// `keyFile`: where the addressee key is (made if none); the detentions are loaded only with it.
    public static func load(into store: any CustodyStore, seed: UInt64, workDirectory: URL, keyFile: URL? = nil) async throws -> Summary {
        var rng = SplitMix(seed: seed)
        var summary = Summary()
        let setup = ReceiptService(store: store)
        let places: [(String, String, ReceiptService.LocationKind, Bool, Bool, Int?)] = [
            ("RCV-1", "Receiving dock 1", .receiving, true, true, nil), ("HOLD-1", "Holding cage 1", .holding, true, true, 72),
            ("EXAM-1", "X-ray and exam station 1", .examStation, true, true, nil), ("CAGE-1", "Enforcement cage", .enforcementCage, true, true, nil),
            ("VAULT", "Seized property vault", .seizedProperty, true, true, nil), ("LAB-1", "Field lab", .lab, true, true, nil),
            ("DOCK-2", "Overflow dock (no lock)", .holding, false, false, 24), ("RET-1", "Return dock", .returnDock, true, false, nil),
        ]
        for p in places {
            _ = try await setup.addLocation(code: p.0, name: p.1, kind: p.2, secured: p.3, alarmed: p.4, cctvCovered: true, maxDwellHours: p.5, actor: supervisor)
        }
        let imports = TargetImportService(store: store)
        for rule in [TargetRule(code: "NARC-01", version: 1, category: .narcotics, source: "ATS", description: "Narcotics indicators in advance data"),
                     TargetRule(code: "COI-CN-01", version: 1, category: .coiBulk, source: "COI list", description: "Country-of-interest parcels, CN"),
                     TargetRule(code: "RAND-01", version: 1, category: .random, source: "random", description: "Random sample (baseline hit rate)")] {
            _ = try await imports.addRule(rule, actor: targeter)
        }
        // 240 targets over three days, expected the next day.
        func s10(_ serial: Int, _ prefix: String, _ country: String) -> String {
            let digits = String(serial)
            return prefix + digits + String(S10.checkDigit(serial: digits.map { Int(String($0))! })) + country
        }
        var targets: [(s10: String, rule: String, day: Int)] = []
        var rows = [TargetImport.columns.joined(separator: ",")]
        for i in 0..<240 {
            let rule = ["NARC-01", "COI-CN-01", "RAND-01"][i % 3]
            let country = rule == "COI-CN-01" ? "CN" : ["US", "HK", "MX", "GB"][Int(rng.next() % 4)]
            let item = s10(20_000_000 + i * 13, rule == "NARC-01" ? "EE" : "LX", country)
            let day = 17 + i % 3
            targets.append((item, rule, day))
            rows.append([item, rule, "1", rule == "NARC-01" ? "narcotics" : rule == "RAND-01" ? "random" : "coi_bulk",
                         String(format: "2019-06-%02dT%02d:%02d:00Z", day, 6 + i % 10, i % 60), rule == "NARC-01" ? "ATS" : targeter,
                         String(format: "2019-06-%02dT12:00:00Z", day + 1), "1", country, "parcel", "Declared goods", ""].joined(separator: ","))
        }
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        let file = workDirectory.appendingPathComponent("targets-2019-06-17.csv")
        try (rows.joined(separator: "\r\n") + "\r\n").write(to: file, atomically: true, encoding: .utf8)
        summary.targets = try await imports.commit(file, actor: targeter).plan.acceptedCount

        // Each day: six containers of 60 declared (the last of the 18th holds 58), carrying the
        // targets due that day (about nine in ten presented) and bulk mail.
        var bulkSerial = 30_000_000
        var inCustody: [String] = []
        var place: [String: String] = [:]
        var targeted = Set(targets.map(\.s10))
        var forDetention: [(s10: String, day: Int)] = []
        var forReferral: [String] = []
        var forDuty: [String] = []
        for day in 18...20 {
            let due = targets.filter { $0.day == day - 1 }.map(\.s10).filter { _ in rng.next() % 10 != 0 }
            var items = due
            while items.count < 6 * 60 { bulkSerial += 7; items.append(s10(bulkSerial, "LX", "CN")) }
            items.shuffle(using: &rng)
            let scans = ScanService(store: store, now: { millis(String(format: "2019-06-%02dT06:00:00Z", day)) })
            for c in 0..<6 {
                let short = day == 18 && c == 5
                let p = try await scans.openContainer("APC-\(day)\(c)", carrier: "USPS", seal: "S\(day * 100 + c)", declared: 60, presentedBy: "USPS dock clerk",
                                                      badge: "USPS-\(100 + c)", location: "RCV-1", station: "ST-1", actor: receiver)
                let batch = Array(items[(c * 60)..<(c * 60 + (short ? 58 : 60))])
                let at = ScanService(store: store, now: { millis(String(format: "2019-06-%02dT%02d:%02d:00Z", day, 6 + c, 30)) })
                _ = try await at.record(batch.map { ScanService.Request(text: $0, action: .receive(location: "RCV-1", presentation: p.id), station: "ST-1") },
                                        actor: receiver)
                _ = try await at.closeContainer(p.id, note: short ? "Two pieces short at hand-over; USPS informed" : nil, actor: receiver)
                summary.received += batch.count
                inCustody += batch
            }
            // Targeted items to the exam station, inspected; bulk mail held, then most returned.
            let dayTargets = inCustody.filter { targeted.contains($0) }
            _ = try await ScanService(store: store, now: { millis(String(format: "2019-06-%02dT12:30:00Z", day)) }).record(
                dayTargets.map { ScanService.Request(text: $0, action: .move(to: "EXAM-1"), station: "ST-2") }, actor: receiver)
            for (k, item) in dayTargets.enumerated() where k % 12 != 0 {
                _ = try await InspectionService(store: store, now: { millis(String(format: "2019-06-%02dT13:%02d:00Z", day, k % 60)) }).start(
                    item, method: k % 4 == 0 ? .canine : .xray, location: "EXAM-1", station: "XR-1", clientScanID: nil, actor: officer)
                let hit = k % 17 == 5
                // A few hold personal-use medicine: detained for a notice to the addressee (below).
                let medicine = !hit && k % 17 == 9 && item.hasPrefix("EE")
                _ = try await InspectionService(store: store, now: { millis(String(format: "2019-06-%02dT14:%02d:00Z", day, k % 60)) }).end(
                    item, result: hit ? .presumptivePositive : medicine ? .anomaly : .noAnomaly,
                    found: hit ? "White powder in a shoe box" : medicine ? "Blister packs of prescription tablets" : nil, substance: hit ? "suspected fentanyl" : nil,
                    equipment: "XR-1", station: "XR-1", clientScanID: nil, actor: officer)
                if medicine { forDetention.append((item, day)) }
                if !hit && !medicine && k % 17 == 12 && item.hasPrefix("EE") { forReferral.append(item) }
                if !hit && !medicine && k % 17 == 3 && item.hasPrefix("EE") { forDuty.append(item) }
                summary.inspected += 1
                if hit {
                    let z = try await SeizureService(store: store, now: { millis(String(format: "2019-06-%02dT15:%02d:00Z", day, k % 60)) }).seize(
                        item, witness: supervisor, violation: .narcotics, substance: "fentanyl", netWeightGrams: Double(5 + k % 40),
                        form6051S: "2019-4601-\(String(format: "%06d", day * 1000 + k))", storageLocation: "VAULT", actor: officer)
                    summary.seized += 1
                    // SEACATS: most within hours; one late with a reason; the last one still open.
                    let delayHours = summary.seized == 2 ? 30 : summary.seized >= 5 && day == 20 ? -1 : 3
                    if delayHours > 0 {
                        _ = try await SeizureService(store: store, now: { z.seizedAtMillis + Int64(delayHours) * 3_600_000 }).recordSEACATS(
                            seizureID: z.id, caseNumber: "2019-4601-\(String(format: "%04d", z.id))",
                            lateReason: delayHours > 24 ? "SEACATS outage on the evening shift" : nil, actor: officer)
                    }
                    inCustody.removeAll { $0 == item }
                }
            }
            targeted.subtract(dayTargets)
            // The lab and the FDA.
            if day == 19, let sample = inCustody.first(where: { !targets.map(\.s10).contains($0) }) {
                _ = try await ScanService(store: store, now: { millis("2019-06-19T16:00:00Z") }).record(
                    [.init(text: sample, action: .toAgency(agency: "FDA"), station: "ST-2")], actor: officer)
                inCustody.removeAll { $0 == sample }
            }
            // Bulk mail back to the carrier: uninspected, so a supervisor allows it with a reason;
            // inspected targets back too. Ten pieces stay overnight on the open overflow dock.
            let leaving = inCustody.filter { !$0.hasPrefix("EE") }.dropLast(30)
            let back = ScanService(store: store, now: { millis(String(format: "2019-06-%02dT18:00:00Z", day)) })
            for chunk in stride(from: 0, to: leaving.count, by: 500).map({ Array(leaving.dropFirst($0).prefix(500)) }) {
                let out = try await back.record(chunk.map {
                    ScanService.Request(text: $0, action: .returnToCarrier(carrier: "USPS", supervisor: supervisor, reason: "Bulk COI mail, not selected for exam"),
                                        station: "RET-1")
                }, actor: receiver)
                summary.returned += out.filter { if case .recorded = $0 { true } else { false } }.count
            }
            inCustody.removeAll { leaving.contains($0) }
            // Ten pieces go to the open overflow dock for the night, the rest to the holding cage.
            let overflow = Set(inCustody.filter { !$0.hasPrefix("EE") }.prefix(10))
            let evening = ScanService(store: store, now: { millis(String(format: "2019-06-%02dT19:00:00Z", day)) })
            _ = try await evening.record(inCustody.map {
                ScanService.Request(text: $0, action: .move(to: overflow.contains($0) ? "DOCK-2" : "HOLD-1"), station: "ST-1")
            }, actor: receiver) // those already there are answered ALREADY_THERE and left
            for item in inCustody { place[item] = overflow.contains(item) ? "DOCK-2" : "HOLD-1" }
            // The evening count, room by room: every piece is seen, but one on the 19th.
            var seen = inCustody
            if day == 19 { seen.removeFirst() }
            _ = try await ScanService(store: store, now: { millis(String(format: "2019-06-%02dT22:00:00Z", day)) }).record(
                seen.map { ScanService.Request(text: $0, action: .audit(at: place[$0] ?? "HOLD-1"), station: "AUDIT-1") }, actor: receiver)
            // The enforcement cage and the vault are checked every day but the 20th (the vault).
            let security = SecurityService(store: store, now: { millis(String(format: "2019-06-%02dT21:00:00Z", day)) })
            let dayText = String(format: "2019-06-%02d", day)
            _ = try await security.recordCheck(location: "CAGE-1", day: dayText, doorLocked: true, alarmArmed: true, cctvOK: true, exceptions: nil, actor: supervisor)
            if day != 20 {
                _ = try await security.recordCheck(location: "VAULT", day: dayText, doorLocked: true, alarmArmed: day != 19, cctvOK: true,
                                                   exceptions: day == 19 ? "Alarm zone 2 fault; technician called" : nil, actor: supervisor)
            }
        }
        if let keyFile, let privacy = store as? any CustodyStore & CustodyPrivacyStore {
            summary.detained = try await detentions(forDetention, store: privacy, keyFile: keyFile)
        }
        if let referrals = store as? any CustodyStore & CustodyReferralStore {
            summary.referred = try await Self.referrals(Array(forReferral.prefix(2)), store: referrals)
        }
        if let duties = store as? any CustodyStore & CustodyDutyStore {
            // Duties on undeclared goods found in three examinations (R-REV).
            for (n, item) in forDuty.prefix(3).enumerated() {
                _ = try await DutyService(store: duties, now: { millis("2019-06-21T11:0\(n):00Z") }).assess(
                    item, kind: n == 2 ? "duty_and_fee" : "duty", amount: ["38.40", "112.00", "26.75"][n], entry: "ME-2019-06\(21 + n)", actor: officer)
                summary.dutiesAssessed += 1
            }
        }
        if let funnel = store as? any CustodyStore & CustodyFunnelStore {
            summary.carrierCounts = try await Self.funnelInputs(store: funnel, workDirectory: workDirectory, rng: &rng)
        }
        if let aed = store as? any CustodyStore & CustodyFunnelStore & CustodyAdvanceDataStore {
            summary.advanceData = try await Self.advanceData(targets.map(\.s10), store: aed, workDirectory: workDirectory, rng: &rng)
        }
        return summary
    }

    /// Advance data (R-AED) for the targeted pieces, as a site's ITMATT extract would give it: most
    /// sent the day before, some without HS codes or the recipient, a few none at all, and a handful
    /// of rows naming pieces by a national number instead of an S10 identifier.
    static func advanceData(_ items: [String], store: any CustodyStore & CustodyFunnelStore & CustodyAdvanceDataStore, workDirectory: URL,
                            rng: inout SplitMix) async throws -> Int {
        var rows = [AdvanceData.columns.joined(separator: ",")]
        for (n, item) in items.enumerated() where rng.next() % 10 != 0 {
            let lines = 1 + Int(rng.next() % 3)
            let coded = rng.next() % 4 == 0 ? Int(rng.next() % UInt64(lines)) : lines
            rows.append("\(item),\(item.suffix(2)),2019-06-\(16 + n % 3)T\(String(format: "%02d", 10 + n % 12)):00:00Z,\(lines),\(coded),\(rng.next() % 5 == 0 ? "no" : "yes")")
        }
        for n in 0..<6 { rows.append("CN-2019-06-\(String(format: "%05d", 100 + n)),CN,2019-06-18T08:00:00Z,1,0,no") }
        let file = workDirectory.appendingPathComponent("advance-data-2019-06-16-18.csv")
        try (rows.joined(separator: "\r\n") + "\r\n").write(to: file, atomically: true, encoding: .utf8)
        return try await AdvanceDataService(store: store).importFile(file, commit: true, actor: targeter).accepted
    }

    /// The funnel's inputs (R-FUN): the countries of interest, the carrier's daily counts for the
    /// three days (about a quarter million pieces a day, most of them Chinese small packets, as at
    /// JFK) and a daily category request for Chinese small packets.
    static func funnelInputs(store: any CustodyStore & CustodyFunnelStore, workDirectory: URL, rng: inout SplitMix) async throws -> Int {
        let funnel = FunnelService(store: store, now: { millis("2019-06-17T05:00:00Z") })
        _ = try await funnel.setCOI("CN,HK", reason: "Countries-of-interest list in force, June 2019", actor: supervisor)
        let volumes: [(String, String, Int)] = [("CN", "letter_post", 180_000), ("CN", "parcel", 52_000), ("CN", "ems", 4_000), ("HK", "letter_post", 9_000),
                                                ("HK", "ems", 600), ("MX", "ems", 300), ("GB", "ems", 450), ("US", "ems", 120), ("GB", "letter_post", 7_500)]
        var rows = [ArrivalCounts.columns.joined(separator: ",") + ",office"]
        for day in 18...20 {
            for (origin, mailClass, base) in volumes {
                let pieces = base + Int(rng.next() % UInt64(max(1, base / 10)))
                rows.append("2019-06-\(day),\(origin),\(mailClass),\(pieces),JFK ISC")
            }
            _ = try await funnel.requestBulk(day: "2019-06-\(day)", origin: "CN", mailClass: "letter_post", count: 300,
                                             reason: "COI random examination, small packets", actor: targeter)
        }
        let file = workDirectory.appendingPathComponent("carrier-counts-2019-06-18-20.csv")
        try (rows.joined(separator: "\r\n") + "\r\n").write(to: file, atomically: true, encoding: .utf8)
        return try await funnel.importArrivals(file, commit: true, actor: targeter).accepted
    }

    /// Two referrals: the FDA answers and collects its item; the USDA has not answered (an alert
    /// three days on).
    static func referrals(_ items: [String], store: any CustodyStore & CustodyReferralStore) async throws -> Int {
        func at(_ iso: String) -> @Sendable () -> Int64 { { millis(iso) } }
        for (n, item) in items.enumerated() {
            let r = try await ReferralService(store: store, now: at("2019-06-21T10:0\(n):00Z")).refer(
                item, agency: n == 0 ? "FDA" : "USDA", method: n == 0 ? "portal" : "phone", violation: n == 0 ? nil : "agriculture", actor: officer)
            guard n == 0 else { continue }
            _ = try await ReferralService(store: store, now: at("2019-06-22T09:00:00Z")).recordResponse(r.id, note: "FDA will collect Monday", actor: officer)
            _ = try await ReferralService(store: store, now: at("2019-06-24T14:00:00Z")).recordCollection(r.id, witness: nil, actor: officer)
        }
        return items.count
    }

    /// The notice queue: the first detention is noticed, abandoned by its addressee and destroyed
    /// (its particulars due for purge), the second noticed and waiting for an answer, the rest
    /// waiting for their notice (R-DET).
    static func detentions(_ items: [(s10: String, day: Int)], store: any CustodyStore & CustodyPrivacyStore, keyFile: URL) async throws -> Int {
        let people = [AddresseeParticulars(name: "Wei Zhang", addressLines: ["88 Harbour Road", "Apt 12"], postcode: "11201"),
                      AddresseeParticulars(name: "Maria Lopez", addressLines: ["412 Elm Street"], postcode: "07302")]
        for (n, item) in items.enumerated() {
            // The morning after the week's last count, so nothing precedes the items' last scans.
            func at(_ hour: Int, plusDays: Int = 0) -> @Sendable () -> Int64 {
                { millis(String(format: "2019-06-21T%02d:%02d:00Z", hour, n)) + Int64(plusDays) * 86_400_000 }
            }
            let d = try await DetentionService(store: store, keyFile: keyFile, now: at(8)).detain(
                item.s10, violation: "prohibited", reason: "personal_use_prohibited", contents: "medicine", actor: officer)
            guard n < people.count else { continue }
            _ = try await DetentionService(store: store, keyFile: keyFile, now: at(9)).sendNotice(d.id, to: people[n], actor: clerk)
            if n == 0 {
                _ = try await DetentionService(store: store, keyFile: keyFile, now: at(10, plusDays: 1)).recordResponse(d.id, response: "consent_abandon", actor: clerk)
                _ = try await DetentionService(store: store, keyFile: keyFile, now: at(11, plusDays: 1)).dispose(
                    d.id, disposition: "abandoned_destroyed", witness: supervisor, actor: officer)
            }
        }
        return items.count
    }
}
