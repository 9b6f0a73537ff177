import ArgumentParser
import Foundation
import Logging
import Recordkeeper
import RecordkeeperWeb

/// Live capture options, shared by `capture matrix` and `serve`.
struct MatrixOptions: ParsableArguments {
    @Option(name: .customLong("matrix-registration"), help: ArgumentHelp(
        "The Application Service registration file the homeserver was given (from `recordkeeper capture matrix-registration`).", valueName: "path"))
    var registration: String?

    @Option(name: .customLong("matrix-homeserver"), help: ArgumentHelp("The homeserver's client-server API, for media and room names.", valueName: "url"))
    var homeserver = "http://127.0.0.1:8008"

    @Option(name: .customLong("matrix-listen"), help: ArgumentHelp("Address and port the homeserver pushes events to (the registration's url).", valueName: "host:port"))
    var listen = "127.0.0.1:9009"

    @Option(name: .customLong("matrix-custodian"), help: ArgumentHelp("E-mail of the custodian the captured rooms are filed under (e.g. the records office).", valueName: "email"))
    var custodian: String?

    func service(_ handle: ArchiveHandle) throws -> MatrixAppService? {
        guard let registration else { return nil }
        guard let custodian, IngestService.isPlausibleEmailAddress(custodian) else {
            throw ValidationError("--matrix-custodian must be the e-mail address the captured rooms are filed under")
        }
        guard let url = URL(string: homeserver), url.scheme == "http" || url.scheme == "https" else {
            throw ValidationError("--matrix-homeserver must be an http(s) URL")
        }
        let parts = listen.split(separator: ":")
        guard parts.count >= 2, let port = Int(parts.last!), (0...65535).contains(port) else {
            throw ValidationError("--matrix-listen must be host:port, e.g. 127.0.0.1:9009")
        }
        let file = URL(fileURLWithPath: registration)
        if let mode = (try? FileManager.default.attributesOfItem(atPath: file.path))?[.posixPermissions] as? NSNumber, mode.intValue & 0o077 != 0 {
            Terminal.note("warning: \(registration) can be read by other users; it holds the tokens the homeserver and the archive trust (chmod 600)")
        }
        let config = MatrixCaptureConfiguration(homeserver: url, registration: try MatrixRegistration.load(file), custodian: custodian)
        let capture = MatrixCaptureService(archive: handle, configuration: config)
        return MatrixAppService(capture: capture, host: parts.dropLast().joined(separator: ":"), port: port)
    }
}

struct CaptureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Capture live from a messaging server (Matrix).",
        subcommands: [CaptureMatrixCommand.self, MatrixRegistrationCommand.self])
}

struct CaptureMatrixCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matrix",
        abstract: "Run as a Matrix Application Service: archive every event the homeserver pushes.",
        discussion: """
            The homeserver pushes each event as it happens (messages, edits, redactions, membership, \
            room settings); media are fetched through the media API. A redaction is archived as an \
            event of its own and the redacted original stays. Transactions are acknowledged only once \
            stored, so a stop or crash loses nothing: the homeserver sends again. `recordkeeper serve` \
            runs the same capture alongside the web UI when given --matrix-registration. \
            See docs/connectors/matrix.md.
            """)

    @OptionGroup var matrix: MatrixOptions
    @OptionGroup var archive: ArchiveOptions

    func run() async throws {
        try await CLIError.report {
            Log.bootstrap(verbose: true)
            guard matrix.registration != nil else { throw ValidationError("give --matrix-registration (see `recordkeeper capture matrix-registration`)") }
            var handle = try await archive.open(.operator)
            handle.onLockWait = nil // the server logs lock waits itself
            guard let service = try matrix.service(handle) else { return }
            var logger = Logger(label: "recordkeeper.matrix")
            logger.logLevel = .info
            let place = archive.whereDescription(handle)
            try await service.run(logger: logger) { port in
                print("Recordkeeper is capturing from \(matrix.homeserver) into \(place); listening on \(service.host):\(port)")
                print("Stop with Ctrl-C.")
                fflush(nil)
            }
        }
    }
}

struct MatrixRegistrationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matrix-registration",
        abstract: "Write an Application Service registration that captures every room.",
        discussion: """
            Give the file to the homeserver (Synapse: app_service_config_files) and to `capture matrix` \
            (--matrix-registration). Its namespaces are non-exclusive: they claim no user, alias or \
            room, they only ask the homeserver to send every event. The file holds two fresh secret \
            tokens; it is written readable by its owner only.
            """)

    @Option(help: ArgumentHelp("Where the homeserver reaches the archive (the --matrix-listen address).", valueName: "url"))
    var url = "http://127.0.0.1:9009"

    @Option(help: "The Application Service's id on the homeserver.")
    var id = "recordkeeper"

    @Option(name: .customLong("sender-localpart"), help: "Local part of the service's own Matrix user.")
    var senderLocalpart = "recordkeeper"

    @Option(name: .shortAndLong, help: ArgumentHelp("File to write (refuses to overwrite).", valueName: "path"))
    var output: String

    func run() async throws {
        try await CLIError.report {
            guard !FileManager.default.fileExists(atPath: output) else { throw ValidationError("\(output) exists; registrations are not overwritten (their tokens are in use)") }
            let yaml = try MatrixRegistration.capturingEverything(id: id, url: url, senderLocalpart: senderLocalpart).yaml()
            guard FileManager.default.createFile(atPath: output, contents: Data(yaml.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write \(output)")
            }
            print("Wrote \(output). Add it to the homeserver's app_service_config_files and restart the homeserver.")
        }
    }
}
