import Glibc

/// Reads an S3 object as a stream: one GET whose body the engine pushes into a bounded
/// buffer and `read` pulls out, so a zip can be inflated while it downloads, with nothing
/// written to disk. When the buffer is full the engine pauses this transfer only (the
/// sink says it is backed up). A dropped connection resumes with a Range request from
/// the bytes already received, under the client's retry policy.
public final class S3ObjectSource: ByteSource, @unchecked Sendable { // the buffer is guarded by `state`
    public let url: S3URL
    private let sink: StreamSink

    /// Starts the GET at once; `limit` bounds the bytes waiting to be read.
    public init(client: S3Client, url: S3URL, limit: Int = 8 << 20) {
        self.url = url
        sink = StreamSink(limit: limit, name: url.description)
        let sink = self.sink
        client.send(S3Call.get(url), sink: sink) { result in
            switch result {
            case .success: sink.end(nil)
            case .failure(let error): sink.end(error)
            }
        }
    }

    deinit { sink.cancel() }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try sink.read(into: buffer)
    }
}

/// The GET's body, between the engine thread (write) and the reader (read).
final class StreamSink: TransferSink, @unchecked Sendable { // every var is guarded by `state`
    private let state = ConditionLock()
    private let limit: Int
    private let name: String
    private var chunks: [[UInt8]] = []
    private var head = 0          // bytes of chunks[0] already read
    private var buffered = 0
    private var received: Int64 = 0
    private var delivered: Int64 = 0
    private var ended = false
    private var failure: Error?
    private var cancelled = false

    init(limit: Int, name: String) {
        self.limit = limit
        self.name = name
    }

    func beginAttempt() throws -> Int64 {
        try state.withLock {
            if cancelled { throw CancelledRead(name: name) }
            // A retry resumes where the bytes kept so far end.
            return received
        }
    }

    func restart() throws {
        try state.withLock {
            guard delivered == 0 else {
                throw UnavailableError(name, "the server sent the object again from its start after part of it was read")
            }
            chunks.removeAll()
            head = 0
            buffered = 0
            received = 0
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try state.withLock {
            if cancelled { throw CancelledRead(name: name) }
            chunks.append(Array(bytes))
            buffered += bytes.count
            received += Int64(bytes.count)
            state.broadcast()
        }
    }

    var isBackedUp: Bool { state.withLock { buffered >= limit && !cancelled } }

    func end(_ error: Error?) {
        state.withLock {
            ended = true
            failure = error
            state.broadcast()
        }
    }

    func cancel() {
        state.withLock {
            cancelled = true
            chunks.removeAll()
            buffered = 0
            state.broadcast()
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try state.withLock {
            while chunks.isEmpty && !ended { state.wait() }
            if chunks.isEmpty {
                if let failure { throw failure }
                return 0
            }
            var filled = 0
            while filled < buffer.count && !chunks.isEmpty {
                let n = chunks[0].withUnsafeBytes { chunk -> Int in
                    let n = min(buffer.count - filled, chunk.count - head)
                    (buffer.baseAddress! + filled).copyMemory(from: chunk.baseAddress! + head, byteCount: n)
                    return n
                }
                filled += n
                head += n
                if head == chunks[0].count {
                    chunks.removeFirst()
                    head = 0
                }
            }
            buffered -= filled
            delivered += Int64(filled)
            return filled
        }
    }
}

/// The reader went away: the transfer stops.
struct CancelledRead: ArcError {
    let name: String
    var code: FailureCode { .interrupted }
    var exitStatus: ExitStatus { .interrupted }
    var description: String { "\(name): reading stopped" }
}
