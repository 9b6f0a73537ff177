import Archive
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Recordkeeper
import RecordkeeperCore

/// The archive accounts single sign-on acts as. The provider is authoritative for who someone
/// is and which groups they are in; the archive for which roles a group grants (the operator's
/// `roles` setting). An identity is bound to its account by the provider's subject, never by a
/// name: a provider that reuses a user name cannot take over an account.
struct SingleSignOnAccounts {
    let store: any ArchiveStore
    let configuration: OIDCConfiguration
    static let actor = "system:sso"

    func roles(for identity: SignedOnIdentity) -> [UserRole] {
        UserRole.allCases.filter { role in identity.groups.contains { configuration.roles[$0]?.contains(role) == true } }
    }

    func account(for identity: SignedOnIdentity) async throws -> UserAccount {
        let roles = roles(for: identity)
        let groups = identity.groups.isEmpty ? "none" : identity.groups.joined(separator: ", ")
        let custodian = identity.email?.trimmingCharacters(in: .whitespaces).lowercased()
        if roles.contains(.custodian), custodian.map({ !$0.contains("@") }) ?? true {
            throw ArchiveError(.refused, "the custodian role needs an e-mail address, and the identity provider sent none")
        }
        let detail = ["issuer": identity.issuer, "subject": identity.subject]
        if let link = try await store.login(kind: .openIDConnect, subject: identity.linkSubject), var user = try await store.user(name: link.user) {
            guard !roles.isEmpty else {
                throw ArchiveError(.refused, "you are signed in as \(user.name), but none of your groups (\(groups)) grants a Recordkeeper role; ask your records officer")
            }
            let email = roles.contains(.custodian) ? custodian : nil
            var roles = roles
            // The last admin keeps the role whatever the groups say (without an admin the archive
            // would be back in set-up); the audit entry says so.
            var keptAdmin = false
            if user.has(.admin), !roles.contains(.admin),
               try await !store.users().contains(where: { $0.has(.admin) && $0.name.lowercased() != user.name.lowercased() }) {
                roles = UserRole.allCases.filter { $0 == .admin || roles.contains($0) }
                keptAdmin = true
            }
            if user.roles != roles || user.custodianEmail != email {
                let previous = user.roles
                user.roles = roles
                user.custodianEmail = email
                try await store.saveUser(user)
                try await store.appendAudit(AuditDraft(actor: Self.actor, action: "user.roles", target: "user:\(user.name)", detail: detail.merging([
                    "roles": roles.map(\.rawValue).joined(separator: ","), "previous_roles": previous.map(\.rawValue).joined(separator: ","),
                    "custodian": email ?? "", "kept_admin": keptAdmin ? "the last admin keeps the role" : "",
                ]) { $1 }))
            }
            return user
        }
        guard let name = identity.username, !name.isEmpty, name.count <= 100, !name.contains(where: { $0.isWhitespace || $0.isNewline || $0 == ":" }) else {
            throw ArchiveError(.refused, "the identity provider sent no usable \(configuration.usernameClaim) claim (one word without ':', at most 100 characters)")
        }
        if let existing = try await store.user(name: name) {
            throw ArchiveError(.refused, """
                an archive account named \(existing.name) already exists and is not linked to this sign-in; an admin can link it: \
                recordkeeper user link \(existing.name) --sso '\(identity.linkSubject)'
                """)
        }
        guard !roles.isEmpty else {
            throw ArchiveError(.refused, "none of your groups (\(groups)) grants a Recordkeeper role; ask your records officer")
        }
        let user = UserAccount(name: name, displayName: identity.name ?? name, roles: roles, createdAt: Timestamp.iso(millis: Timestamp.nowMillis()),
                               custodianEmail: roles.contains(.custodian) ? custodian : nil)
        try await store.saveUser(user)
        try await store.linkLogin(UserLogin(kind: .openIDConnect, subject: identity.linkSubject, user: user.name, createdAt: user.createdAt,
                                            createdBy: Self.actor))
        // Two first sign-ons of one name by different subjects, at once: both may have found the
        // name free. The first link made keeps the account; a later one is undone and refused.
        let links = try await store.logins(user: user.name).filter { $0.kind == .openIDConnect }
        if let first = links.min(by: { ($0.createdAt, $0.subject) < ($1.createdAt, $1.subject) }), first.subject != identity.linkSubject {
            _ = try await store.unlinkLogin(kind: .openIDConnect, subject: identity.linkSubject)
            throw ArchiveError(.refused, "an archive account named \(user.name) was just made for another sign-in; an admin can link yours: "
                               + "recordkeeper user link \(user.name) --sso '\(identity.linkSubject)'")
        }
        try await store.appendAudit(AuditDraft(actor: Self.actor, action: "user.add", target: "user:\(user.name)", detail: detail.merging([
            "roles": roles.map(\.rawValue).joined(separator: ","), "previous_roles": "", "custodian": user.custodianEmail ?? "",
        ]) { $1 }))
        return user
    }
}

extension WebApp {
    /// Holds the sign-in's `state` in the browser that started it (so an answer meant for another
    /// browser is refused); Lax, because the provider's redirect back is a cross-site navigation.
    static let stateCookie = "rk_sso_state"
    static let pendingLifetime: Int64 = 10 * 60_000

    func addSingleSignOnRoutes(_ r: RouteBuilder) {
        r.add(.get, "/login/sso", .open, "Single sign-on: off to the identity provider") { input in
            guard let sso = self.singleSignOn else { throw ArchiveError(.notFound, "single sign-on is not set up on this server") }
            let now = Timestamp.nowMillis()
            let begun: (url: String, state: String, pending: PendingSignIn)
            do { begun = try await sso.begin(next: Self.safeNext(input.query["next"]), nowMillis: now) } catch {
                Logger(label: "recordkeeper.web").error("sso.provider_unavailable", metadata: ["error": "\(error)"])
                return Respond.html(self.loginPage(next: input.query["next"], error: "Single sign-on is not available: the identity provider did not answer. "
                                                   + "Try again in a minute, or tell the archive's operator."), status: .badGateway)
            }
            try await self.archive.store.savePendingSignIn(begun.pending)
            var response = Respond.seeOther(begun.url)
            response.setCookie(Cookie(name: Self.stateCookie, value: begun.state, maxAge: Int(Self.pendingLifetime / 1000), path: OIDCConfiguration.callbackPath,
                                      secure: self.configuration.tls, httpOnly: true, sameSite: .lax))
            return response
        }
        r.add(.get, OIDCConfiguration.callbackPath, .open, "Single sign-on: the identity provider's answer") { input in
            guard let sso = self.singleSignOn else { throw ArchiveError(.notFound, "single sign-on is not set up on this server") }
            let address = input.context.remoteIP
            let clear = Cookie(name: Self.stateCookie, value: "", maxAge: 0, path: OIDCConfiguration.callbackPath, secure: self.configuration.tls,
                               httpOnly: true, sameSite: .lax)
            func fail(_ message: String, _ status: HTTPResponse.Status, reason: String, target: String = "sso") async throws -> Response {
                try await self.archive.store.appendAudit(AuditDraft(actor: "web:anonymous", action: "login.failed", target: target,
                                                                    detail: ["method": "oidc", "reason": reason, "address": address]))
                var response = Respond.html(self.loginPage(next: nil, error: message), status: status)
                response.setCookie(clear)
                return response
            }
            if let error = input.query["error"] {
                let code = String(error.prefix(100))
                return try await fail("The identity provider did not sign you in (\(code)).", .unauthorized, reason: "the provider answered \(code)")
            }
            guard let state = input.query["state"], let code = input.query["code"], state.count <= 200, code.count <= 4000 else {
                return try await fail("This sign-in answer is incomplete. Start again.", .badRequest, reason: "an incomplete answer")
            }
            guard let started = input.request.cookies[Self.stateCookie]?.value, Secrets.equal(started, state) else {
                return try await fail("This sign-in did not start in this browser, or took too long. Start again.", .badRequest,
                                      reason: "the answer's state is not this browser's")
            }
            guard let pending = try await self.archive.store.takePendingSignIn(stateHash: Secrets.sha256Hex(state),
                                                                               notBeforeMillis: Timestamp.nowMillis() - Self.pendingLifetime) else {
                return try await fail("This sign-in has expired or was already used. Start again.", .badRequest, reason: "a stale or replayed answer")
            }
            let identity: SignedOnIdentity
            do { identity = try await sso.finish(code: code, pending: pending) } catch let f as OIDCClient.Failure {
                if case .provider = f { Logger(label: "recordkeeper.web").error("sso.provider_error", metadata: ["error": "\(f)"]) }
                return try await fail("The identity provider's answer did not prove who you are. Start again; if it happens again, tell the archive's operator.",
                                      .unauthorized, reason: f.description)
            }
            let user: UserAccount
            do { user = try await SingleSignOnAccounts(store: self.archive.store, configuration: sso.configuration).account(for: identity) } catch let e as ArchiveError
                where e.code == .refused {
                return try await fail("You signed in, but cannot use the archive: \(e.message).", .forbidden, reason: e.message,
                                      target: "sso:\(identity.linkSubject)")
            }
            let session = try await self.sessions.create(user: user.name)
            try await self.archive.store.appendAudit(AuditDraft(actor: user.name, action: "login", target: "user:\(user.name)", detail: [
                "address": address, "method": "oidc", "issuer": identity.issuer, "subject": identity.subject,
            ]))
            // A page, not a redirect: the session cookie is SameSite=Strict, and a browser does not
            // send it on a redirect that a navigation from the provider's site started.
            let next = pending.next ?? "/"
            var response = Respond.html(self.pages.page("Signed in", principal: nil, """
                <meta http-equiv="refresh" content="0;url=\(next)">
                <p>Signed in as \(user.name). <a href="\(next)" id="continue">Continue</a>.</p>
                """))
            response.setCookie(Cookie(name: AuthMiddleware.cookieName, value: session.id, path: "/", secure: self.configuration.tls,
                                      httpOnly: true, sameSite: .strict))
            response.setCookie(clear)
            return response
        }
    }
}
