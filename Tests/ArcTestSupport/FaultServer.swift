import Glibc
import ArcCore

/// An HTTP/1.1 server on 127.0.0.1 (a port the kernel picks) for unit tests of HTTP
/// clients. It serves byte bodies at paths, with Range and If-Range answered as S3 and CDNs
/// answer them, answers the requests a test scripts with a fault, and records every request.
///
/// It is written on raw sockets rather than on ArcHTTPServer: that server answers with a
/// whole response in one write (status, type, body), which is what a receiver should do;
/// the faults here need the bytes themselves: headers of their own (Retry-After, ETag,
/// Content-Range), a body cut short, stalled, paced or altered, a TCP reset.
///
/// A thread per connection, keep-alive, requests with a Content-Length body. Call `stop()`
/// when done: it ends every connection and joins every thread.
///
/// It answers the few S3 calls an S3 client's transfers need, path-style (`/bucket/key`),
/// as S3 answers them: PUT stores an object and answers its MD5 as the ETag; DELETE removes
/// it; multipart uploads are created, take parts (ETag the part's MD5), list their parts,
/// complete (ETag the MD5 of the parts' MD5s, `-N`) or abort; GET `/bucket?uploads` lists
/// the uploads in progress; GET and HEAD with `?partNumber=N` answer that part of an object
/// completed in parts. Signatures are not checked. On these calls the faults that apply
/// are those answered before the request is acted on (status, outage page, reset before
/// the head), a stall (before it is acted on) and a flipped byte (the bytes stored are
/// altered, as if damaged on the way).
///
/// With `keepsChecksums`, it keeps CRCs as S3 does (CRC-32C and CRC-32): a PUT or part
/// sent with `x-amz-checksum-crc32c` is checked against the bytes received (BadDigest if
/// they differ) and the value answered back; an upload created with
/// `x-amz-checksum-algorithm` answers it back and, completed, keeps the whole object's CRC
/// (FULL_OBJECT, or COMPOSITE when asked), answered in `<ChecksumCRC32C>` and on every GET
/// and HEAD of it. Off, it ignores those headers, as a store that keeps no CRCs.
public final class FaultServer: @unchecked Sendable { // mutable state is guarded by `state`
    /// What to do to one request's answer instead of answering it properly.
    public enum Fault: Sendable, Equatable {
        /// No fault: the request is answered normally. A placeholder in a script, so that a
        /// fault meets a later request to the same path (the ranges after a HEAD, the parts
        /// after CreateMultipartUpload).
        case pass
        /// This status with a short text body; `retryAfter` adds `Retry-After: SECONDS`.
        case status(Int, retryAfter: Int? = nil)
        /// 403 with an HTML page, as a CDN answers during an outage.
        case outagePage
        /// Reads the request, then resets the connection (TCP RST) before answering anything.
        case resetBeforeHeaders
        /// Sends the head (status line and headers), then resets the connection.
        case resetAfterHeaders
        /// Sends the head and the first `after` bytes of the body, then closes the
        /// connection: the body ends short of its Content-Length.
        case cutBody(after: Int)
        /// As `cutBody`, and the resource is replaced (a new body and ETag) before the
        /// client can come back: a resumed request's If-Range no longer matches.
        case cutBodyThenChange(after: Int, body: [UInt8], etag: String)
        /// Sends the head and the first `after` bytes of the body, then nothing for
        /// `seconds`, then the rest (if the client is still there).
        case stall(seconds: Double, after: Int = 0)
        /// Sends the body with one byte (at `at`, an offset in the resource) inverted.
        case flipByte(at: Int)
        /// Sends the body at about `bytesPerSecond`.
        case slowBody(bytesPerSecond: Int)
        /// Answers a Range request with 200 and the whole body, as servers without range
        /// support do.
        case ignoreRange
        /// Answers a Range request with 206 and a Content-Range (and body) starting `by`
        /// bytes after the start asked for.
        case wrongRangeStart(by: Int)
    }

    /// One request as the server read it.
    public struct Request: Sendable {
        public let method: String
        /// The path without the query string.
        public let path: String
        /// The query string after `?` (empty when none).
        public let query: String
        /// Names lower-cased, in the order sent.
        public let headers: [Header]
        public let body: [UInt8]
        /// The connection it came on: 1 for the first the server accepted, and so on.
        public let connection: Int
        /// When its head was read (MonotonicClock nanoseconds).
        public let receivedAt: UInt64
        /// The fault it was answered with, if one was scripted for it.
        public let fault: Fault?

        /// The first value of header `name` (any case).
        public func header(_ name: String) -> String? {
            let lower = name.lowercased()
            return headers.first { $0.name == lower }?.value
        }
    }

    public struct Header: Sendable, Equatable {
        public let name: String
        public let value: String
    }

    /// What is served at a path.
    private struct Resource {
        var body: [UInt8]
        var etag: String
        var contentType: String
        var headers: [String]
        /// The part sizes of an object completed in parts (for `?partNumber=N`).
        var partSizes: [Int] = []
    }

    /// A multipart upload in progress: the object's path and the parts sent so far.
    private struct Upload {
        var path: String
        var parts: [Int: [UInt8]] = [:]
        /// The CRC it was created with (`keepsChecksums`), and whether COMPOSITE.
        var checksum: ChecksumAlgorithm?
        var composite = false
    }

    /// An answer made whole by an S3 call (XML or empty).
    private struct Reply {
        var status: Int
        var headers: [String] = []
        var body: [UInt8] = []
    }

    /// The bound port.
    public let port: UInt16
    /// `http://127.0.0.1:PORT`, to put a path after.
    public var base: String { "http://127.0.0.1:\(port)" }

    private let listener: Int32
    private let state = ConditionLock()
    private var resources: [String: Resource] = [:]
    /// Multipart uploads in progress, by upload id, and how many were ever created.
    private var uploads: [String: Upload] = [:]
    private var uploadsCreated = 0
    private var keeping = false
    private var scripts: [String: [Fault]] = [:]
    private var recorded: [Request] = []
    private var accepted = 0
    private var stopped = false
    /// Client sockets open now, for `stop` to shut down (a socket leaves this set before
    /// its thread closes it, so `stop` never touches a number reused since).
    private var open: Set<Int32> = []
    private var threads: [WorkerThread] = []
    private var acceptor: WorkerThread?

    public init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw SystemError("socket", path: "127.0.0.1", errno: errno) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(listener, p, length) == 0 && listen(listener, 256) == 0 && getsockname(listener, p, &length) == 0
            }
        }
        guard bound else {
            let e = errno
            close(listener)
            throw SystemError("listen", path: "127.0.0.1", errno: e)
        }
        self.listener = listener
        port = UInt16(bigEndian: addr.sin_port)
        acceptor = WorkerThread(name: "fault-accept") { [self] in acceptLoop() }
    }

    deinit { close(listener) }

    // MARK: what to serve, what to break, what came

    /// Keep CRCs as S3 does (see the type's comment); off by default.
    public var keepsChecksums: Bool {
        get { state.withLock { keeping } }
        set { state.withLock { keeping = newValue } }
    }

    /// The CRC kept for the object at `path` (`crc32c:BASE64[-N]`), if any.
    public func checksum(_ path: String) -> String? {
        state.withLock {
            resources[path]?.headers.compactMap { line -> String? in
                guard line.hasPrefix("x-amz-checksum-crc") else { return nil }
                let pieces = line.dropFirst("x-amz-checksum-".count).split(separator: ":", maxSplits: 1)
                return pieces.count == 2 ? pieces[0] + ":" + pieces[1].drop { $0 == " " } : nil
            }.first
        }
    }

    /// Replaces the CRC kept for the object at `path` (a store whose record is wrong).
    public func setChecksum(_ path: String, _ header: String) {
        state.withLock {
            resources[path]?.headers.removeAll { $0.hasPrefix("x-amz-checksum-") }
            resources[path]?.headers.append(header)
        }
    }

    /// Serves `body` at `path` (GET and HEAD, ranges too) with ETag `"etag"` (quoted on
    /// the wire) and `headers` (`Name: value` lines) besides the usual ones.
    public func serve(_ path: String, _ body: [UInt8], etag: String? = nil,
                      contentType: String = "application/octet-stream", headers: [String] = []) {
        let tag = etag ?? "sha-" + SHA256.hex(body).prefix(16)
        state.withLock { resources[path] = Resource(body: body, etag: tag, contentType: contentType, headers: headers) }
    }

    public func serve(_ path: String, _ text: String, contentType: String = "text/plain", headers: [String] = []) {
        serve(path, Array(text.utf8), contentType: contentType, headers: headers)
    }

    /// Answers the next requests to `path` with `faults`, one each, in order; later ones normally.
    public func script(_ path: String, _ faults: [Fault]) {
        state.withLock { scripts[path, default: []] += faults }
    }

    public func script(_ path: String, _ faults: Fault...) { script(path, faults) }

    /// Every request read so far, in arrival order.
    public var requests: [Request] { state.withLock { recorded } }

    /// The requests to `path`, in arrival order.
    public func requests(to path: String) -> [Request] { state.withLock { recorded.filter { $0.path == path } } }

    /// Connections accepted so far.
    public var connections: Int { state.withLock { accepted } }

    /// The body served at `path` now (PUT changes it).
    public func body(_ path: String) -> [UInt8]? { state.withLock { resources[path]?.body } }

    /// The ETag served at `path` now, unquoted.
    public func etag(_ path: String) -> String? { state.withLock { resources[path]?.etag } }

    /// The multipart uploads in progress (created, neither completed nor aborted), by id:
    /// each one's object path and the numbers of the parts it holds.
    public var uploadsInProgress: [String: (path: String, parts: [Int])] {
        state.withLock { uploads.mapValues { ($0.path, $0.parts.keys.sorted()) } }
    }

    /// Closes the listener and every connection (a stall ends at once), and joins every thread.
    public func stop() {
        let (acceptThread, connectionThreads) = state.withLock { () -> (WorkerThread?, [WorkerThread]) in
            stopped = true
            state.broadcast()
            for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
            let a = acceptor
            acceptor = nil
            return (a, threads)
        }
        acceptThread?.join()
        // The acceptor has ended: no thread is added to `threads` any more.
        for t in connectionThreads { t.join() }
        state.withLock { threads.removeAll() }
    }

    private var isStopped: Bool { state.withLock { stopped } }

    // MARK: connections

    private func acceptLoop() {
        while !isStopped {
            var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 50) > 0 else { continue }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var tv = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            state.withLock {
                if stopped {
                    close(fd)
                    return
                }
                accepted += 1
                open.insert(fd)
                let number = accepted
                threads.append(WorkerThread(name: "fault-conn") { [self] in
                    var connection = Connection(fd: fd, number: number, server: self)
                    connection.run()
                    state.withLock { _ = open.remove(fd) }
                    close(fd)
                })
            }
        }
    }

    /// Waits `seconds`, or less when the server stops; false when it stopped.
    private func pause(_ seconds: Double) -> Bool {
        let end = MonotonicClock.nanos() + UInt64(max(0, seconds) * 1e9)
        return state.withLock {
            while !stopped {
                let now = MonotonicClock.nanos()
                if now >= end { return true }
                state.wait(seconds: Double(end - now) / 1e9)
            }
            return false
        }
    }

    /// Records a request and decides its answer: the resource, the fault scripted for it.
    private func take(method: String, path: String, query: String, headers: [Header], body: [UInt8],
                      connection: Int) -> (Resource?, Fault?) {
        state.withLock {
            var fault: Fault?
            if var queue = scripts[path], !queue.isEmpty {
                fault = queue.removeFirst()
                scripts[path] = queue
            }
            recorded.append(Request(method: method, path: path, query: query, headers: headers, body: body,
                                    connection: connection, receivedAt: MonotonicClock.nanos(), fault: fault))
            let resource = resources[path]
            if case .cutBodyThenChange(_, let newBody, let newTag)? = fault, var changed = resource {
                changed.body = newBody
                changed.etag = newTag
                resources[path] = changed
            }
            return (resource, fault)
        }
    }

    // MARK: S3 calls

    /// Acts on an S3 call other than a plain GET or HEAD of an object; nil for a request
    /// that is not one (it is answered as a read of the resource at its path).
    private func s3(method: String, path: String, query: String, headers: [Header], body: [UInt8], fault: Fault?) -> Reply? {
        let q = Self.queryItems(query)
        let segments = path.dropFirst().split(separator: "/", maxSplits: 1)
        let bucket = segments.first.map(String.init) ?? ""
        let key = segments.count > 1 ? String(segments[1]) : ""
        var body = body
        if case .flipByte(let at)? = fault, body.indices.contains(at) { body[at] ^= 0xff }
        return state.withLock { () -> Reply? in
            switch method {
            case "GET" where key.isEmpty && q["uploads"] != nil:
                let prefix = q["prefix"] ?? ""
                var xml = "<ListMultipartUploadsResult><Bucket>\(bucket)</Bucket><IsTruncated>false</IsTruncated>"
                for (id, upload) in uploads.sorted(by: { Self.uploadNumber($0.key) < Self.uploadNumber($1.key) })
                where upload.path.hasPrefix("/\(bucket)/\(prefix)") {
                    xml += "<Upload><Key>\(upload.path.dropFirst(bucket.count + 2))</Key><UploadId>\(id)</UploadId></Upload>"
                }
                return Self.xml(xml + "</ListMultipartUploadsResult>")
            case "GET" where !key.isEmpty && q["uploadId"] != nil:
                guard let upload = uploads[q["uploadId"]!] else { return Self.noSuchUpload }
                var xml = "<ListPartsResult><Bucket>\(bucket)</Bucket><Key>\(key)</Key><UploadId>\(q["uploadId"]!)</UploadId>"
                xml += "<IsTruncated>false</IsTruncated>"
                for (number, bytes) in upload.parts.sorted(by: { $0.key < $1.key }) {
                    xml += "<Part><PartNumber>\(number)</PartNumber><ETag>&quot;\(MD5.digestHex(bytes))&quot;</ETag><Size>\(bytes.count)</Size></Part>"
                }
                return Self.xml(xml + "</ListPartsResult>")
            case "POST" where !key.isEmpty && q["uploads"] != nil:
                uploadsCreated += 1
                let id = "upload-\(uploadsCreated)"
                var upload = Upload(path: path)
                var answer = Self.xml("<InitiateMultipartUploadResult><Bucket>\(bucket)</Bucket><Key>\(key)</Key><UploadId>\(id)</UploadId></InitiateMultipartUploadResult>")
                if keeping, let algorithm = Self.header("x-amz-checksum-algorithm", headers).flatMap(ChecksumAlgorithm.init(s3Name:)) {
                    upload.checksum = algorithm
                    upload.composite = Self.header("x-amz-checksum-type", headers) == "COMPOSITE"
                    answer.headers += ["x-amz-checksum-algorithm: \(algorithm.s3Name)",
                                       "x-amz-checksum-type: \(upload.composite ? "COMPOSITE" : "FULL_OBJECT")"]
                }
                uploads[id] = upload
                return answer
            case "PUT" where q["uploadId"] != nil:
                guard let number = q["partNumber"].flatMap({ Int($0) }), (1...10_000).contains(number) else {
                    return Self.error(400, "InvalidArgument", "partNumber must be 1 to 10000")
                }
                guard uploads[q["uploadId"]!] != nil else { return Self.noSuchUpload }
                let checked = checkSent(headers, body)
                if let refused = checked.refused { return refused }
                uploads[q["uploadId"]!]!.parts[number] = body
                return Reply(status: 200, headers: ["ETag: \"\(MD5.digestHex(body))\""] + checked.echo)
            case "POST" where q["uploadId"] != nil:
                guard let upload = uploads[q["uploadId"]!] else { return Self.noSuchUpload }
                // The parts named, in order, each with the ETag the client was given for it.
                let text = String(decoding: body, as: UTF8.self)
                let numbers = Self.elements("PartNumber", in: text).compactMap { Int($0) }
                let etags = Self.elements("ETag", in: text).map { XMLText.decode(Array($0.utf8)).filter { $0 != "\"" } }
                guard !numbers.isEmpty, numbers.count == etags.count, numbers == numbers.sorted() else {
                    return Self.error(400, "MalformedXML", "the parts are not listed in order")
                }
                var whole: [UInt8] = [], digests: [UInt8] = [], sizes: [Int] = []
                for (number, etag) in zip(numbers, etags) {
                    guard let bytes = upload.parts[number], MD5.digestHex(bytes) == etag else {
                        return Self.error(400, "InvalidPart", "part \(number) was not uploaded or its ETag is not \(etag)")
                    }
                    whole += bytes
                    digests += MD5.digest(bytes)
                    sizes.append(bytes.count)
                }
                let etag = MD5.digestHex(digests) + "-\(numbers.count)"
                var kept: [String] = [], element = ""
                if let algorithm = upload.checksum {
                    let value = upload.composite
                        ? CRCValue.composite(numbers.map { CRCValue.of(algorithm, upload.parts[$0]!) })
                        : CRCValue.of(algorithm, whole).base64
                    kept = ["\(algorithm.header): \(value)", "x-amz-checksum-type: \(upload.composite ? "COMPOSITE" : "FULL_OBJECT")"]
                    element = "<\(algorithm.element)>\(value)</\(algorithm.element)>"
                }
                resources[upload.path] = Resource(body: whole, etag: etag, contentType: "application/octet-stream",
                                                  headers: kept, partSizes: sizes)
                uploads[q["uploadId"]!] = nil
                return Self.xml("<CompleteMultipartUploadResult><Bucket>\(bucket)</Bucket><Key>\(key)</Key><ETag>&quot;\(etag)&quot;</ETag>\(element)</CompleteMultipartUploadResult>")
            case "DELETE" where q["uploadId"] != nil:
                guard uploads.removeValue(forKey: q["uploadId"]!) != nil else { return Self.noSuchUpload }
                return Reply(status: 204)
            case "PUT":
                let type = headers.first { $0.name == "content-type" }?.value ?? "application/octet-stream"
                let etag = MD5.digestHex(body)
                let checked = checkSent(headers, body)
                if let refused = checked.refused { return refused }
                resources[path] = Resource(body: body, etag: etag, contentType: type, headers: checked.echo)
                return Reply(status: 200, headers: ["ETag: \"\(etag)\""] + checked.echo)
            case "DELETE":
                resources[path] = nil
                return Reply(status: 204)
            default:
                return nil
            }
        }
    }

    /// With `keepsChecksums`: the CRC a PUT or part was sent with, checked against the bytes
    /// received: a refusal (BadDigest) when they differ, else the header to answer and keep.
    private func checkSent(_ headers: [Header], _ body: [UInt8]) -> (refused: Reply?, echo: [String]) {
        guard keeping else { return (nil, []) }
        for algorithm in ChecksumAlgorithm.allCases {
            guard let sent = Self.header(algorithm.header, headers) else { continue }
            let value = CRCValue.of(algorithm, body).base64
            guard value == sent else {
                return (Self.error(400, "BadDigest", "the \(algorithm.s3Name) you specified did not match the calculated checksum"), [])
            }
            return (nil, ["\(algorithm.header): \(value)"])
        }
        return (nil, [])
    }

    private static func header(_ name: String, _ headers: [Header]) -> String? {
        headers.first { $0.name == name }?.value
    }

    private static func xml(_ text: String) -> Reply {
        Reply(status: 200, headers: ["Content-Type: application/xml"], body: Array(("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + text).utf8))
    }

    private static func error(_ status: Int, _ code: String, _ message: String) -> Reply {
        var reply = xml("<Error><Code>\(code)</Code><Message>\(message)</Message></Error>")
        reply.status = status
        return reply
    }

    private static var noSuchUpload: Reply { error(404, "NoSuchUpload", "the upload does not exist") }

    private static func uploadNumber(_ id: String) -> Int { Int(id.dropFirst("upload-".count)) ?? 0 }

    /// The texts of every `<name>...</name>` in `text`, in order (no nesting, no attributes).
    private static func elements(_ name: String, in text: String) -> [String] {
        let open = Array("<\(name)>".utf8), close = Array("</\(name)>".utf8)
        var found: [String] = []
        var rest = Array(text.utf8)
        while let start = Connection.find(open, in: rest) {
            rest.removeFirst(start + open.count)
            guard let end = Connection.find(close, in: rest) else { break }
            found.append(String(decoding: rest[..<end], as: UTF8.self))
            rest.removeFirst(end + close.count)
        }
        return found
    }

    /// `a=1&b&c=%2F` as a dictionary, percent-decoded.
    public static func queryItems(_ query: String) -> [String: String] {
        var items: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            items[percentDecoded(kv[0])] = kv.count > 1 ? percentDecoded(kv[1]) : ""
        }
        return items
    }

    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let b = utf8.popFirst() {
            if b == UInt8(ascii: "%"), utf8.count >= 2, let v = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(b == UInt8(ascii: "+") ? 0x20 : b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One client connection: requests in order until it closes, a fault ends it, or the server stops.
    private struct Connection {
        let fd: Int32
        let number: Int
        let server: FaultServer
        private var buffer: [UInt8] = []

        init(fd: Int32, number: Int, server: FaultServer) {
            self.fd = fd
            self.number = number
            self.server = server
        }

        mutating func run() {
            while let (method, target, headers, body) = readRequest() {
                let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
                let path = String(parts[0])
                let query = parts.count > 1 ? String(parts[1]) : ""
                let (resource, fault) = server.take(method: method, path: path, query: query, headers: headers, body: body,
                                                    connection: number)
                guard answer(method: method, path: path, query: query, headers: headers, body: body, resource: resource,
                             fault: fault) else { return }
                if headers.contains(where: { $0.name == "connection" && $0.value.lowercased().contains("close") }) { return }
            }
        }

        // MARK: reading

        /// The next request; nil when the client closed, the head is garbage, or the server stopped.
        private mutating func readRequest() -> (String, String, [Header], [UInt8])? {
            var end: Int?
            while true {
                end = Self.find([13, 10, 13, 10], in: buffer)
                if end != nil { break }
                guard buffer.count < 1 << 16, fill() else { return nil }
            }
            let head = String(decoding: buffer[..<end!], as: UTF8.self)
            buffer.removeFirst(end! + 4)
            var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
            let requestLine = lines.removeFirst().split(separator: " ")
            guard requestLine.count == 3 else { return nil }
            var headers: [Header] = []
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers.append(Header(name: line[..<colon].lowercased(), value: line[line.index(after: colon)...].trimmed()))
            }
            var body: [UInt8] = []
            if let length = headers.first(where: { $0.name == "content-length" }).flatMap({ Int($0.value) }), length > 0 {
                while buffer.count < length { guard fill() else { return nil } }
                body = Array(buffer[..<length])
                buffer.removeFirst(length)
            }
            return (String(requestLine[0]), String(requestLine[1]), headers, body)
        }

        /// Reads more bytes into `buffer`; false when the client closed or the server stopped.
        private mutating func fill() -> Bool {
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 {
                    buffer.append(contentsOf: chunk[..<n])
                    return true
                }
                if n == 0 { return false }
                if errno == EINTR { continue }
                guard errno == EAGAIN || errno == EWOULDBLOCK, !server.isStopped else { return false }
            }
        }

        // MARK: answering

        /// Answers one request; false when the connection must end.
        private func answer(method: String, path: String, query: String, headers: [Header], body: [UInt8],
                            resource: Resource?, fault: Fault?) -> Bool {
            // The answer to a HEAD is the head alone, whatever its status: a body after it
            // would be read as the start of the next answer on the connection.
            let sendBody = { (bytes: [UInt8]) -> Bool in method == "HEAD" || send(bytes) }
            switch fault {
            case .status(let code, let retryAfter)?:
                var extra: [String] = []
                if let retryAfter { extra.append("Retry-After: \(retryAfter)") }
                let text = Array("injected failure \(code)\n".utf8)
                return send(head(code, type: "text/plain", length: text.count, extra: extra)) && sendBody(text)
            case .outagePage?:
                let page = Array("<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head>\n<body><h1>Service temporarily unavailable</h1></body></html>\n".utf8)
                return send(head(403, type: "text/html", length: page.count)) && sendBody(page)
            case .resetBeforeHeaders?:
                reset()
                return false
            default: break
            }
            let s3Call = (method != "GET" && method != "HEAD") || query.contains("uploads") || query.contains("uploadId")
            if s3Call {
                if case .stall(let seconds, _)? = fault { guard server.pause(seconds) else { return false } }
                if let reply = server.s3(method: method, path: path, query: query, headers: headers, body: body, fault: fault) {
                    let type = reply.body.isEmpty ? "text/plain" : "application/xml"
                    return send(head(reply.status, type: type, length: reply.body.count, extra: reply.headers)) && sendBody(reply.body)
                }
            }
            guard let resource else {
                let text = Array("not here\n".utf8)
                return send(head(404, type: "text/plain", length: text.count)) && sendBody(text)
            }

            // Which bytes: the whole body, or the range asked for (If-Range permitting).
            let size = resource.body.count
            var status = 200
            var start = 0, end = size // [start, end)
            var extra = ["ETag: \"\(resource.etag)\"", "Accept-Ranges: bytes"] + resource.headers
            var range = headers.first { $0.name == "range" }.map { Self.parseRange($0.value, size: size) } ?? .whole
            // ?partNumber=N of an object completed in parts: that part, as a range.
            if let n = FaultServer.queryItems(query)["partNumber"].flatMap({ Int($0) }), !resource.partSizes.isEmpty {
                guard resource.partSizes.indices.contains(n - 1) else {
                    return send(head(416, type: "text/plain", length: 0, extra: ["Content-Range: bytes */\(size)"]))
                }
                let first = resource.partSizes.prefix(n - 1).reduce(0, +)
                range = .bytes(first, first + resource.partSizes[n - 1] - 1)
                extra.append("x-amz-mp-parts-count: \(resource.partSizes.count)")
            }
            let ifRange = headers.first { $0.name == "if-range" }?.value
            // If-Range: the range only while the entity is the one the client has part of.
            if range != .whole, fault != .ignoreRange, ifRange == nil || ifRange == "\"\(resource.etag)\"" {
                guard case .bytes(let first, let last) = range else {
                    return send(head(416, type: "text/plain", length: 0, extra: ["Content-Range: bytes */\(size)"]))
                }
                status = 206
                start = first
                end = last + 1
                if case .wrongRangeStart(let by)? = fault { start = min(start + by, end) }
                extra.append("Content-Range: bytes \(start)-\(end - 1)/\(size)")
            }
            guard send(head(status, type: resource.contentType, length: end - start, extra: extra)) else { return false }
            if method == "HEAD" { return true }

            var body = Array(resource.body[start..<end])
            switch fault {
            case .resetAfterHeaders?:
                reset()
                return false
            case .cutBody(let after)?, .cutBodyThenChange(let after, _, _)?:
                _ = send(Array(body.prefix(after)))
                return false
            case .stall(let seconds, let after)?:
                guard send(Array(body.prefix(after))), server.pause(seconds) else { return false }
                return send(Array(body.dropFirst(after)))
            case .flipByte(let at)? where (start..<end).contains(at):
                body[at - start] ^= 0xff
                return send(body)
            case .slowBody(let rate)?:
                let piece = max(1, rate / 20)
                var offset = 0
                while offset < body.count {
                    guard send(Array(body[offset..<min(offset + piece, body.count)])) else { return false }
                    offset += piece
                    if offset < body.count { guard server.pause(Double(piece) / Double(rate)) else { return false } }
                }
                return true
            default:
                return send(body)
            }
        }

        enum RangeAsk: Equatable {
            /// No Range header, or one that is not a single byte range (ignored, as RFC 9110 allows).
            case whole
            case unsatisfiable
            /// First and last byte, inclusive.
            case bytes(Int, Int)
        }

        /// `bytes=A-B`, `bytes=A-`, `bytes=-N`.
        static func parseRange(_ value: String, size: Int) -> RangeAsk {
            guard value.hasPrefix("bytes="), !value.contains(",") else { return .whole }
            let spec = value.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard spec.count == 2 else { return .whole }
            if spec[0].isEmpty {
                guard let n = Int(spec[1]), n > 0 else { return .whole }
                return size == 0 ? .unsatisfiable : .bytes(max(0, size - n), size - 1)
            }
            guard let first = Int(spec[0]) else { return .whole }
            guard first < size else { return .unsatisfiable }
            if spec[1].isEmpty { return .bytes(first, size - 1) }
            guard let last = Int(spec[1]), last >= first else { return .whole }
            return .bytes(first, min(last, size - 1))
        }

        private func head(_ status: Int, type: String, length: Int, extra: [String] = []) -> [UInt8] {
            var text = "HTTP/1.1 \(status) \(Self.reason(status))\r\nContent-Type: \(type)\r\nContent-Length: \(length)\r\n"
            for line in extra { text += line + "\r\n" }
            return Array((text + "\r\n").utf8)
        }

        static func reason(_ status: Int) -> String {
            switch status {
            case 200: return "OK"
            case 204: return "No Content"
            case 206: return "Partial Content"
            case 400: return "Bad Request"
            case 403: return "Forbidden"
            case 404: return "Not Found"
            case 416: return "Range Not Satisfiable"
            case 500: return "Internal Server Error"
            case 502: return "Bad Gateway"
            case 503: return "Service Unavailable"
            default: return "Status"
            }
        }

        /// Sends everything; false when the client is gone.
        private func send(_ bytes: [UInt8]) -> Bool {
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                    if n > 0 { offset += n; continue }
                    if n < 0 && errno == EINTR { continue }
                    return false
                }
                return true
            }
        }

        /// Ends the connection with a TCP RST: linger on, with no time to linger.
        private func reset() {
            var l = linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
            // The connection's thread closes the socket next, which sends the RST.
        }

        static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
            guard haystack.count >= needle.count else { return nil }
            for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
                if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            }
            return nil
        }
    }
}
