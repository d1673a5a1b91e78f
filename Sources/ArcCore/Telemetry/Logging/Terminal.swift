import Glibc

/// stderr, shared by log lines and the one-line progress display: a log line first clears
/// the progress line, then the progress line is drawn again below it.
public final class Terminal: @unchecked Sendable { // `status` is guarded by `lock`
    public let fd: Int32
    public let isTTY: Bool
    /// NO_COLOR (https://no-color.org) turns colour off.
    public let colors: Bool
    private let lock = Lock()
    private var status: String = ""

    public init(fd: Int32) {
        self.fd = fd
        isTTY = isatty(fd) == 1
        colors = getenv("NO_COLOR") == nil && getenv("TERM").map { String(cString: $0) } != "dumb"
    }

    public static let stderr = Terminal(fd: 2)

    public func withLock<T>(_ body: () -> T) -> T { lock.withLock(body) }

    /// Writes a whole line, keeping any progress line below it. Call inside `withLock`.
    func writeLineLocked(_ line: [UInt8]) {
        if !status.isEmpty { rawWrite(Array("\r\u{1B}[K".utf8)) }
        rawWrite(line)
        if !status.isEmpty { rawWrite(Array(status.utf8)) }
    }

    /// Writes one line of text for people (a hint after a usage error, a report), keeping
    /// any progress line below it. A newline is added when `text` has none.
    public func writeLine(_ text: String) {
        withLock { writeLineLocked(Array((text.hasSuffix("\n") ? text : text + "\n").utf8)) }
    }

    /// The terminal's width in columns (80 when it cannot be asked).
    public var columns: Int {
        var size = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    /// Replaces the progress line (terminals only), cut to the terminal's width: a line
    /// that wraps cannot be erased with a carriage return.
    public func setStatus(_ text: String) {
        guard isTTY else { return }
        let width = max(columns - 1, 10)
        let text = text.count > width ? String(text.prefix(width - 1)) + "…" : text
        lock.withLock {
            status = text
            rawWrite(Array(("\r\u{1B}[K" + text).utf8))
        }
    }

    /// Removes the progress line.
    public func clearStatus() {
        guard isTTY else { return }
        lock.withLock {
            if !status.isEmpty { rawWrite(Array("\r\u{1B}[K".utf8)) }
            status = ""
        }
    }

    private func rawWrite(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return }
            }
        }
    }
}
