import Glibc
import ArcCore

/// Reads requests from one client socket: the head up to the blank line, then a body of
/// Content-Length bytes or in chunks. Bounded: a head over 64 KiB or a body over
/// `maxBody` is refused, so a client cannot make the server hold more than that. With a
/// `token`, a request without it is refused before its body is read.
final class HTTPConnection: @unchecked Sendable { // owned by its connection's thread once handed over
    let fd: Int32
    private var buffer: [UInt8] = []
    private let maxBody: Int
    private let token: BearerToken?
    static let maxHead = 64 * 1024
    /// Set from outside when the server stops: idle waits end at their next timeout tick.
    let stopping: @Sendable () -> Bool
    /// Without a socket (fd -1): the bytes still to arrive, `chunk` at a time.
    private var pending: ArraySlice<UInt8> = []
    private var chunk = 0

    init(fd: Int32, maxBody: Int, token: BearerToken? = nil, stopping: @escaping @Sendable () -> Bool) {
        self.fd = fd
        self.maxBody = maxBody
        self.token = token
        self.stopping = stopping
        // Reads wake every 200 ms to notice a stop; an idle client is dropped after a minute.
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        // A client that stops reading its answer holds a thread for 10 s at most.
        var sendTimeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// A connection over bytes already received, for parsing without a socket (tests,
    /// fuzzing): reads take `chunk` bytes at a time and end where the bytes do; nothing is sent.
    init(bytes: [UInt8], chunk: Int, maxBody: Int, token: BearerToken? = nil) {
        fd = -1
        pending = bytes[...]
        self.chunk = max(1, chunk)
        self.maxBody = maxBody
        self.token = token
        stopping = { false }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// The next request; nil when the client closed the connection (or went idle) between requests.
    func next() throws -> HTTPRequest? {
        var headEnd: Int?
        var waited = 0
        while true {
            if let end = find(crlfcrlf, in: buffer) {
                // The limit holds however the head arrived: in one read or in many.
                guard end <= Self.maxHead else { throw HTTPReadError(status: 431, message: "request head over 64 KiB") }
                headEnd = end
                break
            }
            guard buffer.count <= Self.maxHead else { throw HTTPReadError(status: 431, message: "request head over 64 KiB") }
            switch fill() {
            case .data: waited = 0
            case .closed:
                if buffer.isEmpty { return nil }
                throw HTTPReadError(status: 400, message: "connection closed inside a request head")
            case .timeout:
                waited += 1
                // Idle between requests: give up after a minute, or at once when stopping.
                if stopping() && buffer.isEmpty { return nil }
                if waited > 300 { if buffer.isEmpty { return nil }; throw HTTPReadError(status: 408, message: "request head timed out") }
            }
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd! + 4)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else {
            throw HTTPReadError(status: 400, message: "not an HTTP/1.x request line")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw HTTPReadError(status: 400, message: "bad header line") }
            headers.append((line[..<colon].lowercased(), String(line[line.index(after: colon)...]).trimmed()))
        }
        let target = String(requestLine[1])
        var request = HTTPRequest(method: String(requestLine[0]), path: String(target.split(separator: "?", maxSplits: 1).first ?? ""),
                                  version: String(requestLine[2]), headers: headers, body: [])
        do {
            try authenticate(&request)
            if request.header("expect")?.lowercased() == "100-continue" {
                try send(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            }
            if request.header("transfer-encoding")?.lowercased().contains("chunked") == true {
                request.body = try readChunked()
            } else if let length = request.header("content-length") {
                guard let n = Int(length), n >= 0 else { throw HTTPReadError(status: 400, message: "bad Content-Length") }
                guard n <= maxBody else { throw HTTPReadError(status: 413, message: "body over \(maxBody) bytes") }
                request.body = try readExactly(n)
            }
        } catch var refused as HTTPReadError {
            refused.head = request
            throw refused
        }
        return request
    }

    /// Refuses a request without the token (before a 100 Continue, so the client need not
    /// send its body), then drops the Authorization header so no handler can log it.
    private func authenticate(_ request: inout HTTPRequest) throws {
        guard let token else { return }
        let given = request.header("authorization")
        request.headers.removeAll { $0.name == "authorization" }
        guard token.admits(given) else {
            // RFC 6750 3.1: no error code when no credentials came, invalid_token when wrong ones did.
            throw HTTPReadError(status: 401, message: given == nil ? "missing Authorization: Bearer token" : "wrong bearer token",
                                headers: [("WWW-Authenticate", given == nil ? "Bearer" : "Bearer error=\"invalid_token\"")])
        }
    }

    private enum Fill { case data, closed, timeout }

    private func fill() -> Fill {
        if fd < 0 {
            guard !pending.isEmpty else { return .closed }
            buffer += pending.prefix(chunk)
            pending = pending.dropFirst(chunk)
            return .data
        }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { buffer.append(contentsOf: chunk[..<n]); return .data }
            if n == 0 { return .closed }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .timeout }
            return .closed
        }
    }

    /// Waits for more bytes inside a request (the client is mid-send): up to 30 s.
    private func more() throws {
        var waited = 0
        while true {
            switch fill() {
            case .data: return
            case .closed: throw HTTPReadError(status: 400, message: "connection closed inside a request body")
            case .timeout:
                waited += 1
                if waited > 150 { throw HTTPReadError(status: 408, message: "request body timed out") }
            }
        }
    }

    private func readExactly(_ n: Int) throws -> [UInt8] {
        while buffer.count < n { try more() }
        let body = Array(buffer[..<n])
        buffer.removeFirst(n)
        return body
    }

    private func readLine() throws -> String {
        while true {
            if let end = find(crlf, in: buffer) {
                let line = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 2)
                return line
            }
            guard buffer.count < 4096 else { throw HTTPReadError(status: 400, message: "chunk size line too long") }
            try more()
        }
    }

    /// `size[;ext]\r\n data \r\n` ... `0\r\n` trailers `\r\n`.
    private func readChunked() throws -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let line = try readLine()
            let sizeText = line.split(separator: ";").first.map { String($0).trimmed() } ?? ""
            guard let size = Int(sizeText, radix: 16), size >= 0 else { throw HTTPReadError(status: 400, message: "bad chunk size") }
            if size == 0 {
                while try !readLine().isEmpty {} // trailers
                return body
            }
            guard size <= maxBody - body.count else { throw HTTPReadError(status: 413, message: "body over \(maxBody) bytes") }
            body += try readExactly(size)
            guard try readLine().isEmpty else { throw HTTPReadError(status: 400, message: "chunk not followed by CRLF") }
        }
    }

    func send(_ bytes: [UInt8]) throws {
        guard fd >= 0 else { return }
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n > 0 { offset += n; continue }
                if n < 0 && errno == EINTR { continue }
                throw SystemError("send", path: "client", errno: errno)
            }
        }
    }

    /// Ends a connection whose request was refused unread (a head or body over the limit):
    /// stops sending, then reads and drops what the client is still sending, for a moment,
    /// before the close. Closing with unread data makes the kernel reset the connection,
    /// and a client that is still writing then loses the answer that says why.
    func lingeringClose() {
        guard fd >= 0 else { return }
        shutdown(fd, Int32(SHUT_WR))
        let deadline = MonotonicClock.nanos() + 2_000_000_000
        var dropped = 0
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while dropped < 4 << 20 && MonotonicClock.nanos() < deadline {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { dropped += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            break
        }
    }

    func respond(_ response: HTTPResponse, keepAlive: Bool) throws {
        try send(response.head(keepAlive: keepAlive) + response.body)
    }
}

private let crlfcrlf: [UInt8] = [13, 10, 13, 10]
private let crlf: [UInt8] = [13, 10]

/// The offset of `needle` in `haystack`, or nil.
private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard haystack.count >= needle.count, let first = needle.first else { return nil }
    var i = 0
    while i <= haystack.count - needle.count {
        if haystack[i] == first {
            var k = 1
            while k < needle.count && haystack[i + k] == needle[k] { k += 1 }
            if k == needle.count { return i }
        }
        i += 1
    }
    return nil
}
