import Glibc
import CSystem

/// Where a transfer's body goes. The engine calls these on its own thread, in order:
/// `beginAttempt` before each attempt, then `write` for each piece of the body as it
/// arrives (and `restart` if a resumed attempt got the whole body instead of a range).
///
/// A sink is made on one thread and handed over with its transfer: from `submit` to the
/// completion, only the engine thread touches it; after that, only the completion's code.
/// Sinks are `@unchecked Sendable` on that promise, not behind a lock.
public protocol TransferSink: AnyObject, Sendable {
    /// The byte offset to resume from (0 to fetch everything).
    func beginAttempt() throws -> Int64
    /// Drop everything kept so far: the body starts again at byte 0.
    func restart() throws
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// True while the sink cannot take more without blocking: the engine pauses this
    /// transfer (and no other) until it can.
    var isBackedUp: Bool { get }
}

extension TransferSink {
    public var isBackedUp: Bool { false }
}

/// A sink exceeded its size limit (a listing or CHECKSUM file that is not what it claims).
public struct BodyTooLargeError: ArcError {
    public let limit: Int
    public init(limit: Int) { self.limit = limit }
    public var code: FailureCode { .bodyTooLarge }
    public var exitStatus: ExitStatus { .failures }
    public var description: String { "response body larger than \(limit) bytes" }
}

/// Keeps a small body in memory: listings, CHECKSUM files.
public final class MemorySink: TransferSink, @unchecked Sendable { // handed over, see TransferSink
    public private(set) var bytes: [UInt8] = []
    private let limit: Int

    public init(limit: Int = 16 << 20) { self.limit = limit }

    public func beginAttempt() throws -> Int64 {
        bytes.removeAll(keepingCapacity: true)
        return 0
    }

    public func restart() throws { bytes.removeAll(keepingCapacity: true) }

    public func write(_ chunk: UnsafeRawBufferPointer) throws {
        guard bytes.count + chunk.count <= limit else { throw BodyTooLargeError(limit: limit) }
        bytes.append(contentsOf: chunk)
    }
}

/// Streams a body into a file at a temporary name, hashing it (SHA-256) as it arrives.
/// A partial file left by an interrupted run is resumed: its bytes are hashed once and
/// the download continues from where it stopped with a Range request.
public final class FileSink: TransferSink, @unchecked Sendable { // handed over, see TransferSink
    public let path: String
    private let expectedSize: Int64?
    private var fd: Int32 = -1
    private let hasher: StreamingDigest
    public private(set) var written: Int64 = 0
    /// Bytes taken over from an earlier run or attempt instead of downloaded again.
    public private(set) var resumedBytes: Int64 = 0

    /// `digest`: SHA-256 for archives (their CHECKSUM files), MD5 for S3 objects (ETags).
    public init(path: String, expectedSize: Int64?, digest: StreamingDigest = SHA256()) {
        self.path = path
        self.expectedSize = expectedSize
        self.hasher = digest
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    public func beginAttempt() throws -> Int64 {
        if fd < 0 {
            fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw SystemError("open", path: path, errno: errno) }
            // One writer per partial file: a second arc-collect on the same dest, or a queue
            // worker woken after its lease ran out, must not write into (or truncate) the
            // file another process is resuming. The lock goes with the descriptor, so a
            // killed writer's partial is free for the next at once.
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let busy = errno == EWOULDBLOCK
                let code = errno
                closeFile()
                if busy { throw PartialFileBusyError(path: path) }
                throw SystemError("flock", path: path, errno: code)
            }
            let existing = lseek(fd, 0, SEEK_END)
            if existing > 0, expectedSize.map({ Int64(existing) < $0 }) ?? true {
                try hashExisting(Int64(existing))
                resumedBytes += Int64(existing)
            } else if existing != 0 {
                try restart()
            }
        } else if written > 0 {
            resumedBytes += written
        }
        return written
    }

    private func hashExisting(_ size: Int64) throws {
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw SystemError("lseek", path: path, errno: errno) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var remaining = size
        while remaining > 0 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, Int(remaining))) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SystemError("read", path: path, errno: n < 0 ? errno : EIO) }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            remaining -= Int64(n)
        }
        written = size
    }

    public func restart() throws {
        guard fd >= 0 else { return }
        if ftruncate(fd, 0) != 0 { throw SystemError("ftruncate", path: path, errno: errno) }
        lseek(fd, 0, SEEK_SET)
        hasher.reset()
        written = 0
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try FileSystem.writeAll(fd, bytes, path: path)
        hasher.update(bytes)
        written += Int64(bytes.count)
    }

    /// The digest of everything written, as hex. Call once, when the body is complete.
    public func digest() -> String { hasher.finalizeHex() }

    /// Makes the file durable and gives it its final name: fdatasync, close, rename. The
    /// caller fsyncs the directory (once for many files) before trusting the rename.
    /// fdatasync flushes the data and what reading it back needs (size, blocks), skipping
    /// only timestamps: the same guarantee as fsync for a file written once, for less.
    public func commit(to finalPath: String) throws {
        defer { closeFile() }
        if fdatasync(fd) != 0 { throw SystemError("fdatasync", path: path, errno: errno) }
        try FileSystem.rename(path, finalPath)
    }

    /// Group commit, step 1: the filesystem the file is on, so one `syncFileSystem` per
    /// filesystem makes a whole batch of files durable (nil when the file is not open).
    public var fileSystem: UInt64? {
        guard fd >= 0 else { return nil }
        var st = stat()
        return fstat(fd, &st) == 0 ? UInt64(st.st_dev) : nil
    }

    /// Flushes everything written on the file's filesystem, data and metadata (syncfs(2)):
    /// this file's bytes and every other file's, renames and new directories included.
    public func syncFileSystem() throws {
        if arc_syncfs(fd) != 0 { throw SystemError("syncfs", path: path, errno: errno) }
    }

    /// Whether `syncFileSystem` makes this file durable. Not on FUSE, whose daemons hear
    /// of each file's fsync but not of syncfs: there, `syncData` file by file.
    public var fileSystemSyncIsDurable: Bool { fd >= 0 && arc_syncfs_is_durable(fd) != 0 }

    /// fdatasync: this file's bytes and what reading them back needs.
    public func syncData() throws {
        if fdatasync(fd) != 0 { throw SystemError("fdatasync", path: path, errno: errno) }
    }

    /// Group commit, step 2: gives the file its final name, for a caller that has made its
    /// bytes durable with `syncFileSystem` (and will make the rename durable the same way).
    /// The descriptor, and with it the lock on the partial file, is kept until `close`.
    public func rename(to finalPath: String) throws {
        try FileSystem.rename(path, finalPath)
    }

    /// Closes the file (after `rename`).
    public func close() { closeFile() }

    /// Closes and deletes the temporary file (a failed or rejected download).
    public func discard() {
        closeFile()
        unlink(path)
    }

    /// Closes the file and leaves it for the next run to resume.
    public func keepPartial() { closeFile() }

    /// Sets the file's modification time (before `commit`), as the source had it.
    public func setModificationTime(_ seconds: Double) {
        if fd >= 0 { FileSystem.setModificationTime(fd, seconds) }
    }

    private func closeFile() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}

/// A hash fed as bytes arrive.
public protocol StreamingDigest: AnyObject {
    func update(_ bytes: UnsafeRawBufferPointer)
    func reset()
    /// The digest's bytes; the hasher must not be used afterwards.
    func finalize() -> [UInt8]
    /// The digest as lowercase hex; the hasher must not be used afterwards.
    func finalizeHex() -> String
}

/// No hash at all (`--no-verify`): nothing to compute on the hot path.
public final class NoDigest: StreamingDigest, Sendable {
    public init() {}
    public func update(_ bytes: UnsafeRawBufferPointer) {}
    public func reset() {}
    public func finalize() -> [UInt8] { [] }
    public func finalizeHex() -> String { "" }
}

/// What a ranged download hashes each range with: nothing (`--no-verify`), MD5 (to check
/// a multipart ETag) or a CRC the store keeps (cheaper by far).
public enum RangeHash: Sendable, Equatable {
    case none, md5, crc(ChecksumAlgorithm)

    public func makeDigest() -> any StreamingDigest & Sendable {
        switch self {
        case .none: return NoDigest()
        case .md5: return MD5()
        case .crc(let algorithm): return CRCDigest(algorithm)
        }
    }
}

/// One byte range of a file being downloaded in parts: written with pwrite at its offset,
/// hashed on its own (MD5, or a CRC), so each range checks against its part of a multipart
/// ETag, or its CRCs combine into the object's.
/// The engine thread only gathers bytes into 1 MiB blocks; a thread per range writes and
/// hashes them, so several ranges hash at once and the network loop never waits on a hash.
public final class RangeSink: TransferSink, @unchecked Sendable { // handed over, see TransferSink
    let file: Int32
    let path: String
    let offset: Int64
    let hash: RangeHash
    public private(set) var written: Int64 = 0
    private var hasher: any StreamingDigest & Sendable
    private var block: [UInt8] = []
    private var lane: Lane?

    static let blockSize = 1 << 20

    /// The writer thread of one attempt, and what went wrong in it (set by that thread,
    /// read by the engine's: behind a lock).
    private final class Lane: @unchecked Sendable { // `thread` is set once, before any join
        let blocks = BlockingQueue<(Int64, [UInt8])>(capacity: 4)
        let error = Locked<Error?>(nil)
        var thread: WorkerThread?
    }

    public init(fd: Int32, path: String, offset: Int64, hash: RangeHash = .md5) {
        self.file = fd
        self.path = path
        self.offset = offset
        self.hash = hash
        hasher = hash.makeDigest()
    }

    deinit { try? finishWrites() }

    public func beginAttempt() throws -> Int64 {
        try restart()
        return 0
    }

    public func restart() throws {
        try? finishWrites()
        written = 0
        hasher = hash.makeDigest()
        block.removeAll(keepingCapacity: true)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if block.capacity < Self.blockSize { block.reserveCapacity(Self.blockSize) }
        block.append(contentsOf: bytes)
        written += Int64(bytes.count)
        if block.count >= Self.blockSize {
            // A failed write shows here, a block (1 MiB) later at most: no lock per chunk.
            if let error = lane?.error.current { throw error }
            hand(block)
        }
    }

    public var isBackedUp: Bool { lane?.blocks.isFull ?? false }

    /// Waits until every byte received is written and hashed; throws what failed.
    public func finishWrites() throws {
        if !block.isEmpty { hand(block) }
        guard let lane else { return }
        lane.blocks.close()
        lane.thread?.join()
        self.lane = nil
        if let error = lane.error.current { throw error }
    }

    /// The range's digest (MD5's bytes, a CRC's big-endian); call after `finishWrites`.
    public func digest() -> [UInt8] { hasher.finalize() }

    private func hand(_ bytes: [UInt8]) {
        let at = offset + written - Int64(bytes.count)
        block = []
        if lane == nil {
            let lane = Lane()
            let (fd, path, hasher) = (file, self.path, self.hasher)
            lane.thread = WorkerThread(name: "range") {
                while let (position, data) = lane.blocks.take() {
                    guard lane.error.current == nil else { continue }
                    do {
                        try data.withUnsafeBytes { raw in
                            var done = 0
                            while done < raw.count {
                                let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(position + Int64(done)))
                                if n < 0 && errno == EINTR { continue }
                                guard n > 0 else { throw SystemError("write", path: path, errno: errno) }
                                done += n
                            }
                            hasher.update(raw)
                        }
                    } catch {
                        lane.error.withLock { $0 = error }
                    }
                }
            }
            self.lane = lane
        }
        lane!.blocks.put((at, bytes))
    }
}

/// Another process holds a partial file's lock: it is downloading the same archive.
public struct PartialFileBusyError: ArcError {
    public let path: String
    public var code: FailureCode { .storeBusy }
    public var exitStatus: ExitStatus { .failures }
    public var description: String { "\(path): another process is downloading this archive (its partial file is locked)" }
}
