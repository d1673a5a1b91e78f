/// Response headers a transfer cares about (the rest are not kept).
public struct ResponseHeaders: Sendable {
    public var etag: String?
    public var contentLength: Int64?
    public var contentType: String?
    public var lastModified: String?
    /// `Content-Range: bytes START-END/TOTAL`: START, for checking a resumed download.
    public var rangeStart: Int64?
    public var retryAfter: Double?
    /// User metadata (`x-amz-meta-NAME: value`), by lower-cased NAME.
    public var metadata: [String: String] = [:]
    /// S3's part count of a multipart object (`x-amz-mp-parts-count`, HEAD with partNumber).
    public var partsCount: Int?
    public var storageClass: String?
    public var cacheControl: String?
    /// The CRC the store keeps (`x-amz-checksum-crc32c` and the like): on a GET or HEAD
    /// with checksum mode, and echoed on an upload that sent one.
    public var checksum: StoredChecksum?
    /// `x-amz-checksum-algorithm`: a multipart upload created with a checksum says so.
    public var checksumAlgorithm: ChecksumAlgorithm?

    public init() {}
}

/// What a finished transfer reports to its completion handler.
public struct TransferResponse: Sendable {
    public var status: Int
    public var headers: ResponseHeaders
    /// Body bytes received over the network in all attempts.
    public var bytesReceived: Int64
    public var durationMillis: Int64
}

/// A failed attempt that will be made again: worth a `warn` line, since the request may
/// still succeed (a failure that is final is the caller's to report, at `error`).
public struct RetryNotice: Sendable {
    public let url: String
    /// The attempt that failed (1-based), and the attempts allowed in all.
    public let attempt: Int
    public let maxAttempts: Int
    /// Seconds until the next attempt.
    public let delay: Double
    public let error: any ArcError

    public init(url: String, attempt: Int, maxAttempts: Int, delay: Double, error: any ArcError) {
        self.url = url
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.delay = delay
        self.error = error
    }

    public var message: String {
        "attempt \(attempt) of \(maxAttempts) failed, retrying in \(Int64(delay * 1000)) ms: \(error.description)"
    }
}

/// Called once per transfer, on the engine thread, with the outcome and the number of
/// attempts made.
public typealias TransferCompletion = @Sendable (_ result: Result<TransferResponse, TransferError>, _ attempts: Int) -> Void

/// One request in flight inside the engine, with its per-attempt state.
public final class Transfer: @unchecked Sendable { // touched only by the engine's thread once submitted
    public let request: TransferRequest
    public let sink: TransferSink
    /// The request body (PUT, POST), rewound before each attempt.
    public let body: UploadBody?
    /// Headers computed afresh for each attempt: a signature carries its time, and a
    /// retry minutes later must not be refused as skewed.
    public let attemptHeaders: (@Sendable () -> [String])?
    let completion: TransferCompletion
    /// Told of each failed attempt that will be retried (on the engine thread); the
    /// engine's `onRetry` when nil.
    public var onRetry: (@Sendable (RetryNotice) -> Void)?

    /// The handle of the attempt in flight (nil between attempts).
    var easy: CurlEasy?
    var attempt = 0
    var offset: Int64 = 0
    var status = 0
    var headers = ResponseHeaders()
    var decided = false
    var acceptBody = false
    var errorBody: [UInt8] = []
    var sinkError: Error?
    var rangeMismatch = false
    var notBefore: UInt64 = 0
    /// Attempts refused by a host's ban (HostThrottle): they do not count against the retry policy.
    var banRetries = 0
    let createdAt = MonotonicClock.nanos()
    var bytesReceived: Int64 = 0
    var cancelled = false
    var stats: TransferStats?
    /// The engine running this transfer, for the callbacks to pause it (--bwlimit, a busy sink).
    weak var engine: TransferEngine?

    public init(_ request: TransferRequest, sink: TransferSink, body: UploadBody? = nil,
                attemptHeaders: (@Sendable () -> [String])? = nil, completion: @escaping TransferCompletion) {
        self.request = request
        self.sink = sink
        self.body = body
        self.attemptHeaders = attemptHeaders
        self.completion = completion
    }

    func resetAttemptState() {
        status = 0
        headers = ResponseHeaders()
        decided = false
        acceptBody = false
        errorBody.removeAll()
        rangeMismatch = false
    }

    /// Called on the first body bytes of an attempt: is this the body we asked for?
    func decide() throws {
        decided = true
        let code = easy?.responseCode ?? 0
        status = code
        guard (200..<300).contains(code) else { return }
        if offset > 0 {
            if let start = headers.rangeStart {
                // Some servers (rclone serve s3 among them) answer a range with 200 and a
                // Content-Range; what counts is that the range starts where we stopped.
                guard start == offset else {
                    rangeMismatch = true
                    return
                }
            } else {
                try sink.restart()
                offset = 0
            }
        }
        acceptBody = true
    }

    /// Parses one header line (`Name: value\r\n` or a status line).
    func header(_ line: UnsafeRawBufferPointer) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            if line.starts(with: "HTTP/".utf8) { headers = ResponseHeaders() }
            return
        }
        let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
        // Trim on bytes: as Characters, "\r\n" is one grapheme and equals neither "\r" nor "\n".
        var start = colon + 1, end = line.endIndex
        while end > start, [UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: " "), UInt8(ascii: "\t")].contains(line[end - 1]) { end -= 1 }
        while start < end, line[start] == UInt8(ascii: " ") || line[start] == UInt8(ascii: "\t") { start += 1 }
        let value = String(decoding: line[start..<end], as: UTF8.self)
        switch name {
        case "etag": headers.etag = value
        case "content-length": headers.contentLength = Int64(value)
        case "content-type": headers.contentType = value
        case "last-modified": headers.lastModified = value
        case "retry-after": headers.retryAfter = Double(value)
        case "x-amz-mp-parts-count": headers.partsCount = Int(value)
        case "x-amz-storage-class": headers.storageClass = value
        case "cache-control": headers.cacheControl = value
        case "content-range":
            // bytes 100-199/200
            if let space = value.firstIndex(of: " "), let dash = value[space...].firstIndex(of: "-") {
                headers.rangeStart = Int64(value[value.index(after: space)..<dash])
            }
        default:
            if headers.takeChecksum(name: name, value: value) { break }
            if name.hasPrefix("x-amz-meta-") {
                headers.metadata[String(name.dropFirst("x-amz-meta-".count))] = value
            }
        }
    }

    var errorDetail: String {
        let text = String(decoding: errorBody.prefix(2048), as: UTF8.self)
        // S3-style XML errors: keep Code and Message, which say what happened.
        if let code = XMLText.firstElement("Code", in: text) {
            let message = XMLText.firstElement("Message", in: text)
            return message.map { "\(code): \($0)" } ?? code
        }
        return String(text.prefix(200).split(separator: "\n").first ?? "")
    }
}
