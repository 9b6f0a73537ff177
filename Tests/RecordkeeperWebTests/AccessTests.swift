import Archive
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Recordkeeper
import RecordkeeperCore
import RecordkeeperWeb
import Testing

@Suite("Web: sign-in, roles on every route, CSRF, secure defaults", .serialized)
struct AccessTests {
    /// Every route in the table, called as every role and signed out: a role the route does not
    /// declare gets 403 (signed out: 401), a role it declares is never turned away for its role.
    @Test func everyRouteAnswersEveryRoleAsItsTableSays() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let messageID = try await f.messageID("Crane 4")
        let routes = f.web.routeTable
        #expect(routes.count >= 40)
        let principals: [(String?, UserRole?)] = [(nil, nil)] + WebFixture.users.map { ($0.0, $0.1) }
        let checked = try await f.test { client -> Int in
            var checked = 0
            for route in routes {
                let uri = route.path
                    .replacingOccurrences(of: ":index", with: "0")
                    .replacingOccurrences(of: "/messages/:id", with: "/messages/\(messageID)")
                    .replacingOccurrences(of: "/conversations/:id", with: "/conversations/\(f.janeBatch.conversationID!)")
                    .replacingOccurrences(of: "/batches/:id", with: "/batches/\(f.janeBatch.batchID!)")
                    .replacingOccurrences(of: "/holds/:id", with: "/holds/\(f.holdID)")
                    .replacingOccurrences(of: ":id", with: "999")
                for (name, role) in principals {
                    // Signing out ends the session: each call gets its own.
                    let session: BrowserSession? = if let name { try await f.session(name) } else { nil }
                    let response = route.method != "GET"
                        ? try await client.post(uri, as: session, json: true, headers: session.map { [HTTPField.Name("X-CSRF-Token")!: $0.csrf] } ?? [:],
                                                method: HTTPRequest.Method(route.method)!)
                        : try await client.get(uri, as: session, json: true)
                    let user = name.map { n in UserAccount(name: n, displayName: n, roles: [role!], createdAt: "") }
                    let label = "\(route.method) \(route.path) as \(name ?? "anonymous") → \(response.status.code) \(response.errorCode ?? "")"
                    // Every answer, allowed or refused, page, API, asset or error, carries the security headers.
                    #expect(response.headers[.contentSecurityPolicy] != nil && response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff"
                            && response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY" && response.headers[.cacheControl] != nil, "\(label): security headers")
                    if route.access.allows(user) {
                        #expect(response.errorCode != "forbidden", "\(label)")
                        if route.access != .open { #expect(response.status != .unauthorized, "\(label)") }
                    } else if name == nil {
                        #expect(response.status == .unauthorized && response.errorCode == "sign_in_required", "\(label)")
                    } else {
                        #expect(response.status == .forbidden && response.errorCode == "forbidden", "\(label)")
                    }
                    checked += 1
                }
            }
            // A signed-out browser asking for a page is sent to sign in, and back afterwards.
            let page = try await client.get("/search?q=crane")
            #expect(page.status == .seeOther && page.location == "/login?next=%2Fsearch%3Fq%3Dcrane")
            return checked
        }
        #expect(checked == routes.count * principals.count)
        // Role denials of signed-in users are audited.
        let refused = try await f.archive.store.auditEntries(AuditFilter(actor: "dave", action: "refused", limit: 1000))
        #expect(refused.contains { $0.target == "route:GET /search" })
    }

    /// Every link every page renders for a role opens for that role: a page a role may not open
    /// is shown as text, never as a link that answers 403 (the audit log and the compliance
    /// page name records and holds an auditor may not read).
    @Test func everyLinkEachPageRendersOpensForThatRole() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let messageID = try await f.messageID("Crane 4")
        _ = try await IncidentService(archive: f.archive).open(title: "Lost WhatsApp exports", fields: .init(), actor: "alice")
        let starts = f.web.routeTable.filter { $0.method == "GET" && !$0.isAPI && !$0.path.hasPrefix("/static") && $0.path != "/metrics" }.map { route in
            route.path
                .replacingOccurrences(of: "/messages/:id", with: "/messages/\(messageID)")
                .replacingOccurrences(of: "/conversations/:id", with: "/conversations/\(f.janeBatch.conversationID!)")
                .replacingOccurrences(of: "/batches/:id", with: "/batches/\(f.janeBatch.batchID!)")
                .replacingOccurrences(of: "/holds/:id", with: "/holds/\(f.holdID)")
                .replacingOccurrences(of: ":id", with: "1")
        }
        let (followed, unlinked) = try await f.test { client -> (Int, Int) in
            var followed = 0
            var unlinked = 0
            for (name, role) in WebFixture.users {
                var seen = Set<String>()
                for start in starts {
                    let page = try await client.get(start, as: try await f.session(name))
                    guard page.status == .ok, page.headers[.contentType]?.hasPrefix("text/html") == true else { continue }
                    unlinked += page.text.components(separatedBy: "class=\"no-access\"").count - 1
                    for match in page.text.matches(of: /<a [^>]*href="(\/[^"#]*)/) {
                        let href = String(match.1).replacingOccurrences(of: "&amp;", with: "&")
                        guard !href.hasPrefix("//"), seen.insert(href).inserted else { continue }
                        let target = try await client.get(href, as: try await f.session(name))
                        #expect(target.status != .forbidden, "\(role.rawValue) \(name) was linked from \(start) to \(href), which answers 403")
                        followed += 1
                    }
                }
            }
            return (followed, unlinked)
        }
        #expect(followed > 50)
        #expect(unlinked > 0) // some pages name what a role may not open, as text
    }

    @Test func signInSetsAStrictSessionCookieAndThrottlesGuessing() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        try await f.test { client in
            let form = try await client.get("/login?next=/holds")
            #expect(form.status == .ok && form.text.contains("<label for=\"password\">Password</label>"))
            let ok = try await client.post("/login", as: nil, form: [("username", "carol"), ("password", WebFixture.password), ("next", "/holds")])
            #expect(ok.status == .seeOther && ok.location == "/holds")
            let cookie = try #require(ok.headers[.setCookie])
            #expect(cookie.hasPrefix("rk_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))
            #expect(!cookie.contains("Secure")) // plain HTTP on loopback; Secure under TLS
            let session = BrowserSession(cookie: String(cookie.split(separator: ";")[0]), csrf: "")
            #expect(try await client.get("/holds", as: session).status == .ok)

            // Only a path on this site may follow sign-in (a tab is dropped by browsers: "/\t/evil" is "//evil").
            for next in ["//evil.example/", "/\t/evil.example", "https://evil.example/", "/\\evil.example"] {
                let offsite = try await client.post("/login", as: nil, form: [("username", "carol"), ("password", WebFixture.password), ("next", next)])
                #expect(offsite.location == "/", "next=\(next)")
            }

            // Five wrong passwords lock the account for a while: even the right one is refused.
            for _ in 0..<5 {
                let bad = try await client.post("/login", as: nil, form: [("username", "alice"), ("password", "wrong password here")])
                #expect(bad.status == .unauthorized && bad.text.contains("The user name or password is not right."))
            }
            let locked = try await client.post("/login", as: nil, form: [("username", "alice"), ("password", WebFixture.password)])
            #expect(locked.status == .tooManyRequests && locked.text.contains("too many failed sign-ins"))
            // An unknown user is refused the same way, without saying the name is unknown.
            let unknown = try await client.post("/login", as: nil, form: [("username", "mallory"), ("password", WebFixture.password)])
            #expect(unknown.status == .unauthorized && unknown.text.contains("The user name or password is not right."))
        }
        let failed = try await f.archive.store.auditEntries(AuditFilter(action: "login.", limit: 100))
        #expect(failed.filter { $0.action == "login.failed" && $0.target == "user:alice" }.count == 5)
        // An unknown name (perhaps a password in the wrong box) is never written out.
        #expect(failed.contains { $0.action == "login.failed" && $0.target.hasPrefix("user:unknown-") })
        #expect(!failed.contains { $0.target.contains("mallory") || $0.detail.contains("mallory") })
        #expect(failed.contains { $0.action == "login.throttled" })
        let signedIn = try await f.archive.store.auditEntries(AuditFilter(actor: "carol", action: "login", limit: 10))
        #expect(signedIn.count == 5)
    }

    /// Two server instances on one archive (the shape of several `serve` behind a load
    /// balancer, and of a restart): a session started on one is known to the other, ends on both
    /// when signed out, and failed sign-ins through either count against the same limit.
    @Test func sessionsAndThrottlingAreSharedByEveryInstance() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        var config = WebConfiguration()
        config.bcryptCost = 4
        let other = WebApp(archive: f.archive, configuration: config)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let session = try await f.test { client in
            let ok = try await client.post("/login", as: nil, form: [("username", "carol"), ("password", WebFixture.password)])
            let cookie = try #require(ok.headers[.setCookie])
            let session = BrowserSession(cookie: String(cookie.split(separator: ";")[0]), csrf: "")
            for _ in 0..<3 { _ = try await client.post("/login", as: nil, form: [("username", "alice"), ("password", "wrong password here")]) }
            return session
        }
        // Only the hash of the cookie's secret is in the database.
        let secret = String(session.cookie.dropFirst("rk_session=".count))
        #expect(secret.count == 64)
        let files = [f.archive.directory.databaseURL, URL(fileURLWithPath: f.archive.directory.databaseURL.path + "-wal")]
        let raw = files.compactMap { try? String(contentsOf: $0, encoding: .isoLatin1) }.joined()
        #expect(raw.contains(ContentHash.of(secret).hex)) // what it stores instead (the check below can see it)
        #expect(!raw.contains(secret))
        try await other.application(logger: logger).test(.router) { client in
            let page = try await client.get("/holds", as: session)
            #expect(page.status == .ok, "the other instance does not know the session")
            let csrf = try #require(page.text.firstMatch(of: /name="csrf" value="([0-9a-f]+)"/)?.1)
            // Two more failures here make five with the three through the first instance: locked.
            for _ in 0..<2 { _ = try await client.post("/login", as: nil, form: [("username", "alice"), ("password", "wrong password here")]) }
            let locked = try await client.post("/login", as: nil, form: [("username", "alice"), ("password", WebFixture.password)])
            #expect(locked.status == .tooManyRequests)
            let out = try await client.post("/logout", as: BrowserSession(cookie: session.cookie, csrf: String(csrf)))
            #expect(out.status == .seeOther)
        }
        try await f.test { client in
            let after = try await client.get("/holds", as: session)
            #expect(after.status == .seeOther || after.status == .unauthorized, "signed out on one instance, still signed in on the other")
        }
    }

    @Test func formsWithoutTheSessionTokenOrFromAnotherSiteAreRefused() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let alice = try await f.session("alice")
        let form: [(String, String)] = [("name", "Forged hold"), ("matter", "litigation"), ("requested_by", "nobody"), ("everything", "on")]
        try await f.test { client in
            let missing = try await client.post("/holds", as: alice, form: form, csrf: false)
            #expect(missing.status == .forbidden && missing.text.contains("this form has expired or did not come from this site"))
            let wrong = try await client.post("/holds", as: alice, form: form + [("csrf", String(repeating: "0", count: 64))], csrf: false)
            #expect(wrong.status == .forbidden)
            let foreign = try await client.post("/holds", as: alice, form: form, headers: [HTTPField.Name("Origin")!: "https://evil.example"])
            #expect(foreign.status == .forbidden)
            let ok = try await client.post("/holds", as: alice, form: form)
            #expect(ok.status == .seeOther)
        }
        #expect(try await f.archive.store.holds(includeReleased: true).filter { $0.name == "Forged hold" }.count == 1)
    }

    @Test func everyResponseCarriesTheSecurityHeadersAndErrorsShowNoInternals() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let carol = try await f.session("carol")
        try await f.test { client in
            let page = try await client.get("/search?q=crane", as: carol)
            let csp = try #require(page.headers[.contentSecurityPolicy])
            #expect(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"))
            #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin")
            #expect(page.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            #expect(page.headers[.cacheControl] == "no-store")
            #expect(page.headers[HTTPField.Name("X-Request-Id")!] != nil)
            // No inline script or style anywhere: the CSP would block it.
            #expect(!page.text.contains("<script>") && !page.text.contains("style=") && !page.text.contains(" onclick="))
            // A page number past any end is clamped, not trusted (no overflow).
            let far = try await client.get("/conversations/\(f.janeBatch.conversationID!)?page=9223372036854775807", as: carol)
            #expect(far.status == .ok && far.text.contains("Crane 4 is down again"))
            // Status lines come from fixed codes; a link cannot put its own words on a page.
            let forged = try await client.get("/holds?notice=Your+account+is+suspended", as: carol)
            #expect(!forged.text.contains("suspended"))
            let missing = try await client.get("/messages/987654", as: carol)
            #expect(missing.status == .notFound && missing.text.contains("Request ") && !missing.text.contains("SQLite"))
            let nowhere = try await client.get("/no/such/page", as: carol)
            #expect(nowhere.status == .notFound)
            let health = try await client.get("/health")
            #expect(health.status == .ok && health.text == "{\"index_lag_messages\":0,\"index_lag_seconds\":0,\"status\":\"ok\"}")
            let metrics = try await client.get("/metrics")
            #expect(metrics.status == .ok && metrics.text.contains("hb_requests") && !metrics.text.contains("crane"))
            #expect(metrics.text.contains("recordkeeper_index_lag_messages 0") && metrics.text.contains("recordkeeper_index_lag_seconds 0"))
        }
    }

    @Test func aCustodianSeesOnlyTheirOwnRecords() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let jane = try await f.session("jane")
        let samsMessage = try await f.messageID("The manifest for vessel Aurora")
        try await f.test { client in
            let search = try await client.get("/api/v1/search?q=manifest", as: jane)
            let hits = try #require(try search.json()["hits"] as? [[String: Any]])
            #expect(hits.count == 2 && hits.allSatisfy { $0["custodian"] as? String == WebFixture.jane })
            // Asking for another custodian's record by id, or filtering to them, shows nothing.
            #expect(try await client.get("/messages/\(samsMessage)", as: jane).status == .notFound)
            #expect(try await client.get("/conversations/\(f.samBatch.conversationID!)", as: jane).status == .notFound)
            let filtered = try await client.get("/api/v1/search?q=manifest&custodian=\(WebFixture.sam)", as: jane)
            #expect((try filtered.json()["hits"] as? [[String: Any]])?.allSatisfy { $0["custodian"] as? String == WebFixture.jane } == true)
            let convs = try await client.get("/api/v1/conversations", as: jane)
            #expect((try convs.json()["conversations"] as? [[String: Any]])?.count == 1)
            // Her own record shows no holds or who read it: that could reveal an investigation.
            let own = try await client.get("/messages/\(try await f.messageID("Manifest review"))", as: jane)
            #expect(own.status == .ok && !own.text.contains("FOIA manifests") && !own.text.contains("Audit history"))
            #expect(!(try await client.get("/search?q=manifest", as: jane)).text.contains("under_hold"))
            let underHold = try await client.get("/api/v1/search?q=crane&under_hold=on", as: jane)
            #expect(try underHold.json()["total"] as? Int == 1) // the filter is ignored: Crane is not held
            // A missing id and another custodian's read the same.
            #expect(try await client.get("/conversations/99999", as: jane).text.contains("there is no such record among yours"))
        }
        let refused = try await f.archive.store.auditEntries(AuditFilter(actor: "jane", action: "refused", limit: 10))
        #expect(refused.contains { $0.target == "message:\(samsMessage)" })
    }
}
