import Glibc
import ArcCore

/// An exclusive flock(2) on a file. The kernel drops it when the holder exits however it
/// exits (SIGKILL included), so a lock never outlives its run. The descriptor is
/// close-on-exec: steps must not inherit it, or a step left running after wf-run was
/// killed would keep the workflow locked.
public final class FileLock {
    public let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { release() }

    /// Takes the lock, or returns nil at once when another process holds it.
    public static func tryAcquire(_ path: String) throws -> FileLock? {
        try FileSystem.makeDirectories(FileSystem.parent(of: path), mode: 0o700)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("open", path: path, errno: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            close(fd)
            if e == EWOULDBLOCK { return nil }
            throw SystemError("flock", path: path, errno: e)
        }
        return FileLock(path: path, fd: fd)
    }

    /// Records who holds the lock (`pid run_id`), for the message a refused process prints.
    public func setOwner(_ text: String) {
        _ = ftruncate(fd, 0)
        let bytes = Array((text + "\n").utf8)
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// What the holder wrote, if anything.
    public static func owner(_ path: String) -> String? {
        guard let bytes = try? FileSystem.read(path), !bytes.isEmpty else { return nil }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map(String.init)
    }

    /// True when some process holds the lock at `path` now.
    public static func isHeld(_ path: String) -> Bool {
        guard FileSystem.exists(path) else { return false }
        guard let probe = try? tryAcquire(path) else { return true }
        probe.release()
        return false
    }

    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }
}
