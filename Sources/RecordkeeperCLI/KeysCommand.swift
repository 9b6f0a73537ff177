import ArgumentParser
import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "The key-encryption key that seals blobs at rest: status, sealing older blobs, rotation.",
        discussion: """
            Every attachment and original export is sealed (AES-256-GCM) under a data key of its own; the data keys are kept \
            in the database, wrapped by the key-encryption key (KEK): $\(KeyEncryptionKeyFile.environmentVariable), else \
            keys/blob.kek in the data directory (made by `init`). A disposition destroys a blob's data key before its file, \
            so no copy of the file opens again. Back the KEK up apart from the database and the blobs: without it no sealed \
            blob can be read. Instances on PostgreSQL seal only when $\(KeyEncryptionKeyFile.environmentVariable) names the \
            key they all share. See docs/operations/keys.md.
            """,
        subcommands: [Status.self, Seal.self, RotateKEK.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Whether blobs are sealed, under which KEK, and how many data keys it wraps.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let handle = try await archive.open(.operator)
                let s = try await BlobKeyService(archive: handle).status()
                if json { print(Terminal.json(s, pretty: true)); return }
                guard s.sealing, let kek = s.kekID else {
                    print("blobs are stored in the clear: set \(KeyEncryptionKeyFile.environmentVariable) to the key-encryption key every instance shares")
                    return
                }
                print("blobs are sealed; key-encryption key \(kek)")
                for (id, n) in s.keysByKEK.sorted(by: { $0.key < $1.key }) {
                    print("  \(Terminal.count(n)) data key(s) wrapped by \(id)\(id == kek ? "" : "  (not the configured key: finish the rotation)")")
                }
            }
        }
    }

    struct Seal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "seal", abstract: "Seal every blob stored in the clear before sealing began.",
            discussion: """
                Each is stored again, sealed, in place of the clear file (on S3 as a new version: a clear version that Object \
                Lock still keeps stays until the lock ends). Safe to run again; audited.
                """)
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let handle = try await archive.open(.operator)
                let r = try await BlobKeyService(archive: handle).sealClearBlobs(actor: archive.resolvedActor) { n in
                    if n % 100 == 0 { Terminal.progress("sealed \(Terminal.count(n))") }
                }
                print("sealed \(Terminal.count(r.sealed)) blob(s); \(Terminal.count(r.already)) already were")
            }
        }
    }

    struct RotateKEK: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-kek", abstract: "Re-wrap every data key under a new key-encryption key.",
            discussion: """
                Run it with the instances stopped (one still holding the old KEK cannot open what was re-wrapped). The new \
                key is read from --new-key-file, or made there (0600) if the file does not exist. With the default location \
                (keys/blob.kek) the new key takes its place and the old file is kept beside it as blob.kek.retired-DATE; with \
                $\(KeyEncryptionKeyFile.environmentVariable), point it at the new file on every instance. Destroy the old key \
                once every database backup made before the rotation has expired: the data keys those backups hold are \
                wrapped by it, and then open nothing. Interrupted, it resumes where it stopped.
                """)
        @Option(help: ArgumentHelp("The new key-encryption key (made if absent; default: beside the current one, as .new).", valueName: "file"))
        var newKeyFile: String?
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let handle = try await archive.open(.operator)
                let env = ProcessInfo.processInfo.environment[KeyEncryptionKeyFile.environmentVariable].flatMap { $0.isEmpty ? nil : $0 }
                let current = KeyEncryptionKeyFile.location(dataDirectory: handle.directory.url)
                let newURL = newKeyFile.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) } ?? current.appendingPathExtension("new")
                guard newURL.standardizedFileURL != current.standardizedFileURL else {
                    throw ArchiveError(.invalid, "--new-key-file is the current key file; name another")
                }
                let newKEK: LocalKeyEncryptionKey
                do { newKEK = try KeyEncryptionKeyFile.readOrCreate(at: newURL) } catch let f as KeyFile.Failure {
                    throw f.archiveError("the new key-encryption key", at: newURL, shape: "32 bytes in base64")
                }
                let n = try await BlobKeyService(archive: handle).rewrap(to: newKEK, actor: archive.resolvedActor)
                print("\(Terminal.count(n)) data key(s) re-wrapped under \(newKEK.id)")
                if env == nil, archive.resolvedDatabaseURL == nil {
                    let stamp = Timestamp.iso(millis: Timestamp.nowMillis()).prefix(19).replacingOccurrences(of: ":", with: "")
                    let retired = current.deletingLastPathComponent().appendingPathComponent("blob.kek.retired-\(stamp)")
                    guard rename(current.path, retired.path) == 0, rename(newURL.path, current.path) == 0 else {
                        throw ArchiveError(.storage, "the keys are re-wrapped under \(newURL.path) but it could not replace \(current.path) (errno \(errno)); "
                                           + "move it there by hand before the archive is used again")
                    }
                    print("the new key is now \(current.path); the old one is \(retired.path): back up the new one, and destroy the old "
                          + "once every database backup made before now has expired")
                } else {
                    print("now set \(KeyEncryptionKeyFile.environmentVariable)=\(newURL.path) on every instance and start them; back up the new key, "
                          + "and destroy the old one (\(current.path)) once every database backup made before now has expired")
                }
            }
        }
    }
}
