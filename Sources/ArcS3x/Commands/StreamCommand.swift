import Glibc
import ArcCore

/// cat and pipe: an object to stdout, stdin to an object.
enum StreamCommand {
    /// cat: one GET for small objects; for large ones --concurrency ranged GETs in flight,
    /// written out in order as each next range arrives (memory: the ranges in flight).
    static func cat(_ target: String, _ p: ParsedCommand, _ context: S3xContext) throws {
        let url = try S3URL(parsing: target)
        guard !url.key.isEmpty, !url.hasWildcard else { throw UsageError("'\(target)': cat takes one object") }
        let client = context.sourceClient
        let head = try client.perform(S3Call.head(url)).headers
        let size = head.contentLength ?? 0
        let etag = head.etag.map(ETag.unquote)
        let rangeSize = min(Int64(try p.int("part-size", range: 1...5120) ?? 8) << 20, 8 << 20)
        let inFlight = try p.int("concurrency", range: 1...64) ?? 5
        if size <= rangeSize {
            let sink = StdoutSink()
            do {
                _ = try client.perform(S3Call.get(url, ifMatch: etag), sink: sink)
            } catch where sink.readerGone {
                throw BrokenPipeError()
            }
            if let etag, etag.isPlainMD5, sink.md5.finalizeHex() != etag.lowercased() {
                throw IntegrityError(resource: url.description, expected: etag, actual: "(streamed)")
            }
            return
        }
        let count = Int((size + rangeSize - 1) / rangeSize)
        let arrived = BlockingQueue<(Int, Result<[UInt8], S3Error>)>()
        func fetch(_ i: Int) {
            let start = Int64(i) * rangeSize
            let sink = MemorySink(limit: Int(rangeSize) + 1)
            client.send(S3Call.get(url, range: start...(min(size, start + rangeSize) - 1), ifMatch: etag), sink: sink) { result in
                arrived.put((i, result.map { _ in sink.bytes }))
            }
        }
        var next = 0, written = 0
        var held: [Int: [UInt8]] = [:]
        while next < min(count, inFlight) { fetch(next); next += 1 }
        while written < count {
            guard let (i, result) = arrived.take() else { break }
            held[i] = try result.get()
            while let bytes = held.removeValue(forKey: written) {
                try bytes.withUnsafeBytes { try writeStdout($0) }
                written += 1
                if next < count { fetch(next); next += 1 }
            }
        }
    }

    /// pipe: stdin streamed into an S3MultipartSink: one PUT when it ends within the first
    /// part, else a multipart upload whose part size doubles every 2,000 parts, so an
    /// unknown size never runs out of S3's 10,000 parts. Stopped (SIGINT, SIGTERM), it
    /// aborts the upload: stdin cannot be read again, so there is nothing to resume.
    static func pipe(_ target: String, _ p: ParsedCommand, _ context: S3xContext) throws {
        let url = try S3URL(parsing: target)
        guard !url.key.isEmpty, !url.isDirectoryLike else { throw UsageError("'\(target)': pipe needs an object key") }
        let options = try S3xCommand.moveOptions(p)
        var headers = options.headers
        if let type = options.contentType { headers.append(("Content-Type", type)) }
        let read = 1 << 20
        if context.dryRun {
            // Nothing is sent: stdin is read to its end to say how much would have been.
            var total: Int64 = 0
            while let chunk = try readChunk(read, context), !chunk.isEmpty { total += Int64(chunk.count) }
            return context.output.emit("pipe", source: nil, destination: url.description, size: total, dryRun: true)
        }
        let sink = S3MultipartSink(client: context.client, url: url, headers: headers, partSize: Int(options.partSize),
                                   partsInFlight: options.partsInFlight, growEvery: 2000, verify: options.verify)
        context.onStop { sink.cancel() }
        do {
            // readChunk returns fewer bytes than asked only at the end of stdin.
            while let chunk = try readChunk(read, context) {
                try chunk.withUnsafeBytes { try sink.write($0) }
                if chunk.count < read { break }
            }
            if !context.stopped { try sink.commit() }
        } catch where !context.stopped {
            sink.abort()
            throw error
        } catch {}
        if context.stopped {
            context.afterStop { sink.abort(using: $0) }
            return
        }
        context.output.emit("pipe", source: nil, destination: url.description, size: sink.written, etag: sink.etag)
    }

    /// Writes to stdout; a reader that went away (`| head`) ends the run quietly, with
    /// SIGPIPE's status, as in every tool.
    static func writeStdout(_ bytes: UnsafeRawBufferPointer) throws {
        do {
            try FileSystem.writeAll(1, bytes, path: "stdout")
        } catch let error as SystemError where error.errno == EPIPE {
            throw BrokenPipeError()
        }
    }

    /// Up to `size` bytes of stdin, fewer only at its end; nil once the run is stopped.
    /// SIGINT is blocked in every thread, so a read would wait for a stalled writer past
    /// it: stdin is polled, the stop looked at between waits.
    static func readChunk(_ size: Int, _ context: S3xContext) throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: size)
        var filled = 0
        while filled < size {
            if context.stopped { return nil }
            var ready = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            let polled = poll(&ready, 1, 100)
            if polled < 0 && errno != EINTR { throw SystemError("poll", path: "stdin", errno: errno) }
            if polled <= 0 { continue }
            let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress! + filled, size - filled) }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if n < 0 { throw SystemError("read", path: "stdin", errno: errno) }
            if n == 0 { break }
            filled += n
        }
        buffer.removeLast(size - filled)
        return buffer
    }
}

/// Streams a body to stdout, hashing it; a retried attempt resumes after what was written.
final class StdoutSink: TransferSink, @unchecked Sendable { // handed over, see TransferSink
    private(set) var written: Int64 = 0
    /// stdout's reader went away: the request failed for that, not for S3.
    private(set) var readerGone = false
    let md5 = MD5()

    func beginAttempt() throws -> Int64 { written }

    func restart() throws {
        guard written == 0 else { throw UnavailableError("stdout", "the server restarted the body after bytes were written") }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        do {
            try StreamCommand.writeStdout(bytes)
        } catch {
            readerGone = error is BrokenPipeError
            throw error
        }
        md5.update(bytes)
        written += Int64(bytes.count)
    }
}
