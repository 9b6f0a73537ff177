import Connectors
import Custody
import Foundation
import RecordkeeperCore

/// Every reader of untrusted structure, as a fuzz target (issue 17). A target takes any bytes
/// and must come back — with records, defects or a `ConnectorError` — without crashing, hanging
/// or touching anything outside its scratch directory. Bugs show as a trap (Swift's own checks:
/// bounds, overflow, force-unwrap) or an AddressSanitizer report, which libFuzzer saves as a
/// crash file; each becomes a fixture in `Tests/Fuzz/<target>/`, replayed by the test suite.
enum FuzzTarget: String, CaseIterable, Sendable {
    case whatsappText = "whatsapp-txt"
    case whatsappZip = "whatsapp-zip"
    case signalJSON = "signal-json"
    case signalMarkdown = "signal-md"
    case telegram
    case slack
    case teams
    case sms
    case eml
    case mbox
    case wickr
    case matrix
    case teamsHTML = "html"
    case htmlEntities = "html-entities"
    case search
    case csv
    case xlsx

    /// The name the bytes are given on disk (connectors go by names and extensions).
    var fileName: String? {
        switch self {
        case .whatsappText: return "WhatsApp Chat with Fuzz.txt"
        case .whatsappZip: return "WhatsApp Chat - Fuzz.zip"
        case .signalJSON: return "data.json"
        case .signalMarkdown: return "chat.md"
        case .telegram: return "result.json"
        case .slack: return "Fuzz Slack export.zip"
        case .teams: return "teams-chat.jsonl"
        case .sms: return "sms-20210312.xml"
        case .eml: return "message.eml"
        case .mbox: return "mailbox.mbox"
        case .wickr: return "wickr-export.json"
        case .matrix: return "txn-fuzz.json"
        case .teamsHTML, .htmlEntities, .search, .csv, .xlsx: return nil
        }
    }

    var connector: (any Connector)? {
        switch self {
        case .whatsappText, .whatsappZip: return WhatsAppConnector()
        case .signalJSON, .signalMarkdown: return SignalConnector()
        case .telegram: return TelegramConnector()
        case .slack: return SlackConnector()
        case .teams: return TeamsConnector()
        case .sms: return SMSBackupConnector()
        case .eml, .mbox: return MailConnector()
        case .wickr: return WickrConnector()
        case .matrix: return MatrixConnector()
        case .teamsHTML, .htmlEntities, .search, .csv, .xlsx: return nil
        }
    }

    /// Most records read from one input (an endless stream is a hang, not a finding).
    static let itemLimit = 100_000

    /// Runs one input through the target. Errors the reader reports are expected; only a crash is a finding.
    func run(_ data: Data, in workspace: URL) {
        switch self {
        case .teamsHTML:
            _ = TeamsConnector.text(fromHTML: String(decoding: data, as: UTF8.self))
        case .htmlEntities:
            _ = HTMLEntities.decode(String(decoding: data, as: UTF8.self))
        case .search:
            if let expression = try? SearchExpression.parse(String(decoding: data, as: UTF8.self)) { _ = expression.description }
        case .csv:
            var records = CSVRecords(data)
            var n = 0
            while records.next() != nil, n < Self.itemLimit { n += 1 }
        case .xlsx:
            // A workbook (zip of XML parts) or CSV, as a custody target list is read.
            if let (records, _) = try? TargetImport.records(data) {
                var n = 0
                while records.next() != nil, n < Self.itemLimit { n += 1 }
            }
        default:
            guard let connector, let fileName else { return }
            let directory = workspace.appendingPathComponent("input", isDirectory: true)
            let scratch = workspace.appendingPathComponent("scratch", isDirectory: true)
            try? FileManager.default.removeItem(at: directory)
            try? FileManager.default.removeItem(at: scratch)
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            let url = directory.appendingPathComponent(fileName)
            guard (try? data.write(to: url)) != nil else { return }
            let source = SourceFile(url: url)
            _ = try? connector.detect(source)
            guard let reader = try? connector.open(source, options: ParseOptions(timeZone: "UTC"), scratch: scratch) else { return }
            defer { reader.close() }
            var n = 0
            while n < Self.itemLimit, let item = try? reader.next() {
                if case .message(let m) = item { _ = m.raw.count }
                n += 1
            }
        }
    }
}
