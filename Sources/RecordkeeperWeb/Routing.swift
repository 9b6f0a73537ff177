import Archive
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RecordkeeperCore

/// Who may call a route.
public enum Access: Sendable, Hashable, CustomStringConvertible {
    /// Anyone, signed in or not (sign-in page, health, metrics, static files).
    case open
    /// Any signed-in user.
    case signedIn
    /// Users holding at least one of these roles.
    case roles(Set<UserRole>)

    public func allows(_ user: UserAccount?) -> Bool {
        switch self {
        case .open: return true
        case .signedIn: return user != nil
        case .roles(let roles): return user.map { u in roles.contains(where: u.has) } ?? false
        }
    }

    public var description: String {
        switch self {
        case .open: return "anyone"
        case .signedIn: return "signed in"
        case .roles(let r): return r.map(\.rawValue).sorted().joined(separator: ", ")
        }
    }

    /// Reading record content: reviewers, records officers, and custodians (their own records).
    static let readers: Access = .roles([.reviewer, .recordsOfficer, .custodian])
    static let recordsStaff: Access = .roles([.reviewer, .recordsOfficer])
    static let officers: Access = .roles([.recordsOfficer])
    static let auditors: Access = .roles([.auditor, .admin])
    static let admins: Access = .roles([.admin])
}

/// One route as the route table declares it: the test that walks every route × role, the
/// OpenAPI check and the docs read this table.
public struct RouteSpec: Sendable, Hashable {
    public var method: String
    /// Hummingbird's form: `/messages/:id`.
    public var path: String
    public var access: Access
    public var summary: String
    /// Expensive: under the per-user request limits (`RequestLimitConfiguration`).
    public var limited: Bool = false
    public var isAPI: Bool { path.hasPrefix("/api/") }
    /// The OpenAPI form: `/messages/{id}`.
    public var openAPIPath: String {
        path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
    }
}

/// A parsed `application/x-www-form-urlencoded` body or query string.
public struct Form: Sendable {
    public var fields: [(String, String)]

    public init(fields: [(String, String)]) { self.fields = fields }

    public init(encoded: String) {
        fields = encoded.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    public subscript(_ name: String) -> String? {
        fields.first(where: { $0.0 == name }).map { $0.1.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    public func all(_ name: String) -> [String] {
        fields.filter { $0.0 == name }.map { $0.1.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    public func flag(_ name: String) -> Bool { ["on", "true", "1", "yes"].contains(self[name]?.lowercased() ?? "") }
}

/// What a handler receives: the request, its context, the principal (nil only on open routes),
/// the query and, for a POSTed form, its fields (already checked for the CSRF token).
public struct Input: Sendable {
    public var request: Request
    public var context: WebContext
    public var principal: Principal?
    public var query: Form
    public var form: Form

    /// The principal of a route that requires one.
    public var user: Principal {
        get throws {
            guard let principal else { throw HTTPError(.unauthorized) }
            return principal
        }
    }

    public func id(_ name: String = "id") throws -> Int64 {
        guard let v = context.parameters.get(name), let n = Int64(v), n > 0 else {
            throw ArchiveError(.notFound, "that address names no record (expected a number)")
        }
        return n
    }
}

public typealias Handler = @Sendable (Input) async throws -> Response

/// Registers routes on a router while recording them in the route table; wraps each handler with
/// its role check and, for state-changing requests from a browser session, the CSRF check.
final class RouteBuilder {
    let router: Router<WebContext>
    private(set) var specs: [RouteSpec] = []
    let onDenied: @Sendable (Principal?, RouteSpec, Request) async -> Void
    let limiter: RequestLimiter
    let onLimited: @Sendable (Principal, RouteSpec) async -> Void

    init(router: Router<WebContext>, limiter: RequestLimiter, onLimited: @escaping @Sendable (Principal, RouteSpec) async -> Void,
         onDenied: @escaping @Sendable (Principal?, RouteSpec, Request) async -> Void) {
        self.router = router
        self.limiter = limiter
        self.onLimited = onLimited
        self.onDenied = onDenied
    }

    /// Upload routes stream their body: their CSRF token travels in the `X-CSRF-Token` header or
    /// the `csrf` query parameter instead of the body.
    enum Body { case form, stream }

    /// `limited`: the route costs real work (a search, a report, a verify, an upload) and is
    /// under the per-user request limits.
    func add(_ method: HTTPRequest.Method, _ path: String, _ access: Access, _ summary: String, body: Body = .form, limited: Bool = false,
             _ handler: @escaping Handler) {
        let spec = RouteSpec(method: method.rawValue, path: path, access: access, summary: summary, limited: limited)
        specs.append(spec)
        let onDenied = self.onDenied
        let limiter = self.limiter
        let onLimited = self.onLimited
        router.on(RouterPath(path), method: method) { request, context -> Response in
            let principal = context.principal
            guard access.allows(principal?.user) else {
                await onDenied(principal, spec, request)
                if principal == nil { throw WebError.signInRequired }
                throw WebError.forbidden
            }
            let query = Form(encoded: request.uri.query ?? "")
            var form = Form(fields: [])
            if method == .post {
                let contentType = request.headers[.contentType]?.lowercased() ?? ""
                if body == .form, contentType.hasPrefix("application/x-www-form-urlencoded") {
                    let buffer = try await request.body.collect(upTo: context.maxUploadSize)
                    form = Form(encoded: String(buffer: buffer))
                }
            }
            // Every state-changing method from a browser session carries the session's token.
            if method != .get, method != .head, let csrf = principal?.csrf {
                let presented = request.headers[HTTPField.Name("X-CSRF-Token")!] ?? query["csrf"] ?? (body == .form ? form["csrf"] : nil)
                guard let presented, Secrets.equal(presented, csrf) else { throw WebError.csrf }
            }
            let input = Input(request: request, context: context, principal: principal, query: query, form: form)
            guard limited, let principal else { return try await handler(input) }
            let key = "user:" + principal.user.name
            if case .refused(let wait, let report) = await limiter.begin(key) {
                if report { await onLimited(principal, spec) }
                throw WebError.rateLimited(retryAfter: wait)
            }
            do {
                let response = try await handler(input)
                await limiter.end(key)
                return response
            } catch {
                await limiter.end(key)
                throw error
            }
        }
    }
}

/// Errors the web layer raises itself.
public enum WebError: Error, Sendable {
    case signInRequired
    case forbidden
    case csrf
    case tooManyAttempts(retryAfter: Int)
    /// Past the per-user limit on expensive requests.
    case rateLimited(retryAfter: Int)
    case badRequest(String)
    case tooLarge(String)
}
