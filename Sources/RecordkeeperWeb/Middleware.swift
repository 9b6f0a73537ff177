import Archive
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RecordkeeperCore

/// Headers on every response: a content security policy with no inline script or style, no
/// framing, no referrer across origins, no MIME sniffing, no caching of record content.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = WebContext
    let tls: Bool

    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        let h = response.headers
        var headers = h
        if headers[.contentSecurityPolicy] == nil { headers[.contentSecurityPolicy] = Self.contentSecurityPolicy }
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        headers[HTTPField.Name("Permissions-Policy")!] = "camera=(), microphone=(), geolocation=()"
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
        if tls { headers[.strictTransportSecurity] = "max-age=31536000" }
        response.headers = headers
        return response
    }
}

/// Logs each request (method, path without its query, status, time, user, request id — never a
/// query string, a form or record content), turns every error into a page or a JSON error that
/// says what to do, and never shows a stack trace.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = WebContext
    let pages: Pages

    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let requestID = context.id
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let failure = Failure(error, requestID: requestID)
            if failure.status >= 500 {
                // The type and code only: an error's text may quote what a user typed.
                context.logger.error("request failed", metadata: ["error": "\(type(of: error))",
                                                                   "code": "\((error as? ArchiveError)?.code.rawValue ?? "-")"])
            }
            response = pages.failure(failure, request: request, principal: context.principal)
        }
        response.headers[HTTPField.Name("X-Request-Id")!] = requestID
        let ms = (ContinuousClock.now - started).components
        let millis = Double(ms.seconds) * 1000 + Double(ms.attoseconds) / 1e15
        context.logger.info("\(request.method) \(request.uri.path) \(response.status.code)", metadata: [
            "ms": "\(String(format: "%.1f", millis))", "user": "\(context.signedIn.user ?? "-")",
        ])
        return response
    }
}

/// Finds who is asking: a session cookie (browser) or a bearer token (API only). Refuses
/// state-changing requests whose Origin is another site.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = WebContext
    let sessions: SessionStore
    let credentials: CredentialService
    static let cookieName = "rk_session"

    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        var context = context
        if request.method != .get, request.method != .head, let origin = request.headers[HTTPField.Name("Origin")!] {
            let host = request.head.authority ?? request.headers[HTTPField.Name("Host")!] ?? ""
            let originHost = origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init) ?? ""
            guard origin == "null" ? false : originHost.lowercased() == host.lowercased() else { throw WebError.csrf }
        }
        if let id = request.cookies[Self.cookieName]?.value, let session = try await sessions.session(id: id),
           let user = try await credentials.store.user(name: session.user) {
            context.principal = Principal(user: user, method: .session(id: session.id, csrf: session.csrf))
            context.signedIn.user = user.name
        } else if request.uri.path.hasPrefix("/api/"), let auth = request.headers[.authorization], auth.lowercased().hasPrefix("bearer ") {
            let secret = String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            guard let (user, token) = try await credentials.authenticate(token: secret) else {
                throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "unknown or revoked API token")
            }
            context.principal = Principal(user: user, method: .token(id: token.id))
            context.signedIn.user = user.name
        }
        return try await next(request, context)
    }
}
