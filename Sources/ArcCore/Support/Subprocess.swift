import Glibc

/// A child process started with posix_spawn. The child gets default signal handling
/// and an empty signal mask even though the tools block SIGINT/SIGTERM and ignore SIGPIPE.
public final class Subprocess: Sendable {
    public let pid: pid_t
    /// The read end of the child's stdout, when captured.
    public let stdout: Int32?

    /// How to start the child, beyond its arguments.
    public struct Options {
        /// Its own process group (pgid = pid), so one kill(-pgid) reaches a whole pipeline
        /// and a terminal's Ctrl-C does not.
        public var newProcessGroup = false
        /// Files for stdin (read), stdout and stderr (created or truncated); nil: inherited.
        public var stdinPath: String?
        public var stdoutPath: String?
        public var stderrPath: String?
        public var workdir: String?
        /// `NAME=value` strings; nil: ours.
        public var environment: [String]?
        public init() {}
    }

    /// Starts `executable` with `arguments` (argv[0] included). With `captureStdout`, the
    /// child's stdout is a pipe readable from `stdout`; stdin and stderr are inherited.
    public convenience init(executable: String, arguments: [String], captureStdout: Bool,
                            environment: [String]? = nil) throws {
        var options = Options()
        options.environment = environment
        try self.init(executable: executable, arguments: arguments, options: options, captureStdout: captureStdout)
    }

    public init(executable: String, arguments: [String], options: Options, captureStdout: Bool = false) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var fds: [Int32] = [-1, -1]
        if captureStdout {
            guard pipe(&fds) == 0 else { throw SystemError("pipe", path: executable, errno: errno) }
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        }
        let create = O_WRONLY | O_CREAT | O_TRUNC
        if let path = options.stdinPath { posix_spawn_file_actions_addopen(&actions, 0, path, O_RDONLY, 0) }
        if let path = options.stdoutPath { posix_spawn_file_actions_addopen(&actions, 1, path, create, 0o644) }
        if let path = options.stderrPath { posix_spawn_file_actions_addopen(&actions, 2, path, create, 0o644) }
        if let dir = options.workdir {
            guard let addChdir = Subprocess.addChdir else { throw SystemError("chdir in posix_spawn", path: dir, errno: ENOSYS) }
            _ = addChdir(&actions, dir)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGPIPE, SIGINT, SIGTERM] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if options.newProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc: Int32
        if let environment = options.environment {
            let envp = environment.map { strdup($0) } + [nil]
            defer { envp.forEach { free($0) } }
            rc = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        } else {
            rc = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        }
        if captureStdout { close(fds[1]) }
        guard rc == 0 else {
            if captureStdout { close(fds[0]) }
            throw SystemError("spawn", path: options.workdir.map { "\(executable) in \($0)" } ?? executable, errno: rc)
        }
        pid = child
        stdout = captureStdout ? fds[0] : nil
    }

    /// Waits for the child; returns its exit status, or 128 + the signal that killed it.
    public func wait() -> Int32 { Subprocess.wait(pid) }

    public static func wait(_ pid: pid_t) -> Int32 { waitForTermination(pid).status }

    /// Waits for the child and says how it ended. A status above 128 alone cannot say:
    /// `exit 129` and a SIGHUP both give 129 to a shell.
    public func waitForTermination() -> Termination { Subprocess.waitForTermination(pid) }

    public static func waitForTermination(_ pid: pid_t) -> Termination {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return .exited(127) }
        }
        // WIFEXITED / WTERMSIG, which Swift's Glibc does not import (they are macros).
        if status & 0x7F == 0 { return .exited((status >> 8) & 0xFF) }
        return .signaled(status & 0x7F)
    }

    /// How a child ended.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        /// As a shell reports it: the exit status, or 128 + the signal.
        public var status: Int32 {
            switch self {
            case .exited(let code): return code
            case .signaled(let sig): return 128 + sig
            }
        }

        /// "exit status 3", "killed by signal 9 (SIGKILL)".
        public var description: String {
            switch self {
            case .exited(let code): return "exit status \(code)"
            case .signaled(let sig): return "killed by signal \(sig)" + (SignalName.of(sig).map { " (\($0))" } ?? "")
            }
        }
    }

    public func signal(_ sig: Int32) { kill(pid, sig) }

    /// glibc 2.29's posix_spawn_file_actions_addchdir_np, which Swift's Glibc module does
    /// not declare (it needs _GNU_SOURCE): looked up once, called through its C type.
    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private static let addChdir: AddChdir? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: AddChdir.self)
    }()
}
