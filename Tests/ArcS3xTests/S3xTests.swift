import Glibc
import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcS3x

final class ShellWordsTests: XCTestCase {
    func testWordsAndQuotes() throws {
        XCTAssertEqual(try ShellWords.split("cp  s3://b/k\t/tmp/x "), ["cp", "s3://b/k", "/tmp/x"])
        XCTAssertEqual(try ShellWords.split(#"cp 'a b/it"s' "c d/it's" e\ f"#), ["cp", "a b/it\"s", "c d/it's", "e f"])
        XCTAssertEqual(try ShellWords.split(#"x"y z"'w'v"#), ["xy zwv"], "quotes join the word around them")
        XCTAssertEqual(try ShellWords.split(#"a '' "" b"#), ["a", "", "", "b"], "empty quotes are empty words")
        XCTAssertEqual(try ShellWords.split(#"'a\b' "c\"d" "e\\f" g\'h"#), [#"a\b"#, #"c"d"#, #"e\f"#, "g'h"])
        XCTAssertEqual(try ShellWords.split(#"--exclude '*.tmp' --include "*.csv""#), ["--exclude", "*.tmp", "--include", "*.csv"])
        XCTAssertEqual(try ShellWords.split("é 中文 😀"), ["é", "中文", "😀"])
        XCTAssertEqual(try ShellWords.split(""), [])
        XCTAssertEqual(try ShellWords.split(" \t "), [])
    }

    func testUnclosedQuote() {
        XCTAssertEqual(assertThrows(UsageError.self, try ShellWords.split("cp 'a b"))?.message, "unclosed quote")
        XCTAssertNotNil(assertThrows(UsageError.self, try ShellWords.split(#"cp "a b\""#)), "the escaped quote does not close")
        XCTAssertNotNil(assertThrows(UsageError.self, try ShellWords.split(#"a"b"#)))
    }

    /// BUG: inside double quotes a POSIX shell keeps a backslash unless it escapes `$`, `` ` ``, `"`,
    /// `\` or a newline (`echo "a\b"` prints `a\b`); ShellWords drops it.
    func testBackslashInDoubleQuotesIsKeptBeforeOrdinaryCharacters() throws {
        XCTAssertEqual(try ShellWords.split(#"cp "C:\tmp\x" "a\$b""#), ["cp", #"C:\tmp\x"#, "a$b"])
    }
}

final class PathFilterTests: XCTestCase {
    func testNoPatternsAcceptEverything() {
        let f = PathFilter(include: [], exclude: [])
        for p in ["a", "d/e/f.txt", ".hidden", ""] { XCTAssertTrue(f.accepts(p), p) }
        XCTAssertFalse(f.excludes("a"))
    }

    /// As s5cmd matches: the whole path relative to the source folder, `*` across `/`.
    func testIncludeMatchesTheWholeRelativePath() {
        let f = PathFilter(include: ["*.csv"], exclude: [])
        XCTAssertTrue(f.accepts("a.csv"))
        XCTAssertTrue(f.accepts("d/e/a.csv"))
        XCTAssertFalse(f.accepts("a.csv.gz"))
        XCTAssertFalse(f.accepts("d/a.txt"))
        let dir = PathFilter(include: ["2024/*"], exclude: [])
        XCTAssertTrue(dir.accepts("2024/01/x"), "* crosses /")
        XCTAssertFalse(dir.accepts("2023/01/x"))
        let named = PathFilter(include: ["CHECKSUM"], exclude: [])
        XCTAssertTrue(named.accepts("CHECKSUM"))
        XCTAssertFalse(named.accepts("a/b/CHECKSUM"), "a literal is the whole path, not a base name")
        XCTAssertFalse(named.accepts("a/CHECKSUM/x"))
    }

    func testExcludeWinsOverInclude() {
        let f = PathFilter(include: ["*.csv", "*.json"], exclude: ["old/*", "*.tmp.*", "[0-9]*"])
        XCTAssertTrue(f.accepts("new/a.csv"))
        XCTAssertTrue(f.accepts("b.json"))
        XCTAssertFalse(f.accepts("old/a.csv"))
        XCTAssertFalse(f.accepts("new/a.tmp.csv"))
        XCTAssertFalse(f.accepts("2024.csv"), "the path starts with a digit")
        XCTAssertTrue(f.accepts("new/2024.csv"), "patterns are anchored at the start of the path")
        XCTAssertFalse(f.accepts("new/a.txt"), "not included")
        XCTAssertTrue(f.excludes("old/x.txt"))
        XCTAssertFalse(f.excludes("new/x.txt"))
        let onlyExclude = PathFilter(include: [], exclude: ["*.s3x-partial", "?"])
        XCTAssertFalse(onlyExclude.accepts("d/f.s3x-partial"))
        XCTAssertFalse(onlyExclude.accepts("x"), "a one-character path")
        XCTAssertTrue(onlyExclude.accepts("d/x"), "? is one character of the whole path")
    }
}

final class MoveOptionsTests: XCTestCase {
    let mib: Int64 = 1 << 20

    func testConfiguredSizeUpTo10000Parts() {
        let o = MoveOptions()
        XCTAssertEqual(o.partSize, 50 * mib)
        XCTAssertEqual(o.partSize(for: 0), 50 * mib)
        XCTAssertEqual(o.partSize(for: 1), 50 * mib)
        XCTAssertEqual(o.partSize(for: 10_000 * 50 * mib), 50 * mib, "exactly 10,000 parts")
    }

    func testGrowsPastTenThousandParts() {
        let o = MoveOptions()
        XCTAssertEqual(o.partSize(for: 10_000 * 50 * mib + 1), 51 * mib, "rounded up to whole MiB")
        let fiveTiB: Int64 = 5 << 40
        XCTAssertEqual(o.partSize(for: fiveTiB), 525 * mib)
        var small = MoveOptions()
        small.partSize = 5 * mib
        XCTAssertEqual(small.partSize(for: 50_000 * mib), 5 * mib)
        XCTAssertEqual(small.partSize(for: 100 << 30), 11 * mib)
        for size: Int64 in [1, 5 * mib, 48_828 * mib + 17, 100 << 30, 1 << 40, fiveTiB, fiveTiB - 1, 123_456_789_012_345] {
            for options in [o, small] {
                let part = options.partSize(for: size)
                XCTAssertGreaterThanOrEqual(part, options.partSize)
                XCTAssertEqual(part % mib, 0, "\(size)")
                XCTAssertLessThanOrEqual((size + part - 1) / part, 10_000, "\(size)")
            }
        }
    }
}

final class LocalWalkTests: XCTestCase {
    var dir: TempDir!

    override func setUp() { dir = TempDir("arc-walk") }
    override func tearDown() { dir.remove() }

    private func mkdir(_ name: String) { XCTAssertEqual(Glibc.mkdir(dir.file(name), 0o755), 0, name) }

    private func walk() throws -> [StoredObject] {
        var entries: [StoredObject] = []
        try LocalWalk.walk(dir.path) { entries.append($0) }
        return entries
    }

    func testByteOrderOfRelativePaths() throws {
        // `a/` sorts between `a.b` and `a0`, as the keys `a/...` do in an S3 listing.
        for d in ["a", "a/c", "a/c/x", "empty", "Z"] { mkdir(d) }
        let files = ["a-b", "a.b", "a0", "ab", "a/b", "a/b-c", "a/b.c", "a/c-d", "a/c.d", "a/c/x/y", "a/c0", "A", "Z/z",
                     "é", "e\u{301}", "e", "f", "~", "中", "😀", "b b", "b+b"]
        for (i, f) in files.enumerated() { dir.write(f, String(repeating: "x", count: i)) }
        let expected = ["A", "Z/z", "a-b", "a.b", "a/b", "a/b-c", "a/b.c", "a/c-d", "a/c.d", "a/c/x/y", "a/c0", "a0", "ab",
                        "b b", "b+b", "e", "e\u{301}", "f", "~", "é", "中", "😀"]
        XCTAssertEqual(expected.map { Array($0.utf8) }, files.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) },
                       "the expectation is the UTF-8 byte order")
        let entries = try walk()
        // Compared as bytes: Swift's String == would equate "é" and "e\u{301}".
        XCTAssertEqual(entries.map { Array($0.relative.utf8) }, expected.map { Array($0.utf8) })
        for e in entries {
            XCTAssertEqual(e.size, Int64(files.firstIndex { Array($0.utf8) == Array(e.relative.utf8) }!), e.relative)
            XCTAssertGreaterThan(e.mtime, 1_000_000_000)
        }
    }

    func testSkipsPartialsDanglingLinksAndFollowsFileLinks() throws {
        dir.write("keep", "1")
        dir.write("keep.s3x-partial", "22")
        mkdir("d")
        dir.write("d/x.s3x-partial", "333")
        XCTAssertEqual(symlink(dir.file("nowhere"), dir.file("dangling")), 0)
        XCTAssertEqual(symlink(dir.file("keep"), dir.file("link")), 0)
        XCTAssertEqual(mkfifo(dir.file("fifo"), 0o644), 0)
        let entries = try walk()
        XCTAssertEqual(entries.map { $0.relative }, ["keep", "link"])
        XCTAssertEqual(entries.map { $0.size }, [1, 1])
        XCTAssertTrue(LocalWalk.isPartial("a.s3x-partial"))
        XCTAssertFalse(LocalWalk.isPartial("a.s3x-partial.txt"))
    }

    func testMissingRootIsAnError() {
        XCTAssertNotNil(assertThrows(SystemError.self, try LocalWalk.walk(dir.file("missing")) { _ in }))
    }

    func testEmptyTree() throws {
        XCTAssertTrue(try walk().isEmpty)
    }
}

final class LocalETagTests: XCTestCase {
    var dir: TempDir!
    let mib = 1 << 20

    override func setUp() { dir = TempDir("arc-etag") }
    override func tearDown() { dir.remove() }

    /// Deterministic bytes that differ from one MiB to the next.
    private func content(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 20) } }

    /// The ETag S3 gives an object uploaded in parts of `partSize`, composed here from the parts' MD5s.
    private func multipartETag(_ bytes: [UInt8], partSize: Int) -> String {
        let parts = stride(from: 0, to: bytes.count, by: partSize).map { MD5.digest(Array(bytes[$0..<min($0 + partSize, bytes.count)])) }
        return MD5.digestHex(parts.flatMap { $0 }) + "-\(parts.count)"
    }

    func testSinglePartETagIsTheMD5() {
        let path = dir.write("hello", "hello")
        let o = MoveOptions()
        XCTAssertTrue(LocalETag.matches(path: path, size: 5, etag: "5d41402abc4b2a76b9719d911017c592", options: o))
        XCTAssertTrue(LocalETag.matches(path: path, size: 5, etag: "5D41402ABC4B2A76B9719D911017C592", options: o), "case")
        XCTAssertFalse(LocalETag.matches(path: path, size: 5, etag: "5d41402abc4b2a76b9719d911017c593", options: o))
        XCTAssertFalse(LocalETag.matches(path: path, size: 5, etag: "", options: o))
        XCTAssertFalse(LocalETag.matches(path: path, size: 5, etag: "not-an-etag", options: o))
        let empty = dir.write("empty", "")
        XCTAssertTrue(LocalETag.matches(path: empty, size: 0, etag: "d41d8cd98f00b204e9800998ecf8427e", options: o))
        XCTAssertFalse(LocalETag.matches(path: dir.file("missing"), size: 5, etag: "5d41402abc4b2a76b9719d911017c592", options: o))
    }

    func testMultipartETagWithWholeMiBParts() {
        let bytes = content(5 * mib / 2)
        let path = dir.write("data", bytes)
        let etag = multipartETag(bytes, partSize: mib)
        XCTAssertTrue(etag.hasSuffix("-3"))
        let o = MoveOptions()
        XCTAssertTrue(LocalETag.matches(path: path, size: Int64(bytes.count), etag: etag, options: o))
        XCTAssertTrue(LocalETag.matches(path: path, size: Int64(bytes.count), etag: etag.uppercased(), options: o))
        XCTAssertFalse(LocalETag.matches(path: path, size: Int64(bytes.count), etag: String(etag.dropLast()) + "4", options: o),
                       "another part count")
        XCTAssertTrue(LocalETag.matches(path: path, size: Int64(bytes.count), etag: multipartETag(bytes, partSize: 2 * mib), options: o),
                      "2 MiB parts: the count's size rounded up to whole MiB")
        XCTAssertFalse(LocalETag.matches(path: path, size: Int64(bytes.count), etag: multipartETag(bytes, partSize: 3 * mib / 4), options: o),
                       "0.75 MiB parts (4 of them) are none of the sizes tried")
        var changed = bytes
        changed[mib + 7] ^= 1
        XCTAssertFalse(LocalETag.matches(path: path, size: Int64(bytes.count), etag: multipartETag(changed, partSize: mib), options: o))
        XCTAssertTrue(LocalETag.matches(path: path, size: Int64(bytes.count), etag: MD5.digestHex(bytes), options: o),
                      "uploaded in one part")
        XCTAssertFalse(LocalETag.matches(path: path, size: Int64(bytes.count), etag: MD5.digestHex(changed), options: o))
    }

    func testMultipartETagWithTheAWSCLIPartSize() {
        let bytes = content(8 * mib + 1)
        let path = dir.write("cli", bytes)
        XCTAssertTrue(LocalETag.matches(path: path, size: Int64(bytes.count), etag: multipartETag(bytes, partSize: 8 * mib),
                                        options: MoveOptions()))
    }

    func testMultipartETagWithTheConfiguredPartSize() {
        let bytes = content(3 * mib + 5)
        let path = dir.write("conf", bytes)
        var o = MoveOptions()
        o.partSize = 3 * Int64(mib)
        XCTAssertTrue(LocalETag.matches(path: path, size: Int64(bytes.count), etag: multipartETag(bytes, partSize: 3 * mib), options: o))
    }

    func testDigests() throws {
        let bytes = content(5 * mib / 2)
        let path = dir.write("d", bytes)
        let d = try LocalETag.digests(path: path, partSize: Int64(mib))
        XCTAssertEqual(d, [MD5.digest(Array(bytes[0..<mib])), MD5.digest(Array(bytes[mib..<2 * mib])), MD5.digest(Array(bytes[(2 * mib)...]))])
        XCTAssertEqual(try LocalETag.digests(path: dir.write("e", ""), partSize: 1), [MD5.digest([])])
        XCTAssertEqual(try LocalETag.digests(path: path, partSize: Int64(bytes.count)), [MD5.digest(bytes)])
    }
}

final class SortedEntriesTests: XCTestCase {
    /// Past the run length, sorted runs spill to temporary files and merge back in byte order,
    /// every field intact.
    func testSpilledRunsMergeInByteOrder() throws {
        let names = ["x/y", "x-y", "a", "x.y", "é", "x0", "b b", "a/b", "Z", "x", "e\u{301}"]
        let sorted = SortedEntries(runLength: 3)
        for (i, name) in names.enumerated() {
            try sorted.add(StoredObject(relative: name, size: Int64(i), mtime: Double(i) + 0.5, etag: "e\(i)", storageClass: i % 2 == 0 ? "STANDARD" : ""))
        }
        try sorted.finish()
        var out: [StoredObject] = []
        while let e = try sorted.next() { out.append(e) }
        XCTAssertEqual(out.map(\.relative), names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        for e in out {
            let i = names.firstIndex { $0.utf8.elementsEqual(e.relative.utf8) }!
            XCTAssertEqual(e.size, Int64(i))
            XCTAssertEqual(e.mtime, Double(i) + 0.5)
            XCTAssertEqual(e.etag, "e\(i)")
            XCTAssertEqual(e.storageClass, i % 2 == 0 ? "STANDARD" : "")
        }
    }

    func testEmptyAndInMemoryOnly() throws {
        let empty = SortedEntries(runLength: 3)
        try empty.finish()
        XCTAssertNil(try empty.next())
        let small = SortedEntries()
        for n in ["b", "a"] { try small.add(StoredObject(relative: n, size: 0, mtime: 0)) }
        try small.finish()
        XCTAssertEqual(try small.next()?.relative, "a")
        XCTAssertEqual(try small.next()?.relative, "b")
        XCTAssertNil(try small.next())
    }
}
