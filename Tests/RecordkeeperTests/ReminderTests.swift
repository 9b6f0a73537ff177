import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import Testing

/// Reminders go through a real SMTP server: aiosmtpd (PyPI), writing what it receives to a Maildir.
@Suite("Monthly export reminders over SMTP", .serialized)
struct ReminderTests {
    static let python = ProcessInfo.processInfo.environment["RECORDKEEPER_SMTP_PYTHON"]
        ?? packageRoot.appendingPathComponent(".build/tools-venv/bin/python").path

    /// Starts an SMTP server (`arguments` to the tools' python) and waits until it greets on
    /// `port` in clear; `greets: false` for a server that speaks TLS only (it prints "ready").
    /// aiosmtpd ignores SIGTERM and SIGINT while serving: the caller kills it (SIGKILL), so no
    /// test run leaves one behind.
    static func startServer(_ arguments: [String], port: Int, greets: Bool = true) async throws -> Process {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: python)
        server.arguments = arguments
        let out = Pipe()
        server.standardOutput = greets ? FileHandle.nullDevice : out
        server.standardError = FileHandle.nullDevice
        try server.run()
        guard greets else {
            guard String(decoding: out.fileHandleForReading.availableData, as: UTF8.self).contains("ready") else {
                kill(server.processIdentifier, SIGKILL)
                throw TestFailure("the SMTP server did not start")
            }
            return server
        }
        let deadline = Date().addingTimeInterval(30)
        while (try? SMTPClient.Probe.greets(host: "127.0.0.1", port: port)) != true {
            guard Date() < deadline else { kill(server.processIdentifier, SIGKILL); throw TestFailure("the SMTP server did not start") }
            try await Task.sleep(for: .milliseconds(200))
        }
        return server
    }

    static func freePort() -> Int {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { _ = close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python), "needs aiosmtpd (scripts/test.sh installs it)"), .timeLimit(.minutes(2)))
    func custodiansOfUnmanagedAppsGetOneReminderAMonthAndEveryAttemptIsLogged() async throws {
        let f = try await ComplianceTests.fixture(); defer { f.tmp.cleanup() }
        let maildir = f.tmp.url.appendingPathComponent("maildir") // aiosmtpd makes it (with tmp/new/cur)
        let port = Self.freePort()
        let server = try await Self.startServer(["-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Mailbox", maildir.path], port: port)
        defer { _ = kill(server.processIdentifier, SIGKILL) }
        let service = ReminderService(archive: f.archive)
        let relay = SMTPRelay(host: "127.0.0.1", port: port)
        let due = try await service.due(recordsAddress: "records@cbp.example.gov")
        #expect(due.map(\.custodian) == [ComplianceTests.dan, ComplianceTests.rita])
        #expect(due[0].platforms == ["signal", "whatsapp"] && due[0].body.contains("Signal (+1 520 555 0177): last handed over never"))
        // Reviewers do not send mail in the agency's name.
        _ = try await UserService(archive: f.archive).save(name: "carol", displayName: nil, roles: [.reviewer], actor: "alice")
        await #expect(throws: ArchiveError.self) {
            try await service.send(relay: relay, from: "records@cbp.example.gov", recordsAddress: "records@cbp.example.gov", actor: "carol")
        }

        let sent = try await service.send(relay: relay, from: "records@cbp.example.gov", recordsAddress: "records@cbp.example.gov", actor: "alice")
        #expect(sent.map(\.status) == ["sent", "sent"], "\(sent.map(\.detail))")
        let files = try FileManager.default.contentsOfDirectory(at: maildir.appendingPathComponent("new"), includingPropertiesForKeys: nil)
        #expect(files.count == 2)
        let texts = try files.map { try String(contentsOf: $0, encoding: .utf8) }
        let toDan = try #require(texts.first { $0.contains("To: <\(ComplianceTests.dan)>") })
        #expect(toDan.contains("Subject: Monthly message export reminder") && toDan.contains("From: <records@cbp.example.gov>"))
        #expect(toDan.contains("Hello Dan Kowalski,") && toDan.contains("44 U.S.C. 2911"))
        // Once a month: a second run sends nothing, unless forced.
        #expect(try await service.send(relay: relay, from: "records@cbp.example.gov", recordsAddress: "records@cbp.example.gov", actor: "alice").isEmpty)
        let again = try await service.send(relay: relay, from: "records@cbp.example.gov", recordsAddress: "records@cbp.example.gov", force: true, actor: "alice")
        #expect(again.count == 2)
        // A relay that is not there: the attempt is logged as failed, nothing is lost silently.
        let failed = try await service.send(relay: SMTPRelay(host: "127.0.0.1", port: Self.freePort(), timeoutSeconds: 5), from: "records@cbp.example.gov",
                                            recordsAddress: "records@cbp.example.gov", force: true, actor: "alice")
        #expect(failed.count == 2 && failed.allSatisfy { $0.status == "failed" && $0.detail.contains("cannot connect") })
        let log = try await service.log()
        #expect(log.count == 6 && log.filter { $0.status == "sent" }.count == 4)
        let audit = try await f.archive.store.auditEntries(afterSequence: 0, limit: 5000).filter { $0.action == "reminder.send" }
        #expect(audit.count == 4)
    }

    /// Issue 16, item 5: a relay that requires STARTTLS and a login (aiosmtpd, a certificate made
    /// here for `localhost`): the mail goes through TLS with the relay's certificate verified; a wrong
    /// password, an untrusted certificate, a relay without STARTTLS and a login over a plain
    /// connection each fail, saying why, and deliver nothing.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python), "needs aiosmtpd (scripts/test.sh installs it)"), .timeLimit(.minutes(2)))
    func aRelayRequiringStartTLSAndALoginIsUsedOnlyOverVerifiedTLS() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let cert = tmp.url.appendingPathComponent("relay.pem"), key = tmp.url.appendingPathComponent("relay.key")
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", key.path, "-out", cert.path]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        #expect(openssl.terminationStatus == 0)
        let maildir = tmp.url.appendingPathComponent("maildir")
        let port = Self.freePort()
        let tlsServer = packageRoot.appendingPathComponent("scripts/smtp_tls_server.py").path
        let server = try await Self.startServer([tlsServer, cert.path, key.path, maildir.path, String(port), "records-relay", "s3cret-Relay-pw"], port: port)
        defer { _ = kill(server.processIdentifier, SIGKILL) }
        let mail = OutgoingMail(from: "records@cbp.example.gov", to: ["dan@cbp.example.gov"], subject: "Monthly message export reminder", body: "Hello Dan")
        func relay(_ security: SMTPRelay.Security, password: String = "s3cret-Relay-pw", ca: URL? = cert) -> SMTPRelay {
            SMTPRelay(host: "localhost", port: port, timeoutSeconds: 10, security: security, username: "records-relay", password: password, caFile: ca?.path)
        }
        func delivered() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: maildir.appendingPathComponent("new").path).count) ?? 0 }
        func refusal(_ r: SMTPRelay) -> String {
            do { _ = try SMTPClient.send(mail, via: r); return "sent" } catch { return "\(error)" }
        }
        // Over a plain connection the password is never sent; without TLS the relay refuses mail anyway.
        #expect(refusal(relay(.none)).contains("password in clear"))
        #expect(refusal(SMTPRelay(host: "localhost", port: port, timeoutSeconds: 10)).contains("refused"))
        // A certificate nobody vouches for: TLS fails, nothing is said after it.
        let untrusted = refusal(relay(.starttls, ca: nil))
        #expect(untrusted.contains("TLS") && untrusted != "sent", "\(untrusted)")
        // A certificate for another name: the relay reached by its address is not the one the
        // certificate names (an address is checked against the certificate's addresses).
        let byAddress = refusal(SMTPRelay(host: "127.0.0.1", port: port, timeoutSeconds: 10, security: .starttls, username: "records-relay",
                                          password: "s3cret-Relay-pw", caFile: cert.path))
        #expect(byAddress.contains("TLS") && byAddress != "sent", "\(byAddress)")
        // The wrong password: the relay's refusal, never the password.
        let wrong = refusal(relay(.starttls, password: "not-the-password"))
        #expect(wrong.contains("535") && !wrong.contains("not-the-password"), "\(wrong)")
        #expect(delivered() == 0)
        // Verified TLS, then the login, then the mail.
        let reply = try SMTPClient.send(mail, via: relay(.starttls))
        #expect(reply.hasPrefix("250"), "\(reply)")
        #expect(delivered() == 1)
        #expect(!relay(.starttls).description.contains("s3cret"))
        // A relay that does not offer STARTTLS is not used in clear.
        let plainPort = Self.freePort()
        let plain = try await Self.startServer(["-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(plainPort)", "-c", "aiosmtpd.handlers.Mailbox",
                                                tmp.url.appendingPathComponent("plain").path], port: plainPort)
        defer { _ = kill(plain.processIdentifier, SIGKILL) }
        let noTLS = refusal(SMTPRelay(host: "localhost", port: plainPort, timeoutSeconds: 10, security: .starttls, caFile: cert.path))
        #expect(noTLS.contains("does not offer STARTTLS"), "\(noTLS)")

        // TLS from the first byte (port 465 style): the greeting itself comes over TLS.
        let implicitPort = Self.freePort()
        let implicit = try await Self.startServer([tlsServer, cert.path, key.path, maildir.path, String(implicitPort), "records-relay", "s3cret-Relay-pw", "implicit"],
                                                  port: implicitPort, greets: false)
        defer { _ = kill(implicit.processIdentifier, SIGKILL) }
        let overTLS = try SMTPClient.send(mail, via: SMTPRelay(host: "localhost", port: implicitPort, timeoutSeconds: 10, security: .tls,
                                                               username: "records-relay", password: "s3cret-Relay-pw", caFile: cert.path))
        #expect(overTLS.hasPrefix("250") && delivered() == 2, "\(overTLS)")
        // The same relay spoken to in clear gets no greeting it can read: a timeout, nothing sent.
        let clear = refusal(SMTPRelay(host: "localhost", port: implicitPort, timeoutSeconds: 3, security: .starttls, caFile: cert.path))
        #expect(clear != "sent" && delivered() == 2, "\(clear)")
    }

    @Test func messagesAreQuotedPrintableDotStuffedAndHeaderSafe() {
        let m = OutgoingMail(from: "records@agency.gov", to: ["a@agency.gov"], subject: "Exportación mensual",
                             body: ".hidden line\nCafé = 5 € " + String(repeating: "x", count: 90))
        let text = SMTPClient.messageForTesting(m)
        #expect(text.contains("Subject: =?UTF-8?B?"))
        #expect(text.contains("\r\n..hidden line\r\n"))
        #expect(text.contains("Caf=C3=A9 =3D 5 =E2=82=AC"))
        #expect(text.split(separator: "\r\n").allSatisfy { $0.count <= 78 })
        #expect(throws: SMTPError.self) { try SMTPClient.send(OutgoingMail(from: "x@y.gov\r\nRCPT TO:<evil@z>", to: ["a@b.gov"], subject: "", body: ""), via: SMTPRelay(host: "127.0.0.1", port: 1)) }
    }
}
