import Archive
import ArgumentParser
import Custody
import Foundation
import Recordkeeper
import RecordkeeperCore

/// Detentions, the addressee notice queue and the particulars' privacy controls (issue 15, AT6).
extension CustodyCommand {
    static func detentions(_ archive: ArchiveOptions) async throws -> (DetentionService, any ArchiveStore) {
        let handle = try await archive.open()
        guard let store = handle.store as? any CustodyStore & CustodyPrivacyStore else {
            throw ArchiveError(.invalid, "this archive's store does not keep detentions")
        }
        return (DetentionService(store: store, keyFile: AddresseeKey.location(dataDirectory: handle.directory.url)), handle.store)
    }

    static func describe(_ d: StoredDetention) -> String {
        var s = "Detention \(d.id): \(d.s10) detained \(Timestamp.iso(millis: d.detainedAtMillis)) by \(d.detainedBy) (\(d.violationType), \(d.reasonCode), contents \(d.contentsCategory))"
        if let sent = d.noticeSentAtMillis { s += "\n  notice sent \(Timestamp.iso(millis: sent)) by \(d.noticeSentBy ?? "?"), answer due \(d.responseDueAtMillis.map { Timestamp.iso(millis: $0) } ?? "?")" }
        if let r = d.response { s += "\n  answer: \(r) (\(d.responseAtMillis.map { Timestamp.iso(millis: $0) } ?? "?"))" }
        if let disp = d.disposition {
            s += "\n  disposed of: \(disp) \(d.disposedAtMillis.map { Timestamp.iso(millis: $0) } ?? "?") by \(d.disposedBy ?? "?")" + (d.witness.map { ", witness \($0)" } ?? "")
        } else {
            s += "\n  open"
        }
        return s
    }

    struct Detention: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "detention", abstract: "Detained items and the notice to their addressee.",
            discussion: """
                An officer detains an inspected item (`detain`); a notice clerk records the notice with the addressee's \
                particulars (`notice`: sealed with the key in $\(AddresseeKey.environmentVariable), else keys/addressee.key in the \
                data directory) and the answer (`respond`); an officer disposes of it (`dispose`: released, forwarded, or \
                abandoned_destroyed with a witness once the addressee consented or the answer period ran out). The particulars \
                are shown in clear only to a notice clerk or privacy officer, every read audited (`addressee`).
                """,
            subcommands: [Detain.self, Notice.self, Respond.self, Dispose.self, Show.self, Addressee.self])

        struct Detain: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "detain", abstract: "Detain an inspected item for a notice to its addressee.")
            @Argument(help: "The S10 identifier.") var item: String
            @Option(help: ArgumentHelp("One of \(SeizureService.Violation.allCases.map(\.rawValue).joined(separator: ", ")).")) var violation: String
            @Option(help: ArgumentHelp("One of \(StoredDetention.reasons.joined(separator: ", ")).")) var reason: String
            @Option(help: ArgumentHelp("One of \(StoredDetention.contentsCategories.joined(separator: ", ")) (no brand or dose).")) var contents: String
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let (service, _) = try await CustodyCommand.detentions(archive)
                    let d = try await service.detain(item, violation: violation, reason: reason, contents: contents, actor: archive.resolvedActor)
                    print(CustodyCommand.describe(d))
                }
            }
        }

        struct Notice: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "notice", abstract: "Record the notice with the addressee's particulars (sealed); prints the notice.")
            @Argument(help: "The detention's number.") var detention: Int64
            @Flag(help: ArgumentHelp("Read the particulars as JSON from standard input ({\"name\": …, \"address_lines\": […], \"postcode\": …}); "
                                     + "arguments are visible to other users of this machine (ps) and kept in shell history.")) var stdin = false
            @Option(help: "The addressee's name (prefer --stdin).") var name: String?
            @Option(name: .customLong("address-line"), help: "A line of the address (repeat for each line).") var addressLines: [String] = []
            @Option(help: "The postal code.") var postcode: String?
            @Option(help: "Days the addressee has to answer.") var answerDays = DetentionService.defaultAnswerDays
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let particulars: AddresseeParticulars
                    if stdin {
                        do { particulars = try JSONDecoder().decode(AddresseeParticulars.self, from: FileHandle.standardInput.readDataToEndOfFile()) } catch {
                            throw ArchiveError(.invalid, "standard input is not the particulars as JSON: {\"name\": …, \"address_lines\": […], \"postcode\": …}")
                        }
                    } else {
                        guard let name, let postcode else { throw ValidationError("give the particulars with --stdin (or --name, --address-line and --postcode)") }
                        particulars = AddresseeParticulars(name: name, addressLines: addressLines, postcode: postcode)
                    }
                    let (service, directory) = try await CustodyCommand.detentions(archive)
                    try await CustodyCommand.requireRole(directory, archive.resolvedActor, [.noticeClerk], "record a notice")
                    let (_, notice) = try await service.sendNotice(detention, to: particulars, answerDays: answerDays, actor: archive.resolvedActor)
                    print(notice, terminator: "")
                }
            }
        }

        struct Respond: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "respond", abstract: "Record the addressee's answer to the notice.")
            @Argument(help: "The detention's number.") var detention: Int64
            @Option(help: ArgumentHelp("One of \(StoredDetention.responses.joined(separator: ", ")).")) var response: String
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let (service, directory) = try await CustodyCommand.detentions(archive)
                    try await CustodyCommand.requireRole(directory, archive.resolvedActor, [.noticeClerk], "record an answer")
                    print(CustodyCommand.describe(try await service.recordResponse(detention, response: response, actor: archive.resolvedActor)))
                }
            }
        }

        struct Dispose: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "dispose", abstract: "Close a detention: released, forwarded, or abandoned_destroyed (with a witness).")
            @Argument(help: "The detention's number.") var detention: Int64
            @Option(help: ArgumentHelp("One of \(StoredDetention.dispositions.joined(separator: ", ")).")) var disposition: String
            @Option(help: "For a destruction: who witnessed it (a registered user, not you).") var witness: String?
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let (service, directory) = try await CustodyCommand.detentions(archive)
                    print(CustodyCommand.describe(try await service.dispose(detention, disposition: disposition, witness: witness, actor: archive.resolvedActor,
                                                                           directory: directory)))
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "show", abstract: "A detention and its steps (not the particulars).")
            @Argument(help: "The detention's number.") var detention: Int64
            @Flag(help: "Print JSON.") var json = false
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let handle = try await archive.open()
                    guard let store = handle.store as? any CustodyPrivacyStore, let d = try await store.detention(id: detention) else {
                        throw ArchiveError(.notFound, "no detention \(detention)")
                    }
                    let status = try await store.addresseeStatus(detentionIDs: [detention])[detention] ?? .none
                    if json { print(Terminal.json(d, pretty: true)); return }
                    print(CustodyCommand.describe(d) + "\n  addressee particulars: \(status.rawValue)")
                }
            }
        }

        struct Addressee: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "addressee", abstract: "The addressee's particulars: in clear for a notice clerk or privacy officer (audited), else masked.",
                discussion: "Exits 4 when the particulars were purged (only the tombstone remains).")
            @Argument(help: "The detention's number.") var detention: Int64
            @Option(help: ArgumentHelp("Why you read them (written to the audit log): \(DetentionService.readPurposes.joined(separator: ", ")).")) var purpose: String
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let (service, directory) = try await CustodyCommand.detentions(archive)
                    let reader = try await directory.user(name: archive.resolvedActor)
                    let view = try await service.view(detention, reader: reader, actor: archive.resolvedActor, purpose: purpose)
                    switch view.addressee {
                    case .shown(let a): print(([a.name] + a.addressLines + [a.postcode]).joined(separator: "\n"))
                    case .masked:
                        print("\(AddresseeParticulars.mask) (masked: reading the particulars needs the notice-clerk or privacy-officer role)")
                    case .purged(let t):
                        Terminal.note("the particulars were purged (purge \(t.purgeID.map(String.init) ?? "?")); tombstone sealed_sha256 \(t.sealedSHA256)")
                        throw ExitCode(4)
                    case .none: print("no particulars: no notice was recorded")
                    }
                }
            }
        }
    }

    /// Refuses (and audits the refusal) unless `actor` is a registered user with one of `roles`.
    static func requireRole(_ directory: any ArchiveStore, _ actor: String, _ roles: [UserRole], _ what: String) async throws {
        if let user = try await directory.user(name: actor), roles.contains(where: { user.has($0) }) { return }
        try await directory.appendAudit(AuditDraft(actor: actor, action: "refused", target: "custody-privacy", detail: ["what": what]))
        throw ArchiveError(.refused, "only a registered user with the \(roles.map(\.rawValue).joined(separator: " or ")) role may \(what); act as one with an API token or a linked OS account (`recordkeeper user whoami`)")
    }

    struct Privacy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "privacy", abstract: "The addressee particulars' inventory, retention and purge (privacy officer).",
            subcommands: [Inventory.self, Retention.self, Purge.self, Certificate.self])

        struct Inventory: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "inventory", abstract: "The privacy inventory (fields, purpose, retention, access, storage) for a privacy threshold analysis.")
            @Flag(help: "Print JSON.") var json = false
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let (service, _) = try await CustodyCommand.detentions(archive)
                    let inv = try await service.inventory()
                    if json { print(Terminal.json(inv, pretty: true)); return }
                    print(inv.system)
                    for e in inv.elements { print("  \(e.field): \(e.description); purpose: \(e.purpose)") }
                    print("  not collected: \(inv.notCollected.joined(separator: ", "))")
                    print("  retention: \(inv.retention)")
                    print("  access: \(inv.access.joined(separator: ", ")); \(inv.accessNote)")
                    print("  storage: \(inv.storage)")
                    print("  held \(inv.recordsHeld), purged \(inv.recordsPurged) in \(inv.purges) purge(s)")
                }
            }
        }

        struct Retention: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "retention", abstract: "Set the days particulars are kept after their detention's disposition.")
            @Argument(help: "Days (1 to 3650).") var days: Int
            @Option(help: "Why (written to the audit log).") var reason: String
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let (service, directory) = try await CustodyCommand.detentions(archive)
                    try await CustodyCommand.requireRole(directory, archive.resolvedActor, [.privacyOfficer], "set the particulars' retention")
                    try await service.setRetention(days: days, reason: reason, actor: archive.resolvedActor)
                    print("Addressee particulars are now kept \(days) days after their detention's disposition.")
                }
            }
        }

        struct Purge: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "purge", abstract: "Purge the particulars past their retention (run daily, e.g. from cron); --dry-run lists them.",
                discussion: "Each purged record leaves a tombstone (the SHA-256 of what was sealed); the purge writes a disposal certificate.")
            @Flag(help: "List what is due; purge nothing.") var dryRun = false
            @Flag(help: "Print JSON (with the certificate).") var json = false
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let (service, directory) = try await CustodyCommand.detentions(archive)
                    if !dryRun { try await CustodyCommand.requireRole(directory, archive.resolvedActor, [.privacyOfficer], "purge addressee particulars") }
                    let r = try await service.purge(actor: archive.resolvedActor, dryRun: dryRun)
                    // A destruction is followed by a signed checkpoint naming it (issue 16).
                    if let p = r.purge {
                        try await CheckpointService(archive: try await archive.open()).signIfSigning(vouching: ["custody-pii-purge:\(p.id)"], reason: "addressee purge",
                                                                                                    actor: archive.resolvedActor)
                    }
                    if json { print(Terminal.json(r, pretty: true)); return }
                    let verb = dryRun ? "due" : "purged"
                    print("\(r.due.count) record(s) \(verb) (retention \(r.retentionDays) days: disposed of at or before \(r.cutoff))")
                    for t in r.due { print("  detention \(t.detentionID)  \(t.s10)  disposed of \(Timestamp.iso(millis: t.disposedAtMillis))") }
                    if let p = r.purge { print("Purge \(p.id), digest \(p.digest); certificate: recordkeeper custody privacy certificate \(p.id)") }
                }
            }
        }

        struct Certificate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "certificate", abstract: "Print a purge's disposal certificate (JSON).")
            @Argument(help: "The purge's number.") var purge: Int64
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let handle = try await archive.open()
                    guard let store = handle.store as? any CustodyPrivacyStore,
                          let p = try await store.addresseePurges().first(where: { $0.id == purge }) else { throw ArchiveError(.notFound, "no purge \(purge)") }
                    print(p.certificate)
                }
            }
        }
    }
}

extension CustodyCommand.Report {
    struct Detentions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "detentions", abstract: "R-DET: detained items waiting for their notice, and notices past their answer date not disposed of.")
        @OptionGroup var period: CustodyCommand.ReportPeriod
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let handle = try await archive.open()
                guard let store = handle.store as? any CustodyPrivacyStore else { throw ArchiveError(.invalid, "this archive's store does not keep detentions") }
                let r = try await DetentionService.queue(store, from: try period.start(), to: try period.end(), asOf: try period.moment())
                if json { print(Terminal.json(r, pretty: true)); return }
                print("\(r.detentions) detention(s), \(r.open) open: \(r.noticePending.count) without a notice, \(r.pastDue.count) past the answer date; \(r.disposed) disposed of")
                for x in r.noticePending { print(String(format: "  NOTICE PENDING  detention %lld  %@  detained %@  %.1f h", x.detention, x.s10, x.detainedAt, x.ageHours)) }
                for x in r.pastDue { print("  PAST DUE  detention \(x.detention)  \(x.s10)  answer was due \(x.responseDueAt ?? "?")  answer: \(x.response ?? "none")") }
            }
        }
    }
}

extension CustodyCommand {
    struct Profile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "profile", abstract: "Mapping profiles: how a source's target list maps onto the canonical columns.",
            discussion: "See docs/custody/targets.md for the profile's JSON (columns, constants, date_format, time_zone, excel_serial_dates, values).",
            subcommands: [Add.self, List.self, Show.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "add", abstract: "Register a profile version from its JSON file (kept unchanged; a change is a new version).")
            @Argument(help: "The profile's JSON file.") var file: String
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    guard let data = FileManager.default.contents(atPath: file) else { throw ArchiveError(.notFound, "no file at \(file)") }
                    let (p, added) = try await CustodyCommand.service(archive).addProfile(data, actor: archive.resolvedActor)
                    print(added ? "Registered mapping profile \(p.label): \(p.columns.count) column(s)\(p.constants.map { ", \($0.count) constant(s)" } ?? "")."
                                : "Mapping profile \(p.label) is registered already, with this definition.")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: "The registered profile versions.")
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let all = try await CustodyCommand.service(archive).profiles()
                    if all.isEmpty { print("No mapping profiles registered."); return }
                    for p in all { print("\(p.label)  registered \(p.createdAt) by \(p.createdBy)  sha256 \(p.sha256.prefix(16))") }
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "show", abstract: "A profile's definition (JSON).")
            @Argument(help: "NAME or NAME@VERSION.") var profile: String
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    print(Terminal.json(try await CustodyCommand.service(archive).profile(profile), pretty: true))
                }
            }
        }
    }
}

extension CustodyCommand {
    static func referrals(_ archive: ArchiveOptions) async throws -> (ReferralService, any ArchiveStore) {
        let handle = try await archive.open()
        guard let store = handle.store as? any CustodyStore & CustodyReferralStore else {
            throw ArchiveError(.invalid, "this archive's store does not keep referrals")
        }
        return (ReferralService(store: store), handle.store)
    }

    static func describe(_ r: StoredReferral) -> String {
        var s = "Referral \(r.id): \(r.s10) to \(r.agency) by \(r.method), \(Timestamp.iso(millis: r.notifiedAtMillis)) by \(r.notifiedBy)"
            + (r.violationType.map { " (violation: \($0))" } ?? "")
        if let at = r.respondedAtMillis { s += "\n  answered \(Timestamp.iso(millis: at)) (recorded by \(r.respondedBy ?? "?"))" }
        if let at = r.collectedAtMillis { s += "\n  collected \(Timestamp.iso(millis: at)) (handed over by \(r.collectedBy ?? "?"))" }
        if let at = r.declinedAtMillis { s += "\n  declined \(Timestamp.iso(millis: at)): \(r.declineReason ?? "")" }
        if r.isOpen { s += "\n  open" }
        return s
    }

    struct Referral: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "referral", abstract: "Referrals of inspected items to other agencies (FDA, USDA, USPIS, HSI, DEA).",
            discussion: """
                An officer refers an item after its inspection (`refer`); the agency's answer (`answer`), its collection of the \
                item (`collect`: a TO_AGENCY custody event that ends the episode; a seized item needs a witness) or its refusal \
                (`decline`, with its reason) follow, once each. While a referral is open the item does not go back to the \
                carrier. `custody alerts` names referrals without an answer after \(ReferralService.answerDays) days; R-REF is \
                `custody report referrals`.
                """,
            subcommands: [Refer.self, Answer.self, Collect.self, Decline.self, Show.self])

        struct Refer: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "refer", abstract: "Refer an inspected item to an agency.")
            @Argument(help: "The S10 identifier.") var item: String
            @Option(help: ArgumentHelp("One of \(StoredReferral.agencies.joined(separator: ", ")).")) var agency: String
            @Option(help: ArgumentHelp("How the agency was told: \(StoredReferral.methods.joined(separator: ", ")).")) var method: String
            @Option(help: ArgumentHelp("The violation, when it is one (it then counts as a hit): \(SeizureService.Violation.allCases.map(\.rawValue).joined(separator: ", ")).")) var violation: String?
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let (service, _) = try await CustodyCommand.referrals(archive)
                    print(CustodyCommand.describe(try await service.refer(item, agency: agency, method: method, violation: violation, actor: archive.resolvedActor)))
                }
            }
        }

        struct Answer: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "answer", abstract: "Record that the agency answered.")
            @Argument(help: "The referral's number.") var referral: Int64
            @Option(help: "What it said (e.g. will collect Tuesday).") var note: String?
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let (service, _) = try await CustodyCommand.referrals(archive)
                    print(CustodyCommand.describe(try await service.recordResponse(referral, note: note, actor: archive.resolvedActor)))
                }
            }
        }

        struct Collect: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "collect", abstract: "Record the agency's collection of the item (it leaves custody).")
            @Argument(help: "The referral's number.") var referral: Int64
            @Option(help: "For a seized item: who witnessed the hand-over (a registered user, not you).") var witness: String?
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let (service, directory) = try await CustodyCommand.referrals(archive)
                    print(CustodyCommand.describe(try await service.recordCollection(referral, witness: witness, actor: archive.resolvedActor, directory: directory)))
                }
            }
        }

        struct Decline: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "decline", abstract: "Record that the agency declined the referral, with its reason.")
            @Argument(help: "The referral's number.") var referral: Int64
            @Option(help: "The agency's reason.") var reason: String
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let (service, _) = try await CustodyCommand.referrals(archive)
                    print(CustodyCommand.describe(try await service.recordDecline(referral, reason: reason, actor: archive.resolvedActor)))
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "show", abstract: "A referral and its steps.")
            @Argument(help: "The referral's number.") var referral: Int64
            @Flag(help: "Print JSON.") var json = false
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let handle = try await archive.open()
                    guard let store = handle.store as? any CustodyReferralStore, let r = try await store.referral(id: referral) else {
                        throw ArchiveError(.notFound, "no referral \(referral)")
                    }
                    print(json ? Terminal.json(r, pretty: true) : CustodyCommand.describe(r))
                }
            }
        }
    }
}

extension CustodyCommand.Report {
    struct Referrals: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "referrals", abstract: "R-REF: open referrals by agency and age; notification to collection per agency.")
        @OptionGroup var period: CustodyCommand.ReportPeriod
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let handle = try await archive.open()
                guard let store = handle.store as? any CustodyReferralStore else { throw ArchiveError(.invalid, "this archive's store does not keep referrals") }
                let r = try await ReferralService.report(store, from: try period.start(), to: try period.end(), asOf: try period.moment())
                if json { print(Terminal.json(r, pretty: true)); return }
                print("As of \(r.asOf): \(r.agencies.reduce(0) { $0 + $1.referred }) referral(s), \(r.open.count) open")
                for a in r.agencies {
                    print("  \(a.agency): \(a.referred) referred, \(a.open) open, \(a.collected) collected"
                        + (a.medianHoursToCollect.map { String(format: " (median %.1f h to collect)", $0) } ?? "") + ", \(a.declined) declined")
                }
                for o in r.open {
                    print(String(format: "  OPEN  referral %lld  %@  %@  notified %@  %.1f h  %@", o.referral, o.s10, o.agency, o.notifiedAt, o.ageHours,
                                 o.answered ? "answered" : "no answer"))
                }
            }
        }
    }
}

extension CustodyCommand.Report {
    struct Workload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "workload", abstract: "R-WORK: inspections by officer, method and equipment, with the time they took.")
        @Option(help: "The period's start (ISO 8601 with a zone).") var from: String
        @Option(help: "The period's end, exclusive (ISO 8601 with a zone).") var to: String
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let r = try await WorkloadService(store: try await CustodyCommand.store(archive)).report(
                    from: try CustodyCommand.instant(from, "--from"), to: try CustodyCommand.instant(to, "--to"))
                if json { print(Terminal.json(r, pretty: true)); return }
                print("\(r.inspections) inspection(s) ended in [\(r.from), \(r.to))")
                for (title, groups) in [("officer", r.byOfficer), ("method", r.byMethod), ("equipment", r.byEquipment)] {
                    for g in groups {
                        print(String(format: "  %@ %@: %d inspections, %.1f exam hours, median %.1f min, %d with findings", title, g.key, g.inspections, g.examHours,
                                     g.medianMinutes ?? 0, g.findings))
                    }
                }
                print("  not recorded: \(r.notRecorded.joined(separator: "; "))")
            }
        }
    }
}
