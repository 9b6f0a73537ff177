import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Recordkeeper
import ServiceLifecycle
import UnixSignals

/// The Application Service API a Matrix homeserver calls (spec: Application Service API,
/// `/_matrix/app/v1`): transactions are archived through `MatrixCaptureService`; user and room
/// queries are answered "not found" (this service creates nothing on the homeserver); pings
/// are answered. It listens on its own address, apart from the web UI: only the homeserver
/// talks to it, with the registration's `hs_token`.
public struct MatrixAppService: Sendable {
    public let capture: MatrixCaptureService
    public var host: String
    public var port: Int
    /// A transaction's body is at most this large (Synapse sends at most 100 events).
    public var maxBodyBytes = 64 << 20

    public init(capture: MatrixCaptureService, host: String = "127.0.0.1", port: Int = 9009) {
        self.capture = capture
        self.host = host
        self.port = port
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: ["errcode": code, "error": message])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static let ok = Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))

    func token(_ request: Request) -> String? {
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") { return String(header.dropFirst(7)) }
        // Homeservers before the v1.4 spec sent the token as a query parameter.
        return request.uri.queryParameters.get("access_token")
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        let capture = self.capture
        let maxBody = maxBodyBytes
        @Sendable func guarded(_ request: Request, _ body: () async throws -> Response) async -> Response {
            guard let token = token(request) else { return Self.error(.unauthorized, "M_UNAUTHORIZED", "no hs_token") }
            guard capture.authorized(token) else { return Self.error(.forbidden, "M_FORBIDDEN", "wrong hs_token") }
            do { return try await body() } catch {
                // The homeserver keeps the transaction and sends it again later.
                return Self.error(.internalServerError, "M_UNKNOWN", "the archive could not store this transaction; send it again")
            }
        }
        router.put("/_matrix/app/v1/transactions/:txnId") { request, context -> Response in
            await guarded(request) {
                let id = try context.parameters.require("txnId")
                let body = try await request.body.collect(upTo: maxBody)
                _ = try await capture.receive(transactionID: id, body: Data(body.readableBytesView))
                return Self.ok
            }
        }
        router.get("/_matrix/app/v1/users/:userId") { request, _ -> Response in
            await guarded(request) { Self.error(.notFound, "M_NOT_FOUND", "this application service creates no users") }
        }
        router.get("/_matrix/app/v1/rooms/:alias") { request, _ -> Response in
            await guarded(request) { Self.error(.notFound, "M_NOT_FOUND", "this application service creates no rooms") }
        }
        router.post("/_matrix/app/v1/ping") { request, _ -> Response in
            await guarded(request) { Self.ok }
        }
        return router
    }

    /// Runs on its own until SIGINT or SIGTERM (`recordkeeper capture matrix`).
    public func run(logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        do {
            // Captured rooms become searchable behind capture, as under `serve`.
            var config = ServiceGroupConfiguration(services: [application(logger: logger, onRunning: onRunning),
                                                              BackgroundIndexer(archive: capture.archive, logger: logger)],
                                                   gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            config.maximumGracefulShutdownDuration = .seconds(10) // a stuck transaction cannot keep the process alive
            config.maximumCancellationDuration = .seconds(5)
            try await ServiceGroup(configuration: config).run()
        } catch let e as IOError where e.errnoCode == EADDRINUSE || e.errnoCode == EACCES {
            throw IngestError(.notFound, "cannot listen on \(host):\(port) (\(e.errnoCode == EADDRINUSE ? "already in use" : "not permitted")); give --matrix-listen another port")
        }
    }

    public func application(logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> Application<RouterResponder<BasicRequestContext>> {
        Application(router: router(), configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
                    onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: logger)
    }
}
