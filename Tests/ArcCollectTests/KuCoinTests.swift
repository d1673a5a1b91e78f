import XCTest
@testable import ArcCollect
import ArcCore

final class KuCoinSymbolsTests: XCTestCase {
    func testTradingAPISpellingsBecomeTheArchives() {
        XCTAssertEqual(KuCoinSymbols.archiveSpellings(of: "BTC-USDT"), ["BTCUSDT"])
        XCTAssertEqual(KuCoinSymbols.archiveSpellings(of: "XBTUSDTM"), ["BTCUSDTM"])
        XCTAssertEqual(KuCoinSymbols.archiveSpellings(of: "XBT-USDTM"), ["XBTUSDTM", "BTCUSDTM"])
        XCTAssertEqual(KuCoinSymbols.archiveSpellings(of: "*-USDT"), ["*USDT"])
        XCTAssertEqual(KuCoinSymbols.archiveSpellings(of: "[A-C]*-USDT"), ["[A-C]*USDT"], "a range's dash stays")
    }

    func testArchiveSpellingsAreLeftAlone() {
        XCTAssertEqual(KuCoinSymbols.archiveSpellings(of: "BTCUSDT"), [])
        XCTAssertEqual(KuCoinSymbols.archiveSpellings(of: "ETHUSDTM"), [])
        XCTAssertEqual(KuCoinSymbols.archiveSpellings(of: "*USDT"), [])
    }
}

final class KuCoinTreeTests: XCTestCase {
    func testTableAndFolders() {
        XCTAssertEqual(KuCoinTree.periods(.spot, "klines"), [.daily])
        XCTAssertNil(KuCoinTree.periods(.spot, "fundingRates"), "spot has no funding rates")
        XCTAssertEqual(KuCoinTree.periods(.futures, "depth/orderbooklv50"), [.daily])
        XCTAssertEqual(KuCoinTree.intervalFolders("klines"), .always)
        XCTAssertEqual(KuCoinTree.intervalFolders("trades"), .never)
        XCTAssertEqual(KuCoinTree.intervalFolders("mark"), .unknown)
        XCTAssertEqual(TreeKeys<KuCoinMarket>.typeFolder(.futures, .daily, "depth/orderbooklv50"),
                       "data/futures/daily/depth/orderbooklv50/")
        XCTAssertEqual(TreeKeys<KuCoinMarket>.stem(symbol: "BTC-USDT", type: "depth/orderbooklv50", interval: nil),
                       "BTC-USDT-orderbooklv50")
    }

    func testEndpointsOnOneHost() {
        let e = KuCoinEndpoints()
        XCTAssertEqual(e.listingURL(prefix: "data/spot/daily/", marker: nil),
                       "https://historical-data.kucoin.com?prefix=data%2Fspot%2Fdaily%2F&delimiter=%2F")
        XCTAssertEqual(e.downloadURL(key: "data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip"),
                       "https://historical-data.kucoin.com/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip")
    }

    func testSelectionWidensAPISpellings() throws {
        let p = try ArgumentParser.parse(["kucoin", "--symbol", "BTC-USDT,XBTUSDTM"], spec: Tool.fullSpec(DiscoverCommand.spec),
                                         environment: { _ in nil })
        let s = try KuCoinSource.selection(from: p, log: Logger(tool: "t", format: .json, terminal: Terminal(fd: -1)))
        XCTAssertEqual(s.literalSymbols, ["BTC-USDT", "BTCUSDT", "XBTUSDTM", "BTCUSDTM"])
        XCTAssertEqual(s.periods, [.daily])
        XCTAssertEqual(s.markets, [.spot, .futures])
    }
}
