import Foundation
import Archive
import Hummingbird
import Logging
import NIOCore
import RecordkeeperCore

/// Who is making a request, and how they proved it.
public struct Principal: Sendable {
    public enum Method: Sendable, Equatable {
        /// A browser session; `csrf` is the session's form token.
        case session(id: String, csrf: String)
        /// An API token (scripts); no cookie, so no CSRF exposure.
        case token(id: Int64)
    }
    public var user: UserAccount
    public var method: Method

    /// The actor written to the audit log: the user name, which the records-law services also
    /// look up to check roles (request logs add which token was used).
    public var actor: String { user.name }

    public var csrf: String? { if case .session(_, let csrf) = method { return csrf } else { return nil } }

    public func has(_ role: UserRole) -> Bool { user.has(role) }

    /// Roles that may read record content. A custodian reads only their own.
    public var readsContent: Bool { user.has(.recordsOfficer) || user.has(.reviewer) || user.has(.custodian) }

    /// Set when this user may see only one custodian's records.
    public var onlyCustodian: String? {
        if user.has(.recordsOfficer) || user.has(.reviewer) { return nil }
        return user.has(.custodian) ? (user.custodianEmail ?? "\u{0}no-custodian") : nil
    }
}

/// The request context of every route: Hummingbird's core storage plus the signed-in principal.
public struct WebContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?
    /// The client's address, for login throttling (nil in router tests).
    public var remoteIP: String
    /// Who the request turned out to be, for the request log (which runs outside the middleware
    /// that finds out, so it reads it from this per-request box).
    let signedIn = SignedInBox()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteIP = source.channel.remoteAddress?.ipAddress ?? "local"
    }

    /// Bodies decoded whole (forms, JSON) stay small; uploads stream and have their own limit.
    public var maxUploadSize: Int { 1 << 20 }
}

/// The signed-in user's name, set once per request by `AuthMiddleware`.
final class SignedInBox: @unchecked Sendable {
    private let lock = NSLock()
    private var name: String?
    var user: String? {
        get { lock.withLock { name } }
        set { lock.withLock { name = newValue } }
    }
}
