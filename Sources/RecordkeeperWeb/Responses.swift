import Archive
import Custody
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Recordkeeper
import RecordkeeperCore

enum Respond {
    static func html(_ page: HTML, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page.rendered)))
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.keyEncodingStrategy = .convertToSnakeCase
        return e
    }()

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    /// 303: after a POST the browser GETs the result (reloading never repeats the action).
    static func seeOther(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    static func bytes(_ data: Data, contentType: String, disposition: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.contentDisposition] = disposition
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The error every failure becomes: a status, a message a person can act on, and a code.
struct Failure: Encodable {
    /// The code a custody control's message starts with (`REQUIRED_MISSING: …`).
    static func controlCode(_ message: String) -> String? {
        guard let colon = message.firstIndex(of: ":") else { return nil }
        let head = message[..<colon]
        guard head.count >= 4, head.allSatisfy({ ($0.isUppercase && $0.isASCII) || $0 == "_" || $0.isNumber }), head.contains("_") else { return nil }
        return String(head)
    }

    var status: Int
    var code: String
    var message: String
    var requestID: String
    /// Seconds a refused client should wait (a `Retry-After` header; not in the JSON body).
    var retryAfter: Int?

    enum CodingKeys: String, CodingKey { case status, code, message, requestID }

    init(_ error: any Error, requestID: String) {
        self.requestID = requestID
        switch error {
        case let e as ArchiveError:
            code = e.code.rawValue
            message = e.message
            switch e.code {
            case .notFound: status = 404
            case .refused: status = 403
            case .invalid, .badQuery: status = 400
            case .blobMissing, .gone: status = 410
            case .busy: status = 503
            default:
                status = 500
                message = "the archive could not do that; quote request \(requestID) to the operator"
            }
            // A data-entry control (custody, CUSTODY.md §3): 422 with its machine-readable code.
            if e.code == .invalid, let c = Self.controlCode(e.message) { (status, code) = (422, c) }
        case let e as CustodyError:
            message = e.message
            switch e.code {
            case .invalid: (status, code) = (422, Self.controlCode(e.message) ?? "invalid")
            case .notFound: (status, code) = (404, "not_found")
            case .refused: (status, code) = (403, "refused")
            }
        case let e as IngestError:
            status = 400
            code = "ingest"
            message = e.message
        case let e as WebError:
            switch e {
            case .signInRequired: (status, code, message) = (401, "sign_in_required", "sign in first")
            case .forbidden: (status, code, message) = (403, "forbidden", "your role does not allow this; ask an admin if you need it")
            case .csrf: (status, code, message) = (403, "csrf", "this form has expired or did not come from this site; go back, reload the page and try again")
            case .tooManyAttempts(let s): (status, code, message) = (429, "throttled", "too many failed sign-ins; try again in \(max(1, s / 60)) minute(s)")
                retryAfter = s
            case .rateLimited(let s):
                (status, code, message) = (429, "rate_limited",
                                           "too many searches, reports or uploads from you at once; try again in \(s) second\(s == 1 ? "" : "s")")
                retryAfter = s
            case .badRequest(let m): (status, code, message) = (400, "bad_request", m)
            case .tooLarge(let m): (status, code, message) = (413, "too_large", m)
            }
        case let e as HTTPError:
            status = Int(e.status.code)
            code = "http_\(e.status.code)"
            switch e.status.code {
            case 404: message = "there is nothing at this address"
            case 405: message = "this address does not take that method"
            case 413: message = "the request is too large"
            default: message = e.status.reasonPhrase
            }
        case is NIOTooManyBytesError:
            // A body past what the route reads (a form, a JSON document): the client's fault, not the server's.
            (status, code, message) = (413, "too_large", "the request body is larger than this address accepts")
        default:
            status = 500
            code = "internal"
            message = "something went wrong on the server; quote request \(requestID) to the operator"
        }
    }
}
