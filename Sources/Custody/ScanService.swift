import Archive
import Foundation
import RecordkeeperCore

/// Scans at a station or in a batch (CUSTODY.md §4.3, `POST /api/custody/scans`), and the
/// containers they arrive in. Each scan is answered on its own: a bad identifier or a refused
/// move is a red answer for that scan, never a lost batch. Times are the server's (`now`).
public struct ScanService: Sendable {
    let store: any CustodyStore
    let now: @Sendable () -> Int64
    /// The archive's users: when given, a witness must be a registered user other than the one
    /// scanning, and a supervisor allowing an uninspected return must hold the custody-supervisor
    /// role (the CLI and the web give it; fixtures may not).
    let directory: (any ArchiveStore)?

    public init(store: any CustodyStore, directory: (any ArchiveStore)? = nil, now: @escaping @Sendable () -> Int64 = { Timestamp.nowMillis() }) {
        self.store = store
        self.directory = directory
        self.now = now
    }

    /// Why a scan's second person is not acceptable, if they are not (nil: fine).
    static func secondPersonProblem(_ r: Request, actor: String, users: [String: UserAccount?]) -> ScanRefusal? {
        if let w = r.witness?.trimmingCharacters(in: .whitespaces), !w.isEmpty {
            guard let user = users[w] ?? nil else { return ScanRefusal("WITNESS_REQUIRED", "the witness \(w) is not a registered user") }
            if user.name.lowercased() == actor.lowercased() { return ScanRefusal("WITNESS_REQUIRED", "the witness is someone other than you") }
        }
        if case .returnToCarrier(_, let supervisor?, _, _) = r.action, !supervisor.trimmingCharacters(in: .whitespaces).isEmpty {
            let name = supervisor.trimmingCharacters(in: .whitespaces)
            guard let user = users[name] ?? nil, user.has(.custodySupervisor) else {
                return ScanRefusal("REQUIRED_MISSING", "\(name) is not a registered custody supervisor; an uninspected return needs one")
            }
            if user.name.lowercased() == actor.lowercased() { return ScanRefusal("REQUIRED_MISSING", "a supervisor other than you allows an uninspected return") }
        }
        return nil
    }

    /// One scan as a station sends it: the text the scanner typed and what the station's mode means.
    public struct Request: Sendable, Equatable {
        public var text: String
        public var action: CustodyScan.Action
        public var witness: String?
        public var station: String?
        public var clientScanID: String?
        public var clientTimestampMillis: Int64?
        public var manualEntry: Bool
        public init(text: String, action: CustodyScan.Action, witness: String? = nil, station: String? = nil, clientScanID: String? = nil,
                    clientTimestampMillis: Int64? = nil, manualEntry: Bool = false) {
            self.text = text; self.action = action; self.witness = witness; self.station = station; self.clientScanID = clientScanID
            self.clientTimestampMillis = clientTimestampMillis; self.manualEntry = manualEntry
        }
    }

    /// The most scans one batch records (a station's outage queue is sent in batches of this size).
    public static let batchLimit = 1_000

    /// Records the scans in one transaction, in order; answers each.
    public func record(_ requests: [Request], actor: String) async throws -> [ScanOutcome] {
        guard requests.count <= Self.batchLimit else { throw CustodyError(.invalid, "at most \(Self.batchLimit) scans in one batch (\(requests.count) sent)") }
        var users: [String: UserAccount?] = [:]
        if let directory {
            var names = Set<String>()
            for r in requests {
                if let w = r.witness?.trimmingCharacters(in: .whitespaces), !w.isEmpty { names.insert(w) }
                if case .returnToCarrier(_, let s?, _, _) = r.action { names.insert(s.trimmingCharacters(in: .whitespaces)) }
            }
            for n in names { users[n] = .some(try await directory.user(name: n)) }
        }
        let at = now()
        var outcomes = [ScanOutcome?](repeating: nil, count: requests.count)
        var valid: [(Int, CustodyScan)] = []
        for (i, r) in requests.enumerated() {
            if directory != nil, let problem = Self.secondPersonProblem(r, actor: actor, users: users) {
                outcomes[i] = .refused(problem)
                continue
            }
            switch Self.validate(r, atMillis: at) {
            case .failure(let refusal): outcomes[i] = .refused(refusal)
            case .success(let scan): valid.append((i, scan))
            }
        }
        if !valid.isEmpty {
            for (k, outcome) in try await store.recordScans(valid.map(\.1), actor: actor).enumerated() { outcomes[valid[k].0] = outcome }
        }
        return outcomes.map { $0! }
    }

    /// One scan; a refusal is thrown.
    public func record(_ request: Request, actor: String) async throws -> ScanOutcome {
        let outcome = try await record([request], actor: actor)[0]
        if case .refused(let r) = outcome { throw r.archiveError }
        return outcome
    }

    /// A station's scan id (a fresh one when it gives none): 1 to 128 printable ASCII characters.
    static func scanID(_ given: String?) throws -> String {
        let id = given ?? UUID().uuidString.lowercased()
        guard !id.isEmpty, id.count <= 128, id.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw CustodyError(.invalid, "REQUIRED_MISSING: a scan id is 1 to 128 printable characters")
        }
        return id
    }

    /// A station's name: at most 64 printable characters (nil for none).
    static func station(_ given: String?) throws -> String? {
        guard let s = given?.trimmingCharacters(in: .whitespaces), !s.isEmpty else { return nil }
        guard s.count <= 64, !s.contains(where: { $0.isNewline || ($0.asciiValue.map { $0 < 32 } ?? false) }) else {
            throw CustodyError(.invalid, "VALUE_UNKNOWN: a station name is at most 64 printable characters")
        }
        return s
    }

    static func validate(_ r: Request, atMillis: Int64) -> Result<CustodyScan, ScanRefusal> {
        let s10: String
        switch S10.parse(r.text) {
        case .success(let v): s10 = v.value
        case .failure(let p): return .failure(ScanRefusal(p.code, "\(r.text.trimmingCharacters(in: .whitespacesAndNewlines)): \(p)"))
        }
        let id: String
        do { id = try scanID(r.clientScanID) } catch { return .failure(ScanRefusal("REQUIRED_MISSING", "a scan id is 1 to 128 printable characters")) }
        if case .returnToCarrier(let carrier, _, let reason, _) = r.action {
            if carrier.trimmingCharacters(in: .whitespaces).isEmpty { return .failure(ScanRefusal("REQUIRED_MISSING", "the carrier who takes the item back")) }
            // The return batch is the last token of the event's detail: a reason may not forge one.
            if (reason ?? "").contains("return_batch=") || carrier.contains("return_batch=") {
                return .failure(ScanRefusal("VALUE_UNKNOWN", "a return's reason or carrier may not contain \"return_batch=\""))
            }
        }
        return .success(CustodyScan(s10: s10, action: r.action, witness: r.witness, station: r.station, clientScanID: id,
                                    clientTimestampMillis: r.clientTimestampMillis, manualEntry: r.manualEntry, atMillis: atMillis))
    }

    /// A container handed over by the carrier, opened for its items' receipt scans.
    /// Opens a container handed over by the carrier (`direction` in), or a return batch (`out`):
    /// a container filled at the return dock with items going back, the carrier's employee
    /// (`presentedBy`, `badge`) signing for the declared count.
    public func openContainer(_ container: String, carrier: String, seal: String?, declared: Int, presentedBy: String, badge: String?, location: String,
                              station: String?, direction: String = "in", actor: String) async throws -> StoredPresentation {
        let container = container.trimmingCharacters(in: .whitespaces)
        guard Manifest.isLabel(container) else {
            throw CustodyError(.invalid, "CONTAINER_FORMAT: a container label is 1 to 64 letters, digits, '-', '_', '.' or '/': \(container)")
        }
        guard (0...1_000_000).contains(declared) else { throw CustodyError(.invalid, "the declared count is 0 to 1,000,000 items") }
        let carrier = carrier.trimmingCharacters(in: .whitespaces), presentedBy = presentedBy.trimmingCharacters(in: .whitespaces)
        guard !carrier.isEmpty else { throw CustodyError(.invalid, "REQUIRED_MISSING: the carrier presenting the container") }
        guard !presentedBy.isEmpty else {
            throw CustodyError(.invalid, direction == "out" ? "REQUIRED_MISSING: the name of the carrier's employee who takes the return batch"
                                                            : "REQUIRED_MISSING: the name of the carrier's employee who hands it over")
        }
        let seal = seal?.trimmingCharacters(in: .whitespaces)
        return try await store.openPresentation(PresentationDraft(containerID: container, carrier: carrier, sealNumber: seal?.isEmpty == true ? nil : seal,
                                                                  declaredCount: declared, presentedByName: presentedBy, presentedByBadge: badge,
                                                                  location: location, station: station, atMillis: now(), direction: direction), actor: actor)
    }

    /// Closes a container: its scanned count against the declared one; a difference needs a note.
    public func closeContainer(_ id: Int64, note: String?, actor: String) async throws -> StoredPresentation {
        try await store.closePresentation(id: id, note: note, atMillis: now(), actor: actor)
    }
}
