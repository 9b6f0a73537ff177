import Archive
import ArgumentParser
import Custody
import Foundation
import Recordkeeper
import RecordkeeperCore

/// Custody of physical items (issue 15): targeting rules and target lists, so far.
struct CustodyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "custody",
        abstract: "Physical items in custody: targets, receipts and movements, inspections, seizures, and the reports that reconcile them.",
        discussion: """
            Targets name the item (its UPU S10 identifier, check digit verified) and the rule and \
            version that selected it. Import a day's target list with `custody import FILE` (a dry \
            run: what would be accepted, and every rejected row with its reason code), then again \
            with --commit; the carrier's counts (`arrivals`), advance data (`aed`) and manifests \
            (`manifest`) are imported the same way. Importing the same file again adds nothing. \
            Every scan, inspection and seizure is a hashed custody event with its audit entry; \
            `custody report` lists the reconciliation reports. Works on the embedded archive and \
            on PostgreSQL alike.
            """,
        subcommands: [Rule.self, Profile.self, Import.self, Location.self, Container.self, Receive.self, Move.self, Inspect.self, Seize.self, SEACATS.self, CorrectSeizure.self, Lab.self,
                      Handover.self, Return.self, Audit.self, SecurityCheck.self, Alerts.self, Events.self, Report.self, Detention.self, Referral.self, Privacy.self, Arrivals.self, AdvanceDataImport.self, ManifestImport.self, BulkRequest.self, COI.self,
                      Duty.self, Fixture.self])

    static func store(_ archive: ArchiveOptions) async throws -> any CustodyStore {
        let handle = try await archive.open()
        guard let store = handle.store as? any CustodyStore else {
            throw ArchiveError(.invalid, "this archive's store does not keep custody records")
        }
        return store
    }

    /// The custody store and the archive's users (who may witness, who supervises).
    static func stores(_ archive: ArchiveOptions) async throws -> (any CustodyStore, any ArchiveStore) {
        let handle = try await archive.open()
        guard let store = handle.store as? any CustodyStore else {
            throw ArchiveError(.invalid, "this archive's store does not keep custody records")
        }
        return (store, handle.store)
    }

    static func service(_ archive: ArchiveOptions) async throws -> TargetImportService {
        TargetImportService(store: try await store(archive))
    }

    /// An ISO 8601 instant with a zone, as the option `name` gave it.
    static func instant(_ text: String, _ name: String) throws -> Int64 {
        guard let t = CustodyTime.millis(text) else {
            throw ValidationError("\(name) \(text) is not a date and time with a zone (ISO 8601, e.g. 2019-06-17T08:00:00Z)")
        }
        return t
    }

    /// A report's period and moment. What the period selects (targeted, received or seized in
    /// it) is each report's own; `--as-of` makes the report what it was at that moment.
    struct ReportPeriod: ParsableArguments {
        @Option(help: "The period's start, inclusive (ISO 8601 with a zone, e.g. 2019-06-17T00:00:00Z).") var from: String
        @Option(help: "The period's end, exclusive (ISO 8601 with a zone).") var to: String
        @Option(help: "As of this moment (ISO 8601 with a zone; default now).") var asOf: String?

        func start() throws -> Int64 { try CustodyCommand.instant(from, "--from") }
        func end() throws -> Int64 { try CustodyCommand.instant(to, "--to") }
        func moment() throws -> Int64 { try asOf.map { try CustodyCommand.instant($0, "--as-of") } ?? Timestamp.nowMillis() }
    }

    struct Location: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "location", abstract: "Places items are held in.", subcommands: [Add.self, List.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "add", abstract: "Register a location (kept as registered).")
            @Argument(help: "Its code (RCV-1).") var code: String
            @Option(help: "Its name.") var name: String
            @Option(help: ArgumentHelp("One of \(ReceiptService.LocationKind.allCases.map(\.rawValue).joined(separator: ", ")).")) var kind: String
            @Flag(inversion: .prefixedNo, help: "Whether it locks.") var secured: Bool
            @Flag(inversion: .prefixedNo, help: "Whether it is alarmed.") var alarmed: Bool
            @Flag(inversion: .prefixedNo, help: "Whether cameras cover it.") var cctv: Bool
            @Option(help: "The longest an item should stay, in hours.") var maxDwellHours: Int?
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    guard let k = ReceiptService.LocationKind(rawValue: kind) else {
                        throw ValidationError("--kind must be one of \(ReceiptService.LocationKind.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    let added = try await ReceiptService(store: try await CustodyCommand.store(archive)).addLocation(
                        code: code, name: name, kind: k, secured: secured, alarmed: alarmed, cctvCovered: cctv, maxDwellHours: maxDwellHours,
                        actor: archive.resolvedActor)
                    print(added ? "Registered location \(code) (\(k.rawValue))." : "Location \(code) was registered already; nothing changed.")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: "List the locations.")
            @Flag(help: "Print JSON.") var json = false
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let all = try await CustodyCommand.store(archive).locations()
                    if json { print(Terminal.json(all, pretty: true)); return }
                    if all.isEmpty { print("No locations yet: recordkeeper custody location add CODE --name … --kind receiving --secured --alarmed --cctv") }
                    for l in all {
                        print("\(l.code)  \(l.kind)  \(l.name)  secured \(l.secured ? "yes" : "NO"), alarmed \(l.alarmed ? "yes" : "NO"), cctv \(l.cctvCovered ? "yes" : "NO")")
                    }
                }
            }
        }
    }

    /// Records one scan per item through the scan service and prints each answer; exit status 4
    /// when any was refused or was a duplicate receipt (nothing recorded for those).
    static func scan(_ items: [String], action: CustodyScan.Action, witness: String? = nil, station: String?, scanID: String? = nil, manual: Bool = false,
                     archive: ArchiveOptions) async throws {
        var refused = 0
        try await CLIError.report {
            guard !items.isEmpty else { throw ValidationError("name at least one S10 identifier") }
            guard scanID == nil || items.count == 1 else { throw ValidationError("--scan-id names one scan: give one item with it") }
            let (store, directory) = try await CustodyCommand.stores(archive)
            let service = ScanService(store: store, directory: directory)
            for chunk in stride(from: 0, to: items.count, by: ScanService.batchLimit).map({ Array(items[$0..<min(items.count, $0 + ScanService.batchLimit)]) }) {
                let requests = chunk.map { ScanService.Request(text: $0, action: action, witness: witness, station: station, clientScanID: scanID, manualEntry: manual) }
                for (item, outcome) in zip(chunk, try await service.record(requests, actor: archive.resolvedActor)) {
                    switch outcome {
                    case .recorded(let e): print("\(e.s10)  \(e.type)\(e.toLocation.map { " at \($0)" } ?? "")  \(Timestamp.iso(millis: e.atMillis))\(e.detail.map { "  \($0)" } ?? "")")
                    case .repeated(let e): print("\(e.s10)  already recorded by this scan (\(Timestamp.iso(millis: e.atMillis))); nothing new")
                    case .alreadyInCustody(let e):
                        refused += 1
                        Terminal.note("\(e.s10): already in custody since \(Timestamp.iso(millis: e.atMillis)) at \(e.toLocation ?? "?") (\(e.type) by \(e.actor)); nothing recorded")
                    case .refused(let r):
                        refused += 1
                        Terminal.note("\(item): \(r); nothing recorded")
                    }
                }
            }
        }
        if refused > 0 { throw ExitCode(4) }
    }

    struct Receive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "receive", abstract: "Record items handed over by the carrier (receipt scans); the time is this machine's clock, in UTC.",
            discussion: """
                With --container, the items are counted into that open container (custody container open). A retry with the same \
                --scan-id records nothing new. An item already in custody is reported with where and since when; exit status 4 then.
                """)
        @Argument(help: "S10 identifiers.") var items: [String]
        @Option(help: "The location code they arrive at.") var location: String
        @Option(help: "The open container (presentation number) they came in.") var container: Int64?
        @Option(help: "The scan station.") var station: String?
        @Option(help: "The station's id for this scan (one item only).") var scanId: String?
        @Flag(help: "Typed by hand, not scanned.") var manual = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CustodyCommand.scan(items, action: .receive(location: location, presentation: container), station: station, scanID: scanId, manual: manual,
                                          archive: archive)
        }
    }

    /// The items a movement scans, its witness and station.
    struct Scanned: ParsableArguments {
        @Argument(help: "S10 identifiers.") var items: [String]
        @Option(help: "A second person (required for every event of a seized item).") var witness: String?
        @Option(help: "The scan station.") var station: String?
        func record(_ action: CustodyScan.Action, archive: ArchiveOptions) async throws {
            try await CustodyCommand.scan(items, action: action, witness: witness, station: station, archive: archive)
        }
    }

    struct Move: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "move", abstract: "Move items in custody to another location.",
            discussion: "Seized items leave seized property only to a lab or an agency (custody lab, custody handover); every event of a seized item needs --witness.")
        @Option(help: "The location they go to.") var to: String
        @OptionGroup var scanned: Scanned
        @OptionGroup var archive: ArchiveOptions
        func run() async throws { try await scanned.record(.move(to: to), archive: archive) }
    }

    struct Lab: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "lab", abstract: "Items sent to a lab and back.", subcommands: [Send.self, Back.self])
        struct Send: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "send", abstract: "Send items to a lab (a location of kind lab).")
            @Option(help: "The lab's location code.") var lab: String
            @OptionGroup var scanned: Scanned
            @OptionGroup var archive: ArchiveOptions
            func run() async throws { try await scanned.record(.toLab(lab: lab), archive: archive) }
        }
        struct Back: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "back", abstract: "Record items back from the lab.")
            @Option(help: "Where they are put (seized property for seized items).") var to: String
            @OptionGroup var scanned: Scanned
            @OptionGroup var archive: ArchiveOptions
            func run() async throws { try await scanned.record(.fromLab(to: to), archive: archive) }
        }
    }

    struct Handover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "handover", abstract: "Hand items to another agency, closing their custody episode.",
            discussion: "Agencies: \(CustodyScanRules.agencies.joined(separator: ", ")).")
        @Option(help: "The agency taking them.") var agency: String
        @OptionGroup var scanned: Scanned
        @OptionGroup var archive: ArchiveOptions
        func run() async throws { try await scanned.record(.toAgency(agency: agency), archive: archive) }
    }

    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "audit", abstract: "A cycle count: the items seen at a location (AUDIT_SEEN).",
            discussion: """
                Give the identifiers as arguments, or - to read one per line from standard input (a scanner's file). The day's \
                counts feed the daily balance (custody report balance); an item seen elsewhere than its record says is marked.
                """)
        @Argument(help: "S10 identifiers, or - for standard input.") var items: [String]
        @Option(help: "The location counted.") var location: String
        @Option(help: "The scan station.") var station: String?
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            var list = items
            if list == ["-"] {
                list = []
                while let line = readLine() { let t = line.trimmingCharacters(in: .whitespaces); if !t.isEmpty { list.append(t) } }
            }
            try await CustodyCommand.scan(list, action: .audit(at: location), station: station, archive: archive)
        }
    }

    struct SecurityCheck: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "security-check", abstract: "Record a secure room's daily check: door locked, alarm armed, cameras working.",
            discussion: "Enforcement cages, registered cages and seized-property rooms are checked every day; a day without a check, or a failed check, is in R-SEC.")
        @Argument(help: "The location checked.") var location: String
        @Option(help: "The day checked (YYYY-MM-DD, UTC; default today).") var day: String?
        @Flag(inversion: .prefixedNo, help: "Whether the door was locked.") var doorLocked: Bool
        @Flag(inversion: .prefixedNo, help: "Whether the alarm was armed.") var alarmArmed: Bool
        @Flag(inversion: .prefixedNo, help: "Whether the cameras worked.") var cctvOk: Bool
        @Option(help: "What was wrong (required when anything failed).") var exceptions: String?
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let d = day ?? String(Timestamp.iso(millis: Timestamp.nowMillis()).prefix(10))
                let added = try await SecurityService(store: try await CustodyCommand.store(archive)).recordCheck(
                    location: location, day: d, doorLocked: doorLocked, alarmArmed: alarmArmed, cctvOK: cctvOk, exceptions: exceptions, actor: archive.resolvedActor)
                print(added ? "Recorded the check of \(location) for \(d)." : "\(location) was checked for \(d) already, with the same findings; nothing changed.")
            }
        }
    }

    struct Alerts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "alerts", abstract: "What needs acting on now: SEACATS clocks, targets not presented, items held too long, container counts.",
            discussion: "A seizure not in SEACATS alerts its officer at +12 h, the supervisor at +20 h and the port director at +24 h. Exit status 4 when any alert is critical.")
        @Option(help: "As of this moment (ISO 8601 with a zone; default now).") var asOf: String?
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            var critical = false
            try await CLIError.report {
                let alerts = try await AlertService(store: try await CustodyCommand.store(archive)).alerts(
                    asOf: try asOf.map { try CustodyCommand.instant($0, "--as-of") } ?? Timestamp.nowMillis())
                critical = alerts.contains { $0.severity == "critical" }
                if json { print(Terminal.json(alerts, pretty: true)); return }
                if alerts.isEmpty { print("No alerts.") }
                for a in alerts { print("\(a.severity.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0)) \(a.kind)  for \(a.audience): \(a.message)") }
            }
            if critical { throw ExitCode(4) }
        }
    }

    struct Container: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "container", abstract: "Containers (APC, tub, sack) the carrier hands over.",
                                                        subcommands: [Open.self, Close.self, Show.self])
        static func describe(_ p: StoredPresentation) -> String {
            (p.direction == "out" ? "Return batch \(p.id): container " : "Presentation \(p.id): container ")
                + "\(p.containerID) (\(p.carrier)\(p.sealNumber.map { ", seal \($0)" } ?? "")) at \(p.location), "
                + "declared \(p.declaredCount), scanned \(p.scannedCount)"
                + (p.closedAtMillis.map { ", closed \(Timestamp.iso(millis: $0))" } ?? ", open") + (p.discrepancyNote.map { ". Note: \($0)" } ?? "")
        }
        struct Open: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "open", abstract: "Open a container handed over, for its items' receipt scans (or, with --out, a return batch for items going back).")
            @Argument(help: "The container's label.") var container: String
            @Option(help: "The carrier presenting it (or taking it back).") var carrier: String = "USPS"
            @Option(help: "Its seal number.") var seal: String?
            @Option(help: "How many items the carrier declares in it (for a return batch: the count the carrier signs for).") var declared: Int
            @Option(help: "The carrier's employee handing it over (or taking the return batch).") var presentedBy: String
            @Option(help: "Their badge.") var badge: String?
            @Option(help: "The location it is received at (a return batch: the return dock).") var location: String
            @Option(help: "The scan station.") var station: String?
            @Flag(help: "A return batch: items returned to the carrier go into it, counted against the declared count at its close.") var out = false
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let p = try await ScanService(store: try await CustodyCommand.store(archive)).openContainer(
                        container, carrier: carrier, seal: seal, declared: declared, presentedBy: presentedBy, badge: badge, location: location, station: station,
                        direction: out ? "out" : "in", actor: archive.resolvedActor)
                    print(Container.describe(p))
                    print(out ? "Return its items with: recordkeeper custody return --carrier \(p.carrier) --container \(p.id) S10…"
                              : "Receive its items with: recordkeeper custody receive --location \(p.location) --container \(p.id) S10…")
                }
            }
        }
        struct Close: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "close", abstract: "Close a container: scanned against declared.",
                discussion: "A count other than the declared one needs --note; the daily balance lists the container with its difference.")
            @Argument(help: "The presentation number.") var id: Int64
            @Option(help: "Why the count differs.") var note: String?
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    print(Container.describe(try await ScanService(store: try await CustodyCommand.store(archive)).closeContainer(id, note: note,
                                                                                                                               actor: archive.resolvedActor)))
                }
            }
        }
        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "show", abstract: "A container's declared and scanned counts.")
            @Argument(help: "The presentation number.") var id: Int64
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    guard let p = try await CustodyCommand.store(archive).presentation(id: id) else { throw ArchiveError(.notFound, "no presentation \(id)") }
                    print(Container.describe(p))
                }
            }
        }
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Inspections of items in custody.", subcommands: [Start.self, End.self])

        struct Start: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "start", abstract: "Start inspecting an item in custody (this machine's clock, UTC).")
            @Argument(help: "The S10 identifier.") var item: String
            @Option(help: ArgumentHelp("One of \(InspectionService.Method.allCases.map(\.rawValue).joined(separator: ", ")).")) var method: String
            @Option(help: "Where (a location code).") var location: String?
            @Option(help: "The station or equipment.") var station: String?
            @Option(help: "The station's id for this scan.") var scanId: String?
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    guard let m = InspectionService.Method(rawValue: method) else {
                        throw ValidationError("--method must be one of \(InspectionService.Method.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    let e = try await InspectionService(store: try await CustodyCommand.store(archive)).start(
                        item, method: m, location: location, station: station, clientScanID: scanId, actor: archive.resolvedActor)
                    print("\(e.s10)  INSPECT_START (\(m.rawValue))  \(Timestamp.iso(millis: e.atMillis))")
                }
            }
        }

        struct End: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "end", abstract: "End the item's open inspection with its result.")
            @Argument(help: "The S10 identifier.") var item: String
            @Option(help: ArgumentHelp("One of \(InspectionService.Result.allCases.map(\.rawValue).joined(separator: ", ")).")) var result: String
            @Option(help: "What was actually found (required unless no_anomaly).") var found: String?
            @Option(help: "A substance code.") var substance: String?
            @Option(help: "The equipment used.") var equipment: String?
            @Option(help: "The station.") var station: String?
            @Option(help: "The station's id for this scan.") var scanId: String?
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    guard let r = InspectionService.Result(rawValue: result) else {
                        throw ValidationError("--result must be one of \(InspectionService.Result.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    let i = try await InspectionService(store: try await CustodyCommand.store(archive)).end(
                        item, result: r, found: found, substance: substance, equipment: equipment, station: station, clientScanID: scanId,
                        actor: archive.resolvedActor)
                    print("\(i.s10)  INSPECT_END (\(i.method), \(i.result))  \(Timestamp.iso(millis: i.startedAtMillis)) to \(Timestamp.iso(millis: i.endedAtMillis))")
                }
            }
        }
    }

    struct CorrectSeizure: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "correct-seizure", abstract: "A custody supervisor corrects a seizure's time, with a reason.",
            discussion: """
                The seizure is kept as first recorded; the correction is a new record with the old and new times and the reason, in \
                the audit log, and every report (R-LATE, the alerts) reads the corrected time. Never the seizing officer; an edit \
                more than 24 hours after the time it changes is listed in R-DQ (custody report data-quality).
                """)
        @Argument(help: "The seizure number.") var seizure: Int64
        @Option(help: "The correct time (ISO 8601 with a zone).") var seizedAt: String
        @Option(help: "Why the recorded time was wrong.") var reason: String
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let handle = try await archive.open()
                guard let store = handle.store as? any CustodyStore else { throw ArchiveError(.invalid, "this archive's store does not keep custody records") }
                let c = try await SeizureService(store: store).correctSeizedAt(seizure, to: try CustodyCommand.instant(seizedAt, "--seized-at"), reason: reason,
                                                                               actor: archive.resolvedActor, directory: handle.store)
                print("Seizure \(c.seizureID) (\(c.s10)): seized at \(Timestamp.iso(millis: c.oldAtMillis)) → \(Timestamp.iso(millis: c.newAtMillis)), "
                    + "corrected by \(c.correctedBy): \(c.reason)")
            }
        }
    }

    struct Seize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "seize", abstract: "Seize an inspected item into seized property; starts the 24-hour SEACATS clock.")
        @Argument(help: "The S10 identifier.") var item: String
        @Option(help: "Who witnessed it (not the seizing officer).") var witness: String
        @Option(help: ArgumentHelp("One of \(SeizureService.Violation.allCases.map(\.rawValue).joined(separator: ", ")).")) var violation: String
        @Option(help: "The substance.") var substance: String
        @Option(name: .customLong("net-weight-g"), help: "Net weight in grams.") var netWeight: Double
        @Option(name: .customLong("form-6051s"), help: "The CF 6051S form's number.") var form: String
        @Option(help: "The seized-property location.") var storage: String
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                guard let v = SeizureService.Violation(rawValue: violation) else {
                    throw ValidationError("--violation must be one of \(SeizureService.Violation.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let (store, directory) = try await CustodyCommand.stores(archive)
                let z = try await SeizureService(store: store).seize(
                    item, witness: witness, violation: v, substance: substance, netWeightGrams: netWeight, form6051S: form, storageLocation: storage,
                    actor: archive.resolvedActor, directory: directory)
                print("Seizure \(z.id): \(z.s10) into \(z.storageLocation) at \(Timestamp.iso(millis: z.seizedAtMillis)); enter it in SEACATS by \(Timestamp.iso(millis: z.deadlineAtMillis))")
            }
        }
    }

    struct SEACATS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "seacats", abstract: "Record the SEACATS case a seizure was entered as (after 24 hours, with a reason).")
        @Argument(help: "The seizure's number.") var seizure: Int64
        @Option(name: .customLong("case"), help: "The SEACATS case number.") var caseNumber: String
        @Option(help: "Why it is entered after the 24-hour deadline.") var lateReason: String?
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let z = try await SeizureService(store: try await CustodyCommand.store(archive)).recordSEACATS(
                    seizureID: seizure, caseNumber: caseNumber, lateReason: lateReason, actor: archive.resolvedActor)
                let late = (z.seacatsRecordedAtMillis ?? 0) > z.deadlineAtMillis
                print("Seizure \(z.id) is SEACATS case \(z.seacatsCase ?? "?")\(late ? ", entered late" : ", on time").")
            }
        }
    }

    struct Return: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "return", abstract: "Hand items back to the carrier, closing their custody episodes.",
            discussion: """
                An item never inspected goes back only with --supervisor (not you) and --reason: R-NI counts it. A seized item does not \
                go back. With --container (a return batch opened with `custody container open --out`) each item is counted into the \
                batch, whose close compares the count with the one the carrier signs for. Each item is answered on its own; the exit \
                status is 4 when any was refused.
                """)
        @Argument(help: "The S10 identifiers.") var items: [String]
        @Option(help: "The carrier taking them back (as its return batch names it, with --container).") var carrier: String
        @Option(help: "The return batch (its presentation number).") var container: Int64?
        @Option(help: "The station.") var station: String?
        @Option(help: "The supervisor allowing an uninspected return.") var supervisor: String?
        @Option(help: "Why they go back uninspected.") var reason: String?
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let (store, directory) = try await CustodyCommand.stores(archive)
                let outcomes = try await ScanService(store: store, directory: directory).record(items.map {
                    .init(text: $0, action: .returnToCarrier(carrier: carrier, supervisor: supervisor, reason: reason, batch: container), station: station)
                }, actor: archive.resolvedActor)
                var refused = 0
                for (item, outcome) in zip(items, outcomes) {
                    switch outcome {
                    case .refused(let r):
                        refused += 1
                        FileHandle.standardError.write(Data("\(item)  refused  \(r)\n".utf8))
                    default:
                        if let e = outcome.event { print("\(e.s10)  RETURNED_TO_CARRIER  \(Timestamp.iso(millis: e.atMillis))  \(e.detail ?? "")") }
                    }
                }
                if refused > 0 { throw ArchiveError(.refused, "\(refused) of \(items.count) item(s) refused") }
            }
        }
    }

    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "events", abstract: "An item's custody events, with their hashes.")
        @Argument(help: "The S10 identifier.") var item: String
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let events = try await ReceiptService(store: try await CustodyCommand.store(archive)).events(item)
                if json { print(Terminal.json(events, pretty: true)); return }
                if events.isEmpty { print("No custody events for \(item).") }
                for e in events {
                    print("\(Timestamp.iso(millis: e.atMillis))  \(e.type)  \(e.toLocation ?? "")  \(e.detail ?? "")  by \(e.actor)\(e.manualEntry ? " (typed)" : "")  \(e.hash.prefix(16))…")
                }
            }
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "report", abstract: "Reconciliation reports.",
                                                        subcommands: [NotPresented.self, NotInspected.self, Effectiveness.self, Aging.self, Latency.self, Late.self,
                                                                      Balance.self, Security.self, DataQuality.self, Detentions.self, Referrals.self, Workload.self,
                                                                      Funnel.self, AED.self, Manifests.self, Revenue.self, Decisions.self])

        struct DataQuality: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "data-quality", abstract: "R-DQ: rejected import rows by reason, corrections by user and late edits, typed entries, the OIG's defect classes.",
                discussion: DataQualityReport.definitionText)
            @Option(help: "The period's start (ISO 8601 with a zone).") var from: String
            @Option(help: "The period's end, exclusive (ISO 8601 with a zone).") var to: String
            @Flag(help: "Print JSON.") var json = false
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let r = try await DataQualityService(store: try await CustodyCommand.store(archive)).report(
                        from: try CustodyCommand.instant(from, "--from"), to: try CustodyCommand.instant(to, "--to"))
                    if json { print(Terminal.json(r, pretty: true)); return }
                    print("\(r.facts.events) custody events, \(r.facts.manualEntries) typed by hand; arrivals without a date \(r.facts.arrivalsWithoutDate), "
                        + "inspections without a date \(r.facts.inspectionsWithoutDate), inspections before arrival \(r.facts.inspectionsBeforeArrival)")
                    for i in r.imports {
                        print("  import \(i.importID) \(i.file): \(i.rows) rows, \(i.added) added, \(i.rejected) rejected "
                            + "(\(i.rejectedByCode.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))")
                    }
                    for (user, n) in r.correctionsByUser.sorted(by: { $0.key < $1.key }) { print("  corrections by \(user): \(n)") }
                    for e in r.lateEdits { print("  late edit: seizure \(e.seizure) \(e.field) \(e.old) → \(e.new) by \(e.by) at \(e.at): \(e.reason)") }
                }
            }
        }

        struct Security: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "security", abstract: "R-SEC: items placed in rooms that do not lock or are not alarmed, days without a security check, seized items moved without a witness.",
                discussion: SecurityReport.definitionText)
            @Option(help: "The first day's start (ISO 8601 with a zone).") var from: String
            @Option(help: "The period's end, exclusive (ISO 8601 with a zone).") var to: String
            @Flag(help: "Print JSON.") var json = false
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let r = try await SecurityService(store: try await CustodyCommand.store(archive)).report(
                        from: try CustodyCommand.instant(from, "--from"), to: try CustodyCommand.instant(to, "--to"))
                    if json { print(Terminal.json(r, pretty: true)); return }
                    print("\(r.heldInWeakLocations.count) placed in weak locations, \(r.missingChecks.count) days without a check, "
                        + "\(r.failedChecks.count) failed checks, \(r.seizedWithoutWitness.count) seized-item events without a witness")
                    for p in r.heldInWeakLocations { print("  weak       \(p.s10)  \(p.event) at \(p.location) (\(p.why))  \(p.at)") }
                    for c in r.missingChecks { print("  no check   \(c.location)  \(c.day)") }
                    for c in r.failedChecks { print("  failed     \(c.location)  \(c.day)  \(c.finding)  by \(c.checkedBy ?? "?")") }
                    for p in r.seizedWithoutWitness { print("  NO WITNESS \(p.s10)  \(p.event)  \(p.at)") }
                }
            }
        }

        struct Balance: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "balance", abstract: "R-BAL: a day's custody balance, the unaccounted items, and containers against their declared counts.",
                discussion: BalanceReport.definitionText)
            @Option(help: "The UTC day (YYYY-MM-DD).") var day: String
            @Flag(help: "Print JSON.") var json = false
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    guard let d = CivilDate(day) else { throw ValidationError("--day \(day) is not a date (YYYY-MM-DD)") }
                    let r = try await BalanceService(store: try await CustodyCommand.store(archive)).balance(dayStart: Int64(d.dayNumber) * 86_400_000)
                    if json { print(Terminal.json(r, pretty: true)); return }
                    print("Custody balance for \(r.day)")
                    print("  opening \(r.opening) + received \(r.received) + from lab \(r.fromLab) − returned \(r.returned) − to agency \(r.toAgency) "
                        + "− destroyed \(r.destroyed) − to seized property \(r.toSeizedProperty) − to lab \(r.toLab) = expected closing \(r.expectedClosing)")
                    if let counted = r.counted {
                        print("  counted \(counted) at \(r.auditedLocations.joined(separator: ", ")); discrepancy \(r.discrepancy ?? 0)")
                        for u in r.unaccounted { print("    unaccounted \(u.s10)  last \(u.lastEvent) at \(u.lastLocation ?? "?") by \(u.lastHolder), \(u.lastAt)") }
                        for u in r.seenNotExpected { print("    seen, not expected \(u.s10)  last \(u.lastEvent) by \(u.lastHolder), \(u.lastAt)") }
                    } else {
                        print("  no cycle count that day (custody audit); nothing to compare")
                    }
                    for c in r.containers where c.difference != 0 || c.closedAt == nil {
                        print("  container \(c.container) (presentation \(c.id)): declared \(c.declared), scanned \(c.scanned), difference \(c.difference)"
                            + (c.closedAt == nil ? ", still open" : "") + (c.note.map { ", note: \($0)" } ?? ""))
                    }
                }
            }
        }

        struct Effectiveness: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "effectiveness", abstract: "R-EFF: per rule version, targeted, presented, inspected, hits and their rates.",
                discussion: "T = targets targeted in [from, to); P = T received by as_of; I = P inspected by as_of; H = I seized by as_of. "
                    + "Hit rate = |H| ÷ |I| (the OIG's detection rate).")
            @OptionGroup var period: ReportPeriod
            @Flag(help: "Print JSON.") var json = false
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let r = try await ReconciliationService(store: try await CustodyCommand.store(archive)).effectiveness(
                        from: try period.start(), to: try period.end(), asOf: try period.moment())
                    if json { print(Terminal.json(r, pretty: true)); return }
                    func pct(_ v: Double?) -> String { v.map { String(format: "%.2f %%", $0) } ?? "—" }
                    print("As of \(r.asOf)")
                    for row in r.rules + [r.total] {
                        print("  \(row.rule.padding(toLength: 18, withPad: " ", startingAt: 0)) targeted \(row.targeted), presented \(row.presented) (\(pct(row.presentationRate))), "
                            + "inspected \(row.inspected) (\(pct(row.inspectionRate))), hits \(row.hits) (hit rate \(pct(row.hitRate)))")
                    }
                }
            }
        }

        struct NotInspected: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "not-inspected", abstract: "R-NI: targets presented but not inspected.")
            @OptionGroup var period: ReportPeriod
            @Flag(help: "Print JSON.") var json = false
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let r = try await ReconciliationService(store: try await CustodyCommand.store(archive)).notInspected(
                        from: try period.start(), to: try period.end(), asOf: try period.moment())
                    if json { print(Terminal.json(r, pretty: true)); return }
                    print("As of \(r.asOf): \(r.inCustody.count + r.returnedUninspected.count) presented and not inspected: \(r.inCustody.count) still in custody, "
                        + "\(r.returnedUninspected.count) returned to the carrier uninspected")
                    for row in r.inCustody { print("  in custody  \(row.s10)  \(row.rule)  received \(row.receivedAt)") }
                    for row in r.returnedUninspected {
                        print("  returned    \(row.s10)  \(row.rule)  received \(row.receivedAt)  returned \(row.returnedAt ?? "?")  \(row.returnDetail ?? "")")
                    }
                }
            }
        }

        struct Late: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "late", abstract: "R-LATE: seizures not entered in SEACATS within 24 hours, and those overdue.",
                discussion: "Exactly 24 h 00 m 00 s after the seizure is on time.")
            @OptionGroup var period: ReportPeriod
            @Flag(help: "Print JSON.") var json = false
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let r = try await SeizureService(store: try await CustodyCommand.store(archive)).late(
                        from: try period.start(), to: try period.end(), asOf: try period.moment())
                    if json { print(Terminal.json(r, pretty: true)); return }
                    print("As of \(r.asOf): \(r.seizures) seizures, \(r.onTime) entered in SEACATS on time, \(r.recordedLate.count) late, "
                        + "\(r.overdueOpen.count) overdue and not entered, \(r.open.count) within their 24 hours")
                    for row in r.overdueOpen { print("  OVERDUE  seizure \(row.seizure)  \(row.s10)  seized \(row.seizedAt)  deadline \(row.deadline)  by \(row.seizingOfficer)") }
                    for row in r.recordedLate {
                        print(String(format: "  late     seizure %lld  %@  entered after %.1f h  (%@)", row.seizure, row.s10, row.hours ?? 0, row.lateReason ?? ""))
                    }
                }
            }
        }

        struct Aging: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "aging", abstract: "R-AGE: items in custody longer than N hours (a location's longest dwell overrides).")
            @OptionGroup var period: ReportPeriod
            @Option(help: "Hours in custody before an item is listed.") var hours: Int = 72
            @Flag(help: "Print JSON.") var json = false
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let r = try await InspectionService(store: try await CustodyCommand.store(archive)).aging(
                        from: try period.start(), to: try period.end(), asOf: try period.moment(), hours: hours)
                    if json { print(Terminal.json(r, pretty: true)); return }
                    print("As of \(r.asOf): \(r.inCustody) in custody, \(r.items.count) held longer than \(r.hours) h (or their location's limit)"
                        + (r.heldAsEvidence > 0 ? "; \(r.heldAsEvidence) seized and held as evidence (not aged)" : ""))
                    for i in r.items {
                        print(String(format: "  %@  received %@  at %@  %.0f h%@", i.s10, i.receivedAt, i.location ?? "?", i.heldHours, i.inspected ? "" : "  not inspected"))
                    }
                }
            }
        }

        struct Latency: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "latency", abstract: "R-LAT: days from arrival to the end of the first inspection.")
            @OptionGroup var period: ReportPeriod
            @Flag(help: "Print JSON.") var json = false
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let r = try await InspectionService(store: try await CustodyCommand.store(archive)).latency(
                        from: try period.start(), to: try period.end(), asOf: try period.moment())
                    if json { print(Terminal.json(r, pretty: true)); return }
                    print("As of \(r.asOf): \(r.received) received, \(r.inspected) inspected")
                    if let mean = r.meanDays, let median = r.medianDays, let p90 = r.p90Days, let max = r.maxDays {
                        print(String(format: "  arrival to inspection: mean %.1f d, median %.1f d, p90 %.1f d, max %.1f d", mean, median, p90, max))
                    }
                }
            }
        }

        struct NotPresented: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "not-presented", abstract: "R-NP: targets the carrier has not presented once their grace has passed.",
                discussion: NotPresentedReport.definitionText)
            @OptionGroup var period: ReportPeriod
            @Option(help: "Hours after the expected arrival before a target counts as not presented.") var graceHours: Int = 48
            @Flag(help: "Print JSON.") var json = false
            @Flag(help: "Print the re-request file for the carrier (CSV: the targets not presented) instead.") var renotify = false
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let service = ReceiptService(store: try await CustodyCommand.store(archive))
                    let r = try await service.notPresented(from: try period.start(), to: try period.end(), asOf: try period.moment(),
                                                           graceHours: graceHours)
                    if json { print(Terminal.json(r, pretty: true)); return }
                    if renotify { print(r.renotifyCSV, terminator: ""); return }
                    print("Targets \(r.from) to \(r.to), as of \(r.asOf), grace \(r.graceHours) h: \(r.targets) targeted, \(r.presented) presented, "
                        + "\(r.notPresented.count) not presented, \(r.pending.count) pending, \(r.noExpectedArrival.count) without an expected arrival")
                    for row in r.notPresented { print("  NOT PRESENTED  \(row.s10)  \(row.rule)  due \(row.dueAt)") }
                    for row in r.presentedLate { print("  late          \(row.s10)  \(row.rule)  due \(row.dueAt), received \(row.receivedAt ?? "?")") }
                }
            }
        }
    }

    struct Rule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rule", abstract: "Targeting rules, versioned.", subcommands: [Add.self, List.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "add", abstract: "Register a rule version (a version is never changed; register the next one).")
            @Argument(help: "The rule's code, as target lists name it (NARC-01).") var code: String
            @Option(help: "The version (1, 2, …).") var version: Int
            @Option(help: ArgumentHelp("One of \(TargetCategory.allCases.map(\.rawValue).joined(separator: ", ")).")) var category: String
            @Option(help: "Where it comes from (ATS, COI list, officer, canine, random).") var source: String
            @Option(help: "What it selects.") var description: String
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    guard let c = TargetCategory(rawValue: category) else {
                        throw ValidationError("--category must be one of \(TargetCategory.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    let added = try await CustodyCommand.service(archive).addRule(
                        TargetRule(code: code, version: version, category: c, source: source, description: description), actor: archive.resolvedActor)
                    print(added ? "Registered rule \(code) v\(version) (\(c.rawValue))." : "Rule \(code) v\(version) was registered already; nothing changed.")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: "List the registered rule versions.")
            @Flag(help: "Print JSON.") var json = false
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let rules = try await CustodyCommand.service(archive).rules()
                    if json { print(Terminal.json(rules, pretty: true)); return }
                    if rules.isEmpty { print("No rules yet: recordkeeper custody rule add CODE --version 1 --category … --source … --description …") }
                    for r in rules { print("\(r.code) v\(r.version)  \(r.category)  \(r.source)  \(r.description)") }
                }
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import", abstract: "Import a target list (CSV or XLSX); a dry run unless --commit.",
            discussion: """
                Columns (header row, any order): \(TargetImport.columns.joined(separator: ", ")). Required: \
                s10, rule_code, rule_version, reason_code, targeted_at, targeted_by. Times are ISO 8601 with \
                a zone (2019-06-17T08:00:00Z). A source with other columns, codes or time formats is read \
                through a registered mapping profile (--profile; recordkeeper custody profile add). An XLSX \
                workbook is read by its first sheet. Reason codes of rejected rows: S10_CHECK, S10_FORMAT, \
                DATE_INVALID, DATE_ORDER, RULE_UNKNOWN, REQUIRED_MISSING, VALUE_UNKNOWN, CSV_MALFORMED. A row \
                naming an item and rule already targeted is merged, not added. Exit status 0 either way; \
                the counts say what happened.
                """)
        @Argument(help: "The CSV or XLSX file.") var file: String
        @Option(help: ArgumentHelp("Read it through this registered mapping profile (NAME, or NAME@VERSION; default the latest version).",
                                   valueName: "name")) var profile: String?
        @Flag(help: "Store the accepted rows (and keep the rejected ones); without it nothing is written.") var commit = false
        @Option(help: "How many rejected rows to list (all with --json).") var show: Int = 20
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions

        struct Report: Encodable {
            var file: String
            var sha256: String
            var dryRun: Bool
            var alreadyImported: Bool
            var rows: Int
            var accepted: Int
            var added: Int?
            var rejected: Int
            var merged: Int
            /// Codes as values (a JSON object's keys would be re-cased by the encoder).
            var rejectedByCode: [CodeCount]
            var unknownColumns: [String]
            var rejectedRows: [RejectedRow]
            var importID: Int64?
            var mappingProfile: String?
        }

        struct CodeCount: Encodable {
            var code: String
            var rows: Int
        }

        func run() async throws {
            try await CLIError.report {
                let service = try await CustodyCommand.service(archive)
                let url = URL(fileURLWithPath: file)
                var mapping: MappingProfile?
                if let profile { mapping = try await service.profile(profile) }
                let outcome = commit ? try await service.commit(url, profile: mapping, actor: archive.resolvedActor) : try await service.dryRun(url, profile: mapping)
                let p = outcome.plan
                let report = Report(file: url.lastPathComponent, sha256: outcome.fileHash, dryRun: !commit, alreadyImported: outcome.alreadyImported,
                                    rows: p.rowsTotal, accepted: p.acceptedCount, added: commit ? (outcome.alreadyImported ? 0 : outcome.stored?.added) : nil,
                                    rejected: p.rejected.count, merged: commit && !outcome.alreadyImported ? outcome.stored?.merged ?? p.mergedDuplicates.count
                                        : p.mergedDuplicates.count,
                                    rejectedByCode: p.rejectedByCode.sorted { $0.key < $1.key }.map { CodeCount(code: $0.key, rows: $0.value) },
                                    unknownColumns: p.unknownColumns, rejectedRows: p.rejected, importID: outcome.stored?.id, mappingProfile: mapping?.label)
                if json { print(Terminal.json(report, pretty: true)); return }
                if outcome.alreadyImported, let s = outcome.stored {
                    print("\(report.file) was imported on \(s.importedAt) by \(s.importedBy) (import \(s.id)): nothing \(commit ? "added" : "would be added") now.")
                }
                if let mapping { print("Read through mapping profile \(mapping.label).") }
                print("\(report.file): \(p.rowsTotal) row\(p.rowsTotal == 1 ? "" : "s"); \(p.acceptedCount) accepted, \(p.rejected.count) rejected, \(report.merged) merged duplicate\(report.merged == 1 ? "" : "s")")
                if !p.rejectedByCode.isEmpty {
                    print("  rejected by reason: " + p.rejectedByCode.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                }
                for r in p.rejected.prefix(max(0, show)) { print("  line \(r.line)  \(r.code)  \(r.detail)") }
                if p.rejected.count > show { print("  … \(p.rejected.count - show) more (--show N, or --json)") }
                if !p.unknownColumns.isEmpty { print("  columns not read (kept with the import's record): \(p.unknownColumns.joined(separator: ", "))") }
                if commit, !outcome.alreadyImported, let s = outcome.stored {
                    print("Imported as import \(s.id): \(s.added) target\(s.added == 1 ? "" : "s") added, \(s.rejected) rejected row\(s.rejected == 1 ? "" : "s") kept as written.")
                } else if !commit {
                    print("Dry run: nothing was written. Run again with --commit to import.")
                }
            }
        }
    }

    struct Fixture: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fixture", abstract: "Write an acceptance scenario's files (deterministic by seed).")
        @Option(help: ArgumentHelp("One of \(CustodyFixtures.Scenario.allCases.map(\.rawValue).joined(separator: ", ")).")) var scenario: String
        @Option(help: "The seed.") var seed: UInt64 = 1
        @Option(help: "The directory to write into.") var out: String
        func run() async throws {
            try await CLIError.report {
                guard let s = CustodyFixtures.Scenario(rawValue: scenario.uppercased()) else {
                    throw ValidationError("--scenario must be one of \(CustodyFixtures.Scenario.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                for url in try CustodyFixtures.write(s, seed: seed, to: URL(fileURLWithPath: out)) { print(url.path) }
                for r in CustodyFixtures.rules(for: s) {
                    Terminal.note("register first: recordkeeper custody rule add \(r.code) --version \(r.version) --category \(r.category.rawValue) --source '\(r.source)' --description '\(r.description)'")
                }
            }
        }
    }
}
