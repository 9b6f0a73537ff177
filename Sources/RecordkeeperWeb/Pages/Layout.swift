import Archive
import Foundation
import HTTPTypes
import Hummingbird
import RecordkeeperCore

/// Page chrome shared by every screen: skip link, landmarks, a navigation list for the user's
/// roles, and the sign-out form. Everything works without JavaScript; `app.js` only adds upload
/// progress and confirmation prompts.
struct Pages: Sendable {
    let productName = "Recordkeeper"
    /// Links a role may not follow are rendered as text (see `LinkPolicy`).
    let links = LinkPolicy()

    struct NavItem {
        let href: String
        let label: String
        let access: Access
    }

    static let nav: [NavItem] = [
        NavItem(href: "/search", label: "Search", access: Access.readers),
        NavItem(href: "/conversations", label: "Conversations", access: Access.readers),
        NavItem(href: "/upload", label: "Upload", access: .roles([.custodian, .recordsOfficer])),
        NavItem(href: "/holds", label: "Holds", access: Access.recordsStaff),
        NavItem(href: "/dispositions", label: "Disposition", access: .roles([.recordsOfficer, .auditor])),
        NavItem(href: "/compliance", label: "Compliance", access: .roles([.recordsOfficer, .auditor])),
        NavItem(href: "/custody", label: "Custody", access: WebApp.custodyReaders),
        NavItem(href: "/custody/detentions", label: "Detentions", access: .roles([.noticeClerk, .privacyOfficer])),
        NavItem(href: "/audit", label: "Audit log", access: Access.auditors),
        NavItem(href: "/admin/users", label: "Users", access: Access.admins),
        NavItem(href: "/account", label: "Account", access: .signedIn),
    ]

    func page(_ title: String, principal: Principal?, current: String = "", notice: String? = nil, _ body: HTML) -> HTML {
        let navItems = Self.nav.filter { $0.access.allows(principal?.user) }
        let nav: HTML = principal == nil ? .empty : """
            <nav aria-label="Main"><ul>\(navItems.html { item in
                item.href == current
                    ? "<li><a href=\"\(item.href)\" aria-current=\"page\">\(item.label)</a></li>"
                    : "<li><a href=\"\(item.href)\">\(item.label)</a></li>"
            })</ul></nav>
            <form class="signout" method="post" action="/logout"><input type="hidden" name="csrf" value="\(principal?.csrf ?? "")">
            <span>Signed in as <strong>\(principal?.user.displayName ?? "")</strong> (\(principal?.user.roles.map(\.rawValue).joined(separator: ", ") ?? ""))</span>
            <button type="submit">Sign out</button></form>
            """
        let noticeHTML: HTML = notice.map { "<p class=\"notice\" role=\"status\">\($0)</p>" } ?? .empty
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) — \(productName)</title>
            <link rel="stylesheet" href="/static/app.css">
            <link rel="icon" href="/favicon.ico" type="image/svg+xml">
            <script src="/static/app.js" defer></script>
            </head>
            <body>
            <a class="skip" href="#main">Skip to main content</a>
            <header class="site"><a class="brand" href="/">\(productName)</a>\(nav)</header>
            <main id="main" tabindex="-1">
            <h1>\(title)</h1>
            \(noticeHTML)
            \(HTML(unsafeRaw: links.unlinkForbidden(body.rendered, for: principal?.user)))
            </main>
            <footer class="site"><p>Every view of a record is written to the audit log.</p></footer>
            </body>
            </html>
            """
    }

    /// A failure as a page (browsers) or JSON (the API); a signed-out browser is sent to sign in.
    func failure(_ f: Failure, request: Request, principal: Principal?) -> Response {
        var response = failurePage(f, request: request, principal: principal)
        if let wait = f.retryAfter { response.headers[.retryAfter] = String(wait) }
        return response
    }

    private func failurePage(_ f: Failure, request: Request, principal: Principal?) -> Response {
        if request.uri.path.hasPrefix("/api/") || (request.headers[.accept] ?? "").hasPrefix("application/json") {
            var r = (try? Respond.json(["error": f], status: .init(code: f.status))) ?? Response(status: .init(code: f.status))
            if f.status == 401 { r.headers[.wwwAuthenticate] = "Bearer" }
            return r
        }
        if f.status == 401, request.method == .get {
            let next = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            return Respond.seeOther("/login?" + URLQuery.string([("next", next)]))
        }
        let title = f.status == 404 ? "Not found" : f.status == 403 ? "Not allowed" : f.status >= 500 ? "Server error" : "Cannot do that"
        return Respond.html(page(title, principal: principal, """
            <p class="error" role="alert">\(f.message)</p>
            <p class="meta">Request \(f.requestID) · status \(f.status)</p>
            <p><a href="/">Back to the start page</a></p>
            """), status: .init(code: f.status))
    }

    func csrfField(_ p: Principal) -> HTML { "<input type=\"hidden\" name=\"csrf\" value=\"\(p.csrf ?? "")\">" }
}

/// Status lines shown after an action. Links carry only the code, so nobody can put words of
/// their own on an official-looking page by sending someone a link.
enum Notice: String {
    case passwordChanged = "password-changed"
    case tokenRevoked = "token-revoked"
    case holdPlaced = "hold-placed"
    case holdReleased = "hold-released"
    case proposed
    case approved
    case cancelled
    case executed
    case userSaved = "user-saved"
    case noticeRecorded = "notice-recorded"
    case responseRecorded = "response-recorded"
    case incidentsOpened = "incidents-opened"

    var text: String {
        switch self {
        case .passwordChanged: return "Your password was changed. Your other sessions were signed out."
        case .tokenRevoked: return "The token was revoked."
        case .holdPlaced: return "Hold placed. It covers the records counted below, and any captured later that fall in its scope."
        case .holdReleased: return "Hold released. It stays on record."
        case .proposed: return "Proposed. Another records officer reviews its records and approves it."
        case .approved: return "Approved. It can now be executed."
        case .cancelled: return "Cancelled."
        case .executed: return "Executed. The certificate is ready; the counts are below."
        case .userSaved: return "Saved."
        case .noticeRecorded: return "Notice recorded. The particulars are sealed; the answer period runs from now."
        case .responseRecorded: return "The addressee's answer is recorded."
        case .incidentsOpened: return "An incident is open for every finding that calls for one (each is opened once; the archive also opens them every hour)."
        }
    }

    static func from(_ query: Form) -> String? { query["notice"].flatMap(Notice.init(rawValue:))?.text }
    var query: String { "?notice=" + rawValue }
}

enum Fmt {
    static func count(_ n: Int) -> String { TextRecipes.grouped(n) }

    static func bytes(_ n: Int64?) -> String {
        guard let n else { return "—" }
        let units = ["B", "KB", "MB", "GB"]
        var v = Double(n)
        var i = 0
        while v >= 1000, i < units.count - 1 { v /= 1000; i += 1 }
        return i == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[i])
    }

    /// "2021-03-04T09:15:00" → "2021-03-04 09:15".
    static func local(_ s: String) -> String {
        String(s.prefix(16)).replacingOccurrences(of: "T", with: " ")
    }

    /// A sent instant in UTC, shown beside the time as written: `2021-03-01 16:07 UTC`.
    static func utc(seconds: Int64) -> String {
        local(Timestamp.iso(seconds: seconds)) + " UTC"
    }

    static func isImage(_ name: String) -> String? {
        switch (name as NSString).pathExtension.lowercased() {
        case "jpg", "jpeg": return "image/jpeg"
        case "png": return "image/png"
        case "gif": return "image/gif"
        case "webp": return "image/webp"
        default: return nil
        }
    }
}
