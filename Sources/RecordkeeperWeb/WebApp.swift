import Archive
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import Metrics
import NIOCore
import NIOSSL
import Prometheus
import Recordkeeper
import RecordkeeperCore
import ServiceLifecycle
import UnixSignals

/// How `recordkeeper serve` runs.
public struct WebConfiguration: Sendable {
    /// 127.0.0.1 unless told otherwise: the archive is not on the network until an operator says so.
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// PEM certificate chain and private key; both or neither.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// bcrypt work factor for passwords set through the server.
    public var bcryptCost: UInt8 = 12
    /// Largest export accepted in one upload.
    public var maxUploadBytes: Int64 = 4 << 30
    /// After SIGTERM or SIGINT, how long in-flight requests may run before they are cancelled;
    /// the process then stops within `shutdownCancellation` more, whatever a request is doing.
    public var shutdownGrace: Duration = .seconds(10)
    public var shutdownCancellation: Duration = .seconds(5)
    /// Where custody alerts are pushed (nil: not pushed; `GET /api/v1/custody/alerts` and the
    /// custody page show them either way), and the secret their bodies are signed with.
    public var custodyAlertWebhook: URL?
    public var custodyAlertSecret: String?
    /// Single sign-on through an OpenID Connect provider, when set up (`--oidc-config`).
    public var oidc: OIDCConfiguration?
    /// Per-user limits on expensive routes (searches, reports, verify, uploads).
    public var requestLimits = RequestLimitConfiguration()
    /// A connection that has sent no complete request for this long is closed (a client that
    /// trickles its headers cannot hold a connection open, nor one that stalls its body); 0: never.
    public var idleTimeoutSeconds: Int = 30
    /// Most connections open at once (0: from the open-file limit). Past it new connections wait
    /// in the listen queue: a flood of slow clients makes others wait, but never exhausts the
    /// process's file descriptors (libdispatch ends the process when it cannot open a file).
    public var maxConnections: Int = 0
    public var tls: Bool { tlsCertificate != nil }
    public init() {}
}

/// The web UI and the JSON API over one archive.
public final class WebApp: Sendable {
    public let archive: ArchiveHandle
    public let configuration: WebConfiguration
    public let sessions: SessionStore
    public let throttle: LoginThrottle
    public let credentials: CredentialService
    public let metrics: PrometheusCollectorRegistry
    /// The identity provider, when single sign-on is set up.
    let singleSignOn: OIDCClient?
    /// Captured messages not yet in the search index, and how long the oldest has waited.
    let indexLagMessages: Prometheus.Gauge
    let indexLagSeconds: Prometheus.Gauge
    let pages = Pages()
    /// The custody alerts of a recent moment, shared by this instance's readers.
    let alertBoard = CustodyAlertBoard()
    /// This instance's per-user request limits.
    let limiter: RequestLimiter

    public init(archive: ArchiveHandle, configuration: WebConfiguration = WebConfiguration(),
                metrics: PrometheusCollectorRegistry = WebApp.sharedMetrics) {
        var archive = archive
        if archive.onLockWait == nil {
            // A request waiting for the write lock says so in the server log (whom it waits for; no content).
            let log = Logger(label: "recordkeeper.web")
            archive.onLockWait = { log.warning("archive.write_lock.waiting", metadata: ["archive.write_lock": "\($0)"]) }
        }
        self.archive = archive
        self.configuration = configuration
        self.sessions = SessionStore(store: archive.store)
        self.throttle = LoginThrottle(store: archive.store)
        self.credentials = CredentialService(archive: archive, cost: configuration.bcryptCost)
        self.metrics = metrics
        self.singleSignOn = configuration.oidc.map { OIDCClient(configuration: $0) }
        self.limiter = RequestLimiter(configuration.requestLimits)
        indexLagMessages = metrics.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "recordkeeper", metricName: "index_lag", unitName: "messages", helpText: "Captured messages not yet in the search index"))
        indexLagSeconds = metrics.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "recordkeeper", metricName: "index_lag", unitName: "seconds", helpText: "Age of the oldest captured message not yet in the search index"))
        pages.links.install(router().1)
    }

    /// One registry per process, bootstrapped into swift-metrics once (Hummingbird's
    /// MetricsMiddleware records into it).
    public static let sharedMetrics: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// The router with every route, and the route table it was built from.
    public func router() -> (Router<WebContext>, [RouteSpec]) {
        let router = Router(context: WebContext.self)
        router.add(middleware: SecurityHeadersMiddleware(tls: configuration.tls))
        router.add(middleware: RequestLogMiddleware(pages: pages))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: AuthMiddleware(sessions: sessions, credentials: credentials))
        let store = archive.store
        let routes = RouteBuilder(router: router, limiter: limiter, onLimited: { principal, spec in
            // Once a minute per user at most: the audit log is not a place to count requests.
            _ = try? await store.appendAudit(AuditDraft(actor: principal.actor, action: "refused", target: "route:\(spec.method) \(spec.path)",
                                                        detail: ["reason": "rate limit"]))
        }) { principal, spec, request in
            // Denials of signed-in users are audited (probing is worth knowing about).
            guard let principal else { return }
            _ = try? await store.appendAudit(AuditDraft(actor: principal.actor, action: "refused", target: "route:\(spec.method) \(spec.path)",
                                                        detail: ["attempted": "\(request.method) \(request.uri.path)", "reason": "role"]))
        }
        addSystemRoutes(routes)
        addSingleSignOnRoutes(routes)
        addAccountRoutes(routes)
        addRecordRoutes(routes)
        addUploadRoutes(routes)
        addHoldRoutes(routes)
        addDispositionRoutes(routes)
        addAuditRoutes(routes)
        addAdminRoutes(routes)
        addComplianceRoutes(routes)
        addAPIRoutes(routes)
        addCustodyRoutes(routes)
        addDetentionRoutes(routes)
        addFunnelRoutes(routes)
        addOutcomeRoutes(routes)
        addDetentionPages(routes)
        return (router, routes.specs)
    }

    /// The route table alone (for tests and docs).
    public var routeTable: [RouteSpec] { router().1 }

    /// The plain-HTTP application (tests drive this one through HummingbirdTesting).
    public func application(logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> Application<RouterResponder<WebContext>> {
        Application(router: router().0, server: .http1(configuration: http1Configuration), configuration: applicationConfiguration,
                    onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: logger)
    }

    var http1Configuration: HTTP1Channel.Configuration {
        HTTP1Channel.Configuration(idleTimeout: configuration.idleTimeoutSeconds > 0 ? .seconds(Int64(configuration.idleTimeoutSeconds)) : nil)
    }

    var applicationConfiguration: ApplicationConfiguration {
        ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: nil,
                                 availableConnectionsDelegate: MaximumAvailableConnections(Self.connectionLimit(configuration.maxConnections)))
    }

    /// The connection cap: the configured one, or half of what the open-file limit leaves after
    /// 256 for the store, blobs and scratch files (the soft limit is raised to the hard one
    /// first), between 64 and 10,000.
    static func connectionLimit(_ configured: Int) -> Int {
        if configured > 0 { return configured }
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1000 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = min(limit.rlim_max, 1 << 20)
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let available = Int(clamping: limit.rlim_cur) - 256
        return min(10_000, max(64, available / 2))
    }

    /// Serves until SIGINT or SIGTERM, then lets in-flight requests finish for
    /// `shutdownGrace`, cancels what is left and stops (one ServiceGroup, bounded graceful
    /// shutdown: a request stuck waiting can never keep the process alive). `onRunning`
    /// receives the bound port.
    /// `alongside`: live Matrix capture, run in the same ServiceGroup on its own address.
    public func run(logger: Logger, alongside matrix: MatrixAppService? = nil, onMatrixRunning: @escaping @Sendable (Int) async -> Void = { _ in },
                    onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let extra = matrix.map { [$0.application(logger: logger, onRunning: onMatrixRunning)] } ?? []
        do { try await runServer(logger: logger, services: extra, onRunning: onRunning) } catch let e as IOError where e.errnoCode == EADDRINUSE || e.errnoCode == EACCES {
            let what = e.errnoCode == EADDRINUSE ? "is already in use" : "needs privileges this process does not have"
            throw ArchiveError(.invalid, "port \(configuration.port) on \(configuration.host) \(what); stop what uses it, or pass --port N (0 picks a free port)")
        }
    }

    func runServer(logger: Logger, services: [Application<RouterResponder<BasicRequestContext>>], onRunning: @escaping @Sendable (Int) async -> Void) async throws {
        guard let cert = configuration.tlsCertificate else {
            var app = application(logger: logger, onRunning: onRunning)
            for s in services { app.addServices(s) }
            addBackground(to: &app, logger: logger)
            try await runGroup(app, logger: logger)
            return
        }
        guard let keyPath = configuration.tlsKey else { throw ArchiveError(.invalid, "--tls-certificate needs --tls-key too") }
        let chain: [NIOSSLCertificateSource]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw ArchiveError(.invalid, "cannot read the TLS certificate or key (PEM files expected): \(cert), \(keyPath)")
        }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        var app = Application(router: router().0, server: try .tls(.http1(configuration: http1Configuration), tlsConfiguration: tls), configuration: applicationConfiguration,
                              onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: logger)
        for s in services { app.addServices(s) }
        addBackground(to: &app, logger: logger)
        try await runGroup(app, logger: logger)
    }

    /// The jobs `serve` runs beside the web server: the indexer, the capture findings' incidents,
    /// the hourly checkpoint, Object Lock (with a locking blob store), the custody alert pusher (with a webhook)
    /// and the chaining of reads' audit entries.
    func addBackground<R>(to app: inout Application<R>, logger: Logger) {
        app.addServices(BackgroundIndexer(archive: archive, logger: logger))
        app.addServices(BackgroundReadAudits(archive: archive, logger: logger))
        app.addServices(BackgroundFindings.job(archive: archive, logger: logger))
        app.addServices(BackgroundCheckpoints.job(archive: archive, logger: logger))
        if archive.blobs is any LockingBlobStore { app.addServices(BackgroundObjectLock.job(archive: archive, logger: logger)) }
        if let push = alertPush { app.addServices(BackgroundAlertPush(push: push, logger: logger)) }
    }

    /// The custody alert pusher, when a webhook is configured.
    var alertPush: CustodyAlertPush? {
        configuration.custodyAlertWebhook.map { CustodyAlertPush(archive: archive, webhook: $0, secret: configuration.custodyAlertSecret) }
    }

    /// Hummingbird's `runService()` waits for in-flight requests without limit; this group gives
    /// them `shutdownGrace`, then cancels them.
    func runGroup(_ app: some Service, logger: Logger) async throws {
        var config = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        config.maximumGracefulShutdownDuration = configuration.shutdownGrace
        config.maximumCancellationDuration = configuration.shutdownCancellation
        try await ServiceGroup(configuration: config).run()
    }
}
