import Archive
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Recordkeeper
import RecordkeeperCore

extension WebApp {
    static func auditFilter(_ q: Form) -> AuditFilter {
        AuditFilter(actor: q["actor"], action: q["action"], target: q["target"], from: q["from"], to: q["to"],
                    beforeSequence: q["before"].flatMap { Int64($0) }, limit: q["limit"].flatMap { Int($0) }.map { max(1, min($0, 500)) } ?? 100)
    }

    func addAuditRoutes(_ r: RouteBuilder) {
        r.add(.get, "/audit", Access.auditors, "The audit log, newest first, with filters", limited: true) { input in
            let p = try input.user
            let filter = Self.auditFilter(input.query)
            let entries = try await self.archive.store.auditEntries(filter)
            try await self.archive.store.appendReadAudit(AuditDraft(actor: p.actor, action: "audit.view", target: "audit",
                                                                detail: ["filter": input.request.uri.query ?? ""]))
            return Respond.html(self.auditPage(p, filter: filter, entries: entries, query: input.query))
        }
        r.add(.post, "/audit/verify", Access.auditors, "Verify now: every hash, anchor and the audit chain", limited: true) { input in
            let p = try input.user
            let report = try await VerifyService(archive: self.archive).verify(actor: p.actor)
            return Respond.html(self.verifyPage(p, report))
        }
    }

    func auditPage(_ p: Principal, filter f: AuditFilter, entries: [AuditEntry], query: Form) -> HTML {
        let rows = entries.html { e in """
            <tr><td class="num">\(e.sequence)</td><td>\(e.at)</td><td>\(e.actor)</td><td>\(e.action)</td>
            <td>\(Self.targetLink(e.target))</td><td><code>\(e.detail)</code></td></tr>
            """ }
        var older: HTML = .empty
        if let last = entries.last, entries.count == f.limit {
            older = "<nav class=\"pager\" aria-label=\"Audit pages\"><a rel=\"next\" href=\"/audit?\(URLQuery.string([("actor", f.actor), ("action", f.action), ("target", f.target), ("from", f.from), ("to", f.to), ("limit", f.limit == 100 ? nil : String(f.limit)), ("before", String(last.sequence))]))\">Older entries</a></nav>"
        }
        return pages.page("Audit log", principal: p, current: "/audit", """
            <form method="post" action="/audit/verify" class="inline">\(pages.csrfField(p))
            <button type="submit" id="verify-now">Verify now</button> <span class="hint">Recomputes every hash and checks the whole chain; takes a while on a large archive.</span></form>
            <form method="get" action="/audit" class="filters">
            <p><label for="actor">Who</label><input id="actor" name="actor" value="\(f.actor ?? "")"></p>
            <p><label for="action">Action (or prefix ending in a dot, e.g. hold.)</label><input id="action" name="action" value="\(f.action ?? "")"></p>
            <p><label for="target">Target (e.g. message:42)</label><input id="target" name="target" value="\(f.target ?? "")"></p>
            <p><label for="from">From (UTC day)</label><input id="from" name="from" type="date" value="\(f.from ?? "")"></p>
            <p><label for="to">To (UTC day)</label><input id="to" name="to" type="date" value="\(f.to ?? "")"></p>
            <p><button type="submit">Filter</button></p></form>
            <table id="audit-table"><caption>\(entries.count) entries, newest first</caption><thead><tr><th scope="col">#</th><th scope="col">When (UTC)</th><th scope="col">Who</th>
            <th scope="col">Action</th><th scope="col">Target</th><th scope="col">Detail</th></tr></thead><tbody>\(rows)</tbody></table>
            \(older)
            """)
    }

    static func targetLink(_ target: String) -> HTML {
        let parts = target.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let id = Int64(parts[1]) else { return "\(target)" }
        switch parts[0] {
        case "message": return "<a href=\"/messages/\(id)\">\(target)</a>"
        case "conversation": return "<a href=\"/conversations/\(id)\">\(target)</a>"
        case "hold": return "<a href=\"/holds/\(id)\">\(target)</a>"
        case "batch": return "<a href=\"/batches/\(id)\">\(target)</a>"
        case "disposition": return "<a href=\"/dispositions/\(id)\">\(target)</a>"
        default: return "\(target)"
        }
    }

    func verifyPage(_ p: Principal, _ r: VerificationReport) -> HTML {
        let problems = r.problems.prefix(200).html { pr in "<li><strong>\(pr.code)</strong> \(pr.item): \(pr.detail)</li>" }
        return pages.page("Verification", principal: p, current: "/audit", """
            <p class="\(r.ok ? "ok" : "error")" role="status" id="verify-result">\(r.ok ? "Everything verified: no problems found." : "\(r.problems.count) problem(s) found.")</p>
            <dl class="facts"><dt>Files (blobs) checked</dt><dd>\(Fmt.count(r.blobsChecked)) (\(Fmt.bytes(r.blobBytes)))</dd>
            <dt>Messages checked</dt><dd>\(Fmt.count(r.messagesChecked))</dd><dt>Capture batches checked against their anchors</dt><dd>\(Fmt.count(r.batchesChecked))</dd>
            <dt>Dispositions checked</dt><dd>\(Fmt.count(r.dispositionsChecked))</dd><dt>Audit entries checked</dt><dd>\(Fmt.count(r.auditEntriesChecked))</dd>
            <dt>Audit chain head</dt><dd><code>\(r.auditHead ?? "—")</code></dd><dt>Time</dt><dd>\(String(format: "%.1f", r.seconds)) s</dd></dl>
            \(r.problems.isEmpty ? .empty : "<h2>Problems</h2><ul>\(problems)</ul>" as HTML)
            <p><a href="/audit">Back to the audit log</a></p>
            """)
    }

    func addAdminRoutes(_ r: RouteBuilder) {
        r.add(.get, "/admin/users", Access.admins, "Users and roles") { input in
            let p = try input.user
            return Respond.html(self.usersPage(p, try await UserService(archive: self.archive).list(), logins: try await self.archive.store.logins(user: nil),
                                               notice: Notice.from(input.query), error: nil))
        }
        r.add(.post, "/admin/users", Access.admins, "Add a user or change their roles (and set a password)") { input in
            let p = try input.user
            let f = input.form
            do {
                let roles = f.all("roles").compactMap(UserRole.init(rawValue:))
                let user = try await UserService(archive: self.archive).save(name: f["name"] ?? "", displayName: f["display_name"], roles: roles,
                                                                            custodianEmail: f["custodian_email"], actor: p.actor)
                if let pw = f.fields.first(where: { $0.0 == "password" })?.1, !pw.isEmpty {
                    try await self.credentials.setPassword(user: user.name, password: pw, actor: p.actor, actingAs: p.user)
                    try await self.sessions.endAll(user: user.name)
                }
                return Respond.seeOther("/admin/users" + Notice.userSaved.query)
            } catch let e as ArchiveError where e.code == .invalid {
                return Respond.html(self.usersPage(p, try await UserService(archive: self.archive).list(), logins: try await self.archive.store.logins(user: nil),
                                                   notice: nil, error: e.message), status: .badRequest)
            }
        }
    }

    func usersPage(_ p: Principal, _ users: [UserAccount], logins: [UserLogin], notice: String?, error: String?) -> HTML {
        // How each user is known besides a password: OS accounts for the command line, single sign-on.
        let linked = Dictionary(grouping: logins, by: { $0.user.lowercased() })
        let rows = users.html { u in
            let ways = (linked[u.name.lowercased()] ?? []).map { $0.kind == .osAccount ? "OS account \($0.subject)" : "single sign-on" }
            return """
                <tr><td>\(u.name)</td><td>\(u.displayName)</td><td>\(u.roles.map(\.rawValue).joined(separator: ", "))</td><td>\(u.custodianEmail ?? "—")</td><td>\(ways.isEmpty ? "—" : ways.joined(separator: "; "))</td><td>\(u.createdAt.prefix(10))</td></tr>
                """
        }
        return pages.page("Users", principal: p, current: "/admin/users", notice: notice, """
            <table><thead><tr><th scope="col">User</th><th scope="col">Name</th><th scope="col">Roles</th><th scope="col">Custodian</th><th scope="col">Also signs in by</th><th scope="col">Since</th></tr></thead><tbody>\(rows)</tbody></table>
            <h2>Add a user or change one</h2>
            \(error.map { "<p class=\"error\" role=\"alert\">\($0)</p>" as HTML })
            <form method="post" action="/admin/users" class="stack narrow">\(pages.csrfField(p))
            <p><label for="name">User name (one word)</label><input id="name" name="name" required></p>
            <p><label for="display_name">Full name</label><input id="display_name" name="display_name"></p>
            <fieldset><legend>Roles</legend>\(UserRole.allCases.html { r in
                "<p class=\"check\"><input type=\"checkbox\" id=\"role-\(r.rawValue)\" name=\"roles\" value=\"\(r.rawValue)\"><label for=\"role-\(r.rawValue)\">\(r.rawValue)</label></p>" })</fieldset>
            <p><label for="custodian_email">Custodian e-mail (custodian role only)</label><input id="custodian_email" name="custodian_email" type="email"></p>
            <p><label for="password">New password (leave empty to keep)</label><input id="password" name="password" type="password" autocomplete="new-password"></p>
            <p><button type="submit">Save user</button></p></form>
            """)
    }
}
