import ArcCore
import CZlib
import XCTest
@testable import ArcSilver

/// A gzip member built field by field (RFC 1952), so each optional header part and each
/// trailer value can be set or broken on purpose.
struct GzipMember {
    var data: [UInt8]
    var name: String?
    var comment: String?
    var extra: [UInt8]?
    var headerCRC = false
    var method: UInt8 = 8

    func bytes(crc: UInt32? = nil, size: UInt32? = nil) -> [UInt8] {
        var flags: UInt8 = 0
        if headerCRC { flags |= 0x02 }
        if extra != nil { flags |= 0x04 }
        if name != nil { flags |= 0x08 }
        if comment != nil { flags |= 0x10 }
        var out: [UInt8] = [0x1F, 0x8B, method, flags, 0, 0, 0, 0, 0, 3]
        if let extra { out += [UInt8(extra.count & 0xFF), UInt8(extra.count >> 8)] + extra }
        if let name { out += Array(name.utf8) + [0] }
        if let comment { out += Array(comment.utf8) + [0] }
        if headerCRC {
            let value = UInt32(crc32_z(0, out, out.count))
            out += [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF)]
        }
        out += GzipMember.rawDeflate(data)
        let actual = UInt32(crc32_z(0, data, data.count))
        out += le32(crc ?? actual) + le32(size ?? UInt32(truncatingIfNeeded: data.count))
        return out
    }

    private func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }

    static func rawDeflate(_ input: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        precondition(arc_deflate_init2(&stream, 6, -15) == Z_OK)
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 16)
        var copy = input
        let produced = copy.withUnsafeMutableBufferPointer { inBuf in
            out.withUnsafeMutableBufferPointer { outBuf -> Int in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = UInt32(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = UInt32(outBuf.count)
                precondition(deflate(&stream, Z_FINISH) == Z_STREAM_END)
                return outBuf.count - Int(stream.avail_out)
            }
        }
        return Array(out[0..<produced])
    }
}

final class GzipReaderTests: XCTestCase {
    let csv = Array((0..<5000).map { "\($0),1704067200.\($0),BTCUSDT,Buy\n" }.joined().utf8)

    private func read(_ bytes: [UInt8], pieces: [Int] = [Int.max], chunk: Int = 1 << 16, bufferSize: Int = 1 << 20) throws -> (GzipReader, [UInt8]) {
        let reader = GzipReader(source: PieceSource(bytes, pieces: pieces), name: "x.csv.gz", bufferSize: bufferSize)
        return (reader, try readAll(reader, chunk: chunk))
    }

    private func code(_ bytes: [UInt8], pieces: [Int] = [Int.max]) -> GzipError.Kind? {
        do {
            _ = try read(bytes, pieces: pieces, bufferSize: 64)
            return nil
        } catch let error as GzipError {
            XCTAssertTrue(error.description.hasPrefix("x.csv.gz: ") && !error.description.contains("\n"), error.description)
            return error.kind
        } catch {
            XCTFail("not a GzipError: \(error)")
            return nil
        }
    }

    func testReadsEveryHeaderPartInAnyPieces() throws {
        let members = [GzipMember(data: csv),
                       GzipMember(data: csv, name: "BTCUSDT2024-01-01.csv"),
                       GzipMember(data: csv, name: "a.csv", comment: "made by hand", extra: [1, 2, 3, 4], headerCRC: true)]
        for member in members {
            for pieces in [[Int.max], [1], [3, 7, 1000], [9, 11]] {
                for chunk in [1, 100, 1 << 16] where !(chunk == 1 && pieces == [1]) {
                    let (reader, bytes) = try read(member.bytes(), pieces: pieces, chunk: chunk, bufferSize: 64)
                    XCTAssertTrue(bytes == csv, "\(pieces) \(chunk)")
                    XCTAssertEqual(reader.inflatedBytes, Int64(csv.count))
                    XCTAssertEqual(reader.members, 1)
                    XCTAssertEqual(reader.entryName, member.name)
                    XCTAssertEqual(try readAll(reader, chunk: 8), [], "a read after the end")
                }
            }
        }
    }

    func testMembersOneAfterAnotherReadAsOneStream() throws {
        let first = Array(csv[0..<1000]), second = Array(csv[1000...])
        let (reader, bytes) = try read(GzipMember(data: first).bytes() + GzipMember(data: second).bytes(), pieces: [5, 300])
        XCTAssertTrue(bytes == csv)
        XCTAssertEqual(reader.members, 2)
    }

    func testAnEmptyGzipReadsAsNothing() throws {
        let (reader, bytes) = try read(GzipMember(data: [], name: "BTCUSDT_2024-01-01.csv").bytes())
        XCTAssertEqual(bytes, [])
        XCTAssertEqual(reader.members, 1)
        XCTAssertEqual(reader.inflatedBytes, 0)
    }

    func testEveryCutIsTruncated() {
        let whole = GzipMember(data: Array(csv[0..<3000]), name: "n.csv", headerCRC: true).bytes()
        for cut in 1..<whole.count {
            XCTAssertEqual(code(Array(whole[0..<cut]), pieces: [cut % 7 + 1]), .truncated, "cut at \(cut) of \(whole.count)")
        }
    }

    func testBrokenTrailersAndHeaders() {
        let member = GzipMember(data: csv)
        let crc = UInt32(crc32_z(0, csv, csv.count))
        XCTAssertEqual(code(member.bytes(crc: crc ^ 1)), .crcMismatch)
        XCTAssertEqual(code(member.bytes(size: UInt32(csv.count + 1))), .sizeMismatch)
        var badHeader = GzipMember(data: csv, name: "a.csv", headerCRC: true).bytes()
        badHeader[10] ^= 0x20 // the name changes after its CRC was taken
        XCTAssertEqual(code(badHeader), .corruptArchive)
        XCTAssertEqual(code(GzipMember(data: csv, method: 7).bytes()), .unsupported)
        var reserved = member.bytes()
        reserved[3] = 0x80
        XCTAssertEqual(code(reserved), .corruptArchive)
        XCTAssertEqual(code(member.bytes() + Array("junk".utf8)), .corruptArchive)
        var corrupt = member.bytes()
        for i in 10..<18 { corrupt[i] = 0xFF }
        XCTAssertEqual(code(corrupt), .corruptStream)
        XCTAssertEqual(code([]), .notGzip)
        XCTAssertEqual(code(Array("<html>403</html>".utf8)), .notGzip)
        XCTAssertEqual(code(Array("PK\u{3}\u{4}".utf8) + [UInt8](repeating: 0, count: 40)), .notGzip)
    }

    func testAnErrorStaysOnceMet() throws {
        let reader = GzipReader(source: PieceSource(GzipMember(data: csv).bytes(crc: 1)), name: "x.csv.gz")
        XCTAssertThrowsError(try readAll(reader, chunk: 1 << 20))
        XCTAssertThrowsError(try readAll(reader, chunk: 1 << 20)) { XCTAssertEqual(($0 as? GzipError)?.kind, .crcMismatch) }
    }
}

final class SourceIdentityTests: XCTestCase {
    func testBybitKeysAreKnownByTheirShape() throws {
        let trading = try ArchiveIdentity(path: "/mirror/public.bybit.com/trading/BTCUSDT/BTCUSDT2024-01-01.csv.gz")
        XCTAssertEqual([trading.source, trading.market, trading.period, trading.type, trading.symbol, trading.date],
                       ["bybit", "linear", "daily", "trades", "BTCUSDT", "2024-01-01"])
        XCTAssertEqual(trading.key, "trading/BTCUSDT/BTCUSDT2024-01-01.csv.gz")
        XCTAssertEqual(trading.container, .gzip)
        XCTAssertEqual(trading.periodEnd - trading.periodStart, 86_400_000_000)
        let daily = try ArchiveIdentity(path: "s3://lake/bronze/spot/ETHUSDT/ETHUSDT_2024-02-29.csv.gz")
        XCTAssertEqual([daily.market, daily.period, daily.date], ["spot", "daily", "2024-02-29"])
        let monthly = try ArchiveIdentity(path: "spot/ETHUSDT/ETHUSDT-2024-02.csv.gz", source: "bybit")
        XCTAssertEqual([monthly.market, monthly.period, monthly.date], ["spot", "monthly", "2024-02"])
        XCTAssertEqual(monthly.periodEnd - monthly.periodStart, 29 * 86_400_000_000)
        // A folder whose files are named otherwise: the folder names the symbol.
        let odd = try ArchiveIdentity(path: "trading/DATAOLD01USDT/DATAUSDT2021-06-01.csv.gz")
        XCTAssertEqual(odd.symbol, "DATAOLD01USDT")
        for path in ["trading/BTCUSDT/BTCUSDT2024-13-01.csv.gz", "trading/BTCUSDT/2024-01-01.csv.gz",
                     "spot/BTCUSDT/BTCUSDT2024-01-01.csv.gz", "spot/BTCUSDT/BTCUSDT_2024-01.csv.gz",
                     "premium_index/BTCUSDT/BTCUSDT2024-01-01.csv.gz", "trading/BTCUSDT/BTCUSDT2024-01-01.csv"] {
            XCTAssertThrowsError(try ArchiveIdentity(path: path, source: "bybit"), path)
        }
    }

    func testKuCoinKeysAreKuCoinsOnlyWhenTheSourceSaysSo() throws {
        let key = "data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip"
        XCTAssertEqual(try ArchiveIdentity(path: key).source, "binance")
        let k = try ArchiveIdentity(path: "/m/" + key, source: "kucoin")
        XCTAssertEqual([k.source, k.market, k.type, k.symbol, k.interval ?? "", k.date, k.key],
                       ["kucoin", "spot", "klines", "BTCUSDT", "1m", "2024-01-01", key])
        XCTAssertEqual(k.container, .zip)
        let t = try ArchiveIdentity(path: "data/futures/daily/trades/XBTUSDTM/XBTUSDTM-trades-2024-01-01.zip", source: "kucoin")
        XCTAssertEqual([t.market, t.type, t.symbol], ["futures", "trades", "XBTUSDTM"])
        XCTAssertNil(t.interval)
        XCTAssertThrowsError(try ArchiveIdentity(path: "data/spot/monthly/trades/BTCUSDT/BTCUSDT-trades-2024-01.zip", source: "kucoin"))
        XCTAssertThrowsError(try ArchiveIdentity(path: "trading/BTCUSDT/BTCUSDT2024-01-01.csv.gz", source: "kucoin"))
        XCTAssertThrowsError(try ArchiveIdentity(path: key, source: "okx")) { error in
            XCTAssertTrue("\(error)".contains("okx"))
        }
    }

    func testSecondsWithAFractionAreExactMicroseconds() {
        func seconds(_ text: String) -> Int64? {
            let bytes = Array(text.utf8)
            return bytes.withUnsafeBufferPointer { b in
                guard let (v, end) = FieldParsing.seconds(b.baseAddress!, b.baseAddress! + b.count), end == b.baseAddress! + b.count else { return nil }
                return v
            }
        }
        XCTAssertEqual(seconds("1704067200"), 1_704_067_200_000_000)
        XCTAssertEqual(seconds("1704067200.1"), 1_704_067_200_100_000)
        XCTAssertEqual(seconds("1704067200.000001"), 1_704_067_200_000_001)
        XCTAssertEqual(seconds("1704153599.9999999"), 1_704_153_599_999_999) // a double would make it the next day
        XCTAssertEqual(seconds("0.5"), 500_000)
        for bad in ["", ".5", "1704067200.", "-1", "1e9", "1704067200.1e3", "99999999999999999"] {
            XCTAssertNil(seconds(bad), bad)
        }
    }
}
