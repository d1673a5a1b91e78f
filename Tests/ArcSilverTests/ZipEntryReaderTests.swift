import ArcCore
import ArcTestSupport
import Glibc
import XCTest
@testable import ArcSilver

/// Bytes in memory, handed out in pieces of the given sizes in turn (as a network
/// stream hands them), so the reader's refills fall at every kind of boundary.
final class PieceSource: ByteSource {
    private let bytes: [UInt8]
    private let pieces: [Int]
    private var offset = 0
    private var turn = 0

    init(_ bytes: [UInt8], pieces: [Int] = [Int.max]) {
        self.bytes = bytes
        self.pieces = pieces
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - offset, pieces[turn % pieces.count])
        turn += 1
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
        offset += count
        return count
    }
}

/// Reads a source to its end through reads of `chunk` bytes.
func readAll(_ source: ByteSource, chunk: Int) throws -> [UInt8] {
    var out: [UInt8] = []
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
    defer { buffer.deallocate() }
    while true {
        let n = try source.read(into: buffer)
        if n == 0 { return out }
        out.append(contentsOf: buffer[0..<n])
    }
}

final class ZipEntryReaderTests: XCTestCase {
    private var fixtures: ZipFixtures!

    override func setUpWithError() throws { fixtures = try ZipFixtures.shared() }

    // MARK: Archives that read

    func testReadsEveryWellFormedArchiveFromAFile() throws {
        XCTAssertGreaterThanOrEqual(fixtures.wellFormed.count, 15)
        for name in fixtures.wellFormed {
            let reader = ZipEntryReader(source: try FileByteSource(path: fixtures.path(name)), name: name)
            let bytes = try readAll(reader, chunk: 1 << 20)
            let expected = fixtures.expected(name)
            XCTAssertEqual(bytes.count, expected.count, name)
            XCTAssertTrue(bytes == expected, "\(name): the bytes differ")
            XCTAssertEqual(reader.entries, fixtures.entries(name), name)
            XCTAssertEqual(reader.entryName, fixtures.entries(name).first, name)
            XCTAssertEqual(reader.inflatedBytes, Int64(expected.count), name)
            XCTAssertEqual(try readAll(reader, chunk: 16), [], "\(name): a read after the end")
        }
    }

    func testReadsAcrossEveryBoundary() throws {
        // Input in pieces of 1, 7, 4096 and 3 bytes through a 64-byte input buffer (grown
        // for headers longer than it), output in reads of 7 bytes and of 1 MB.
        for name in fixtures.wellFormed {
            for chunk in [7, 1 << 20] {
                let source = PieceSource(fixtures.bytes(name), pieces: [1, 7, 4096, 3])
                let reader = ZipEntryReader(source: source, name: name, bufferSize: 64)
                XCTAssertTrue(try readAll(reader, chunk: chunk) == fixtures.expected(name), "\(name) in reads of \(chunk)")
                XCTAssertEqual(reader.entries, fixtures.entries(name), name)
            }
        }
    }

    func testReadsOneByteAtATime() throws {
        for name in ["deflate-descriptor", "stored-descriptor", "zip64-descriptor-small", "several-descriptor",
                     "empty-entry-stored-descriptor"] {
            let reader = ZipEntryReader(source: PieceSource(fixtures.bytes(name), pieces: [1, 7, 1 << 20]), name: name)
            XCTAssertTrue(try readAll(reader, chunk: 1) == fixtures.expected(name), name)
        }
    }

    func testReadsThroughAPrefetchingSource() throws {
        // The reader on the prefetch thread, its errors out of the consumer's read.
        for name in ["deflate", "stored-descriptor", "several"] {
            let reader = ZipEntryReader(source: try FileByteSource(path: fixtures.path(name)), name: name)
            let prefetching = PrefetchingSource(reader, chunkSize: 100_000, depth: 3)
            XCTAssertTrue(try readAll(prefetching, chunk: 65_536) == fixtures.expected(name), name)
        }
        let archive = fixtures.bytes("deflate")
        let cut = PrefetchingSource(ZipEntryReader(source: PieceSource(Array(archive.prefix(archive.count / 2))), name: "cut.zip"))
        let error = assertThrows(ZipError.self, try readAll(cut, chunk: 65_536))
        XCTAssertEqual(error?.code.rawValue, "truncated")
    }

    func testCountsTheFirstEntrysBytes() throws {
        let reader = ZipEntryReader(source: try FileByteSource(path: fixtures.path("several")), name: "several.zip")
        let bytes = try readAll(reader, chunk: 1 << 16)
        XCTAssertEqual(reader.entries, ["first.csv", "second.csv", "third.csv"])
        XCTAssertEqual(reader.entryName, "first.csv")
        XCTAssertEqual(reader.inflatedBytes, Int64(bytes.count))
        // The local header's compressed size, at offset 18 of the archive.
        let archive = fixtures.bytes("several")
        XCTAssertEqual(reader.compressedBytes, Int64(le32(archive, 18)))
        XCTAssertLessThan(reader.compressedBytes, reader.inflatedBytes)
    }

    func testEmptyEntriesRead() throws {
        for name in ["empty-entry", "empty-entry-stored", "empty-entry-descriptor", "empty-entry-stored-descriptor"] {
            let reader = ZipEntryReader(source: PieceSource(fixtures.bytes(name)), name: name)
            XCTAssertEqual(try readAll(reader, chunk: 100), [], name)
            XCTAssertEqual(reader.entries, ["empty.csv"], name)
        }
    }

    func testInfoZipArchivesRead() throws {
        guard fixtures.infoZip else { throw XCTSkip("Info-ZIP's zip is not installed") }
        for name in ["infozip-deflate", "infozip-stored", "infozip-stdin", "infozip-file"] {
            XCTAssertTrue(fixtures.wellFormed.contains(name), name)
        }
        // Streamed to a pipe: data descriptors; from stdin: zip64 too.
        let archive = fixtures.bytes("infozip-stdin")
        XCTAssertEqual(le16(archive, 6) & 8, 8)
        XCTAssertEqual(le32(archive, 18), 0xFFFF_FFFF)
    }

    func testEntriesLargerThan4GB() throws {
        // Several GB like a monthly trades file: zip64 sizes in the local header's extra
        // field and in the central directory, and 8-byte sizes in a data descriptor.
        // About 20 s and 9 GB inflated, so only when asked for.
        guard getenv("ARC_LARGE_ZIP_TESTS") != nil else { throw XCTSkip("set ARC_LARGE_ZIP_TESTS=1 to read 4.3 GB entries") }
        let dir = TempDir("arc-zip-large")
        defer { dir.remove() }
        let script = dir.write("large.py", """
            import io, sys, zipfile
            class Pipe(io.RawIOBase):
                def __init__(self, f): self.f = f
                def writable(self): return True
                def write(self, b): return self.f.write(b)
            block = b"1,2,3\\n" * (1 << 18)  # 1.5 MB
            for name, stream in (("seekable.zip", False), ("streamed.zip", True)):
                with open(sys.argv[1] + "/" + name, "wb") as f:
                    with zipfile.ZipFile(Pipe(f) if stream else f, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
                        with z.open("big.csv", "w", force_zip64=True) as e:
                            for _ in range(2800): e.write(block)
            """)
        var root = "\(#filePath)"
        for _ in 0..<3 { root = FileSystem.parent(of: root) }
        let python = root + "/.venv/bin/python"
        XCTAssertEqual(try Subprocess(executable: python, arguments: [python, script, dir.path], captureStdout: false).wait(), 0)
        let expectedSize = Int64(6 << 18) * 2800
        XCTAssertGreaterThan(expectedSize, 1 << 32)
        for name in ["seekable.zip", "streamed.zip"] {
            let reader = ZipEntryReader(source: try FileByteSource(path: dir.file(name)), name: name)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { buffer.deallocate() }
            var total: Int64 = 0
            while true {
                let n = try reader.read(into: buffer)
                if n == 0 { break }
                total += Int64(n)
            }
            XCTAssertEqual(total, expectedSize, name)
            XCTAssertEqual(reader.inflatedBytes, expectedSize, name)
            XCTAssertEqual(reader.entries, ["big.csv"], name)
        }
    }

    // MARK: What is not a zip, or not a whole one

    func testAnEmptyZipHasNoEntry() throws {
        XCTAssertEqual(code(fixtures.bytes("empty"), "empty.zip"), "no_entry")
    }

    func testWhatIsNotAZip() throws {
        let html = "<html><head><title>404 Not Found</title></head><body>Not Found</body></html>\n"
        XCTAssertEqual(code(Array(html.utf8)), "not_zip")
        XCTAssertEqual(code(Array(fixtures.expected("stored").prefix(1000))), "not_zip")
        XCTAssertEqual(code([]), "not_zip")
        XCTAssertEqual(code(Array("PK".utf8) + [9, 9]), "not_zip")
        XCTAssertEqual(code(Array("PL".utf8)), "not_zip")
        let error = zipError(Array(html.utf8), "s3://bucket/BTCUSDT-aggTrades-2025-01-01.zip")
        XCTAssertEqual(error?.description.hasPrefix("s3://bucket/BTCUSDT-aggTrades-2025-01-01.zip: "), true)
        XCTAssertEqual(error?.description.contains("<html>"), true)
        XCTAssertEqual(error?.description.contains("\n"), false)
    }

    func testEveryCutIsTruncated() throws {
        // Every offset in the headers, the first data bytes, around the data's end, the
        // descriptor, the central directory and the end record; and spread over the data.
        for name in ["deflate-small", "stored", "deflate-descriptor-small", "stored-descriptor", "zip64-descriptor-small",
                     "zip64-stored-descriptor", "several-descriptor", "empty-entry-descriptor", "comment"] {
            let archive = fixtures.bytes(name)
            let end = endRecordOffset(archive)
            let directory = Int(le32(archive, end + 16))
            var cuts = Set(1..<min(200, archive.count))
            cuts.formUnion(max(1, directory - 150)..<archive.count - (name == "comment" ? 100 : 0))
            cuts.formUnion(stride(from: 200, to: directory, by: max(1, directory / 60)))
            XCTAssertGreaterThanOrEqual(cuts.count, min(300, archive.count - 1), name)
            for cut in cuts.sorted() {
                let found = code(Array(archive[0..<cut]), name)
                if found != "truncated" { XCTFail("\(name) cut at \(cut) of \(archive.count): \(found ?? "read whole")") }
            }
        }
        XCTAssertEqual(code(Array("PK\u{3}".utf8)), "truncated")
    }

    func testBytesAfterTheEndRecordAreIgnored() throws {
        // comment.zip has an archive comment and 100 zero bytes after its end record.
        XCTAssertNil(code(fixtures.bytes("comment")))
        XCTAssertNil(code(fixtures.bytes("deflate") + Array(repeating: 0x41, count: 5000)))
    }

    // MARK: Damage

    func testAFlippedByteInDeflateDataIsCorruptOrAMismatchedCRC() throws {
        let archive = fixtures.bytes("deflate")
        let data = dataOffset(archive)
        let size = Int(le32(archive, 18))
        var seen: Set<String> = []
        for at in stride(from: data + 7, to: data + size - 4, by: size / 40) {
            var damaged = archive
            damaged[at] ^= 0x5A
            let found = code(damaged, "deflate") ?? "read whole"
            seen.insert(found)
            XCTAssertTrue(found == "corrupt_stream" || found == "crc_mismatch", "a flip at \(at): \(found)")
        }
        XCTAssertEqual(seen, ["corrupt_stream", "crc_mismatch"], "both kinds met")
        // Stored data, and deflate data with a descriptor.
        var stored = fixtures.bytes("stored")
        stored[dataOffset(stored) + 100] ^= 1
        XCTAssertEqual(code(stored), "crc_mismatch")
        var streamed = fixtures.bytes("deflate-descriptor")
        streamed[dataOffset(streamed) + 2000] ^= 0x10
        XCTAssertTrue(["corrupt_stream", "crc_mismatch"].contains(code(streamed) ?? ""))
    }

    func testAWrongCRCAnywhereIsACRCMismatch() throws {
        let archive = fixtures.bytes("deflate")
        XCTAssertEqual(code(patched32(archive, at: 14) { $0 ^ 1 }), "crc_mismatch", "local header")
        let central = Int(le32(archive, endRecordOffset(archive) + 16))
        XCTAssertEqual(code(patched32(archive, at: central + 16) { $0 ^ 1 }), "crc_mismatch", "central directory")
        // The data descriptor of a streamed entry, 16 bytes before the central directory.
        let streamed = fixtures.bytes("deflate-descriptor")
        let streamedCentral = Int(le32(streamed, endRecordOffset(streamed) + 16))
        XCTAssertEqual(code(patched32(streamed, at: streamedCentral - 12) { $0 ^ 1 }), "crc_mismatch", "descriptor")
    }

    func testSizesThatDisagreeAreASizeMismatch() throws {
        let archive = fixtures.bytes("deflate")
        let central = Int(le32(archive, endRecordOffset(archive) + 16))
        XCTAssertEqual(code(patched32(archive, at: 22) { $0 + 1 }), "size_mismatch", "local inflated size")
        XCTAssertEqual(code(patched32(archive, at: 18) { $0 + 1 }), "size_mismatch", "local compressed size, too large")
        XCTAssertEqual(code(patched32(archive, at: 18) { $0 - 1 }), "size_mismatch", "local compressed size, too small")
        XCTAssertEqual(code(patched32(archive, at: central + 24) { $0 - 1 }), "size_mismatch", "central inflated size")
        XCTAssertEqual(code(patched32(archive, at: central + 20) { $0 + 1 }), "size_mismatch", "central compressed size")
        let stored = fixtures.bytes("stored")
        XCTAssertEqual(code(patched32(stored, at: 22) { $0 + 1 }), "size_mismatch", "stored inflated size")
        let streamed = fixtures.bytes("deflate-descriptor")
        let streamedCentral = Int(le32(streamed, endRecordOffset(streamed) + 16))
        XCTAssertEqual(code(patched32(streamed, at: streamedCentral - 4) { $0 + 1 }), "size_mismatch", "descriptor size")
        // zip64: the sizes in the local header's extra field (inflated size first).
        let zip64 = fixtures.bytes("zip64")
        let extra = 30 + Int(le16(zip64, 26))
        XCTAssertEqual(le16(zip64, extra), 1)
        XCTAssertEqual(code(patched32(zip64, at: extra + 4) { $0 + 1 }), "size_mismatch", "zip64 inflated size")
    }

    func testARecordThatDisagreesIsACorruptArchive() throws {
        let archive = fixtures.bytes("deflate")
        let end = endRecordOffset(archive)
        let central = Int(le32(archive, end + 16))
        var renamed = archive
        renamed[central + 46] ^= 0x20  // the name's first letter, upper case
        XCTAssertEqual(code(renamed), "corrupt_archive", "central directory names another file")
        var newline = archive
        newline[30] = 0x0A  // a name with a line break: the message stays one line
        XCTAssertEqual(code(newline), "corrupt_archive", "local header names another file")
        XCTAssertEqual(zipError(newline, "n.zip")?.description.contains("\\u{a}"), true)
        XCTAssertEqual(code(patched32(archive, at: central + 42) { $0 + 1 }), "corrupt_archive", "central offset")
        var counted = archive
        counted[end + 10] = 2
        XCTAssertEqual(code(counted), "corrupt_archive", "end record count")
        let padded = Array(archive[0..<central]) + Array(repeating: 0, count: 10) + Array(archive[central...])
        XCTAssertEqual(code(padded), "corrupt_archive", "bytes between the data and the central directory")
        // A local entry the central directory leaves out: drop the last of several.
        let several = fixtures.bytes("several")
        let severalEnd = endRecordOffset(several)
        let directory = Int(le32(several, severalEnd + 16))
        let third = lastCentralHeader(several, from: directory, to: severalEnd)
        var shortened = Array(several[0..<third]) + Array(several[severalEnd...])
        let newEnd = shortened.count - (several.count - severalEnd)
        shortened[newEnd + 8] = 2
        shortened[newEnd + 10] = 2
        let length = UInt32(third - directory)
        for i in 0..<4 { shortened[newEnd + 12 + i] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(i))) }
        XCTAssertEqual(code(shortened), "corrupt_archive", "a local entry missing from the central directory")
    }

    func testEncryptionAndOtherMethodsAreUnsupported() throws {
        let archive = fixtures.bytes("deflate")
        var bzip2 = archive
        bzip2[8] = 12
        XCTAssertEqual(code(bzip2), "unsupported")
        var encrypted = archive
        encrypted[6] |= 1
        XCTAssertEqual(code(encrypted), "unsupported")
        if fixtures.infoZip { XCTAssertEqual(code(fixtures.bytes("infozip-encrypted")), "unsupported") }
        // In a later entry too: its end could not be found.
        let several = fixtures.bytes("several-descriptor")
        var later = several
        let second = findLocalHeader(several, named: "second.csv")
        later[second + 8] = 14
        XCTAssertEqual(code(later), "unsupported")
    }

    func testAnErrorIsThrownAgainByLaterReads() throws {
        let reader = ZipEntryReader(source: PieceSource(Array("<html>".utf8)), name: "page.zip")
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        defer { buffer.deallocate() }
        for _ in 0..<2 {
            let error = assertThrows(ZipError.self, try reader.read(into: buffer))
            XCTAssertEqual(error?.code, .notZip)
            XCTAssertEqual(error?.kind, .notZip)
        }
    }

    func testEveryKindHasItsOwnCode() {
        let kinds: [ZipError.Kind] = [.notZip, .truncated, .corruptStream, .crcMismatch, .sizeMismatch, .unsupported,
                                      .noEntry, .corruptArchive]
        let codes = kinds.map { ZipError($0, archive: "a.zip", "x").code.rawValue }
        XCTAssertEqual(codes, ["not_zip", "truncated", "corrupt_stream", "crc_mismatch", "size_mismatch", "unsupported",
                               "no_entry", "corrupt_archive"])
    }

    // MARK: Helpers

    /// The reader's error code for an archive read whole in odd pieces, or nil when it reads.
    private func code(_ bytes: [UInt8], _ name: String = "test.zip") -> String? {
        zipError(bytes, name)?.code.rawValue
    }

    private func zipError(_ bytes: [UInt8], _ name: String) -> ZipError? {
        let reader = ZipEntryReader(source: PieceSource(bytes, pieces: [65_536, 13]), name: name, bufferSize: 4096)
        do {
            _ = try readAll(reader, chunk: 100_000)
            return nil
        } catch let error as ZipError {
            XCTAssertTrue(error.description.hasPrefix(name + ": "), error.description)
            XCTAssertFalse(error.description.contains("\n"), error.description)
            return error
        } catch {
            XCTFail("not a ZipError: \(error)")
            return nil
        }
    }

    private func le16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    private func le32(_ bytes: [UInt8], _ at: Int) -> UInt32 { UInt32(le16(bytes, at)) | UInt32(le16(bytes, at + 2)) << 16 }

    private func patched32(_ bytes: [UInt8], at: Int, _ change: (UInt32) -> UInt32) -> [UInt8] {
        var copy = bytes
        let value = change(le32(bytes, at))
        for i in 0..<4 { copy[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
        return copy
    }

    private func endRecordOffset(_ bytes: [UInt8]) -> Int {
        var at = bytes.count - 22
        while at >= 0 && le32(bytes, at) != 0x0605_4b50 { at -= 1 }
        return at
    }

    /// Where the first entry's data starts.
    private func dataOffset(_ bytes: [UInt8]) -> Int { 30 + Int(le16(bytes, 26)) + Int(le16(bytes, 28)) }

    private func lastCentralHeader(_ bytes: [UInt8], from: Int, to: Int) -> Int {
        var at = from, last = from
        while at < to && le32(bytes, at) == 0x0201_4b50 {
            last = at
            at += 46 + Int(le16(bytes, at + 28)) + Int(le16(bytes, at + 30)) + Int(le16(bytes, at + 32))
        }
        return last
    }

    private func findLocalHeader(_ bytes: [UInt8], named name: String) -> Int {
        let target = [0x50, 0x4B, 0x03, 0x04] as [UInt8]
        for at in 0..<(bytes.count - 30) where Array(bytes[at..<at + 4]) == target {
            let length = Int(le16(bytes, at + 26))
            if String(decoding: bytes[(at + 30)..<(at + 30 + length)], as: UTF8.self) == name { return at }
        }
        XCTFail("no local header for \(name)")
        return 0
    }
}
