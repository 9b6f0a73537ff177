import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// The TLS half of `SMTPClient.Connection`: a connected socket handed to SwiftNIO, with a TLS
/// client handler (certificate chain and host name verified, TLS 1.2 at least) and a handler
/// that keeps what arrives for the blocking reader. The socket is NIO's from then on.
final class SMTPTLSStream: @unchecked Sendable {
    private let channel: any Channel
    private let inbox: Inbox

    /// What the channel received, for a reader on another thread.
    final class Inbox: @unchecked Sendable {
        private let lock = NSLock()
        private let signal = DispatchSemaphore(value: 0)
        private var bytes: [UInt8] = []
        private var ended: String?

        func append(_ b: [UInt8]) { lock.lock(); bytes += b; lock.unlock(); signal.signal() }
        /// Why the channel ended, if it did.
        var endedBecause: String? { lock.lock(); defer { lock.unlock() }; return ended }
        func end(_ why: String) { lock.lock(); if ended == nil { ended = why }; lock.unlock(); signal.signal() }

        /// Up to the next line feed (taken out), waiting up to `timeout` seconds for more.
        func line(timeout: Int) throws -> [UInt8] {
            let deadline = DispatchTime.now() + .seconds(timeout)
            while true {
                lock.lock()
                if let nl = bytes.firstIndex(of: 10) {
                    let line = Array(bytes[..<nl])
                    bytes.removeFirst(nl + 1)
                    lock.unlock()
                    return line
                }
                let over = bytes.count > 64 * 1024, why = ended
                lock.unlock()
                if over { throw SMTPError(description: "the SMTP relay sent an overlong line") }
                if let why { throw SMTPError(description: why) }
                if signal.wait(timeout: deadline) == .timedOut { throw SMTPError(description: "no answer from the SMTP relay (timed out)") }
            }
        }
    }

    final class InboxHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let inbox: Inbox
        init(_ inbox: Inbox) { self.inbox = inbox }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            if let b = buffer.readBytes(length: buffer.readableBytes) { inbox.append(b) }
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // The TLS handshake's verdict (an untrusted certificate, a host name that does not
            // match) ends here: said, never passed over.
            inbox.end("TLS with the SMTP relay failed: \(error)")
            context.close(promise: nil)
        }
        func channelInactive(context: ChannelHandlerContext) { inbox.end("the SMTP relay closed the connection") }
    }

    /// The TLS client context: the system's roots and, when given, the CA certificates in `caFile`.
    static func context(caFile: String?) throws -> NIOSSLContext {
        var config = TLSConfiguration.makeClientConfiguration()
        config.minimumTLSVersion = .tlsv12
        if let caFile { config.additionalTrustRoots = [.file(caFile)] }
        do { return try NIOSSLContext(configuration: config) } catch {
            throw SMTPError(description: "cannot set up TLS for the SMTP relay (the CA file \(caFile ?? "-")?): \(error)")
        }
    }

    private let timeout: Int

    /// Starts TLS on `fd` (already connected; for STARTTLS, after the relay's 220) as a client of
    /// `host`. The socket is NIO's from here, whether this succeeds or not. Every write is bounded
    /// by `timeout` seconds, the handshake's included (a relay gone silent closes the channel).
    init(fd: Int32, host: String, context: NIOSSLContext, timeout: Int) throws {
        self.timeout = timeout
        let isAddress = host.contains(":") || host.split(separator: ".").allSatisfy { Int($0) != nil }
        let inbox = Inbox()
        self.inbox = inbox
        do {
            channel = try ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { ch in
                    ch.eventLoop.makeCompletedFuture {
                        let tls = try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host)
                        try ch.pipeline.syncOperations.addHandlers([tls, InboxHandler(inbox)])
                    }
                }
                .withConnectedSocket(fd).wait()
        } catch {
            throw SMTPError(description: "cannot start TLS with the SMTP relay \(host): \(error)")
        }
    }

    func write(_ text: String) throws {
        let channel = self.channel
        let guardTask = channel.eventLoop.scheduleTask(in: .seconds(Int64(timeout))) { channel.close(promise: nil) }
        defer { guardTask.cancel() }
        do { try channel.writeAndFlush(ByteBuffer(string: text)).wait() } catch {
            // A failed handshake closes the channel: its reason, rather than the closed channel.
            throw SMTPError(description: inbox.endedBecause ?? "the SMTP relay closed the connection (\(error))")
        }
    }

    func readLine(timeout: Int) throws -> [UInt8] { try inbox.line(timeout: timeout) }

    func close() { try? channel.close().wait() }
}
