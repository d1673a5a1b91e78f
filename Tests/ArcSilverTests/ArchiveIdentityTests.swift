import XCTest
@testable import ArcSilver
import ArcCore

final class ArchiveIdentityTests: XCTestCase {
    func testReadsTheKeyAtTheEndOfAPathOrURL() throws {
        let key = "data/futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-03-01.zip"
        for path in [key, "/mirror/data.binance.vision/" + key, "s3://lake/bronze/" + key,
                     "https://data.binance.vision/" + key + "?x=1", "/srv/data/cache/" + key] {
            let a = try ArchiveIdentity(path: path)
            XCTAssertEqual(a.market, "futures/um", path)
            XCTAssertEqual(a.period, "daily")
            XCTAssertEqual(a.type, "aggTrades")
            XCTAssertEqual(a.symbol, "BTCUSDT")
            XCTAssertNil(a.interval)
            XCTAssertEqual(a.date, "2024-03-01")
            XCTAssertEqual(a.key, key)
            XCTAssertEqual(a.periodStart, micros("2024-03-01"))
            XCTAssertEqual(a.periodEnd, micros("2024-03-02"))
        }
    }

    func testKlinesHaveAnIntervalAndMonthsAreCalendarMonths() throws {
        let a = try ArchiveIdentity(path: "data/spot/monthly/klines/BTCUSDT/1mo/BTCUSDT-1mo-2024-02.zip")
        XCTAssertEqual(a.interval, "1mo")
        XCTAssertEqual(a.period, "monthly")
        XCTAssertEqual(a.date, "2024-02")
        XCTAssertEqual(a.periodStart, micros("2024-02-01"))
        XCTAssertEqual(a.periodEnd, micros("2024-03-01")) // a leap February: 29 days
        XCTAssertEqual(a.periodEnd - a.periodStart, 29 * 86_400_000_000)
        let december = try ArchiveIdentity(path: "data/futures/cm/monthly/klines/BTCUSD_PERP/1m/BTCUSD_PERP-1m-2023-12.zip")
        XCTAssertEqual(december.periodEnd, micros("2024-01-01"))
        XCTAssertEqual(december.market, "futures/cm")
        XCTAssertEqual(december.symbol, "BTCUSD_PERP")
    }

    func testRejectsWhatIsNotAnArchiveKey() {
        for path in ["", "BTCUSDT-aggTrades-2024-03-01.zip",
                     "data/spot/daily/klines/BTCUSDT/BTCUSDT-klines-2024-03-01.zip",      // klines without an interval
                     "data/spot/daily/trades/BTCUSDT/1m/BTCUSDT-1m-2024-03-01.zip",        // an interval on trades
                     "data/spot/daily/trades/BTCUSDT/ETHUSDT-trades-2024-03-01.zip",       // another symbol
                     "data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2024-03.zip",          // a month in daily
                     "data/spot/monthly/trades/BTCUSDT/BTCUSDT-trades-2024-03-01.zip",     // a day in monthly
                     "data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2024-02-30.zip",       // no such day
                     "data/spot/weekly/trades/BTCUSDT/BTCUSDT-trades-2024-03-01.zip",
                     "data/margin/daily/trades/BTCUSDT/BTCUSDT-trades-2024-03-01.zip",
                     "data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2024-03-01.csv"] {
            XCTAssertThrowsError(try ArchiveIdentity(path: path), path) { error in
                XCTAssertEqual((error as? SilverError)?.code, .notAnArchive)
                XCTAssertTrue("\(error)".contains("not a Binance archive"))
            }
        }
    }
}

final class DatasetTests: XCTestCase {
    func dataset(_ key: String) throws -> Dataset { try Dataset.of(try ArchiveIdentity(path: key)) }

    func testKlinesDropIgnoreAndKeyOnOpenTime() throws {
        let d = try dataset("data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip")
        XCTAssertEqual(d.csvColumns.count, 12)
        XCTAssertEqual(d.csvColumns.last, "ignore")
        XCTAssertEqual(d.schema.count, 11)
        XCTAssertFalse(d.schema.contains { $0.name == "ignore" })
        XCTAssertEqual(d.schema[0], SilverColumn("open_time", .timestamp))
        XCTAssertEqual(d.schema[6], SilverColumn("close_time", .timestamp))
        XCTAssertEqual(d.schema[8], SilverColumn("count", .int64))
        XCTAssertEqual(d.schema[d.timeColumn].name, "open_time")
        XCTAssertEqual(d.keyColumn, d.timeColumn)
        XCTAssertEqual(d.intervalMicros, 60_000_000)
        XCTAssertEqual(d.series, .klines)
    }

    func testEveryMarketAndTypeOfTheTableHasALayout() throws {
        let keys: [(String, Int, String, String?)] = [  // key, CSV columns, time column, key column
            ("data/spot/daily/klines/BTCUSDT/1s/BTCUSDT-1s-2025-01-01.zip", 12, "open_time", "open_time"),
            ("data/futures/cm/daily/markPriceKlines/BTCUSD_PERP/1h/BTCUSD_PERP-1h-2024-01-01.zip", 12, "open_time", "open_time"),
            ("data/futures/um/daily/indexPriceKlines/BTCUSDT/1h/BTCUSDT-1h-2024-01-01.zip", 12, "open_time", "open_time"),
            ("data/futures/um/monthly/premiumIndexKlines/BTCUSDT/1w/BTCUSDT-1w-2024-01.zip", 12, "open_time", "open_time"),
            ("data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2024-01-01.zip", 7, "time", "id"),
            ("data/futures/um/daily/trades/BTCUSDT/BTCUSDT-trades-2024-01-01.zip", 6, "time", "id"),
            ("data/futures/cm/daily/trades/BTCUSD_PERP/BTCUSD_PERP-trades-2024-01-01.zip", 6, "time", "id"),
            ("data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01-01.zip", 8, "transact_time", "agg_trade_id"),
            ("data/futures/cm/daily/aggTrades/BTCUSD_PERP/BTCUSD_PERP-aggTrades-2024-01-01.zip", 7, "transact_time", "agg_trade_id"),
            ("data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-01.zip", 3, "calc_time", nil),
            ("data/futures/um/daily/bookTicker/BTCUSDT/BTCUSDT-bookTicker-2024-01-01.zip", 7, "transaction_time", nil),
            ("data/futures/um/daily/metrics/BTCUSDT/BTCUSDT-metrics-2024-01-01.zip", 8, "create_time", nil),
            ("data/futures/um/daily/bookDepth/BTCUSDT/BTCUSDT-bookDepth-2024-01-01.zip", 4, "timestamp", nil),
            ("data/futures/cm/daily/liquidationSnapshot/BTCUSD_PERP/BTCUSD_PERP-liquidationSnapshot-2024-01-01.zip", 10, "time", nil),
            ("data/option/daily/BVOLIndex/BTCBVOLUSDT/BTCBVOLUSDT-BVOLIndex-2024-01-01.zip", 5, "calc_time", nil),
            ("data/option/daily/EOHSummary/BTCUSDT/BTCUSDT-EOHSummary-2024-01-01.zip", 26, "date", nil),
        ]
        for (key, columns, time, keyName) in keys {
            let d = try dataset(key)
            XCTAssertEqual(d.csvColumns.count, columns, key)
            XCTAssertEqual(d.schema[d.timeColumn].name, time, key)
            XCTAssertEqual(d.schema[d.timeColumn].type, .timestamp, key)
            XCTAssertEqual(d.keyColumn.map { d.schema[$0].name }, keyName, key)
            XCTAssertTrue(d.schema.allSatisfy { $0.name.allSatisfy { $0 == "_" || $0.isLowercase || $0.isNumber } }, key)
        }
        XCTAssertEqual(try dataset(keys[6].0).csvColumns[3], "base_qty")
        XCTAssertEqual(try dataset(keys[5].0).csvColumns[3], "quote_qty")
        XCTAssertTrue(try dataset(keys.last!.0).schema.contains { $0.optional })
    }

    func testAnUnknownTypeIsAnUnknownLayout() throws {
        for key in ["data/spot/daily/bookTicker/BTCUSDT/BTCUSDT-bookTicker-2024-01-01.zip",
                    "data/futures/um/daily/newThing/BTCUSDT/BTCUSDT-newThing-2024-01-01.zip",
                    "data/spot/daily/klines/BTCUSDT/7m/BTCUSDT-7m-2024-01-01.zip"] {
            let identity = try ArchiveIdentity(path: key)
            XCTAssertThrowsError(try Dataset.of(identity), key) { error in
                XCTAssertEqual((error as? SilverError)?.code.rawValue, "unknown_layout")
            }
        }
    }
}
