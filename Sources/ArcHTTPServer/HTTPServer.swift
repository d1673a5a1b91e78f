import Glibc
import ArcCore

/// A small HTTP/1.1 server on plain sockets: one listening socket, a thread per
/// connection (keep-alive: many requests per connection), Content-Length and chunked
/// bodies. Enough for receivers on a loopback or LAN address (`telem-trace serve`), not a
/// general web server: no TLS, no pipelining beyond reading requests in order.
/// `maxBody`, `maxConnections`, `refusalBody` and `token` are set before `serve`; the rest is behind `lock`.
public final class HTTPServer: @unchecked Sendable { // `stopped` and `active` are guarded by `lock`
    public let host: String
    /// The bound port (the one picked when 0 was asked for).
    public private(set) var port: UInt16 = 0
    private let listener: Int32
    private let lock = Lock()
    private var stopped = false
    private var active = 0
    public var maxBody = 64 << 20
    public var maxConnections = 128
    /// The answer to a request this server refuses after reading its head (401 without the
    /// token, 413 for a body over `maxBody`), given its status, reason and head; nil, or
    /// none set: the JSON Status body. OTLP answers a protobuf request in protobuf.
    public var refusalBody: (@Sendable (_ status: Int, _ message: String, _ head: HTTPRequest) -> HTTPResponse?)?
    /// When set, every request must carry `Authorization: Bearer <token>`; others get 401.
    public var token: BearerToken?

    /// Binds and listens on an IPv4 or IPv6 literal (`127.0.0.1`, `::1`, `0.0.0.0`) or
    /// `localhost`. Throws UnavailableError when the address cannot be had (in use, not ours).
    public init(host: String, port: UInt16) throws {
        self.host = host
        let literal = host == "localhost" ? "127.0.0.1" : host
        var v4 = in_addr()
        var v6 = in6_addr()
        let family: Int32
        if inet_pton(AF_INET, literal, &v4) == 1 { family = AF_INET } else if inet_pton(AF_INET6, literal, &v6) == 1 { family = AF_INET6 } else {
            throw UsageError("'\(host)' is not an IP address (use 127.0.0.1, ::1 or 0.0.0.0)")
        }
        listener = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw SystemError("socket", path: host, errno: errno) }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc: Int32
        if family == AF_INET {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            addr.sin_addr = v4
            rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        } else {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = port.bigEndian
            addr.sin6_addr = v6
            rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        }
        guard rc == 0, listen(listener, 128) == 0 else {
            let e = errno
            close(listener)
            throw UnavailableError("listen on \(host):\(port)", String(cString: strerror(e)))
        }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            _ = getsockname(listener, $0, &length) } }
        self.port = withUnsafePointer(to: &bound) { p -> UInt16 in
            family == AF_INET
                ? p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
                : p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
        }
    }

    deinit { close(listener) }

    /// Whether `host` names this machine only: 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z)
    /// or `localhost`. Anything else (0.0.0.0, ::, a LAN address) other machines may reach.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, host, &v6) == 1 else { return false }
        let b = withUnsafeBytes(of: v6) { Array($0) }
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return true }
        return b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff && b[12] == 127
    }

    /// `host:port`, brackets around an IPv6 host.
    /// A listening address from the command line: `HOST:PORT`, `[::1]:PORT`, `:PORT` or
    /// `PORT` (on `defaultHost`). A usage error names `--option` and shows `example`.
    public static func address(_ text: String, option: String, defaultHost: String, example: String) throws -> (String, UInt16) {
        var host = defaultHost
        var portText = text
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = String(text[close...].dropFirst().drop { $0 == ":" })
        } else if let colon = text.lastIndex(of: ":") {
            if colon != text.startIndex { host = String(text[..<colon]) }
            portText = String(text[text.index(after: colon)...])
        }
        guard let port = UInt16(portText) else {
            throw UsageError("--\(option): expected HOST:PORT such as \(example), got '\(text)'")
        }
        return (host, port)
    }

    public var address: String { (host.contains(":") ? "[\(host)]" : host) + ":\(port)" }

    /// Asks `serve` to return: no new connections; idle ones close; requests in progress finish.
    public func stop() { lock.withLock { stopped = true } }

    private var isStopped: Bool { lock.withLock { stopped } }

    /// Accepts connections until `stop`, answering each request with `handler` (called on
    /// the connection's thread; it must be thread-safe). Returns once the requests in
    /// progress have been answered (at most `drainSeconds` after the stop).
    public func serve(drainSeconds: Double = 10, _ handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        while !isStopped {
            var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 200) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            let admitted: Bool = lock.withLock {
                guard active < maxConnections else { return false }
                active += 1
                return true
            }
            let connection = HTTPConnection(fd: client, maxBody: maxBody, token: token) { [weak self] in self?.isStopped ?? true }
            guard admitted else {
                try? connection.respond(HTTPResponse.error(503, "too many connections"), keepAlive: false)
                continue
            }
            WorkerThread(name: "http") { [self] in
                self.handle(connection, handler)
                lock.withLock { active -= 1 }
            }.detach()
        }
        let deadline = MonotonicClock.nanos() + UInt64(drainSeconds * 1e9)
        while lock.withLock({ active > 0 }) && MonotonicClock.nanos() < deadline { usleep(20_000) }
    }

    private func handle(_ connection: HTTPConnection, _ handler: (HTTPRequest) -> HTTPResponse) {
        while true {
            do {
                guard let request = try connection.next() else { return }
                let response = handler(request)
                let keep = request.keepAlive && !isStopped
                try connection.respond(response, keepAlive: keep)
                if !keep { return }
            } catch let error as HTTPReadError {
                var response = error.response
                if let head = error.head, let custom = refusalBody?(error.status, error.message, head) {
                    response = custom
                    response.headers += error.headers // WWW-Authenticate
                }
                try? connection.respond(response, keepAlive: false)
                connection.lingeringClose()
                return
            } catch {
                return
            }
        }
    }
}
