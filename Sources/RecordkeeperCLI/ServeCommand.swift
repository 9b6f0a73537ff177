import ArgumentParser
import Foundation
import Logging
import Recordkeeper
import RecordkeeperWeb

/// Options shared by `serve` and `demo`.
struct ServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Address to listen on. 127.0.0.1 keeps the archive off the network; give 0.0.0.0 (with TLS) to serve others.", valueName: "address"))
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8080

    @Option(name: .customLong("tls-certificate"), help: ArgumentHelp("PEM certificate chain; serves HTTPS and marks cookies Secure.", valueName: "path"))
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("PEM private key for --tls-certificate.", valueName: "path"))
    var tlsKey: String?

    @Option(name: .customLong("max-upload-mb"), help: "Largest export accepted in one upload, in megabytes.")
    var maxUploadMB: Int64 = 4096

    @Option(name: .customLong("custody-alert-webhook"), help: ArgumentHelp(
        "Push each new custody alert to this http(s) URL as JSON (default: $RECORDKEEPER_CUSTODY_ALERT_WEBHOOK); bodies are signed "
            + "with $RECORDKEEPER_CUSTODY_ALERT_SECRET when set.", valueName: "url"))
    var custodyAlertWebhook: String?

    @Option(name: .customLong("oidc-config"), help: ArgumentHelp(
        "Single sign-on through an OpenID Connect provider: a JSON file with issuer, client_id, redirect_url and roles "
            + "(default: $\(OIDCConfiguration.environmentVariable); docs/operations/sign-in.md).", valueName: "path"))
    var oidcConfig: String?

    @Option(name: .customLong("rate-limit"), help: ArgumentHelp(
        "Searches, reports, verifies and uploads one user may make per minute, with --rate-limit-burst at once after a quiet spell "
            + "and --rate-limit-in-flight running together; more get 429 and Retry-After (0: no limit).", valueName: "per-minute"))
    var rateLimit = RequestLimitConfiguration().perMinute

    @Option(name: .customLong("rate-limit-burst"), help: ArgumentHelp("See --rate-limit.", valueName: "requests"))
    var rateLimitBurst = RequestLimitConfiguration().burst

    @Option(name: .customLong("rate-limit-in-flight"), help: ArgumentHelp("See --rate-limit.", valueName: "requests"))
    var rateLimitInFlight = RequestLimitConfiguration().inFlight

    @Option(name: .customLong("idle-timeout"), help: ArgumentHelp(
        "Close a connection that sends no complete request, or stalls its body, for this many seconds (0: never).", valueName: "seconds"))
    var idleTimeout = WebConfiguration().idleTimeoutSeconds

    @Option(name: .customLong("max-connections"), help: ArgumentHelp(
        "Most connections open at once; more wait to be accepted (default: from the open-file limit, at most 10,000).", valueName: "n"))
    var maxConnections = 0

    func configuration() throws -> WebConfiguration {
        guard rateLimit >= 0, rateLimitBurst >= 1, rateLimitInFlight >= 1 else {
            throw ValidationError("--rate-limit must be 0 or more, --rate-limit-burst and --rate-limit-in-flight 1 or more")
        }
        guard idleTimeout >= 0 else { throw ValidationError("--idle-timeout must be 0 or more seconds") }
        guard (tlsCertificate == nil) == (tlsKey == nil) else { throw ValidationError("give --tls-certificate and --tls-key together") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        var c = WebConfiguration()
        c.host = host
        c.port = port
        c.tlsCertificate = tlsCertificate
        c.tlsKey = tlsKey
        c.maxUploadBytes = max(1, maxUploadMB) << 20
        c.requestLimits = RequestLimitConfiguration(perMinute: rateLimit, burst: rateLimitBurst, inFlight: rateLimitInFlight)
        c.idleTimeoutSeconds = idleTimeout
        guard maxConnections >= 0 else { throw ValidationError("--max-connections must be 0 (automatic) or more") }
        c.maxConnections = maxConnections
        let env = ProcessInfo.processInfo.environment
        if let path = oidcConfig ?? env[OIDCConfiguration.environmentVariable].flatMap({ $0.isEmpty ? nil : $0 }) {
            do { c.oidc = try OIDCConfiguration.load(path: path) } catch let e as ArchiveError { throw ValidationError(e.message) }
        }
        if let text = custodyAlertWebhook ?? env["RECORDKEEPER_CUSTODY_ALERT_WEBHOOK"].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), let host = url.host else {
                throw ValidationError("--custody-alert-webhook must be an http(s) URL")
            }
            guard url.scheme?.lowercased() == "https" || ["127.0.0.1", "::1", "localhost"].contains(host) else {
                throw ValidationError("--custody-alert-webhook must be https (alerts name items and officers), except to this machine")
            }
            c.custodyAlertWebhook = url
            c.custodyAlertSecret = env["RECORDKEEPER_CUSTODY_ALERT_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        }
        return c
    }

    var isLoopback: Bool { host == "127.0.0.1" || host == "::1" || host == "localhost" }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the web UI and the JSON API (/api/v1) for records, FOIA and eDiscovery staff.",
        discussion: """
            Listens on 127.0.0.1:8080 unless told otherwise. Users sign in with the passwords set by \
            `recordkeeper user password`; scripts use tokens from `recordkeeper user token create`. \
            Each request is logged to stderr with its request id (never a query or record content). \
            SIGINT or SIGTERM stops it after in-flight requests finish.
            """)

    @OptionGroup var server: ServerOptions
    @OptionGroup(title: "Live Matrix capture (optional)") var matrix: MatrixOptions
    @OptionGroup var archive: ArchiveOptions

    func run() async throws {
        try await CLIError.report {
            Log.bootstrap(verbose: true)
            let config = try server.configuration()
            var handle = try await archive.open(.operator)
            handle.onLockWait = nil // the server logs lock waits itself
            let place = archive.whereDescription(handle)
            try await Self.serve(handle, config: config, matrix: try matrix.service(handle), banner: { url in
                print("Recordkeeper is serving \(place) at \(url)")
                print("Stop with Ctrl-C.")
            })
        }
    }

    static func serve(_ handle: ArchiveHandle, config: WebConfiguration, matrix: MatrixAppService? = nil,
                      banner: @escaping @Sendable (String) -> Void) async throws {
        if !(config.host == "127.0.0.1" || config.host == "::1" || config.host == "localhost"), !config.tls {
            Terminal.note("warning: serving on \(config.host) without TLS: passwords and records would cross the network in clear. Use --tls-certificate/--tls-key or a TLS proxy.")
        }
        let users = try await handle.store.users()
        if users.isEmpty {
            Terminal.note("note: no users yet; add one with `recordkeeper user add NAME --role admin --password-stdin`")
        }
        let app = WebApp(archive: handle, configuration: config)
        var logger = Logger(label: "recordkeeper.web")
        logger.logLevel = .info
        let scheme = config.tls ? "https" : "http"
        let host = config.host.contains(":") ? "[\(config.host)]" : config.host
        try await app.run(logger: logger, alongside: matrix, onMatrixRunning: { port in
            print("Capturing from Matrix: the homeserver pushes to \(matrix?.host ?? ""):\(port)")
            fflush(nil)
        }) { port in
            banner("\(scheme)://\(host):\(port)/")
            fflush(nil)
        }
    }
}
