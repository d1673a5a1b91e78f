import Glibc
import ArcCore

/// Entries sorted by the bytes of their relative path, with memory bounded however many
/// there are: up to `runLength` are sorted in memory; beyond that, sorted runs spill to
/// temporary files and are merged back as the entries are read. sync needs both sides in
/// one order, and servers do not agree on theirs (SeaweedFS lists `x/y` before `x-y`).
/// One thread at a time: sync fills the destination's on a lister thread and reads it
/// after joining that thread.
final class SortedEntries: @unchecked Sendable { // filled by one thread, read after its join
    private let runLength: Int
    private var buffer: [StoredObject] = []
    private var runs: [RunReader] = []
    private var heads: [StoredObject?] = []
    private var memoryIndex = 0
    private var memoryHead: StoredObject?

    init(runLength: Int = 50_000) { self.runLength = runLength }

    func add(_ entry: StoredObject) throws {
        buffer.append(entry)
        if buffer.count >= runLength { try spill() }
    }

    /// Call once every entry is added; then `next` yields them in order.
    func finish() throws {
        Self.sort(&buffer)
        heads = try runs.map { try $0.next() }
        memoryHead = buffer.first
        memoryIndex = buffer.isEmpty ? 0 : 1
    }

    func next() throws -> StoredObject? {
        var best: Int?  // -1 is the in-memory run
        var bestEntry = memoryHead
        if memoryHead != nil { best = -1 }
        for (i, head) in heads.enumerated() {
            guard let head else { continue }
            if bestEntry == nil || head.relative.utf8.lexicographicallyPrecedes(bestEntry!.relative.utf8) {
                best = i
                bestEntry = head
            }
        }
        guard let best else { return nil }
        if best == -1 {
            memoryHead = memoryIndex < buffer.count ? buffer[memoryIndex] : nil
            memoryIndex += 1
        } else {
            heads[best] = try runs[best].next()
        }
        return bestEntry
    }

    private func spill() throws {
        Self.sort(&buffer)
        runs.append(try RunReader(writing: buffer))
        buffer.removeAll(keepingCapacity: true)
    }

    static func sort(_ entries: inout [StoredObject]) {
        entries.sort { $0.relative.utf8.lexicographicallyPrecedes($1.relative.utf8) }
    }
}

/// One sorted run in an unlinked temporary file: written once, read back in order.
private final class RunReader {
    private let file: UnsafeMutablePointer<FILE>

    init(writing entries: [StoredObject]) throws {
        let fd = try FileSystem.anonymousTemporaryFile(prefix: "s3x-sort")
        file = fdopen(fd, "w+")!
        for e in entries {
            try write(Array(e.relative.utf8))
            try write(Array(e.etag.utf8))
            try write(Array(e.storageClass.utf8))
            var numbers = (e.size, e.mtime)
            guard fwrite(&numbers, MemoryLayout.size(ofValue: numbers), 1, file) == 1 else { throw SystemError("write", path: "sort run", errno: errno) }
        }
        guard fflush(file) == 0 else { throw SystemError("write", path: "sort run", errno: errno) }
        rewind(file)
    }

    deinit { fclose(file) }

    private func write(_ bytes: [UInt8]) throws {
        var n = UInt32(bytes.count)
        guard fwrite(&n, 4, 1, file) == 1, bytes.isEmpty || fwrite(bytes, 1, bytes.count, file) == bytes.count else {
            throw SystemError("write", path: "sort run", errno: errno)
        }
    }

    private func readString() -> String? {
        var n: UInt32 = 0
        guard fread(&n, 4, 1, file) == 1 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(n))
        if n > 0 { guard fread(&bytes, 1, Int(n), file) == Int(n) else { return nil } }
        return String(decoding: bytes, as: UTF8.self)
    }

    func next() throws -> StoredObject? {
        guard let relative = readString(), let etag = readString(), let storageClass = readString() else { return nil }
        var numbers: (Int64, Double) = (0, 0)
        guard fread(&numbers, MemoryLayout.size(ofValue: numbers), 1, file) == 1 else {
            throw SystemError("read", path: "sort run", errno: EIO)
        }
        return StoredObject(relative: relative, size: numbers.0, mtime: numbers.1, etag: etag, storageClass: storageClass)
    }
}
