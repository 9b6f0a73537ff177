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
        let server = Process()
        server.executableURL = URL(fileURLWithPath: Self.python)
        server.arguments = ["-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Mailbox", maildir.path]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        // aiosmtpd ignores SIGTERM and SIGINT while serving: it is killed, so no test run leaves one behind.
        defer { _ = kill(server.processIdentifier, SIGKILL) }
        // Up when it answers.
        let deadline = Date().addingTimeInterval(30)
        while (try? SMTPClient.Probe.greets(host: "127.0.0.1", port: port)) != true {
            guard Date() < deadline else { throw TestFailure("aiosmtpd did not start") }
            try await Task.sleep(for: .milliseconds(200))
        }
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
