import Glibc

/// Reads a ByteSource ahead on a thread of its own: `depth` buffers of `chunkSize` bytes,
/// filled while the consumer works on the last one, so inflating a zip on one core
/// overlaps with parsing its CSV on another. It is a ByteSource itself.
///
/// An error of the wrapped source comes out of `read` where it happened: after the bytes
/// read before it, and again on every later read. `close` (or deinit) stops the thread and
/// joins it, also when the consumer stops early; a read of the wrapped source already
/// under way is waited for (a read cannot be interrupted). The wrapped source is used
/// only by the thread, from `init` until the thread ends.
public final class PrefetchingSource: ByteSource {
    /// A buffer that is either free (the thread may fill it) or filled (the consumer may
    /// read it): only the side that took it from a queue touches its bytes.
    private struct Chunk: @unchecked Sendable { // its bytes belong to whoever took it from a queue
        let bytes: UnsafeMutableRawBufferPointer
        var count = 0
    }

    private enum Filled: Sendable {
        case data(Chunk)
        case end
        case failed(any Error)
    }

    /// Owns the wrapped source for the thread: nothing else uses it after `init`.
    private final class SourceBox: @unchecked Sendable { // used by the prefetch thread only
        let source: ByteSource
        init(_ source: ByteSource) { self.source = source }
    }

    private let free: BlockingQueue<Chunk>
    private let filled: BlockingQueue<Filled>
    private let chunks: [UnsafeMutableRawBufferPointer]
    private var thread: WorkerThread?
    // The consumer's side, touched by the calling thread only.
    private var current: Chunk?
    private var offset = 0
    private var finished = false
    private var failure: (any Error)?

    /// `chunkSize` bytes per read of the wrapped source (it is asked again until a chunk is
    /// full or it ends), at most `depth` chunks read ahead.
    public init(_ source: ByteSource, chunkSize: Int = 1 << 20, depth: Int = 4) {
        precondition(chunkSize > 0 && depth > 0)
        free = BlockingQueue(capacity: depth)
        filled = BlockingQueue(capacity: depth)
        chunks = (0..<depth).map { _ in .allocate(byteCount: chunkSize, alignment: 64) }
        for bytes in chunks { free.put(Chunk(bytes: bytes)) }
        let box = SourceBox(source)
        let (free, filled) = (self.free, self.filled)
        thread = WorkerThread(name: "prefetch") {
            Self.prefetch(box.source, free: free, filled: filled)
        }
    }

    deinit {
        close()
        for bytes in chunks { bytes.deallocate() }
    }

    /// The thread's loop: fill a free chunk, hand it over, until the end, an error, or close.
    private static func prefetch(_ source: ByteSource, free: BlockingQueue<Chunk>, filled: BlockingQueue<Filled>) {
        while var chunk = free.take() {
            var ended = false
            var error: (any Error)?
            while chunk.count < chunk.bytes.count {
                do {
                    let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: chunk.bytes[chunk.count...]))
                    if n == 0 { ended = true; break }
                    chunk.count += n
                } catch let failure {
                    error = failure
                    break
                }
            }
            if chunk.count > 0, !filled.put(.data(chunk)) { return }
            if let error {
                filled.put(.failed(error))
                return
            }
            if ended {
                filled.put(.end)
                return
            }
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let failure { throw failure }
        guard buffer.count > 0 else { return 0 }
        while true {
            if let chunk = current {
                let count = min(buffer.count, chunk.count - offset)
                buffer.baseAddress!.copyMemory(from: chunk.bytes.baseAddress! + offset, byteCount: count)
                offset += count
                if offset == chunk.count {
                    current = nil
                    free.put(Chunk(bytes: chunk.bytes))
                }
                return count
            }
            if finished || thread == nil { return 0 }
            switch filled.take() {
            case .data(let chunk)?:
                current = chunk
                offset = 0
            case .failed(let error)?:
                failure = error
                throw error
            case .end?, nil:
                finished = true
                return 0
            }
        }
    }

    /// Stops the thread and waits for it; later reads return 0 (or the error met).
    public func close() {
        guard let thread else { return }
        free.close()
        filled.close()
        thread.join()
        self.thread = nil
        current = nil
    }
}
