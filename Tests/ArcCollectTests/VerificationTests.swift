import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcCollect

/// How a task says it is verified (its `checksum`, or the older `checksum_url`), the MD5
/// sidecars, the digests taken as bytes arrive, and empty gzips.
final class VerificationTests: XCTestCase {
    private let base = #"{"url":"http://h/a.csv.gz","dest":"/d/a.csv.gz""#
    private let md5 = "0cc175b9c0f1b6a831c399e269772661" // MD5("a")
    private let sha = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb" // SHA-256("a")

    private func task(_ more: String) throws -> CollectTask {
        try CollectTask(try Record(parsing: base + more + "}"), line: 3)
    }

    private func fieldError(_ more: String, file: StaticString = #filePath, line: UInt = #line) -> FieldError? {
        assertThrows(FieldError.self, try task(more), file: file, line: line)
    }

    func testEachKindIsRead() throws {
        var t = try task(#","checksum":{"kind":"sha256","url":"http://h/a.CHECKSUM"}"#)
        XCTAssertEqual(t.checksum, ArchiveChecksum(kind: .sha256, url: "http://h/a.CHECKSUM"))
        XCTAssertEqual(t.checksumURL, "http://h/a.CHECKSUM")
        t = try task(#","checksum":{"kind":"md5","url":"http://h/a.CHECKSUM"}"#)
        XCTAssertEqual(t.checksum.kind, .md5)
        XCTAssertEqual(t.checksumURL, "http://h/a.CHECKSUM")
        t = try task(#","checksum":{"kind":"md5","value":"\#(md5.uppercased())"}"#)
        XCTAssertEqual(t.checksum, ArchiveChecksum(kind: .md5, value: md5), "kept lowercase")
        XCTAssertNil(t.checksumURL, "an inline hash needs no sidecar")
        t = try task(#","checksum":{"kind":"etag-md5","value":"\"\#(md5)\""}"#)
        XCTAssertEqual(t.checksum, ArchiveChecksum(kind: .etagMD5, value: md5), "the ETag's quotes dropped")
        t = try task(#","size":3,"checksum":{"kind":"size"}"#)
        XCTAssertEqual(t.checksum.kind, .size)
        XCTAssertNil(t.checksumURL)
        t = try task(#","checksum":{"kind":"none","url":"http://h/x"}"#)
        XCTAssertEqual(t.checksum, ArchiveChecksum(kind: .none), "no sidecar for a kind that has none")
        XCTAssertNil(t.checksumURL)
    }

    func testWithoutChecksumTheOlderFieldsDecide() throws {
        XCTAssertEqual(try task(#","checksum_url":"http://h/a.CHECKSUM""#).checksum, .sha256(url: "http://h/a.CHECKSUM"))
        XCTAssertEqual(try task(#","size":5"#).checksum.kind, .size)
        XCTAssertEqual(try task(#","size":5,"checksum_url":null"#).checksum.kind, .size)
        XCTAssertEqual(try task("").checksum.kind, .none)
        XCTAssertEqual(try task(#","checksum":null"#).checksum.kind, .none)
    }

    func testChecksumURLWinsForASHA256Sidecar() throws {
        // A record edited the old way (jq pointing checksum_url at a mirror, or nulling it).
        let both = #","size":5,"checksum":{"kind":"sha256","url":"http://h/a.CHECKSUM"}"#
        XCTAssertEqual(try task(both + #","checksum_url":"http://m/a.CHECKSUM""#).checksumURL, "http://m/a.CHECKSUM")
        XCTAssertEqual(try task(both + #","checksum_url":null"#).checksum.kind, .size)
        XCTAssertEqual(try task(both).checksumURL, "http://h/a.CHECKSUM")
        // Not for another kind: checksum_url is only ever a SHA-256 sidecar.
        let md5Task = try task(#","checksum":{"kind":"md5","url":"http://h/a.CHECKSUM"},"checksum_url":null"#)
        XCTAssertEqual(md5Task.checksumURL, "http://h/a.CHECKSUM")
    }

    func testBadChecksumsAreBadFields() {
        XCTAssertEqual(fieldError(#","checksum":{"kind":"crc32"}"#)?.field, "checksum.kind")
        XCTAssertTrue(fieldError(#","checksum":{"kind":"crc32"}"#)?.description.contains("etag-md5") ?? false)
        XCTAssertEqual(fieldError(#","checksum":{"url":"http://h/x"}"#)?.field, "checksum.kind")
        XCTAssertEqual(fieldError(#","checksum":{"kind":7}"#)?.field, "checksum.kind")
        XCTAssertEqual(fieldError(#","checksum":"sha256""#)?.field, "checksum")
        XCTAssertEqual(fieldError(#","checksum":{"kind":"sha256"}"#)?.field, "checksum.value", "neither url nor value")
        XCTAssertEqual(fieldError(#","checksum":{"kind":"md5"}"#)?.field, "checksum.value")
        XCTAssertEqual(fieldError(#","checksum":{"kind":"etag-md5"}"#)?.field, "checksum.value")
        XCTAssertEqual(fieldError(#","checksum":{"kind":"etag-md5","url":"http://h/x"}"#)?.field, "checksum.value")
        XCTAssertEqual(fieldError(#","checksum":{"kind":"md5","url":"ftp://h/x"}"#)?.field, "checksum.url")
        XCTAssertEqual(fieldError(#","checksum":{"kind":"sha256","value":"\#(md5)"}"#)?.field, "checksum.value", "too short")
        XCTAssertEqual(fieldError(#","checksum":{"kind":"md5","value":"\#(sha)"}"#)?.field, "checksum.value", "too long")
        XCTAssertEqual(fieldError(#","checksum":{"kind":"md5","value":"g\#(md5.dropFirst())"}"#)?.field, "checksum.value")
        let multipart = fieldError(#","checksum":{"kind":"etag-md5","value":"\"\#(md5)-3\""}"#)
        XCTAssertEqual(multipart?.field, "checksum.value")
        XCTAssertTrue(multipart?.description.contains("multipart") ?? false, multipart?.description ?? "")
    }

    func testFromETag() {
        XCTAssertEqual(ArchiveChecksum.fromETag("\"\(md5.uppercased())\""), ArchiveChecksum(kind: .etagMD5, value: md5))
        XCTAssertEqual(ArchiveChecksum.fromETag("\"\(md5)-12\""), ArchiveChecksum(kind: .size))
        XCTAssertEqual(ArchiveChecksum.fromETag(""), ArchiveChecksum(kind: .size))
    }

    func testArchiveRecordCarriesItsChecksum() throws {
        var archive = Archive(source: "x", market: "m", period: "daily", type: "trades", symbol: "S", interval: nil,
                              date: "2024-01-01", key: "k", url: "http://h/k", checksumURL: nil, size: 1, etag: nil,
                              lastModified: nil, checksum: ArchiveChecksum(kind: .etagMD5, value: md5))
        var b = RecordBuilder()
        b.begin()
        archive.encode(into: &b)
        b.end()
        let record = try Record(parsing: String(decoding: b.bytes.dropLast(), as: UTF8.self))
        XCTAssertEqual(try ArchiveChecksum.read(from: record), archive.checksum)
        archive.checksum = nil
        b.begin()
        archive.encode(into: &b)
        b.end()
        XCTAssertFalse(String(decoding: b.bytes, as: UTF8.self).contains("\"checksum\""))
    }

    func testMD5Sidecar() throws {
        XCTAssertEqual(try ChecksumFile.parse(Array((md5.uppercased() + "  a.zip").utf8), url: "u", kind: .md5), md5)
        XCTAssertEqual(try ChecksumFile.parse(Array((md5 + "\n").utf8), url: "u", kind: .md5), md5)
        // A SHA-256 where an MD5 belongs, and the other way round, are not checksum files.
        let e = assertThrows(ChecksumFile.Invalid.self, try ChecksumFile.parse(Array((sha + "  a.zip").utf8), url: "u", kind: .md5))
        XCTAssertTrue(e?.description.hasPrefix("u: not an MD5 checksum file") ?? false, e?.description ?? "")
        _ = assertThrows(ChecksumFile.Invalid.self, try ChecksumFile.parse(Array((md5 + "  a.zip").utf8), url: "u"))
        _ = assertThrows(ChecksumFile.Invalid.self, try ChecksumFile.parse(Array("".utf8), url: "u", kind: .md5))
    }

    func testArchiveDigestTakesMD5OnlyWhenAsked() throws {
        let both = ArchiveDigest(for: .etagMD5)
        both.update(Array("a".utf8))
        let hashes = both.hashes()
        XCTAssertEqual(hashes.sha256, sha)
        XCTAssertEqual(hashes.compared(.etagMD5), md5)
        XCTAssertEqual(hashes.compared(.md5), md5)
        XCTAssertEqual(hashes.compared(.sha256), sha)
        XCTAssertNil(hashes.compared(.size))
        let one = ArchiveDigest(for: .sha256)
        one.update(Array("b".utf8))
        one.reset()
        one.update(Array("a".utf8))
        XCTAssertEqual(one.hashes().sha256, sha)
        XCTAssertNil(one.md5)
        let dir = TempDir()
        let path = dir.path + "/a"
        try FileSystem.writeAtomically(path, Array("a".utf8))
        let ofFile = try ArchiveDigest.ofFile(path, kind: .md5)
        XCTAssertEqual(ofFile.sha256, sha)
        XCTAssertEqual(ofFile.md5, md5)
    }

    func testEmptyGzip() {
        let empty: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        let a: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 75, 4, 0, 67, 190, 183, 232, 1, 0, 0, 0]
        XCTAssertTrue(EmptyGzip.holdsNothing(empty))
        XCTAssertTrue(EmptyGzip.holdsNothing(empty + empty), "two empty members")
        XCTAssertFalse(EmptyGzip.holdsNothing(a))
        XCTAssertFalse(EmptyGzip.holdsNothing(empty + a), "an empty member, then data")
        XCTAssertFalse(EmptyGzip.holdsNothing(Array(empty.dropLast())), "cut short")
        XCTAssertFalse(EmptyGzip.holdsNothing([]))
        XCTAssertFalse(EmptyGzip.holdsNothing(Array("PK\u{3}\u{4}".utf8)), "not gzip")
        XCTAssertFalse(EmptyGzip.holdsNothing(empty + [UInt8](repeating: 0, count: 200)), "larger than any empty gzip")
    }
}
