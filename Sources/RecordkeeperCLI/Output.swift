import ArgumentParser
import Foundation
import Recordkeeper

enum CLIError {
    /// Runs `body`; on failure prints a one-line error (what went wrong and what to do) to
    /// stderr and exits 1 (5 when the archive stayed busy). Never prints a stack trace or record content.
    static func report(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let exit as ExitCode {
            throw exit
        } catch let busy as ArchiveError where busy.code == .busy {
            Terminal.error(userMessage(for: busy))
            throw ExitCode(5)
        } catch {
            Terminal.error(userMessage(for: error))
            throw ExitCode(1)
        }
    }
}

enum Terminal {
    static let stderrIsTTY = isatty(2) == 1
    static let stdoutIsTTY = isatty(1) == 1

    static func error(_ message: String) {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }

    /// Rewrites the current stderr line (progress); only when stderr is a terminal.
    static func progress(_ message: String) {
        guard stderrIsTTY else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(message)".utf8))
    }

    static func endProgress() {
        guard stderrIsTTY else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    static func json<T: Encodable>(_ value: T, pretty: Bool = false) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "{}"
    }

    static func bytes(_ n: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var v = Double(n)
        var i = 0
        while v >= 1000, i < units.count - 1 { v /= 1000; i += 1 }
        return i == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[i])
    }

    static func count(_ n: Int) -> String {
        let f = NumberFormatter()
        f.numberStyle = .decimal
        f.locale = Locale(identifier: "en_US")
        return f.string(from: NSNumber(value: n)) ?? String(n)
    }
}
