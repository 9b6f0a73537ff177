import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where reminders are sent from: an SMTP relay (the agency's mail gateway, or a local MTA).
public struct SMTPRelay: Sendable, Hashable, CustomStringConvertible {
    /// How the connection is protected: none (a relay on loopback or the internal network),
    /// STARTTLS (RFC 3207: plain, then TLS before anything else is said; never falls back), or
    /// TLS from the first byte (port 465).
    public enum Security: String, Sendable, Hashable, CaseIterable { case none, starttls, tls }
    public var host: String
    public var port: Int
    /// The name this host gives in EHLO.
    public var heloName: String
    public var timeoutSeconds: Int
    public var security: Security
    /// The account to log in as (RFC 4954 AUTH PLAIN or LOGIN), only ever over TLS.
    public var username: String?
    public var password: String?
    /// PEM file of CA certificates to trust beside the system's (a private relay's CA).
    public var caFile: String?
    public init(host: String, port: Int = 25, heloName: String = "recordkeeper.localdomain", timeoutSeconds: Int = 30,
                security: Security = .none, username: String? = nil, password: String? = nil, caFile: String? = nil) {
        self.host = host
        self.port = port
        self.heloName = heloName
        self.timeoutSeconds = timeoutSeconds
        self.security = security
        self.username = username
        self.password = password
        self.caFile = caFile
    }

    /// Never the password.
    public var description: String { "\(host):\(port) (\(security.rawValue)\(username.map { ", as \($0)" } ?? ""))" }
}

/// A plain-text e-mail.
public struct OutgoingMail: Sendable, Hashable {
    public var from: String
    public var to: [String]
    public var subject: String
    public var body: String
    public init(from: String, to: [String], subject: String, body: String) {
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
    }
}

public struct SMTPError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// Just enough SMTP (RFC 5321) to hand plain-text mail to a relay: EHLO (HELO as fallback),
/// STARTTLS (RFC 3207) or TLS from the start, AUTH PLAIN or LOGIN (RFC 4954) over TLS only,
/// MAIL FROM, RCPT TO, DATA with dot-stuffing, QUIT. TLS is SwiftNIO's (swift-nio-ssl), with the
/// relay's certificate chain and host name verified. Written here because no SMTP package is
/// among the ones this project can use.
public enum SMTPClient {
    /// Sends one message; returns the relay's final reply (its queue id, usually).
    public static func send(_ mail: OutgoingMail, via relay: SMTPRelay, date: Date = Date()) throws -> String {
        guard !mail.to.isEmpty else { throw SMTPError(description: "no recipients") }
        for address in [mail.from] + mail.to where address.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "<" || $0 == ">" }) || !address.contains("@") {
            throw SMTPError(description: "not a usable address: \(address.debugDescription)")
        }
        if relay.username != nil, relay.security == .none {
            throw SMTPError(description: "logging in to the relay over a plain connection would send the password in clear: use STARTTLS or TLS")
        }
        let c = try Connection(host: relay.host, port: relay.port, timeout: relay.timeoutSeconds)
        defer { c.close() }
        if relay.security == .tls { try c.startTLS(host: relay.host, caFile: relay.caFile) }
        try c.expect([220])
        var ehlo: String
        do { ehlo = try c.command("EHLO \(relay.heloName)", [250]) } catch {
            guard relay.security == .none else { throw error } // HELO knows no STARTTLS
            ehlo = try c.command("HELO \(relay.heloName)", [250])
        }
        if relay.security == .starttls {
            guard Self.extensions(ehlo).contains("STARTTLS") else {
                throw SMTPError(description: "the SMTP relay does not offer STARTTLS; nothing was sent (no fall back to a plain connection)")
            }
            try c.command("STARTTLS", [220])
            try c.startTLS(host: relay.host, caFile: relay.caFile)
            ehlo = try c.command("EHLO \(relay.heloName)", [250]) // what was said before TLS is forgotten (RFC 3207 §4.2)
        }
        if let user = relay.username {
            try login(c, user: user, password: relay.password ?? "", offered: Self.extensions(ehlo))
        }
        try c.command("MAIL FROM:<\(mail.from)>", [250])
        for r in mail.to { try c.command("RCPT TO:<\(r)>", [250, 251]) }
        try c.command("DATA", [354])
        try c.write(message(mail, date: date) + ".\r\n")
        let reply = try c.expect([250])
        _ = try? c.command("QUIT", [221])
        return reply
    }

    public static func messageForTesting(_ mail: OutgoingMail) -> String { message(mail, date: Date(timeIntervalSince1970: 0)) }

    /// The keywords of an EHLO reply's lines (`STARTTLS`, `AUTH PLAIN LOGIN`…), upper-cased.
    static func extensions(_ reply: String) -> [String] {
        reply.split(separator: "\n").dropFirst().map { String($0.dropFirst(4)).uppercased() }
    }

    /// AUTH PLAIN when offered, else LOGIN; the password goes only over TLS and never into an
    /// error (a refusal quotes the relay's reply code and words only).
    static func login(_ c: Connection, user: String, password: String, offered: [String]) throws {
        let mechanisms = Set(offered.first { $0.hasPrefix("AUTH ") || $0.hasPrefix("AUTH=") }?.dropFirst(5).split(separator: " ").map(String.init) ?? [])
        func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
        if mechanisms.contains("PLAIN") {
            try c.command("AUTH PLAIN " + b64("\u{0}" + user + "\u{0}" + password), [235])
        } else if mechanisms.contains("LOGIN") {
            try c.command("AUTH LOGIN", [334])
            try c.command(b64(user), [334])
            try c.command(b64(password), [235])
        } else {
            throw SMTPError(description: "the SMTP relay offers no login this client speaks (PLAIN or LOGIN)\(mechanisms.isEmpty ? "" : "; it offers \(mechanisms.sorted().joined(separator: ", "))")")
        }
    }

    /// Checks that an SMTP server is up: it greets with 220.
    public enum Probe {
        public static func greets(host: String, port: Int) throws -> Bool {
            let c = try Connection(host: host, port: port, timeout: 2)
            defer { c.close() }
            try c.expect([220])
            _ = try? c.command("QUIT", [221])
            return true
        }
    }

    /// The message as sent: headers (RFC 5322, RFC 2047 for a non-ASCII subject), a
    /// quoted-printable UTF-8 body, CRLF line ends, and dot-stuffing.
    static func message(_ mail: OutgoingMail, date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, d MMM yyyy HH:mm:ss '+0000'"
        let domain = mail.from.split(separator: "@").last.map(String.init) ?? "localhost"
        let subject = mail.subject.allSatisfy(\.isASCII) ? mail.subject
            : "=?UTF-8?B?" + Data(mail.subject.utf8).base64EncodedString() + "?="
        let headers = [
            "Date: \(f.string(from: date))", "From: <\(mail.from)>", "To: " + mail.to.map { "<\($0)>" }.joined(separator: ", "),
            "Subject: \(subject)", "Message-ID: <\(UUID().uuidString.lowercased())@\(domain)>", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable", "Auto-Submitted: auto-generated",
        ]
        let body = quotedPrintable(mail.body).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }
        return (headers + [""] + body).joined(separator: "\r\n") + "\r\n"
    }

    /// Quoted-printable (RFC 2045): lines of at most 76 characters, `=` and non-ASCII encoded.
    static func quotedPrintable(_ text: String) -> String {
        var lines: [String] = []
        for line in text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false) {
            var out = "", width = 0
            let bytes = Array(line.utf8)
            for (i, b) in bytes.enumerated() {
                let last = i == bytes.count - 1
                let piece = (b == 61 || b > 126 || (b < 32 && b != 9) || (last && (b == 32 || b == 9))) ? String(format: "=%02X", b) : String(UnicodeScalar(b))
                if width + piece.count > 75 { out += "=\n"; width = 0 }
                out += piece
                width += piece.count
            }
            lines.append(out)
        }
        return lines.joined(separator: "\n")
    }

    final class Connection {
        let fd: Int32
        let timeout: Int
        var buffer: [UInt8] = []
        /// Once TLS has started, the socket is SwiftNIO's and every byte goes through it.
        var tls: SMTPTLSStream?
        /// Whether the socket was handed to SwiftNIO (which then closes it, even when TLS failed).
        var handedOver = false

        init(host: String, port: Int, timeout: Int) throws {
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            #else
            hints.ai_socktype = SOCK_STREAM
            #endif
            var result: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else {
                throw SMTPError(description: "cannot resolve the SMTP relay \(host)")
            }
            defer { freeaddrinfo(result) }
            var fd: Int32 = -1
            var ai: UnsafeMutablePointer<addrinfo>? = first
            while let a = ai {
                let s = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
                if s >= 0 {
                    var tv = timeval(tv_sec: timeout, tv_usec: 0)
                    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                    if connect(s, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { fd = s; break }
                    _ = SMTPClient.closeSocket(s)
                }
                ai = a.pointee.ai_next
            }
            guard fd >= 0 else { throw SMTPError(description: "cannot connect to the SMTP relay \(host):\(port)") }
            self.fd = fd
            self.timeout = timeout
        }

        func close() {
            if let tls { tls.close() } else if !handedOver { _ = SMTPClient.closeSocket(fd) }
        }

        /// Hands the socket to TLS; nothing may be waiting unread (a relay that sent more after
        /// its 220 is talking out of turn: RFC 3207's injection defence).
        func startTLS(host: String, caFile: String?) throws {
            guard buffer.isEmpty else { throw SMTPError(description: "the SMTP relay sent more than its reply before TLS began; nothing was sent") }
            var tv = timeval(tv_sec: 0, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            let context = try SMTPTLSStream.context(caFile: caFile)
            handedOver = true
            tls = try SMTPTLSStream(fd: fd, host: host, context: context, timeout: timeout)
        }

        func write(_ text: String) throws {
            if let tls { try tls.write(text); return }
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                let n = bytes.withUnsafeBytes { sendBytes(fd, $0.baseAddress, $0.count) }
                guard n > 0 else { throw SMTPError(description: "the SMTP relay closed the connection") }
                bytes = bytes.dropFirst(n)
            }
        }

        func readLine() throws -> String {
            if let tls {
                var line = try tls.readLine(timeout: timeout)
                if line.last == 13 { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            while true {
                if let nl = buffer.firstIndex(of: 10) {
                    var line = Array(buffer[..<nl])
                    buffer.removeFirst(nl + 1)
                    if line.last == 13 { line.removeLast() }
                    return String(decoding: line, as: UTF8.self)
                }
                guard buffer.count < 64 * 1024 else { throw SMTPError(description: "the SMTP relay sent an overlong line") }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { throw SMTPError(description: "no answer from the SMTP relay (closed or timed out)") }
                buffer += chunk[..<n]
            }
        }

        /// Reads one (possibly multi-line) reply and checks its code.
        @discardableResult
        func expect(_ codes: Set<Int>) throws -> String {
            var lines: [String] = []
            while true {
                let line = try readLine()
                lines.append(line)
                if line.count < 4 || line[line.index(line.startIndex, offsetBy: 3)] != "-" { break }
            }
            let code = Int(lines.last!.prefix(3)) ?? 0
            guard codes.contains(code) else { throw SMTPError(description: "the SMTP relay refused: \(lines.joined(separator: " / "))") }
            return lines.joined(separator: "\n")
        }

        @discardableResult
        func command(_ line: String, _ codes: Set<Int>) throws -> String {
            try write(line + "\r\n")
            return try expect(codes) // a refusal quotes the relay's reply, never the line sent
        }
    }

    static func closeSocket(_ fd: Int32) -> Int32 {
        #if canImport(Glibc)
        return Glibc.close(fd)
        #else
        return Darwin.close(fd)
        #endif
    }
}

private func sendBytes(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.send(fd, p, n, Int32(MSG_NOSIGNAL))
    #else
    return Darwin.send(fd, p, n, 0)
    #endif
}
