import XCTest
@testable import ArcCollect
import ArcCore

final class OKXRequestTests: XCTestCase {
    func testInstrumentIdsNameTheirMarket() {
        XCTAssertEqual(OKXMarket(instrument: "BTC-USDT"), .spot)
        XCTAssertEqual(OKXMarket(instrument: "BTC-USDT-SWAP"), .swap)
        XCTAssertEqual(OKXMarket(instrument: "BTC-USD-250926"), .futures)
        XCTAssertNil(OKXMarket(instrument: "BTC-USD-250926-50000-C"), "options")
        XCTAssertNil(OKXMarket(instrument: "BTCUSDT"))
        XCTAssertNil(OKXMarket(instrument: "BTC--SWAP"))
    }

    func testDaysAreUTC8() {
        let day = Day("2025-09-01")!
        XCTAssertEqual(OKXRequest.utc8Midnight(day), 1_756_656_000_000, "2025-08-31T16:00Z")
        XCTAssertEqual(OKXRequest.utc8Day(millis: 1_756_656_000_000), day)
        XCTAssertEqual(OKXRequest.utc8Day(millis: 1_756_656_000_000 - 1), Day("2025-08-31"))
        XCTAssertEqual(OKXRequest.utc8Day(millis: -1), Day("1970-01-01"), "07:59:59.999 +08:00")
        XCTAssertEqual(OKXRequest.utc8Day(millis: -28_800_001), Day("1969-12-31"))
    }

    func testPlanCutsFiveInstrumentsAndTenDays() {
        let since = Day("2024-01-01")!, until = Day("2024-01-21")!
        let ids = (1...7).map { "I\($0)-USDT-SWAP" }
        let plan = OKXRequest.plan(dataset: .trades, instruments: ids.map { ($0, .swap, since) }, until: until)
        XCTAssertEqual(plan.count, 6)
        XCTAssertEqual(plan.map(\.instruments.count), [5, 5, 5, 2, 2, 2])
        XCTAssertEqual(plan.prefix(3).map { "\($0.first)..\($0.last)" },
                       ["2024-01-01..2024-01-10", "2024-01-11..2024-01-20", "2024-01-21..2024-01-21"])
        XCTAssertEqual(plan[0].query, "module=1&instType=SWAP&instIdList=I1-USDT-SWAP,I2-USDT-SWAP,I3-USDT-SWAP,I4-USDT-SWAP,I5-USDT-SWAP"
                       + "&dateAggrType=daily&begin=1704038400000&end=1704816000000")
    }

    func testPlanGroupsByMarketAndFirstDayAndSkipsWhatIsDone() {
        let d = Day("2024-01-10")!
        let plan = OKXRequest.plan(dataset: .fundingRates, instruments: [
            ("A-USDT", .spot, d), ("B-USDT-SWAP", .swap, d), ("C-USDT", .spot, d.adding(days: 2)),
            ("D-USDT", .spot, d.adding(days: 9)),
        ], until: d.adding(days: 1))
        XCTAssertEqual(plan.map(\.instruments), [["A-USDT"], ["B-USDT-SWAP"]])
        XCTAssertEqual(plan[0].query.prefix(9), "module=3&")
    }
}

final class OKXManifestTests: XCTestCase {
    func testTheDocumentedAnswer() throws {
        let body = """
        {"code":"0","msg":"","data":[{"ts":"1756882260390","totalSizeMB":"15.64","dateAggrType":"daily",
         "details":[{"instId":"BTC-USDT-SWAP","instFamily":"BTC-USDT","dateRangeStart":"1756569600000",
          "dateRangeEnd":"1756656000000","groupSizeMB":"15.64","groupDetails":[
           {"filename":"BTC-USDT-SWAP-trades-2025-09-01.zip","dateTs":"1756656000000","sizeMB":"8.1",
            "url":"https://static.okx.com/cdn/okex/traderecords/trades/daily/20250901/BTC-USDT-SWAP-trades-2025-09-01.zip"},
           {"filename":"BTC-USDT-SWAP-trades-2025-08-31.zip","dataTs":1756569600000,"sizeMB":7.54,
            "url":"https://static.okx.com/cdn/okex/traderecords/trades/daily/20250831/BTC-USDT-SWAP-trades-2025-08-31.zip"},
           {"filename":"no-url.zip"}]}]}]}
        """
        let files = try OKXManifest.parse(Array(body.utf8))
        XCTAssertEqual(files.map(\.filename), ["BTC-USDT-SWAP-trades-2025-09-01.zip", "BTC-USDT-SWAP-trades-2025-08-31.zip"])
        XCTAssertEqual(files.map(\.dateTs), [1_756_656_000_000, 1_756_569_600_000], "dateTs or dataTs, string or number")
        XCTAssertEqual(files.map(\.sizeMB), ["8.1", "7.54"])
        XCTAssertEqual(files[0].instrument, "BTC-USDT-SWAP")
        XCTAssertEqual(OKXManifest.approximateBytes(sizeMB: "8.1"), 8_493_466)
        XCTAssertNil(OKXManifest.approximateBytes(sizeMB: "n/a"))
    }

    func testErrorsSayTheirCode() {
        XCTAssertThrowsError(try OKXManifest.parse(Array(#"{"code":"50011","msg":"Too Many Requests","data":[]}"#.utf8))) {
            XCTAssertEqual(($0 as? OKXManifest.APIError)?.apiCode, "50011")
            XCTAssertEqual("\($0)", "OKX API error 50011: Too Many Requests")
        }
        XCTAssertThrowsError(try OKXManifest.parse(Array("<html>".utf8))) {
            XCTAssertEqual(($0 as? OKXManifest.APIError)?.apiCode, "")
        }
        XCTAssertEqual(OKXManifest.apiError(inBody: #"{"code":"51000","msg":"Parameter end error"}"#)?.apiCode, "51000")
        XCTAssertNil(OKXManifest.apiError(inBody: "Bad Request"))
    }

    func testNamesKeysAndSymbols() {
        XCTAssertEqual(OKXManifest.day(inFilename: "BTC-USDT-trades-2024-01-02.zip"), Day("2024-01-02"))
        XCTAssertNil(OKXManifest.day(inFilename: "BTC-USDT-trades.zip"))
        XCTAssertEqual(OKXSource.symbol(in: "BTC-USD-250926-trades-2024-01-02.zip"), "BTC-USD-250926")
        XCTAssertEqual(OKXSource.symbol(in: "allswap-fundingrates-2024-01-02.zip"), "allswap")
        XCTAssertEqual(OKXSource.path(of: "https://static.okx.com/cdn/a/b.zip?x=1"), "cdn/a/b.zip")
        XCTAssertEqual(OKXSource.path(of: "https://static.okx.com"), "")
    }
}
