import ArgumentParser
import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore

struct CheckpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Signed checkpoints of the audit chain, and their export for an outside witness.",
        discussion: """
            A checkpoint states where the audit chain ends (its last entry and that entry's hash) and how many records and \
            files the archive holds, signed with the archive's Ed25519 key ($\(SigningKey.environmentVariable), else \
            keys/signing.key in the data directory: back it up apart from the database). The archive signs one when it is \
            created, after every capture (naming the batches), after every disposition, and every hour while `serve` runs. \
            Export them regularly to someone who keeps them (an auditor, the records officer's mail, another archive): \
            `verify --against FILE` then proves the archive still extends each one, and scripts/verify_checkpoints.py \
            checks the file's signatures and chain without the archive (python3 and openssl only).
            """,
        subcommands: [Sign.self, Export.self, List.self, RotateKey.self])

    struct Sign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sign", abstract: "Sign a checkpoint now (makes the signing key the first time).",
            discussion: """
                --vouch names a capture batch or disposition whose act stopped before it signed (verify lists it as not vouched \
                for): check what it holds first, then vouch for it here, in your name. When the archive has signed before and \
                its key file is gone, signing refuses unless --new-key says to make a new key (verify then notes the change of \
                key, and a witness's copy shows it).
                """)
        @Option(help: ArgumentHelp("A batch or disposition to vouch for (batch:12, disposition:3; batch:12@4811 for audit entry 4811 exactly, as verify names it); repeatable.", valueName: "target")) var vouch: [String] = []
        @Flag(help: "Make a new signing key if the key file is missing.") var newKey = false
        @Option(help: "Why, for the audit log.") var reason = "signed by hand"
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let handle = try await archive.open(.operator)
                let service = CheckpointService(archive: handle)
                for v in vouch where v.wholeMatch(of: /(batch|disposition|custody-pii-purge):[0-9]+(@[0-9]+)?/) == nil {
                    throw ArchiveError(.invalid, "--vouch takes batch:N, disposition:N or custody-pii-purge:N, with @ENTRY for one audit entry exactly (got \(v))")
                }
                let first = try await service.checkpoints().isEmpty
                let c = try await service.sign(vouching: vouch, reason: reason, actor: archive.resolvedActor, createKey: first || newKey)
                if json { print(Terminal.json(c, pretty: true)); return }
                let s = CheckpointStatement.parse(c.statement)!
                print("checkpoint signed (audit entry \(c.entry)): the chain up to entry \(s.sequence) ends in \(s.head); \(s.messages) records, \(s.blobs) files; key \(s.key)")
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export", abstract: "Write the signed checkpoints (one JSON object a line) for a witness to keep.")
        @Option(help: ArgumentHelp("Write to this file (default: standard output).", valueName: "file")) var out: String?
        @Option(help: ArgumentHelp("Only checkpoints recorded after this audit entry (to append to a file kept before).", valueName: "entry")) var after: Int64 = 0
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let handle = try await archive.open(.operator)
                let service = CheckpointService(archive: handle)
                let text = try await service.export(after: after)
                try await handle.store.appendReadAudit(AuditDraft(actor: archive.resolvedActor, action: "checkpoint.export", target: "archive",
                                                              detail: ["after": String(after), "lines": String(text.split(separator: "\n").count)]))
                if let out {
                    try Data(text.utf8).write(to: URL(fileURLWithPath: out))
                    Terminal.note("\(text.split(separator: "\n").count) checkpoint(s) written to \(out)")
                } else {
                    print(text, terminator: "")
                }
            }
        }
    }

    struct RotateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key",
            abstract: "Replace the signing key: the old key vouches for the new one, in the chain and in the next export.",
            discussion: """
                Needs the current key. The new key takes the old one's place in the same file (back it up again); the old \
                private key is gone. The first checkpoint under the new key carries the old key's signed statement naming \
                it, so `verify --against` and scripts/verify_checkpoints.py accept the change. A key replaced any other way \
                (the file lost and a new one made by `checkpoint sign`) is reported as a change nobody vouched for.
                """)
        @Option(help: "Why, for the audit log.") var reason = "scheduled rotation"
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let c = try await CheckpointService(archive: try await archive.open(.operator)).rotateKey(reason: reason, actor: archive.resolvedActor)
                let s = CheckpointStatement.parse(c.statement)!
                let r = c.rotation.flatMap(KeyRotation.parse)
                print("signing key rotated: \(r?.old ?? "?") → \(s.key); checkpoint signed under the new key (audit entry \(c.entry)). Back up the new key file now.")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "The signed checkpoints, oldest first.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let list = try await CheckpointService(archive: try await archive.open(.operator)).checkpoints()
                if json { print(Terminal.json(list, pretty: true)); return }
                if list.isEmpty { print("no signed checkpoints (`recordkeeper checkpoint sign` starts signing)"); return }
                for c in list {
                    guard let s = CheckpointStatement.parse(c.statement) else { print("entry \(c.entry): unreadable"); continue }
                    print("entry \(c.entry)  \(s.at)  covers 1…\(s.sequence)  \(s.messages) records  key \(s.key)  \(c.signatureValid ? "signature ok" : "SIGNATURE INVALID")"
                        + (s.vouches.isEmpty ? "" : "  vouches \(s.vouches.joined(separator: ", "))"))
                }
            }
        }
    }
}
