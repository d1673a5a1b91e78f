import Glibc
import ArcCore

/// Reads lines from one file descriptor with one reusable buffer, like `LineReader`, but
/// also knows each line's byte offset (ingest resumes a file where it stopped) and can
/// stop at the end of the data written so far without losing a half-written last line
/// (`-f` waits for its newline).
///
/// Its stored properties are internal, not public (only telem-log uses ArcLogs; tests are
/// @testable): a public class property keeps its runtime exclusivity checks on every
/// access, and these are read for each line.
public final class LogReader {
    private(set) var fd: Int32
    private let buffer: LineBuffer
    /// Inside a line too long to keep: bytes are dropped up to its newline.
    private var skipping = false
    /// `buffer.eof` as of the last read, kept here: LineBuffer's public `eof` read from
    /// this module is checked for exclusive access at run time, once a line here.
    private var inputEnded = false
    /// With `follow`, the end of the file is only the end for now: a last line without
    /// its newline is kept for the next call instead of being handed out.
    var follow: Bool
    public var maxLineLength: Int { buffer.maxLineLength }
    /// The lines read so far, skipped ones included: the last line's number in its file
    /// when `countsFromStart`.
    private(set) var lineNumber = 0
    /// False after a seek into the middle (a resumed ingest): line numbers are then
    /// counted from there, and only offsets say where a line is.
    private(set) var countsFromStart = true
    /// Lines over `maxLineLength` skipped so far.
    private(set) var skippedLongLines = 0
    /// Runs as a line over `maxLineLength` starts being skipped, with its place: a caller
    /// reports it (a reader must not lose a line silently), or throws to stop there.
    var onLongLine: ((LongLine) throws -> Void)?
    /// Runs before each read that may block (flush output while input pauses).
    var willBlock: (() throws -> Void)?
    public let name: String

    public init(fd: Int32, name: String, follow: Bool = false, bufferSize: Int = 1 << 20,
                maxLineLength: Int = 16 << 20) {
        self.fd = fd
        self.name = name
        self.follow = follow
        buffer = LineBuffer(size: bufferSize, maxLineLength: maxLineLength)
    }

    deinit { scan?.deallocate() }

    /// The offset just after the last line handed out: where a later read resumes.
    public var offset: Int64 { buffer.offset }

    /// Starts over at `offset` of the current descriptor (truncated file, resumed ingest).
    public func seek(to offset: Int64) {
        lseek(fd, off_t(offset), SEEK_SET)
        reset(at: offset)
        countsFromStart = offset == 0
    }

    /// Reads from a new descriptor (a rotated file's successor) from its start.
    public func replace(fd newFD: Int32) {
        fd = newFD
        reset(at: 0)
        countsFromStart = true
    }

    private func reset(at offset: Int64) {
        skipping = false
        lineNumber = 0
        buffer.reset(at: offset)
        inputEnded = false
        recent = []
        recentEnd = offset
    }

    /// With `follow`, the last bytes taken, up to `recentCount`, ending at `recentEnd`
    /// (`offset` when the buffer was last refilled, so `offset` itself once a read found
    /// nothing new): what a follower expects to find there in the file.
    private(set) var recent: [UInt8] = []
    private(set) var recentEnd: Int64 = 0
    static let recentCount = 64

    /// Notes the bytes just before `offset`, joined to those noted before when the buffer
    /// holds fewer than `recentCount` of them.
    private func rememberRecent() {
        let end = offset
        let held = buffer.taken(last: LogReader.recentCount)
        let heldStart = end - Int64(held.count)
        let recentStart = recentEnd - Int64(recent.count)
        if end >= recentEnd && heldStart >= recentStart && heldStart <= recentEnd {
            recent = Array(recent.prefix(Int(heldStart - recentStart))) + Array(held)
            if recent.count > LogReader.recentCount { recent.removeFirst(recent.count - LogReader.recentCount) }
        } else {
            recent = Array(held)
        }
        recentEnd = end
    }

    /// The next line (without `\n` or a trailing `\r`), valid until the next call; nil at
    /// the end of the input (for now, when following). A line handed back rather than to a
    /// closure: a caller's closure that set one of its own variables had that variable
    /// checked for exclusive access on every line.
    public func nextLine() throws -> UnsafeBufferPointer<UInt8>? {
        while true {
            if let line = buffer.takeLine() {
                if skipping {
                    // The end of a line too long to keep: dropped (onLongLine said so).
                    skipping = false
                    lineNumber += 1
                    continue
                }
                lineNumber += 1
                return line
            }
            if inputEnded {
                if follow {
                    // Ask the file again next time: it may have grown.
                    buffer.eof = false
                    inputEnded = false
                    return nil
                }
                guard buffer.hasUnread else { return nil }
                if skipping {
                    buffer.skipRest()
                    skipping = false
                    lineNumber += 1
                    return nil
                }
                lineNumber += 1
                return buffer.takeRest()
            }
            try fill()
        }
    }

    /// Runs with the lines a prefilter passes over (`nextCandidate`), whole, each with its
    /// newline but perhaps the last: what a caller still needs of them (the time a text
    /// line after them inherits).
    var onPassed: ((UnsafeBufferPointer<UInt8>) -> Void)?

    /// The next line that `prefilter` leaves as a candidate, handed out as `nextLine` does
    /// (a line too long to keep is skipped and reported the same way); the lines passed
    /// over are counted, so line numbers stay those of the file. Not for following: a
    /// last line without its newline is taken as the end of the input.
    public func nextCandidate(_ prefilter: LinePrefilter) throws -> UnsafeBufferPointer<UInt8>? {
        while true {
            if skipping {
                if buffer.takeLine() != nil {
                    // The end of a line too long to keep: dropped (onLongLine said so).
                    skipping = false
                    lineNumber += 1
                    continue
                }
            } else if let line = takeCandidate(prefilter) {
                return line
            }
            if inputEnded {
                guard buffer.hasUnread else { return nil }
                lineNumber += 1
                if skipping {
                    buffer.skipRest()
                    skipping = false
                    return nil
                }
                // The last line, without a newline: takeCandidate waited for more of it.
                let rest = buffer.unread
                if let base = rest.baseAddress, prefilter.admits(base, from: 0, end: rest.count) {
                    return buffer.takeRest()
                }
                onPassed?(rest)
                buffer.skipRest()
                return nil
            }
            try fill()
            scan?.reset() // the buffer was read into: its hits are forgotten
        }
    }

    /// The prefilter's hits in the buffer, kept between candidates; made at the first.
    private var scan: PrefilterScan?

    /// The first candidate line whose newline is in the buffer, after passing over the
    /// lines before it; nil when there is none yet (the whole lines passed, an unfinished
    /// last one kept for the next read).
    private func takeCandidate(_ prefilter: LinePrefilter) -> UnsafeBufferPointer<UInt8>? {
        let region = buffer.unread
        guard let base = region.baseAddress, !region.isEmpty else { return nil }
        // A plain value over memory of its own, read out of the property: a value mutated
        // in place there across the call, or holding arrays, had the property checked
        // for exclusive access at run time (two calls into the runtime a line) and retained.
        let scan: PrefilterScan
        if let made = self.scan {
            scan = made
        } else {
            scan = PrefilterScan(prefilter)
            self.scan = scan
        }
        let found = scan.nextCandidate(prefilter, base, end: region.count, origin: Int(buffer.offset))
        let passed = found.map { $0.start } ?? (ByteScan.lastNewline(in: base, from: 0, end: region.count).map { $0 + 1 } ?? 0)
        if passed > 0 {
            lineNumber += ByteScan.newlines(in: base, from: 0, end: passed)
            onPassed?(UnsafeBufferPointer(start: base, count: passed))
            buffer.skip(passed)
        }
        guard let found, let newline = found.newline else { return nil }
        lineNumber += 1
        // The scan found the newline: the line is taken without searching for it again.
        return buffer.takeLine(length: newline - passed)
    }

    /// Kept out of line: it runs once per buffer, and inlined into the loop its reads of
    /// `fd` and `willBlock` were exclusivity-checked on every line.
    @inline(never)
    private func fill() throws {
        // The buffer is about to drop what was taken: a follower keeps its last bytes.
        if follow { rememberRecent() }
        let lineStart = buffer.offset
        if buffer.makeRoom() && !skipping {
            skippedLongLines += 1
            skipping = true
            try onLongLine?(LongLine(file: name, line: countsFromStart ? lineNumber + 1 : nil, offset: lineStart,
                                     maxLength: maxLineLength))
        }
        try willBlock?()
        try buffer.read(from: fd, name: name)
        inputEnded = buffer.eof
        if follow && wasReplaced() {
            lseek(fd, 0, SEEK_SET)
            reset(at: 0)
        }
    }

    /// Whether the file no longer holds, just before `offset`, the bytes taken from there:
    /// it was truncated in place (copytruncate), maybe written past the old offset since,
    /// so what a read at the old offset got is the middle of some new line. Checked after
    /// the read: bytes it got from a refilled file mean the refill came first, and shows.
    private func wasReplaced() -> Bool {
        guard !recent.isEmpty, recentEnd == offset else { return false }
        var found = [UInt8](repeating: 0, count: recent.count)
        let n = found.withUnsafeMutableBytes { pread(fd, $0.baseAddress, recent.count, off_t(recentEnd) - off_t(recent.count)) }
        // A descriptor that cannot pread (a pipe) has no place to check.
        if n < 0 { return false }
        return n != recent.count || found != recent
    }
}

/// A line over the longest a reader keeps (16 MiB): where it is, to report or refuse it.
public struct LongLine: ArcError {
    public let file: String
    /// Its number in the file, when lines were counted from the file's start.
    public let line: Int?
    /// The byte offset where it starts.
    public let offset: Int64
    public let maxLength: Int
    /// What the command does about it, when it stops there.
    public var consequence: String?

    public var code: FailureCode { .lineTooLong }
    public var exitStatus: ExitStatus { .failures }
    public var description: String {
        "\(file):\(line.map(String.init) ?? "offset \(offset)"): line longer than \(maxLength) bytes" + (consequence.map { "; \($0)" } ?? "")
    }
}

extension FailureCode {
    /// A log line over 16 MiB: skipped when reading (exit 1), refused by redact.
    public static let lineTooLong = FailureCode("line_too_long")
}
