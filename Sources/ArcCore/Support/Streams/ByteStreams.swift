import Glibc

/// A sequential reader of bytes: a file, an inflating zip entry, an object streamed from
/// S3. The silver stage chains them (object -> zip -> CSV) without a temporary file.
public protocol ByteSource: AnyObject {
    /// Fills up to `buffer.count` bytes and says how many; 0 only at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A sequential writer of bytes whose result appears only when committed: a file written
/// under a temporary name, a multipart upload. `abort` leaves nothing behind.
public protocol ByteSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Makes what was written appear at its final name (file rename, CompleteMultipartUpload).
    func commit() throws
    /// Drops what was written (unlink, AbortMultipartUpload); safe to call after a failure.
    func abort()
}

extension ByteSink {
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

/// An open file shared by the parts that read it; closed when the last part lets go.
public final class SharedFile: Sendable {
    public let path: String
    public let fd: Int32

    public init(path: String) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: path, errno: errno) }
        self.path = path
    }

    deinit { close(fd) }
}

/// Reads a file from its start.
public final class FileByteSource: ByteSource {
    private let file: SharedFile

    public init(path: String) throws { file = try SharedFile(path: path) }

    public var path: String { file.path }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(file.fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw SystemError("read", path: file.path, errno: errno)
        }
    }
}

/// Writes a file safely: a temporary name in the final directory (created as needed),
/// then on commit fsync, rename and fsync of the directory. Abort (or a sink dropped
/// without commit) unlinks the temporary file, and removes the directories it made if
/// they are still empty: a file that was never written leaves no trace.
public final class AtomicFileSink: ByteSink {
    public let path: String
    public let temporaryPath: String
    public private(set) var written: Int64 = 0
    private var fd: Int32
    private let madeDirectories: [String]

    public init(path: String, mode: mode_t = 0o644) throws {
        madeDirectories = try FileSystem.makeDirectories(FileSystem.parent(of: path))
        self.path = path
        let prefix = "." + FileSystem.baseName(of: path) + ".tmp-" + AtomicFileSink.host + "-"
        temporaryPath = FileSystem.parent(of: path) + "/" + prefix + String(getpid())
        if madeDirectories.isEmpty { AtomicFileSink.removeLeftovers(in: FileSystem.parent(of: path), prefix: prefix) }
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError("open", path: temporaryPath, errno: errno) }
    }

    /// The temporary names carry the host, so a directory shared between machines (NFS)
    /// tells whose a leftover is.
    static let host = String(ProcessEnvironment.hostName.map { $0 == "/" ? "_" : $0 })

    /// Temporaries of this file that a process of this host, now dead, left (killed with
    /// SIGKILL, or the machine lost power): unlinked, as the next writer of the file is
    /// the one to notice them. A live writer's is left alone.
    static func removeLeftovers(in directory: String, prefix: String) {
        guard let names = try? FileSystem.directoryEntries(directory) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid > 0 else { continue }
            if kill(pid, 0) == -1 && errno == ESRCH { unlink(directory + "/" + name) }
        }
    }

    deinit { abort() }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try FileSystem.writeAll(fd, bytes, path: temporaryPath)
        written += Int64(bytes.count)
    }

    /// fdatasync (the data and what reading it back needs; for a file written once, the
    /// same guarantee as fsync for less), rename, then fsync of the directory, and of the
    /// parent of each directory this sink made, so the new folders survive a crash too.
    public func commit() throws {
        guard fd >= 0 else { return }
        if fdatasync(fd) != 0 { throw SystemError("fdatasync", path: temporaryPath, errno: errno) }
        close(fd)
        fd = -1
        try FileSystem.rename(temporaryPath, path)
        try FileSystem.syncDirectory(FileSystem.parent(of: path))
        for directory in madeDirectories.reversed() { try FileSystem.syncDirectory(FileSystem.parent(of: directory)) }
    }

    public func abort() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        unlink(temporaryPath)
        // Innermost first; rmdir fails (and so keeps) a directory another file went into.
        for directory in madeDirectories.reversed() where rmdir(directory) != 0 { break }
    }
}
