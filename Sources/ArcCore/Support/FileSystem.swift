import Glibc

/// Small POSIX file helpers. Errors carry the path and errno (`SystemError`).
public enum FileSystem {
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    public static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    public static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(nulTerminated: buffer)
    }

    /// An absolute, normalised path (`.` and `..` resolved lexically; symlinks are kept).
    public static func absolute(_ path: String) -> String {
        // Most paths given are already absolute and clean (every task's dest): a scan of
        // the bytes, not a split and join per path.
        if isClean(path) { return path }
        let joined = path.hasPrefix("/") ? path : currentDirectory() + "/" + path
        var parts: [Substring] = []
        for part in joined.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Absolute, with no empty, `.` or `..` part and no trailing slash.
    static func isClean(_ path: String) -> Bool {
        var utf8 = path.utf8.makeIterator()
        guard utf8.next() == UInt8(ascii: "/") else { return false }
        var partLength = 0, dots = 0, any = false
        while let c = utf8.next() {
            any = true
            if c == UInt8(ascii: "/") {
                if partLength == 0 || partLength == dots { return false } // "//", "/./", "/../"
                partLength = 0
                dots = 0
            } else {
                partLength += 1
                if c == UInt8(ascii: ".") && dots == partLength - 1 && partLength <= 2 { dots += 1 }
            }
        }
        return any && partLength > 0 && partLength != dots
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// A new, empty temporary file in $TMPDIR (else /tmp), named `PREFIX-` and six random
    /// characters: its open descriptor and its path.
    public static func temporaryFile(prefix: String) throws -> (fd: Int32, path: String) {
        let dir = environment("TMPDIR").flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((dir + "/" + prefix + "-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw SystemError("mkstemp", path: dir, errno: errno) }
        return (fd, String(nulTerminated: template))
    }

    /// A new temporary file, already unlinked: it is gone when the descriptor is closed,
    /// whatever happens to the process.
    public static func anonymousTemporaryFile(prefix: String) throws -> Int32 {
        let file = try temporaryFile(prefix: prefix)
        unlink(file.path)
        return file.fd
    }

    /// Sets an open file's modification time, leaving its access time alone.
    public static func setModificationTime(_ fd: Int32, _ seconds: Double) {
        let whole = seconds.rounded(.down)
        let omit = (1 << 30) - 2  // UTIME_OMIT, a macro Swift does not import
        var times = [timespec(tv_sec: 0, tv_nsec: omit),
                     timespec(tv_sec: Int(whole), tv_nsec: Int((seconds - whole) * 1e9))]
        futimens(fd, &times)
    }

    /// The size of a regular file, or nil if there is none.
    public static func size(_ path: String) -> Int64? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    /// `mkdir -p`; the directories it creates get `mode` (less the umask). Private state
    /// (the state directory, wf-run's run directories) asks for 0700, as XDG does.
    /// Returns the directories it made, outermost first.
    @discardableResult
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws -> [String] {
        if path.isEmpty || path == "/" || path == "." { return [] }
        var st = stat()
        if stat(path, &st) == 0 {
            if (st.st_mode & S_IFMT) == S_IFDIR { return [] }
            throw SystemError("mkdir", path: path, errno: ENOTDIR)
        }
        var made = try makeDirectories(parent(of: path), mode: mode)
        if mkdir(path, mode) == 0 { made.append(path) } else if errno != EEXIST { throw SystemError("mkdir", path: path, errno: errno) }
        return made
    }

    /// The permission bits of what is at `path` (following links), or nil if nothing is.
    public static func permissions(_ path: String) -> mode_t? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return st.st_mode & 0o7777
    }

    /// fsyncs a directory so a rename inside it survives a crash.
    public static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: path, errno: errno) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw SystemError("fsync", path: path, errno: errno) }
    }

    public static func rename(_ from: String, _ to: String) throws {
        if Glibc.rename(from, to) != 0 { throw SystemError("rename", path: to, errno: errno) }
    }

    public static func remove(_ path: String) {
        unlink(path)
    }

    /// Removes `path` and, for a directory, everything under it, as `rm -rf` does; symbolic
    /// links are removed, never followed. Errors are ignored: what cannot go stays.
    public static func removeTree(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if st.st_mode & S_IFMT == S_IFDIR {
            for name in (try? directoryEntries(path)) ?? [] { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// Writes a whole file safely: temporary name in the same directory, fsync, rename.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws {
        try makeDirectories(parent(of: path))
        let temp = path + ".tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("open", path: temp, errno: errno) }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(temp) }
        }
        try writeAll(fd, bytes, path: temp)
        if fsync(fd) != 0 { throw SystemError("fsync", path: temp, errno: errno) }
        try rename(temp, path)
        ok = true
    }

    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) }
    }

    public static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < raw.count {
            let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            throw SystemError("write", path: path, errno: n < 0 ? errno : EIO)
        }
    }

    /// Reads a whole (small) file.
    public static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: path, errno: errno) }
        defer { close(fd) }
        return try readToEnd(fd, path: path)
    }

    /// Reads what is left of `fd` (a small file, a child's output) until end of file;
    /// `path` names it in errors.
    public static func readToEnd(_ fd: Int32, path: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 { out.append(contentsOf: chunk[0..<n]); continue }
            if n == 0 { return out }
            if errno == EINTR { continue }
            throw SystemError("read", path: path, errno: errno)
        }
    }

    /// Looks `name` up in $PATH; returns the first executable found.
    public static func which(_ name: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            if access(candidate, X_OK) == 0, size(candidate) != nil { return candidate }
        }
        return nil
    }

    /// The names in a directory (not . and ..), unsorted.
    public static func directoryEntries(_ directory: String) throws -> [String] {
        guard let dir = opendir(directory) else { throw SystemError("opendir", path: directory, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}

/// The open-file limit. Each transfer in flight holds a socket and a file, so the soft
/// limit (often 1024) is raised to the hard one at start, as Go programs do by default.
public enum OpenFileLimit {
    /// Raises the soft limit as far as allowed; returns the limit now in force.
    @discardableResult
    public static func raise() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
    }
}
