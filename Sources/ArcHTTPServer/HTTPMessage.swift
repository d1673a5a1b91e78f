import ArcCore

/// One HTTP/1.1 request as the server read it: the body complete (de-chunked), header
/// names lower-cased.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The path without the query string.
    public var path: String
    public var version: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    /// The media type without parameters, lower-cased: `application/json`.
    public var mediaType: String? {
        header("content-type").map { String($0.split(separator: ";").first ?? "").trimmed().lowercased() }
    }

    /// HTTP/1.1 keeps the connection unless told otherwise; 1.0 closes it unless asked.
    var keepAlive: Bool {
        let connection = header("connection")?.lowercased() ?? ""
        return version == "HTTP/1.0" ? connection.contains("keep-alive") : !connection.contains("close")
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var contentType: String
    /// Headers besides Content-Type, Content-Length and Connection (`WWW-Authenticate`).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, contentType: String = "application/json", headers: [(name: String, value: String)] = [],
                body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }

    /// A JSON error body in the shape OTLP servers use (google.rpc.Status): `{"code", "message"}`.
    public static func error(_ status: Int, _ message: String, headers: [(name: String, value: String)] = []) -> HTTPResponse {
        var b = RecordBuilder(capacity: 128)
        b.begin()
        b.int("code", grpcCode(status))
        b.string("message", message)
        b.end()
        return HTTPResponse(status: status, headers: headers, body: Array(b.bytes.dropLast()))
    }

    /// The gRPC code OTLP pairs with an HTTP status.
    public static func grpcCode(_ status: Int) -> Int {
        switch status {
        case 400, 413, 415: return 3  // INVALID_ARGUMENT
        case 401: return 16           // UNAUTHENTICATED
        case 404: return 12           // UNIMPLEMENTED
        case 503: return 14           // UNAVAILABLE
        default: return 2             // UNKNOWN
        }
    }

    func head(keepAlive: Bool) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        text += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if !keepAlive { text += "Connection: close\r\n" }
        return Array((text + "\r\n").utf8)
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 411: return "Length Required"
        case 413: return "Content Too Large"
        case 415: return "Unsupported Media Type"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        default: return "Status \(status)"
        }
    }
}

/// Why a request could not be read (or was refused before its body was read): answered
/// with `status` and `headers`, then the connection closes.
struct HTTPReadError: Error {
    let status: Int
    let message: String
    var headers: [(name: String, value: String)] = []
    /// The request's head (its body not read) when the refusal came after it: a 401 or a
    /// 413. A server may answer in the encoding its Content-Type asks for.
    var head: HTTPRequest?

    var response: HTTPResponse { .error(status, message, headers: headers) }
}
