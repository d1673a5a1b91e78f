import Glibc
import ArcCore

/// The record, beside a ranged download's partial file, of which ranges are complete, so
/// an interrupted download (a signal, a kill, a crash) fetches only the rest. Its first
/// line names what the ranges are of (size, range size, ETag, and the CRC when ranges are
/// hashed with one); each later line is one range complete and its MD5 or CRC in hex
/// (`-` when not hashing):
///
///     s3x-ranges 1 41943040 5242880 9b2cf535f27731c974343645a3985328-8
///     0 6d5f8a2e...
///
/// or, for an object whose store keeps its CRC-32C:
///
///     s3x-ranges 1 41943040 5242880 9b2cf535f27731c974343645a3985328-8 crc32c
///     0 1c291ca3
///
/// A range is appended only after the partial file is fdatasync'ed, so a line never
/// claims bytes that a crash could lose; a line lost or torn by a crash is a range
/// fetched again. `begin` rewrites the file whole (temporary name, fsync, rename), so
/// appends always follow a complete line.
final class RangeJournal: @unchecked Sendable { // appends (finisher threads) are serialized by `lock`
    /// The layout the ranges belong to: a journal of another layout or object is void.
    struct Layout: Equatable {
        var size: Int64
        var rangeSize: Int64
        var etag: String
    }

    let path: String
    private let lock = Lock()
    private var fd: Int32 = -1

    init(partial: String) { path = partial + ".ranges" }

    static let magic = "s3x-ranges 1"

    /// The complete ranges recorded for `layout` (index: MD5 hex or "-"); empty when there
    /// is no journal, or one of another layout or object.
    func recorded(for layout: Layout, rangeCount: Int) -> [Int: String] {
        guard let bytes = try? FileSystem.read(path) else { return [:] }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard let header = lines.first, header == Self.header(layout) else { return [:] }
        var ranges: [Int: String] = [:]
        // The last piece is what follows the last newline: a torn line, or nothing.
        for line in lines.dropFirst().dropLast() {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let i = Int(fields[0]), (0..<rangeCount).contains(i),
                  fields[1] == "-" || Hex.isHex(fields[1], count: 32) || Hex.isHex(fields[1], count: 8) else { continue }
            ranges[i] = String(fields[1])
        }
        return ranges
    }

    /// Starts the journal afresh for `layout` with `kept` ranges, and opens it for appends.
    func begin(_ layout: Layout, kept: [Int: String]) throws {
        var text = Self.header(layout) + "\n"
        for (i, md5) in kept.sorted(by: { $0.key < $1.key }) { text += "\(i) \(md5)\n" }
        try FileSystem.writeAtomically(path, Array(text.utf8))
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: path, errno: errno) }
        lock.withLock { self.fd = fd }
    }

    /// Records range `i` complete. The caller has made its bytes durable (fdatasync) first.
    func record(_ i: Int, md5: String) throws {
        try lock.withLock {
            guard fd >= 0 else { return }
            try FileSystem.writeAll(fd, Array("\(i) \(md5)\n".utf8), path: path)
        }
    }

    /// Closes the journal and leaves it for the next run (an interrupted download).
    func close() {
        lock.withLock {
            if fd >= 0 { Glibc.close(fd) }
            fd = -1
        }
    }

    /// Closes and deletes it: the download is complete, or is not worth resuming.
    func remove() {
        close()
        unlink(path)
    }

    private static func header(_ layout: Layout) -> String {
        "\(magic) \(layout.size) \(layout.rangeSize) \(layout.etag)"
    }
}
