import Archive
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Recordkeeper
import RecordkeeperCore
@testable import RecordkeeperWeb
import Logging
import Testing

/// The whole web surface under abuse (issue 17 item 5): forged forms on every state-changing
/// route, sessions that are expired, ended or forged, redirects and headers an attacker tries to
/// steer, hostile attachments, odd methods and broken requests. `AccessTests` holds the route ×
/// role table and the sign-in throttle.
@Suite("Web: the whole surface under abuse", .serialized)
struct WebSurfaceTests {
    static let origin = HTTPField.Name("Origin")!
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    /// A concrete address for a route's pattern (ids that exist where the fixture has them).
    static func concrete(_ path: String, _ f: WebFixture, messageID: Int64) -> String {
        path.replacingOccurrences(of: ":index", with: "0")
            .replacingOccurrences(of: "/messages/:id", with: "/messages/\(messageID)")
            .replacingOccurrences(of: "/conversations/:id", with: "/conversations/\(f.janeBatch.conversationID!)")
            .replacingOccurrences(of: "/batches/:id", with: "/batches/\(f.janeBatch.batchID!)")
            .replacingOccurrences(of: "/holds/:id", with: "/holds/\(f.holdID)")
            .replacingOccurrences(of: ":step", with: "accept")
            .replacingOccurrences(of: ":id", with: "1")
    }

    static func enc(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    static func account(_ name: String, _ role: UserRole) -> UserAccount {
        UserAccount(name: name, displayName: name, roles: [role], createdAt: "")
    }

    /// Every state-changing route, as a user its role admits, refuses a request without the
    /// session's token, with a wrong one, with another session's, and from another origin (even
    /// carrying the right token, and even with an API token); nothing is written, not even an
    /// audit entry. Sign-in from another origin is refused too. A same-origin form still works.
    @Test func everyStateChangingRouteRefusesForgedRequests() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let messageID = try await f.messageID("Crane 4")
        let routes = f.web.routeTable.filter { $0.method != "GET" && $0.method != "HEAD" }
        #expect(routes.count == StateChangingRouteTests.covered.count)
        let token = try await f.web.credentials.createToken(user: "ada", label: "forgery test", actor: "ada").1
        let auditBefore = try await f.archive.store.auditEntries(AuditFilter(limit: 100_000)).count
        let holdsBefore = try await f.archive.store.holds(includeReleased: true).count
        let tried = try await f.test { client -> Int in
            var tried = 0
            let other = try await f.session("carol")
            for route in routes {
                let uri = Self.concrete(route.path, f, messageID: messageID)
                let method = HTTPRequest.Method(route.method)!
                if route.access == .open {
                    // Signing in from another site (login CSRF) is refused before the password is looked at.
                    let r = try await client.post(uri, as: nil, form: [("username", "ada"), ("password", WebFixture.password)], json: true,
                                                  headers: [Self.origin: "https://evil.example"], method: method)
                    #expect(r.status == .forbidden && r.errorCode == "csrf", "\(route.method) \(route.path) from another site → \(r.status.code)")
                    tried += 1
                    continue
                }
                guard let (name, _) = WebFixture.users.first(where: { route.access.allows(Self.account($0.0, $0.1)) }) else {
                    Issue.record("no fixture user may call \(route.method) \(route.path)")
                    continue
                }
                let session = try await f.session(name)
                let forged: [(String, BrowserSession, [(String, String)], Bool, HTTPFields)] = [
                    ("no token", session, [], false, [:]),
                    ("a wrong token", session, [("csrf", String(repeating: "0", count: 64))], false, [Self.csrfHeader: String(repeating: "1", count: 64)]),
                    ("another session's token", session, [("csrf", other.csrf)], false, [Self.csrfHeader: other.csrf]),
                    ("the right token from another site", session, [], true, [Self.csrfHeader: session.csrf, Self.origin: "https://evil.example"]),
                    ("the right token from an opaque origin", session, [], true, [Self.csrfHeader: session.csrf, Self.origin: "null"]),
                    ("the right token from a look-alike host", session, [], true,
                     [Self.csrfHeader: session.csrf, Self.origin: "http://localhost.evil.example"]),
                ]
                for (what, s, form, csrf, headers) in forged {
                    let r = try await client.post(uri, as: s, form: form, csrf: csrf, json: true, headers: headers, method: method)
                    #expect(r.status == .forbidden && r.errorCode == "csrf", "\(route.method) \(route.path) with \(what) → \(r.status.code) \(r.errorCode ?? "")")
                    tried += 1
                }
                if route.isAPI {
                    // An API token does not need the session's token, but a browser on another site still cannot use it.
                    let r = try await client.post(uri, as: nil, json: true, headers: [.authorization: "Bearer \(token)", Self.origin: "https://evil.example"],
                                                  method: method)
                    #expect(r.status == .forbidden && r.errorCode == "csrf", "\(route.method) \(route.path) with an API token from another site → \(r.status.code)")
                    tried += 1
                }
            }
            // The same form from this site, with its token, goes through.
            let alice = try await f.session("alice")
            // (The test client's requests carry the authority "localhost".)
            let ok = try await client.post("/holds", as: alice, form: [("name", "Same-site hold"), ("matter", "litigation"), ("requested_by", "counsel"),
                                                                        ("everything", "on")],
                                           headers: [Self.origin: "http://localhost"])
            #expect(ok.status == .seeOther)
            return tried
        }
        #expect(tried > routes.count * 6)
        let audit = try await f.archive.store.auditEntries(AuditFilter(limit: 100_000))
        let written = audit.prefix(audit.count - auditBefore).filter { $0.action != "token.create" }
        // Only the same-site hold (its preview and its creation) was written.
        #expect(written.allSatisfy { $0.actor == "alice" && $0.action.hasPrefix("hold.") } && written.contains { $0.action == "hold.create" }, "forged requests wrote: \(written.map { "\($0.action) \($0.target)" })")
        #expect(try await f.archive.store.holds(includeReleased: true).count == holdsBefore + 1)
    }

    /// A session cookie is a bearer secret bound to nothing else (not to an address or a
    /// browser), so what limits a stolen one is time and revocation: 30 idle minutes, 12 hours
    /// at most, signing out, a password change. A cookie that names no live session, or a
    /// session's secret presented as an API token, opens nothing; signing in never keeps a
    /// cookie the browser arrived with.
    @Test func expiredEndedForgedAndStolenSessionsOpenNothing() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let sessions = f.web.sessions
        let t0 = Date()
        // Idle: each use within 30 minutes keeps a session alive; 30 minutes without one ends it.
        let idle = try await sessions.create(user: "carol", now: t0)
        #expect(try await sessions.session(id: idle.id, now: t0 + 29 * 60) != nil)
        #expect(try await sessions.session(id: idle.id, now: t0 + 58 * 60) != nil)
        #expect(try await sessions.session(id: idle.id, now: t0 + 89 * 60) == nil)
        #expect(try await sessions.session(id: idle.id, now: t0 + 60 * 60) == nil) // ended, not merely old: gone for good
        // Absolute: used every 20 minutes, it still ends 12 hours after sign-in.
        let busy = try await sessions.create(user: "carol", now: t0)
        var t = t0
        while t < t0 + 12 * 3600 - 20 * 60 {
            t += 20 * 60
            #expect(try await sessions.session(id: busy.id, now: t) != nil, "alive \(Int((t.timeIntervalSince(t0)) / 60)) minutes in")
        }
        #expect(try await sessions.session(id: busy.id, now: t0 + 12 * 3600 + 1) == nil)

        let expired = try await sessions.create(user: "carol", now: t0 - 13 * 3600)
        let live = try await f.session("carol")
        let liveSecret = String(live.cookie.dropFirst("rk_session=".count))
        try await f.test { client in
            let cookies = ["rk_session=\(expired.id)", "rk_session=" + String(repeating: "ab", count: 32), "rk_session=", "rk_session=../../etc/passwd",
                           "rk_session=\(liveSecret.uppercased())"]
            for cookie in cookies {
                let page = try await client.get("/holds", as: BrowserSession(cookie: cookie, csrf: ""))
                #expect(page.status == .seeOther && page.location?.hasPrefix("/login?next=") == true, "\(cookie) → \(page.status.code)")
                let api = try await client.get("/api/v1/search?q=crane", as: BrowserSession(cookie: cookie, csrf: ""), json: true)
                #expect(api.status == .unauthorized && api.errorCode == "sign_in_required", "\(cookie) → \(api.status.code)")
            }
            // The cookie's secret is not an API token, and an API token is not a cookie.
            let asBearer = try await client.get("/api/v1/search?q=crane", json: true, headers: [.authorization: "Bearer \(liveSecret)"])
            #expect(asBearer.status == .unauthorized)
            let token = try await f.web.credentials.createToken(user: "carol", label: "surface test", actor: "carol").1
            let tokenAsCookie = try await client.get("/api/v1/search?q=crane", as: BrowserSession(cookie: "rk_session=\(token)", csrf: ""), json: true)
            #expect(tokenAsCookie.status == .unauthorized)
            let tokenOnAPage = try await client.get("/holds", headers: [.authorization: "Bearer \(token)"])
            #expect(tokenOnAPage.status == .seeOther) // tokens open the API only, never the browser pages

            // Signing in with a cookie an attacker chose gives a new session; the planted value is never adopted.
            let planted = BrowserSession(cookie: "rk_session=" + String(repeating: "5a", count: 32), csrf: "")
            let signIn = try await client.post("/login", as: planted, form: [("username", "alice"), ("password", WebFixture.password)], csrf: false)
            let issued = try #require(signIn.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            #expect(signIn.status == .seeOther && issued != planted.cookie)
            let asAlice = BrowserSession(cookie: issued, csrf: "")
            #expect(try await client.get("/dispositions", as: asAlice).status == .ok)

            // Stolen, then signed out by its owner: dead everywhere at once.
            let page = try await client.get("/holds", as: live)
            #expect(page.status == .ok)
            let out = try await client.post("/logout", as: live)
            #expect(out.status == .seeOther)
            #expect(try await client.get("/holds", as: live).status == .seeOther)
            #expect(try await client.get("/api/v1/search?q=crane", as: live, json: true).status == .unauthorized)

            // Stolen, then the owner changes her password: every other session of hers ends.
            let stolen = try await f.session("dave")
            let own = try await f.session("dave")
            let changed = try await client.post("/account/password", as: own, form: [("current", WebFixture.password),
                                                                                      ("new", "a whole new passphrase 2026"),
                                                                                      ("confirm", "a whole new passphrase 2026")])
            #expect(changed.status == .seeOther, "password change → \(changed.status.code) \(changed.text.prefix(300))")
            #expect(try await client.get("/audit", as: stolen).status == .seeOther)
            #expect(try await client.get("/audit", as: own).status == .ok)
        }
    }

    /// No address on the site sends a browser elsewhere, and nothing a request carries reaches a
    /// response header: every GET route, signed out and as each role, with hostile `next`,
    /// `return_to` and `redirect` parameters and a CR LF in every parameter.
    @Test func noRouteRedirectsOffSiteOrCopiesRequestTextIntoHeaders() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let messageID = try await f.messageID("Crane 4")
        let routes = f.web.routeTable.filter { $0.method == "GET" }
        let hostile = ["//evil.example/", "https://evil.example/", "/\\evil.example", "/\t/evil.example", "\\\\evil.example", "javascript:alert(1)",
                       "%2F%2Fevil.example", "/login\r\nSet-Cookie: rk_session=planted"]
        let principals: [String?] = [nil] + WebFixture.users.map(\.0)
        let checked = try await f.test { client -> Int in
            var checked = 0
            for route in routes {
                for (i, next) in hostile.enumerated() {
                    let name = principals[(checked + i) % principals.count]
                    let session: BrowserSession? = if let name { try await f.session(name) } else { nil }
                    let n = Self.enc(next)
                    let uri = Self.concrete(route.path, f, messageID: messageID)
                        + "?next=\(n)&return_to=\(n)&redirect=\(n)&q=crane%0D%0AX-Injected%3A%201&format=\(n)"
                    let r = try await client.get(uri, as: session)
                    let label = "GET \(route.path) as \(name ?? "anonymous") with \(next.debugDescription) → \(r.status.code)"
                    if let location = r.location {
                        #expect(location.hasPrefix("/") && !location.hasPrefix("//") && !location.hasPrefix("/\\"), "\(label): Location \(location)")
                        #expect(!location.contains("evil.example") || location.hasPrefix("/login?next="), "\(label): Location \(location)")
                    }
                    for field in r.headers {
                        #expect(!field.value.contains("\r") && !field.value.contains("\n"), "\(label): \(field.name) carries a line break")
                        #expect(field.name.rawName.lowercased() != "x-injected", "\(label): a header was injected")
                        #expect(!(field.name == .setCookie && field.value.contains("planted")), "\(label): a cookie was injected")
                    }
                    #expect(r.status.code < 500, "\(label)")
                    checked += 1
                }
            }
            // A signed-out visitor is sent to sign in, and the address to return to stays on this site.
            let login = try await client.get("/login?next=\(Self.enc("//evil.example/"))")
            #expect(login.status == .ok && !login.text.contains("evil.example"))
            return checked
        }
        #expect(checked == routes.count * hostile.count)
    }

    /// An attachment is never served as something a browser would run in the archive's origin:
    /// HTML, SVG and anything not an image download as opaque bytes; images show inline but
    /// sandboxed and unsniffed; a hostile file name cannot break out of its header.
    @Test func attachmentsAreServedSandboxedAndUnsniffed() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let dir = try f.tmp.sub("hostile")
        let chat = """
            06/06/2021, 09:00 - Jane Doe: invoice.html (file attached)
            06/06/2021, 09:01 - Jane Doe: logo.svg (file attached)
            06/06/2021, 09:02 - Jane Doe: photo.jpg (file attached)

            """
        let txt = dir.appendingPathComponent("WhatsApp Chat with Billing.txt")
        try Data(chat.utf8).write(to: txt)
        let script = Data("<html><body><script>fetch('/api/v1/search?q=manifest')</script></body></html>".utf8)
        try script.write(to: dir.appendingPathComponent("invoice.html"))
        try Data("<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".utf8).write(to: dir.appendingPathComponent("logo.svg"))
        try script.write(to: dir.appendingPathComponent("photo.jpg")) // HTML pretending to be a photo
        let batch = try await IngestService(archive: f.archive).ingest(IngestRequest(paths: [txt], custodian: WebFixture.jane, timeZone: "UTC", actor: "test"))
        let (_, messages) = try await RecordService(archive: f.archive).transcript(conversationID: batch[0].conversationID!, actor: "test")
        let ids = Dictionary(uniqueKeysWithValues: messages.map { ($0.message.body.components(separatedBy: " ").first ?? "", $0.id) })
        let carol = try await f.session("carol")
        try await f.test { client in
            for (name, inline) in [("invoice.html", false), ("logo.svg", false), ("photo.jpg", true)] {
                let id = try #require(ids[name], "no message for \(name) in \(ids.keys.sorted())")
                for download in [false, true] {
                    let r = try await client.get("/messages/\(id)/attachments/0\(download ? "?download=1" : "")", as: carol)
                    let label = "\(name)\(download ? " (download)" : "")"
                    #expect(r.status == .ok, "\(label) → \(r.status.code)")
                    #expect(r.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff", "\(label)")
                    #expect(r.headers[.contentSecurityPolicy] == "default-src 'none'; sandbox", "\(label)")
                    let type = r.headers[.contentType] ?? ""
                    #expect(!type.contains("html") && !type.contains("svg") && !type.contains("xml"), "\(label) served as \(type)")
                    let disposition = r.headers[.contentDisposition] ?? ""
                    #expect(disposition.hasPrefix(inline && !download ? "inline;" : "attachment;"), "\(label): \(disposition)")
                    #expect(r.body.readableBytes == script.count || name == "logo.svg", "\(label): the original bytes")
                }
            }
        }
        // A file name is the sender's to choose: quotes, line breaks and other scripts stay inside the header.
        let names = ["a\"; filename=evil.html", "x\r\nSet-Cookie: rk_session=planted\r\n.jpg", "résumé \u{202E}lmth.jpg", "..\\..\\boot.ini", ""]
        for name in names {
            let a = ArchivedAttachment(fileName: name, blob: ContentHash.of(Data()), size: 0)
            let r = WebApp.attachmentResponse(a, Data(), download: false)
            let disposition = try #require(r.headers[.contentDisposition])
            #expect(!disposition.contains("\r") && !disposition.contains("\n"), "\(name.debugDescription): \(disposition)")
            let quoted = try #require(disposition.firstMatch(of: /filename="([^"]*)"; filename\*=UTF-8''([^\s;"]*)$/), "\(name.debugDescription): \(disposition)")
            #expect(!quoted.1.contains("\\") && quoted.1.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F })
            #expect(r.headers.count(where: { $0.name == .setCookie }) == 0)
        }
    }

    /// Methods a route does not take, addresses that do not exist and requests that are broken get
    /// a short error with the security headers, never an echo of the request, a trace or a 500.
    @Test func oddMethodsMissingAddressesAndBrokenRequestsGetPlainErrors() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let carol = try await f.session("carol")
        let canary = "zz-canary-\(UUID().uuidString)"
        try await f.test { client in
            var responses: [(String, TestResponse)] = []
            for method: HTTPRequest.Method in [.trace, .options, .put, .delete, .patch, HTTPRequest.Method("PROPFIND")!] {
                for path in ["/", "/holds", "/api/v1/search", "/static/app.css", "/no/such/page"] {
                    var headers: HTTPFields = [.cookie: carol.cookie, HTTPField.Name("X-Canary")!: canary]
                    headers[.contentType] = "text/plain"
                    let r = try await client.execute(uri: path, method: method, headers: headers, body: ByteBuffer(string: canary))
                    #expect([404, 405].contains(r.status.code), "\(method) \(path) → \(r.status.code)")
                    responses.append(("\(method) \(path)", r))
                }
            }
            // A form far past the size a form may be.
            let huge = try await client.post("/login", as: nil, form: [("username", "ada"), ("password", String(repeating: "x", count: 3 << 20))])
            #expect(huge.status == .contentTooLarge, "a 3 MiB sign-in form → \(huge.status.code)")
            responses.append(("huge form", huge))
            // Broken percent-encoding, a NUL, an overlong address, a path that climbs.
            for uri in ["/search?q=%E0%A4%A&from=%ZZ", "/search?q=crane%00\(canary)", "/search?q=" + String(repeating: "a", count: 100_000),
                        "/static/../../../etc/passwd", "/messages/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/messages/-1", "/messages/99999999999999999999999",
                        "/conversations/1e3", "/api/v1/messages/0x10"] {
                let r = try await client.get(uri, as: carol)
                #expect(r.status.code < 500 && r.status != .ok || uri.hasPrefix("/search"), "\(uri.prefix(80)) → \(r.status.code)")
                #expect(r.status.code < 500, "\(uri.prefix(80)) → \(r.status.code)")
                responses.append((String(uri.prefix(80)), r))
            }
            for (label, r) in responses {
                #expect(r.headers[.contentSecurityPolicy] != nil && r.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff"
                        && r.headers[HTTPField.Name("X-Frame-Options")!] == "DENY", "\(label): security headers")
                #expect(label.contains(canary) || !r.text.contains(canary), "\(label): the request is echoed")
                #expect(!r.text.contains("Swift") && !r.text.contains("SQLite") && !r.text.contains("Fatal"), "\(label): \(r.text.prefix(200))")
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// One user cannot take the server from the others: expensive routes are limited per user, and a
/// client that trickles its request cannot hold a connection (issue 17 item 4).
@Suite("Web: per-user limits and slow clients", .serialized)
struct RequestLimitTests {
    static func app(_ f: WebFixture, limits: RequestLimitConfiguration, idle: Int = 30) -> WebApp {
        var config = WebConfiguration()
        config.bcryptCost = 4
        config.port = 0
        config.requestLimits = limits
        config.idleTimeoutSeconds = idle
        return WebApp(archive: f.archive, configuration: config)
    }

    /// Past the burst, a user's searches get 429 with Retry-After (audited once, not per request);
    /// her cheap pages still open, and another user's searches are untouched.
    @Test func expensiveRoutesAreLimitedPerUser() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let web = Self.app(f, limits: RequestLimitConfiguration(perMinute: 6, burst: 3, inFlight: 2))
        #expect(web.routeTable.filter(\.limited).map { "\($0.method) \($0.path)" }.contains("GET /api/v1/search"))
        #expect(!web.routeTable.contains { $0.limited && $0.method == "GET" && ["/holds", "/messages/:id", "/conversations/:id"].contains($0.path) })
        let carol = try await f.session("carol")
        let alice = try await f.session("alice")
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        try await web.application(logger: logger).test(.router) { client in
            for i in 0..<3 {
                let ok = try await client.get("/api/v1/search?q=crane", as: carol, json: true)
                #expect(ok.status == .ok, "search \(i + 1) of the burst → \(ok.status.code)")
            }
            for page in ["/api/v1/search?q=crane", "/search?q=crane"] {
                let limited = try await client.get(page, as: carol, json: page.hasPrefix("/api"))
                #expect(limited.status == .tooManyRequests, "\(page) → \(limited.status.code)")
                let wait = Int(limited.headers[.retryAfter] ?? "") ?? 0
                #expect((1...10).contains(wait), "Retry-After: \(limited.headers[.retryAfter] ?? "none")")
                if page.hasPrefix("/api") { #expect(limited.errorCode == "rate_limited") } else { #expect(limited.text.contains("try again in")) }
            }
            #expect(try await client.get("/holds", as: carol).status == .ok)
            #expect(try await client.get("/conversations/\(f.janeBatch.conversationID!)", as: carol).status == .ok)
            #expect(try await client.get("/api/v1/search?q=crane", as: alice, json: true).status == .ok)
        }
        let refused = try await f.archive.store.auditEntries(AuditFilter(actor: "carol", action: "refused", limit: 10))
        #expect(refused.count == 1 && refused[0].detail.contains("rate limit"), "\(refused.map(\.detail))")
    }

    /// The bucket refills at the configured rate; no more than `inFlight` run at once; a limit of 0
    /// turns it off.
    @Test func theLimiterRefillsAndCapsWhatRunsAtOnce() async throws {
        let limiter = RequestLimiter(RequestLimitConfiguration(perMinute: 600, burst: 3, inFlight: 2))
        #expect(await limiter.begin("user:a") == .allowed)
        #expect(await limiter.begin("user:a") == .allowed)
        guard case .refused(let wait, let report) = await limiter.begin("user:a") else { Issue.record("a third in flight ran"); return }
        #expect(wait == 1 && report)
        await limiter.end("user:a")
        #expect(await limiter.begin("user:a") == .allowed) // the last token of the burst
        await limiter.end("user:a"); await limiter.end("user:a")
        guard case .refused(_, let again) = await limiter.begin("user:a") else { Issue.record("the burst did not run out"); return }
        #expect(!again) // reported once a minute, not at every refusal
        try await Task.sleep(for: .milliseconds(250)) // 10 per second: 2.5 tokens back
        #expect(await limiter.begin("user:a") == .allowed)
        #expect(await limiter.begin("user:b") == .allowed)
        let off = RequestLimiter(RequestLimitConfiguration(perMinute: 0, burst: 1, inFlight: 1))
        for _ in 0..<100 { #expect(await off.begin("user:a") == .allowed) }
    }

    /// Two hundred clients that open a connection and trickle their headers (slowloris) hold
    /// nothing: a normal request is answered at once beside them, and each of them is cut off
    /// once it has sent no complete request for the idle timeout. A body that stalls is cut too.
    @Test func slowClientsAreCutOffAndStarveNoOne() async throws {
        let f = try await WebFixture.make(); defer { f.tmp.cleanup() }
        let web = Self.app(f, limits: RequestLimitConfiguration(), idle: 2)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        try await web.application(logger: logger).test(.live) { client in
            let port = try #require(client.port)
            var slow: [Int32] = []
            defer { for s in slow { close(s) } }
            for _ in 0..<200 {
                let s = try Self.connect(port: port)
                Self.send(s, "GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
                slow.append(s)
            }
            // Answered while all of them hold their connections (no timing asserted here: these
            // machines are noisy; a starved server would not answer at all).
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok)
            // A body that stops half-way.
            let stalled = try Self.connect(port: port)
            Self.send(stalled, "POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nusername=")
            slow.append(stalled)
            // Keep trickling for a while: a byte a second does not count as a request.
            for _ in 0..<2 {
                try await Task.sleep(for: .seconds(1))
                for s in slow.dropLast() { Self.send(s, "x") }
            }
            try await Task.sleep(for: .seconds(2))
            let closed = slow.filter { Self.isClosed($0) }.count
            #expect(closed == slow.count, "\(closed) of \(slow.count) slow connections were closed")
            // (The test client's own idle connection was closed too: a new connection is served.)
            let fresh = try Self.connect(port: port)
            defer { close(fresh) }
            Self.send(fresh, "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            var buffer = [UInt8](repeating: 0, count: 512)
            var pfd = pollfd(fd: fresh, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, 5000)
            let n = recv(fresh, &buffer, buffer.count, 0)
            #expect(n > 0 && String(decoding: buffer.prefix(max(0, n)), as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        }
    }

    static func connect(port: Int) throws -> Int32 {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw TestFailure("socket: \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { close(s); throw TestFailure("connect: \(errno)") }
        return s
    }

    static func send(_ s: Int32, _ text: String) {
        _ = text.withCString { Glibc.send(s, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }

    /// True when the server has closed the connection (a read returns end of file or an error,
    /// possibly after a response such as 408 or 400).
    static func isClosed(_ s: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var pfd = pollfd(fd: s, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 200) > 0 else { return false }
            let n = recv(s, &buffer, buffer.count, 0)
            if n <= 0 { return true }
        }
    }
}
