import Foundation
import Recordkeeper

/// Which pages a role may open, read from the route table: a page never links a person to a
/// page their role would be refused (the compliance page and the audit log name records,
/// conversations and holds an auditor may not read). What a role cannot open is shown as text.
final class LinkPolicy: @unchecked Sendable {
    private let lock = NSLock()
    private var routes: [(segments: [Substring], access: Access)] = []

    /// Takes the GET routes of the table (once, when the app is made).
    func install(_ specs: [RouteSpec]) {
        let get = specs.filter { $0.method == "GET" }.map { (segments: $0.path.split(separator: "/"), access: $0.access) }
        lock.withLock { routes = get }
    }

    /// The access of the GET route serving `path` (query and fragment ignored), nil when no
    /// route serves it. A literal segment beats a parameter (`/holds/new` over `/holds/:id`).
    func access(forPath href: String) -> Access? {
        let path = href.split(separator: "?", maxSplits: 1).first.map { $0.split(separator: "#", maxSplits: 1).first ?? "" } ?? ""
        let parts = path.split(separator: "/")
        let table = lock.withLock { routes }
        var best: (literals: Int, access: Access)?
        for route in table where route.segments.count == parts.count {
            var literals = 0
            var matches = true
            for (r, p) in zip(route.segments, parts) {
                if r.hasPrefix(":") { continue }
                if r != p { matches = false; break }
                literals += 1
            }
            if matches, literals > (best?.literals ?? -1) { best = (literals, route.access) }
        }
        return best?.access
    }

    /// `html` with every `<a href="/…">…</a>` the user may not open turned into text.
    func unlinkForbidden(_ html: String, for user: UserAccount?) -> String {
        guard html.contains("<a ") else { return html }
        var out = ""
        out.reserveCapacity(html.utf8.count)
        var rest = html[...]
        while let open = rest.range(of: "<a ") {
            out += rest[..<open.lowerBound]
            guard let tagEnd = rest[open.upperBound...].firstIndex(of: ">"),
                  let close = rest[tagEnd...].range(of: "</a>") else {
                out += rest[open.lowerBound...]
                rest = ""
                break
            }
            let tag = rest[open.lowerBound...tagEnd]
            let inner = rest[rest.index(after: tagEnd)..<close.lowerBound]
            if let href = Self.href(in: tag), href.hasPrefix("/"), !href.hasPrefix("//"), let access = access(forPath: String(href)), !access.allows(user) {
                out += "<span class=\"no-access\" title=\"Your role cannot open this\">\(inner)</span>"
            } else {
                out += rest[open.lowerBound..<close.upperBound]
            }
            rest = rest[close.upperBound...]
        }
        out += rest
        return out
    }

    static func href(in tag: Substring) -> Substring? {
        guard let start = tag.range(of: "href=\"") else { return nil }
        guard let end = tag[start.upperBound...].firstIndex(of: "\"") else { return nil }
        return tag[start.upperBound..<end]
    }
}
