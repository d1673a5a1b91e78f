import Glibc
import ArcCore

/// `-f`: what the files hold now (merged by time), then lines as they are appended, like
/// `tail -F`: a file renamed away and created again (logrotate's create mode) is read to
/// its end and then reopened by name; a file truncated in place (copytruncate) is read
/// again from its start, also when it was written past the old offset before a poll saw
/// it shorter (LogReader checks the bytes before its offset after every read).
/// Polls every `interval`: files on any filesystem, no inotify.
/// Stops cleanly on SIGINT or SIGTERM (exit 130 or 143) with everything read written out.
public enum LogFollow {
    public static func run(_ sources: LogSources, stop: StopSignal, intervalMillis: Int = 100,
                           flush: () throws -> Void, _ body: (LogEntry) throws -> Void) throws -> ExitStatus {
        do {
            try sources.merged { e in
                try body(e)
                if stop.requested { throw Stopped() }
            }
            while !stop.requested {
                try flush()
                usleep(useconds_t(intervalMillis * 1000))
                for source in sources.sources where source.path != "-" {
                    try drain(source, sources, stop, body)
                    if try reopenIfRotated(source) { try drain(source, sources, stop, body) }
                }
            }
        } catch is Stopped {}
        try flush()
        return stop.exitStatus
    }

    private struct Stopped: Error {}

    private static func drain(_ source: LogSources.Source, _ sources: LogSources, _ stop: StopSignal,
                              _ body: (LogEntry) throws -> Void) throws {
        while try sources.advance(source) {
            try body(source.entry)
            if stop.requested { throw Stopped() }
        }
    }

    /// Checks the name against the open file. Returns true when reading goes on from a new
    /// start (a new file at the name, or this one truncated).
    static func reopenIfRotated(_ source: LogSources.Source) throws -> Bool {
        var st = stat()
        // Gone (between a rename and the new file's creation): keep the old one for now.
        guard stat(source.path, &st) == 0 else { return false }
        if UInt64(st.st_dev) != source.device || UInt64(st.st_ino) != source.inode {
            let fd = open(source.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return false }
            close(source.reader.fd)
            source.reader.replace(fd: fd)
            source.device = UInt64(st.st_dev)
            source.inode = UInt64(st.st_ino)
            return true
        }
        if Int64(st.st_size) < source.reader.offset {
            source.reader.seek(to: 0)
            return true
        }
        return false
    }
}
