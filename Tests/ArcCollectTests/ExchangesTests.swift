import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcCollect

final class BinanceKeysTests: XCTestCase {
    func testFolders() {
        XCTAssertEqual(BinanceKeys.typeFolder(.spot, .daily, "klines"), "data/spot/daily/klines/")
        XCTAssertEqual(BinanceKeys.typeFolder(.um, .monthly, "fundingRate"), "data/futures/um/monthly/fundingRate/")
        XCTAssertEqual(BinanceKeys.typeFolder(.cm, .daily, "trades"), "data/futures/cm/daily/trades/")
        XCTAssertEqual(BinanceKeys.periodFolder(.option, .daily), "data/option/daily/")
    }

    func testStem() {
        XCTAssertEqual(BinanceKeys.stem(symbol: "BTCUSDT", type: "klines", interval: "1m"), "BTCUSDT-1m")
        XCTAssertEqual(BinanceKeys.stem(symbol: "BTCUSDT", type: "aggTrades", interval: nil), "BTCUSDT-aggTrades")
    }

    func testDateOfDailyFiles() {
        XCTAssertEqual(BinanceKeys.date(ofFile: "BTCUSDT-1m-2024-01-02.zip", period: .daily), "2024-01-02")
        XCTAssertEqual(BinanceKeys.date(ofFile: "BTCUSDT-trades-2024-02-29.zip", period: .daily), "2024-02-29")
        XCTAssertEqual(BinanceKeys.date(ofFile: "BTCUSD_PERP-bookDepth-2023-12-31.zip", period: .daily), "2023-12-31")
        XCTAssertEqual(BinanceKeys.date(ofFile: "1000SHIBUSDT-1mo-2024-01-02.zip", period: .daily), "2024-01-02")
    }

    func testDateOfMonthlyFiles() {
        XCTAssertEqual(BinanceKeys.date(ofFile: "BTCUSDT-1mo-2024-01.zip", period: .monthly), "2024-01")
        XCTAssertEqual(BinanceKeys.date(ofFile: "BTCUSDT-fundingRate-2020-12.zip", period: .monthly), "2020-12")
    }

    func testNotArchiveNames() {
        let daily: [Substring] = [
            "BTCUSDT-1m-2024-01-02.zip.CHECKSUM",  // the checksum beside it
            "BTCUSDT-1m-2024-01.zip",              // a monthly name in a daily folder
            "BTCUSDT-1m-2024-02-30.zip",           // no such day
            "2024-01-02.zip",                      // no stem
            "-2024-01-02.zip",                     // an empty stem
            "BTCUSDT-1m_2024-01-02.zip",           // no dash before the date
            "BTCUSDT-1m-2024-01-02.tar.gz",
            "BTCUSDT-1m-2024-01-02",
            "",
        ]
        for name in daily { XCTAssertNil(BinanceKeys.date(ofFile: name, period: .daily), String(name)) }
        let monthly: [Substring] = ["BTCUSDT-1m-2024-01-02.zip", "BTCUSDT-1m-2024-13.zip", "2024-01.zip", "BTCUSDT-1m-2024-01.zip.CHECKSUM"]
        for name in monthly { XCTAssertNil(BinanceKeys.date(ofFile: name, period: .monthly), String(name)) }
    }

    func testLastComponent() {
        XCTAssertEqual(BinanceKeys.lastComponent("data/spot/daily/klines/"), "klines")
        XCTAssertEqual(BinanceKeys.lastComponent("data/spot/daily/klines/BTCUSDT/1mo/"), "1mo")
        XCTAssertEqual(BinanceKeys.lastComponent("klines"), "klines")
        XCTAssertEqual(BinanceKeys.lastComponent(""), "")
    }
}

final class BinanceDatasetsTests: XCTestCase {
    func testMarketsAndFolders() {
        XCTAssertEqual(BinanceMarket.allCases.map { $0.path }, ["spot", "futures/um", "futures/cm", "option"])
    }

    func testWhatExistsWhere() {
        XCTAssertEqual(BinanceDatasets.dataset(.spot, "klines")?.periods, [.daily, .monthly])
        XCTAssertNil(BinanceDatasets.dataset(.spot, "bookDepth"), "spot has no bookDepth")
        XCTAssertNil(BinanceDatasets.dataset(.spot, "fundingRate"))
        XCTAssertEqual(BinanceDatasets.dataset(.um, "fundingRate")?.periods, [.monthly], "funding rates are monthly only")
        XCTAssertEqual(BinanceDatasets.dataset(.cm, "bookDepth")?.periods, [.daily])
        XCTAssertEqual(BinanceDatasets.dataset(.um, "metrics")?.periods, [.daily])
        XCTAssertNotNil(BinanceDatasets.dataset(.cm, "liquidationSnapshot"))
        XCTAssertNil(BinanceDatasets.dataset(.um, "liquidationSnapshot"))
        XCTAssertEqual(BinanceDatasets.dataset(.option, "BVOLIndex")?.periods, [.daily])
        XCTAssertNil(BinanceDatasets.dataset(.option, "klines"))
    }

    func testMarketTypePairsAreUnique() {
        var seen = Set<String>()
        for d in BinanceDatasets.all {
            XCTAssertTrue(seen.insert(d.market.rawValue + "/" + d.type).inserted, "\(d.market) \(d.type) listed twice")
            XCTAssertFalse(d.periods.isEmpty)
        }
    }

    func testTypeNamesAreUniqueAndComplete() {
        let names = BinanceDatasets.typeNames
        XCTAssertEqual(names.count, Set(names).count)
        XCTAssertEqual(Set(names), Set(BinanceDatasets.all.map { $0.type }))
        XCTAssertEqual(names.first, "klines", "in table order")
    }

    func testKlineLikeTypes() {
        for t in ["klines", "indexPriceKlines", "markPriceKlines", "premiumIndexKlines"] {
            XCTAssertTrue(BinanceDatasets.isKlineLike(t), t)
        }
        for t in ["trades", "aggTrades", "bookTicker", "fundingRate", "Klines"] {
            XCTAssertFalse(BinanceDatasets.isKlineLike(t), t)
        }
        XCTAssertTrue(BinanceDatasets.dataset(.um, "markPriceKlines")!.hasInterval)
        XCTAssertFalse(BinanceDatasets.dataset(.um, "trades")!.hasInterval)
    }

    func testIntervals() {
        XCTAssertEqual(BinanceDatasets.intervals.first, "1s")
        XCTAssertTrue(BinanceDatasets.intervals.contains("1mo"))
        XCTAssertEqual(BinanceDatasets.intervals.count, Set(BinanceDatasets.intervals).count)
    }
}

final class BinanceSelectionTests: XCTestCase {
    private func parsed(_ args: [String]) throws -> ParsedCommand {
        try ArgumentParser.parse(["binance"] + args, spec: Tool.fullSpec(DiscoverCommand.spec), environment: { _ in nil })
    }

    private func selection(_ args: [String]) throws -> BinanceSelection {
        try BinanceSource.selection(from: parsed(args))
    }

    func testDefaultsSelectEverything() throws {
        let s = try selection([])
        XCTAssertEqual(s.markets, BinanceMarket.allCases)
        XCTAssertEqual(s.periods, ArchivePeriod.allCases)
        XCTAssertNil(s.types)
        XCTAssertNil(s.intervals)
        XCTAssertNil(s.literalSymbols)
        XCTAssertTrue(s.wantsSymbol("ANYTHING"))
        XCTAssertTrue(s.wantsType("klines"))
        XCTAssertTrue(s.wantsInterval("1m"))
        XCTAssertNil(s.since)
        XCTAssertNil(s.sinceMarker(folder: "f/", stem: "X-1m", period: .daily))
    }

    func testFiltersFromFlags() throws {
        let s = try selection(["-m", "um,cm", "-p", "daily", "-t", "klines", "-s", "BTCUSDT,ETHUSDT", "-i", "1m", "-i", "1h"])
        XCTAssertEqual(s.markets, [.um, .cm])
        XCTAssertEqual(s.periods, [.daily])
        XCTAssertEqual(s.types, ["klines"])
        XCTAssertEqual(s.intervals, ["1m", "1h"])
        XCTAssertEqual(s.literalSymbols, ["BTCUSDT", "ETHUSDT"])
        XCTAssertTrue(s.wantsSymbol("ETHUSDT"))
        XCTAssertFalse(s.wantsSymbol("BNBUSDT"))
        XCTAssertFalse(s.wantsType("trades"))
        XCTAssertFalse(s.wantsInterval("1mo"), "1m does not match 1mo")
    }

    func testGlobsNeedAListing() throws {
        let s = try selection(["--symbol", "BTCUSDT,*USDC"])
        XCTAssertNil(s.literalSymbols, "one glob means the symbol folder must be listed")
        XCTAssertTrue(s.wantsSymbol("BTCUSDT"))
        XCTAssertTrue(s.wantsSymbol("ETHUSDC"))
        XCTAssertFalse(s.wantsSymbol("ETHUSDT"))
    }

    func testDatesAndMonths() throws {
        let s = try selection(["--since", "2024-01", "--until", "2024-02"])
        XCTAssertEqual(s.since?.description, "2024-01-01", "a month as --since starts on its first day")
        XCTAssertEqual(s.until?.description, "2024-02-29", "a month as --until ends on its last day")
        let d = try selection(["--since", "2024-01-15", "--until", "2024-01-15"])
        XCTAssertEqual(d.since, d.until)
    }

    func testBadDates() throws {
        XCTAssertEqual(assertThrows(UsageError.self, try selection(["--since", "2024-02-30"]))?.message,
                       "--since: expected a date YYYY-MM-DD or a month YYYY-MM, got '2024-02-30'")
        XCTAssertEqual(assertThrows(UsageError.self, try selection(["--since", "2024-03-01", "--until", "2024-02"]))?.message,
                       "--since 2024-03-01 is after --until 2024-02-29")
    }

    func testTypesNotPublishedForTheMarket() throws {
        XCTAssertEqual(assertThrows(UsageError.self, try selection(["-m", "spot", "-t", "bookDepth"]))?.message,
                       "--type: bookDepth not published for market spot")
        // One known type is enough: the others are skipped folder by folder.
        XCTAssertEqual(try selection(["-m", "spot", "-t", "bookDepth,klines"]).types, ["bookDepth", "klines"])
        XCTAssertNotNil(assertThrows(UsageError.self, try parsed(["-t", "candles"])), "not a type at all: the parser says so")
    }

    func testDatePosition() {
        var s = BinanceSelection()
        s.since = Day("2024-01-10")
        s.until = Day("2024-02-05")
        XCTAssertEqual(s.position(of: "2024-01-09", period: .daily), .before)
        XCTAssertEqual(s.position(of: "2024-01-10", period: .daily), .within)
        XCTAssertEqual(s.position(of: "2024-02-05", period: .daily), .within)
        XCTAssertEqual(s.position(of: "2024-02-06", period: .daily), .after)
        XCTAssertEqual(s.position(of: "2023-12", period: .monthly), .before)
        XCTAssertEqual(s.position(of: "2024-01", period: .monthly), .within, "a month overlapping --since counts")
        XCTAssertEqual(s.position(of: "2024-02", period: .monthly), .within, "a month overlapping --until counts")
        XCTAssertEqual(s.position(of: "2024-03", period: .monthly), .after)
        XCTAssertEqual(s.position(of: "garbage", period: .daily), .within, "unparseable dates are not filtered out")
    }

    func testSinceMarkerSortsJustBeforeTheFirstWantedKey() {
        var s = BinanceSelection()
        s.since = Day("2024-01-10")
        let folder = "data/spot/daily/klines/BTCUSDT/1m/"
        let daily = s.sinceMarker(folder: folder, stem: "BTCUSDT-1m", period: .daily)!
        XCTAssertEqual(daily, folder + "BTCUSDT-1m-2024-01-10")
        XCTAssertLessThan(daily, folder + "BTCUSDT-1m-2024-01-10.zip")
        XCTAssertGreaterThan(daily, folder + "BTCUSDT-1m-2024-01-09.zip.CHECKSUM")
        let monthly = s.sinceMarker(folder: folder, stem: "BTCUSDT-1m", period: .monthly)!
        XCTAssertEqual(monthly, folder + "BTCUSDT-1m-2024-01")
        XCTAssertLessThan(monthly, folder + "BTCUSDT-1m-2024-01.zip")
    }

    func testEndpoints() {
        let e = BinanceEndpoints(listURL: "http://127.0.0.1:9000/bucket//", downloadURL: "http://127.0.0.1:9000/bucket/")
        XCTAssertEqual(e.listURL, "http://127.0.0.1:9000/bucket")
        XCTAssertEqual(e.listingURL(prefix: "data/spot/daily/", marker: nil),
                       "http://127.0.0.1:9000/bucket?prefix=data%2Fspot%2Fdaily%2F&delimiter=%2F")
        XCTAssertEqual(e.listingURL(prefix: "p/", marker: "p/a b+c"), "http://127.0.0.1:9000/bucket?prefix=p%2F&delimiter=%2F&marker=p%2Fa%20b%2Bc")
        XCTAssertEqual(e.downloadURL(key: "data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip"),
                       "http://127.0.0.1:9000/bucket/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip")
        XCTAssertEqual(e.downloadURL(key: "a b/c#d"), "http://127.0.0.1:9000/bucket/a%20b/c%23d")
    }
}

final class SourcesTests: XCTestCase {
    func testBuiltInAndPluginNames() {
        XCTAssertEqual(ArchiveSources.named("binance")?.spec.name, "binance")
        XCTAssertEqual(ArchiveSources.named("kucoin")?.spec.name, "kucoin")
        XCTAssertNil(ArchiveSources.named("bitmex"))
        XCTAssertEqual(ExternalSource.executableName("bitmex"), "arc-source-bitmex")
    }
}
