import Archive
import AsyncHTTPClient
import Crypto
import Custody
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Recordkeeper
import RecordkeeperCore
import ServiceLifecycle

/// Pushes custody alerts to a webhook (CUSTODY.md §3 "Alerts … e-mail/webhook"; P4: within 60 s):
/// each pass computes the alerts as `GET /api/v1/custody/alerts` does and POSTs each one not sent
/// before as JSON. An alert is sent once per severity (a SEACATS clock escalating from +12 h to
/// +20 h to +24 h is three pushes, to its three audiences); what was sent is in the audit log
/// (`custody.alert.push`, target `custody-alert:<kind>|<subject>|<severity>|<since>`), which is also how
/// a restarted or second instance knows not to send it again. A push the receiver does not
/// accept (not 2xx, or no answer in 10 s) is tried again next pass; redirects are not followed. With a secret, each body is
/// signed: `X-Recordkeeper-Signature: sha256=<HMAC-SHA256 of the body, hex>`.
public struct CustodyAlertPush: Sendable {
    public let archive: ArchiveHandle
    public let webhook: URL
    let secret: String?
    let http: HTTPClient
    let now: @Sendable () -> Int64

    public init(archive: ArchiveHandle, webhook: URL, secret: String?, http: HTTPClient = CustodyAlertPush.client,
                now: @escaping @Sendable () -> Int64 = { Timestamp.nowMillis() }) {
        self.archive = archive; self.webhook = webhook; self.secret = secret; self.http = http; self.now = now
    }

    public static let webhookVariable = "RECORDKEEPER_CUSTODY_ALERT_WEBHOOK"
    public static let secretVariable = "RECORDKEEPER_CUSTODY_ALERT_SECRET"

    /// The key an alert is sent under once: its kind, subject and severity, and when its condition
    /// began (an item held too long again in a later episode, or a container label used again, is
    /// a new alert).
    static func key(_ a: CustodyAlert) -> String { "\(a.kind)|\(a.subject)|\(a.severity)|\(a.since)" }

    /// The client pushes go through: redirects refused (a signed body goes only where configured).
    public static let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                                   configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))

    /// A pass stops sending after this long (well inside the lease), and at the first receiver
    /// that does not answer: the most urgent alerts go first, and the rest wait for the next pass.
    static let passBudget: Duration = .seconds(90)

    struct Payload: Encodable {
        var alert: CustodyAlert
        var key: String
        var sentAt: String
    }

    /// One pass: the alerts not yet sent are POSTed; returns how many were sent and how many failed.
    public func pass() async throws -> (sent: Int, failed: Int) {
        guard let store = archive.store as? any CustodyStore else { return (0, 0) }
        let at = now()
        var sent = 0, failed = 0
        let stop = ContinuousClock.now + Self.passBudget
        for alert in try await AlertService(store: store).alerts(asOf: at) {
            if ContinuousClock.now > stop { break }
            let key = Self.key(alert)
            let target = "custody-alert:\(key)"
            guard try await archive.store.auditEntries(target: target, limit: 1).isEmpty else { continue }
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.sortedKeys]
            let body = try encoder.encode(Payload(alert: alert, key: key, sentAt: Timestamp.iso(millis: at)))
            var request = HTTPClientRequest(url: webhook.absoluteString)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "Recordkeeper custody alerts")
            if let secret, !secret.isEmpty {
                let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
                request.headers.add(name: "X-Recordkeeper-Signature", value: "sha256=" + Data(mac).map { String(format: "%02x", $0) }.joined())
            }
            request.body = .bytes(ByteBuffer(bytes: body))
            let status: UInt
            do {
                let response = try await http.execute(request, timeout: .seconds(10))
                status = response.status.code
                _ = try? await response.body.collect(upTo: 64 << 10)
            } catch {
                failed += 1
                break // the receiver does not answer: the rest wait for the next pass
            }
            guard (200..<300).contains(status) else { failed += 1; continue }
            try await archive.store.appendAudit(AuditDraft(actor: "system:custody-alerts", action: "custody.alert.push", target: target, detail: [
                "kind": alert.kind, "severity": alert.severity, "audience": alert.audience, "s10": alert.s10 ?? "", "status": String(status)]))
            sent += 1
        }
        return (sent, failed)
    }
}

/// Runs `CustodyAlertPush` every `interval` while `serve` runs, one instance at a time (a lease).
public struct BackgroundAlertPush: Service {
    let push: CustodyAlertPush
    let interval: Duration
    let logger: Logger
    let holder = "custody-alerts:\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"

    public init(push: CustodyAlertPush, interval: Duration = .seconds(30), logger: Logger) {
        self.push = push
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    if try await push.archive.store.acquireLease("custody-alert-push", holder: holder, ttlMillis: 5 * 60_000) {
                        let r = try await push.pass()
                        try await push.archive.store.releaseLease("custody-alert-push", holder: holder)
                        if r.sent + r.failed > 0 {
                            logger.info("custody.alerts.pushed", metadata: ["sent": "\(r.sent)", "failed": "\(r.failed)"])
                        }
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("custody.alerts.failed", metadata: ["error.code": "\((error as? ArchiveError)?.code.rawValue ?? "unexpected")"])
                }
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }
}
