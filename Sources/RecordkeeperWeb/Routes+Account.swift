import Archive
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Prometheus
import Recordkeeper
import RecordkeeperCore

extension WebApp {
    func addSystemRoutes(_ r: RouteBuilder) {
        r.add(.get, "/", .open, "Start page: sends each role to its main screen") { input in
            guard let p = input.principal else { return Respond.seeOther("/login") }
            if p.readsContent { return Respond.seeOther("/search") }
            if p.has(.auditor) { return Respond.seeOther("/audit") }
            if p.has(.admin) { return Respond.seeOther("/admin/users") }
            return Respond.seeOther("/account")
        }
        r.add(.get, "/health", .open, "Liveness and store check, with the search index's lag") { _ in
            let index = try await self.archive.store.indexStatus()
            struct Health: Encodable { var status: String; var indexLagMessages: Int; var indexLagSeconds: Double }
            return try Respond.json(Health(status: "ok", indexLagMessages: index.pending, indexLagSeconds: (index.lagSeconds() * 10).rounded() / 10))
        }
        r.add(.get, "/metrics", .open, "Prometheus metrics (request counts and durations, index lag; no record content)") { _ in
            let index = try await self.archive.store.indexStatus()
            self.indexLagMessages.set(Int64(index.pending))
            self.indexLagSeconds.set(index.lagSeconds())
            var buffer: [UInt8] = []
            self.metrics.emit(into: &buffer)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        r.add(.get, "/static/app.css", .open, "Style sheet") { _ in StaticFiles.response(StaticFiles.css, type: "text/css; charset=utf-8") }
        r.add(.get, "/favicon.ico", .open, "Site icon (SVG)") { _ in StaticFiles.response(StaticFiles.icon, type: "image/svg+xml") }
        r.add(.get, "/static/app.js", .open, "Progressive enhancement script") { _ in
            StaticFiles.response(StaticFiles.js, type: "text/javascript; charset=utf-8")
        }
        r.add(.get, "/login", .open, "Sign-in form") { input in
            if input.principal != nil { return Respond.seeOther("/") }
            return Respond.html(self.loginPage(next: input.query["next"], error: nil))
        }
        r.add(.post, "/login", .open, "Sign in with user name and password") { input in
            let name = input.form["username"] ?? ""
            let next = Self.safeNext(input.form["next"])
            if let wait = try await self.throttle.retryAfter(user: name, address: input.context.remoteIP) {
                if try await self.throttle.shouldReportRefusal(user: name, address: input.context.remoteIP) {
                    try await self.archive.store.appendAudit(AuditDraft(actor: "web:anonymous", action: "login.throttled",
                                                                        target: try await self.signInTarget(name), detail: ["address": input.context.remoteIP]))
                }
                return Respond.html(self.loginPage(next: next, error: Failure(WebError.tooManyAttempts(retryAfter: wait), requestID: input.context.id).message),
                                    status: .tooManyRequests)
            }
            guard !name.isEmpty, let password = input.form.fields.first(where: { $0.0 == "password" })?.1,
                  let user = try await self.credentials.verifyPassword(user: name, password: password) else {
                try await self.throttle.failed(user: name, address: input.context.remoteIP)
                try await self.archive.store.appendAudit(AuditDraft(actor: "web:anonymous", action: "login.failed",
                                                                    target: try await self.signInTarget(name), detail: ["address": input.context.remoteIP]))
                return Respond.html(self.loginPage(next: next, error: "The user name or password is not right."), status: .unauthorized)
            }
            try await self.throttle.succeeded(user: user.name)
            let session = try await self.sessions.create(user: user.name)
            try await self.archive.store.appendAudit(AuditDraft(actor: user.name, action: "login", target: "user:\(user.name)",
                                                                detail: ["address": input.context.remoteIP]))
            var response = Respond.seeOther(next ?? "/")
            response.setCookie(Cookie(name: AuthMiddleware.cookieName, value: session.id, path: "/", secure: self.configuration.tls,
                                      httpOnly: true, sameSite: .strict))
            return response
        }
        r.add(.post, "/logout", .signedIn, "Sign out") { input in
            let p = try input.user
            if case .session(let id, _) = p.method { try await self.sessions.end(id: id) }
            try await self.archive.store.appendAudit(AuditDraft(actor: p.actor, action: "logout", target: "user:\(p.user.name)"))
            var response = Respond.seeOther("/login")
            response.setCookie(Cookie(name: AuthMiddleware.cookieName, value: "", maxAge: 0, path: "/", secure: self.configuration.tls,
                                      httpOnly: true, sameSite: .strict))
            return response
        }
    }

    /// The audit target of a failed sign-in: the account when it exists. An unknown name is
    /// often a password typed into the wrong box, so it is kept only as a short digest (enough
    /// to see one name tried again and again, never the text).
    func signInTarget(_ name: String) async throws -> String {
        if let user = try await archive.store.user(name: name) { return "user:\(user.name)" }
        return "user:unknown-" + String(Secrets.sha256Hex(name).prefix(12))
    }

    /// Only a path on this site (never `//host` or `https://…`) may follow sign-in.
    static func safeNext(_ next: String?) -> String? {
        guard let next, next.hasPrefix("/"), next.count <= 2000,
              !next.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F || $0 == "\\" }),
              !next.dropFirst().hasPrefix("/") else { return nil }
        return next
    }

    func loginPage(next: String?, error: String?) -> HTML {
        pages.page("Sign in", principal: nil, """
            \(error.map { "<p class=\"error\" role=\"alert\" id=\"login-error\">\($0)</p>" as HTML })
            <form method="post" action="/login" class="stack narrow">
            <input type="hidden" name="next" value="\(Self.safeNext(next) ?? "")">
            <p><label for="username">User name</label>
            <input id="username" name="username" autocomplete="username" required autofocus\(error == nil ? .empty : " aria-describedby=\"login-error\"" as HTML)></p>
            <p><label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required></p>
            <p><button type="submit">Sign in</button></p>
            </form>
            \(configuration.oidc.map { sso in """
                <p class="narrow"><a class="button" id="sso" href="/login/sso\(Self.safeNext(next).map { "?next=" + (OIDCClient.formEncode($0)) } ?? "")">\(sso.buttonLabel)</a></p>
                """ as HTML })
            <p class="meta">Accounts are made by an archive admin\(configuration.oidc == nil ? "" : ", or by signing on through the agency's identity provider"). Sign-in attempts are logged; repeated failures lock the account for 15 minutes.</p>
            """)
    }

    func addAccountRoutes(_ r: RouteBuilder) {
        r.add(.get, "/account", .signedIn, "Your account: password and API tokens") { input in
            let p = try input.user
            let tokens = try await self.archive.store.tokens(user: p.user.name)
            return Respond.html(self.accountPage(p, tokens: tokens, notice: Notice.from(input.query), newSecret: nil))
        }
        r.add(.post, "/account/password", .signedIn, "Change your password") { input in
            let p = try input.user
            let current = input.form.fields.first(where: { $0.0 == "current" })?.1 ?? ""
            let new = input.form.fields.first(where: { $0.0 == "new" })?.1 ?? ""
            guard new == (input.form.fields.first(where: { $0.0 == "confirm" })?.1 ?? "") else {
                throw ArchiveError(.invalid, "the new password and its confirmation differ")
            }
            // Guesses at the current password count against the same throttle as sign-in.
            if let wait = try await self.throttle.retryAfter(user: p.user.name, address: input.context.remoteIP) {
                throw WebError.tooManyAttempts(retryAfter: wait)
            }
            guard try await self.credentials.verifyPassword(user: p.user.name, password: current) != nil else {
                try await self.throttle.failed(user: p.user.name, address: input.context.remoteIP)
                throw ArchiveError(.invalid, "your current password is not right")
            }
            try await self.credentials.setPassword(user: p.user.name, password: new, actor: p.actor, actingAs: p.user)
            if case .session(let id, _) = p.method { try await self.sessions.endAll(user: p.user.name, except: id) }
            return Respond.seeOther("/account" + Notice.passwordChanged.query)
        }
        r.add(.post, "/account/tokens", .signedIn, "Create an API token (its secret is shown once)") { input in
            let p = try input.user
            let (_, secret) = try await self.credentials.createToken(user: p.user.name, label: input.form["label"] ?? "", actor: p.actor)
            let tokens = try await self.archive.store.tokens(user: p.user.name)
            return Respond.html(self.accountPage(p, tokens: tokens, notice: nil, newSecret: secret))
        }
        r.add(.post, "/account/tokens/:id/revoke", .signedIn, "Revoke one of your API tokens") { input in
            let p = try input.user
            _ = try await self.credentials.revokeToken(id: try input.id(), actor: p.actor, principal: p.user)
            return Respond.seeOther("/account" + Notice.tokenRevoked.query)
        }
    }

    func accountPage(_ p: Principal, tokens: [APIToken], notice: String?, newSecret: String?) -> HTML {
        let secretHTML: HTML = newSecret.map { s in """
            <div class="notice" role="status"><p>Your new API token — copy it now; it will not be shown again:</p>
            <p><code class="secret" id="new-token">\(s)</code></p><p>Send it as <code>Authorization: Bearer …</code> to <code>/api/v1</code>.</p></div>
            """ } ?? .empty
        let rows = tokens.html { t in """
            <tr><td>\(t.label)</td><td><code>\(t.prefix)…</code></td><td>\(t.createdAt)</td><td>\(t.lastUsedAt ?? "never")</td>
            <td>\(t.revokedAt.map { "revoked \($0)" } ?? "active")</td>
            <td>\(t.revokedAt == nil ? """
                <form method="post" action="/account/tokens/\(t.id)/revoke" class="inline">\(pages.csrfField(p))<button type="submit" data-confirm="Revoke this token? Scripts using it will stop working.">Revoke<span class="visually-hidden"> \(t.label)</span></button></form>
                """ as HTML : .empty)</td></tr>
            """ }
        return pages.page("Your account", principal: p, current: "/account", notice: notice, """
            \(secretHTML)
            <section aria-labelledby="pw"><h2 id="pw">Change password</h2>
            <form method="post" action="/account/password" class="stack narrow">\(pages.csrfField(p))
            <p><label for="current">Current password</label><input id="current" name="current" type="password" autocomplete="current-password" required></p>
            <p><label for="new">New password</label><input id="new" name="new" type="password" autocomplete="new-password" minlength="\(CredentialService.minimumPasswordLength)" required aria-describedby="pw-hint">
            <span class="hint" id="pw-hint">At least \(CredentialService.minimumPasswordLength) characters.</span></p>
            <p><label for="confirm">New password again</label><input id="confirm" name="confirm" type="password" autocomplete="new-password" required></p>
            <p><button type="submit">Change password</button></p></form></section>
            <section aria-labelledby="tok"><h2 id="tok">API tokens</h2>
            <p>Tokens let scripts call the JSON API as you, with your roles. Revoke any you no longer use.</p>
            \(tokens.isEmpty ? "<p>You have no tokens.</p>" as HTML : """
                <table><caption class="visually-hidden">Your API tokens</caption><thead><tr><th scope="col">Label</th><th scope="col">Starts</th><th scope="col">Created</th>
                <th scope="col">Last used</th><th scope="col">State</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead><tbody>\(rows)</tbody></table>
                """)
            <form method="post" action="/account/tokens" class="stack narrow">\(pages.csrfField(p))
            <p><label for="label">Label for a new token</label><input id="label" name="label" required maxlength="100" placeholder="e.g. FOIA export script"></p>
            <p><button type="submit">Create token</button></p></form></section>
            """)
    }
}

enum StaticFiles {
    static func response(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "public, max-age=3600"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
