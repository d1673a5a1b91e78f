import Glibc
import ArcCore

/// `--prefer-monthly`: a month covered by a monthly archive is not also planned as daily
/// archives. Monthly records are planned as they come; daily ones wait in an unlinked
/// temporary file (not in memory) until the input ends and every monthly archive is known.
final class MonthlyPreference {
    private var covered = Set<String>()
    private let spoolFD: Int32
    private var spooled = 0
    private(set) var skippedDaily = 0

    init() throws {
        spoolFD = try FileSystem.anonymousTemporaryFile(prefix: "arc-plan")
    }

    deinit { close(spoolFD) }

    /// The series an archive belongs to, whatever its period.
    private func series(_ r: Record) throws -> String {
        [try r.string("source") ?? "", try r.string("market") ?? "", try r.string("type") ?? "",
         try r.string("symbol") ?? "", try r.string("interval") ?? ""].joined(separator: "\u{1}")
    }

    /// True when the record should be planned now; false when it was set aside (daily).
    func admit(_ r: Record) throws -> Bool {
        guard let period = try r.string("period"), let date = try r.string("date") else { return true }
        switch period {
        case "monthly":
            covered.insert(try series(r) + "\u{1}" + date.prefix(7))
            return true
        case "daily":
            try FileSystem.writeAll(spoolFD, r.bytes + [0x0A], path: "arc-plan spool")
            spooled += 1
            return false
        default:
            return true
        }
    }

    /// Replays the daily records set aside, except those in a covered month.
    func replay(_ body: (Record) throws -> Void) throws {
        guard spooled > 0 else { return }
        lseek(spoolFD, 0, SEEK_SET)
        let reader = LineReader(fd: spoolFD, name: "the --prefer-monthly spool")
        while let record = try reader.nextLine({ try Record(line: $0) }) {
            let date = try record.string("date") ?? ""
            if covered.contains(try series(record) + "\u{1}" + date.prefix(7)) {
                skippedDaily += 1
                continue
            }
            try body(record)
        }
    }
}
