import XCTest
@testable import ArcCollect
@testable import ArcCore

final class BybitTests: XCTestCase {
    func testFileNames() {
        XCTAssertEqual(BybitKeys.parse(fileName: "BTCUSDT2024-01-02.csv.gz", market: .linear),
                       .init(symbol: "BTCUSDT", period: .daily, date: "2024-01-02"))
        XCTAssertEqual(BybitKeys.parse(fileName: "DATAUSDT2021-03-01.csv.gz", market: .linear)?.symbol, "DATAUSDT")
        XCTAssertEqual(BybitKeys.parse(fileName: "BTCUSDT_2024-01-02.csv.gz", market: .spot),
                       .init(symbol: "BTCUSDT", period: .daily, date: "2024-01-02"))
        XCTAssertEqual(BybitKeys.parse(fileName: "BTCUSDT-2024-01.csv.gz", market: .spot),
                       .init(symbol: "BTCUSDT", period: .monthly, date: "2024-01"))
        for odd in ["README.txt", "2024-01-02.csv.gz", "BTCUSDT2024-13-02.csv.gz", "BTCUSDT_latest.csv.gz", "BTCUSDT2024-01-02.csv"] {
            XCTAssertNil(BybitKeys.parse(fileName: Substring(odd), market: .linear), odd)
            XCTAssertNil(BybitKeys.parse(fileName: Substring(odd), market: .spot), odd)
        }
        XCTAssertEqual(BybitKeys.leafPrefix(.spot, "BTCUSDT", .monthly), "spot/BTCUSDT/BTCUSDT-")
        XCTAssertEqual(BybitKeys.sinceMarker(.linear, "BTCUSDT", .daily, since: Day("2024-01-02")!),
                       "trading/BTCUSDT/BTCUSDT2024-01-02")
    }

    func testChecksumKinds() {
        XCTAssertEqual(BybitKeys.checksum(etag: "0123456789ABCDEF0123456789abcdef", size: 5).kind, .etagMD5)
        XCTAssertEqual(BybitKeys.checksum(etag: "0123456789ABCDEF0123456789abcdef", size: 5).value, "0123456789abcdef0123456789abcdef")
        // A multipart ETag is no MD5, however hex it looks.
        XCTAssertEqual(BybitKeys.checksum(etag: "0123456789abcdef0123456789abcdef-2", size: 5).kind, .size)
        XCTAssertEqual(BybitKeys.checksum(etag: nil, size: 5).kind, .size)
        XCTAssertEqual(BybitKeys.checksum(etag: "xyz", size: nil).kind, .none)
    }

    func testHTMLIndexPages() throws {
        let nginx = """
        <html><head><title>Index of /trading/BTCUSDT/</title></head><body><pre><a href="../">../</a>
        <a href="BTCUSDT2024-01-01.csv.gz">BTCUSDT2024-01-01.csv.gz</a>     02-Jan-2024 06:00     1244
        <A HREF='BTCUSDT2024-01-02.csv.gz'>BTCUSDT2024-01-02.csv.gz</A>     03-Jan-2024 06:00     1.2M
        <a href=sub/>sub/</a>  -
        <a href="?C=N;O=D">Name</a><a href="https://example.com/x">x</a><a href="/trading/BTCUSDT/abs.csv.gz">abs</a> 7
        <a href="/elsewhere/y.csv.gz">y</a><a href="BTC%20X.csv.gz">enc</a><a>no href</a>
        </pre></body></html>
        """
        let entries = try HTMLIndex.parse(Array(nginx.utf8), pagePath: "/trading/BTCUSDT/")
        XCTAssertEqual(entries, [
            HTMLIndexEntry(name: "BTCUSDT2024-01-01.csv.gz", size: 1244),
            HTMLIndexEntry(name: "BTCUSDT2024-01-02.csv.gz", size: nil),
            HTMLIndexEntry(name: "sub/", size: nil),
            HTMLIndexEntry(name: "abs.csv.gz", size: 7),
            HTMLIndexEntry(name: "BTC X.csv.gz", size: nil),
        ])
        let table = "<table><tr><td><a href=\"A.csv.gz\">A</a></td><td>2024-01-01 00:00</td><td>42</td></tr></table>"
        XCTAssertEqual(try HTMLIndex.parse(Array(table.utf8)), [HTMLIndexEntry(name: "A.csv.gz", size: 42)])
        XCTAssertThrowsError(try HTMLIndex.parse(Array("<?xml?><Error>nope</Error>".utf8)))
        XCTAssertThrowsError(try HTMLIndex.parse([]))
        // Broken tags end the scan, never crash it.
        _ = try? HTMLIndex.parse(Array("<a href=\"x".utf8))
        _ = try? HTMLIndex.parse(Array("<a".utf8))
    }

    func testHostRateKeys() {
        XCTAssertEqual(HostRateLimits.authority(of: "https://Public.Bybit.com/trading/x")?.key, "public.bybit.com")
        XCTAssertEqual(HostRateLimits.authority(of: "http://127.0.0.1:8080/x")?.key, "127.0.0.1:8080")
        XCTAssertEqual(HostRateLimits.authority(of: "http://127.0.0.1:8080/x")?.name, "127.0.0.1")
        XCTAssertEqual(HostRateLimits.authority(of: "http://u:p@[::1]:9/x")?.name, "[::1]")
        XCTAssertNil(HostRateLimits.authority(of: "no url"))
        let known = HostRateLimits.forTool(rate: nil)
        XCTAssertEqual(known.rate(forHost: "public.bybit.com"), 20)
        XCTAssertEqual(known.rate(forHost: "data.binance.vision"), 0)
        XCTAssertEqual(HostRateLimits.forTool(rate: 5).rate(forHost: "public.bybit.com"), 5)
    }
}
