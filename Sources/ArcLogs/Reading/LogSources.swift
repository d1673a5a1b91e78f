import Glibc
import ArcCore

/// The inputs of a command: files (or stdin), each read line by line into an entry of its
/// own. Lines come out one file after another (`forEach`), or merged by time across files
/// (`merged`), holding one line per file in memory whatever the files' sizes.
public final class LogSources {
    public final class Source {
        public let path: String
        public let name: String
        public let reader: LogReader
        public let entry = LogEntry()
        /// The time of the last line that had one (lines without inherit it).
        var lastTime: Int64?
        var sequence = 0
        /// Where the lines a prefilter passes over are read for their time (needsTime).
        lazy var passedEntry = LogEntry()
        /// Identity of the open file, to notice rotation when following.
        var device: UInt64 = 0
        var inode: UInt64 = 0

        init(path: String, fd: Int32, follow: Bool) {
            self.path = path
            name = path == "-" ? "stdin" : path
            reader = LogReader(fd: fd, name: name, follow: follow)
            var st = stat()
            if fstat(fd, &st) == 0 {
                device = UInt64(st.st_dev)
                inode = UInt64(st.st_ino)
            }
        }

        deinit { if reader.fd > 2 { close(reader.fd) } }
    }

    public private(set) var sources: [Source] = []
    /// Whether each line's time is worked out (merging, --since/--until, buckets, ingest).
    public let needsTime: Bool
    /// Lines are searched before they are parsed (LinePrefilter): only for one input, read
    /// once. A merge of several would come out in another order where a file's times go
    /// back (a k-way merge of unsorted inputs depends on every line in them).
    public let prefilter: LinePrefilter?

    /// Opens every input before anything is read: a missing second file is reported
    /// before the first one's lines are out (exit 3, naming the file).
    public init(paths: [String], needsTime: Bool, follow: Bool = false, prefilter: LinePrefilter? = nil) throws {
        self.needsTime = needsTime || paths.count > 1
        self.prefilter = paths.count <= 1 && !follow ? prefilter : nil
        let paths = paths.isEmpty ? ["-"] : paths
        if paths.filter({ $0 == "-" }).count > 1 { throw UsageError("stdin ('-') given more than once") }
        for path in paths {
            let fd: Int32
            if path == "-" {
                fd = 0
            } else {
                fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw SystemError("open", path: path, errno: errno) }
                var st = stat()
                if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
                    close(fd)
                    throw SystemError("open", path: path, errno: EISDIR)
                }
            }
            let source = Source(path: path, fd: fd, follow: follow && path != "-")
            source.entry.source = sources.count
            if self.prefilter != nil && self.needsTime {
                source.reader.onPassed = { [unowned source] lines in LogSources.notePassed(lines, source) }
            }
            sources.append(source)
        }
    }

    /// Runs before a read that may block: output is flushed while input pauses.
    public var willBlock: (() throws -> Void)? {
        didSet { for s in sources { s.reader.willBlock = willBlock } }
    }

    /// Runs as a line too long to keep is met in any input (LogReader.onLongLine).
    public var onLongLine: ((LongLine) throws -> Void)? {
        didSet { for s in sources { s.reader.onLongLine = onLongLine } }
    }

    /// Reads the next non-blank line of `source` into its entry; false at its end.
    func advance(_ source: Source) throws -> Bool {
        let entry = source.entry
        while true {
            let next = try prefilter.map { try source.reader.nextCandidate($0) } ?? source.reader.nextLine()
            guard let line = next else { return false }
            if LogText.isBlank(line) { continue }
            // The line stays in the reader's buffer until this source is advanced again,
            // and the entry is used only until then (the merge holds one line a source).
            entry.load(borrowing: line)
            source.sequence += 1
            entry.sequence = source.sequence
            if needsTime {
                if let own = entry.ownTime {
                    entry.ts = own
                    entry.hasOwnTime = true
                    source.lastTime = own
                } else {
                    entry.ts = source.lastTime
                }
            }
            return true
        }
    }

    /// The lines a prefilter passed over still set the time that a line without its own
    /// inherits: the last of them that has one, found from the end.
    static func notePassed(_ lines: UnsafeBufferPointer<UInt8>, _ source: Source) {
        guard let base = lines.baseAddress else { return }
        var end = lines.count
        if end > 0 && base[end - 1] == 0x0A { end -= 1 }
        while end >= 0 {
            let start = ByteScan.lastNewline(in: base, from: 0, end: end).map { $0 + 1 } ?? 0
            var lineEnd = end
            if lineEnd > start && base[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            let line = UnsafeBufferPointer(start: base + start, count: lineEnd - start)
            if !LogText.isBlank(line) {
                source.passedEntry.load(line)
                if let own = source.passedEntry.ownTime {
                    source.lastTime = own
                    return
                }
            }
            if start == 0 { return }
            end = start - 1
        }
    }

    /// Every line of every input, one input after another.
    public func forEach(_ body: (LogEntry) throws -> Void) throws {
        for source in sources {
            while try advance(source) { try body(source.entry) }
        }
    }

    /// Every line of every input in time order: a k-way merge on a heap of the inputs,
    /// each holding its next line. Ties keep input order, then line order; a line without
    /// any time sorts first among its input's (it has nothing to go by).
    public func merged(_ body: (LogEntry) throws -> Void) throws {
        if sources.count == 1 { return try forEach(body) }
        var heap = EntryHeap()
        for source in sources where try advance(source) { heap.push(source) }
        while let source = heap.pop() {
            try body(source.entry)
            if try advance(source) { heap.push(source) }
        }
    }
}

/// A binary min-heap of inputs by their current line's (time, input, line number).
struct EntryHeap {
    private var items: [LogSources.Source] = []

    var isEmpty: Bool { items.isEmpty }

    private static func less(_ a: LogSources.Source, _ b: LogSources.Source) -> Bool {
        let x = a.entry, y = b.entry
        let tx = x.ts ?? .min, ty = y.ts ?? .min
        if tx != ty { return tx < ty }
        if x.source != y.source { return x.source < y.source }
        return x.sequence < y.sequence
    }

    mutating func push(_ s: LogSources.Source) {
        items.append(s)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard EntryHeap.less(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> LogSources.Source? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && EntryHeap.less(items[l], items[m]) { m = l }
                if r < items.count && EntryHeap.less(items[r], items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
