import XCTest
@testable import ArcSilver
import ArcCore

/// One parse per layout of SILVER.md's table, values checked.
final class TableLayoutTests: XCTestCase {
    let day = "2024-03-01"

    func testSpotKlinesWithoutHeaderInMicroseconds() throws {
        let t0 = micros("2025-01-01")
        let csv = "\(t0),93576.00000000,93610.93000000,93537.50000000,93610.93000000,8.21827000,\(t0 + 59_999_999),768978.97857980,2570,5.81637000,544273.94016750,0\n"
            + "\(t0 + 60_000_000),93610.93000000,93650.00000000,93610.92000000,93625.00000000,7.45000000,\(t0 + 119_999_999),697628.1,1945,4.1,384000.5,0\n"
        let t = try parse(csv, key: "data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-01-01.zip")
        XCTAssertEqual(t.rows, 2)
        XCTAssertEqual(t.ints("open_time"), [t0, t0 + 60_000_000])
        XCTAssertEqual(t.ints("close_time"), [t0 + 59_999_999, t0 + 119_999_999])
        XCTAssertEqual(t.doubles("open"), [93576.0, 93610.93])
        XCTAssertEqual(t.doubles("taker_buy_quote_volume"), [544273.9401675, 384000.5])
        XCTAssertEqual(t.ints("count"), [2570, 1945])
        XCTAssertEqual(t.report.timeUnit, "us")
        XCTAssertFalse(t.report.header)
        XCTAssertEqual(t.report.rows, 2)
        XCTAssertEqual(t.report.columns, 12)
        XCTAssertEqual(t.report.firstTime, t0)
        XCTAssertEqual(t.report.lastTime, t0 + 60_000_000)
    }

    func testFuturesKlinesWithHeaderInMilliseconds() throws {
        let t0 = micros(day) / 1000
        let csv = "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n"
            + "\(t0),62000.1,62100,61900.5,62050,120.5,\(t0 + 3_599_999),7470000.25,1500,60.25,3735000.1,0\n"
        let t = try parse(csv, key: "data/futures/um/daily/markPriceKlines/BTCUSDT/1h/BTCUSDT-1h-\(day).zip")
        XCTAssertTrue(t.report.header)
        XCTAssertEqual(t.report.timeUnit, "ms")
        XCTAssertEqual(t.report.rows, 1)
        XCTAssertEqual(t.ints("open_time"), [micros(day)])
        XCTAssertEqual(t.ints("close_time"), [micros(day) + 3_599_999_000])
        XCTAssertEqual(t.doubles("high"), [62100])
    }

    func testTrades() throws {
        let ms = millisText(day, 0, 0, 1)
        let spot = try parse("3400000001,62000.01000000,0.00100000,62.00001000,\(ms),True,True\n3400000002,62000.02,0.5,31000.01,\(ms),False,True\n",
                             key: "data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-\(day).zip")
        XCTAssertEqual(spot.ints("id"), [3_400_000_001, 3_400_000_002])
        XCTAssertEqual(spot.doubles("quote_qty"), [62.00001, 31000.01])
        XCTAssertEqual(spot.ints("time"), [micros(day, 0, 0, 1), micros(day, 0, 0, 1)])
        XCTAssertEqual(spot.bools("is_buyer_maker"), [true, false])
        XCTAssertEqual(spot.bools("is_best_match"), [true, true])

        let um = try parse("id,price,qty,quote_qty,time,is_buyer_maker\n5000,62000.1,0.002,124.0002,\(ms),true\n5001,62000.2,0.001,62.0002,\(ms),false\n",
                           key: "data/futures/um/daily/trades/BTCUSDT/BTCUSDT-trades-\(day).zip")
        XCTAssertEqual(um.schema.count, 6)
        XCTAssertEqual(um.bools("is_buyer_maker"), [true, false])

        let cm = try parse("id,price,qty,base_qty,time,is_buyer_maker\n77,62000.1,3,0.00483870,\(ms),false\n",
                           key: "data/futures/cm/daily/trades/BTCUSD_PERP/BTCUSD_PERP-trades-\(day).zip")
        XCTAssertEqual(cm.doubles("base_qty"), [0.0048387])
        XCTAssertEqual(cm.doubles("qty"), [3])
    }

    func testAggTrades() throws {
        let us = micros("2025-01-01", 0, 0, 0) + 32_000
        let spot = try parse("3261437102,97550.01000000,0.00020000,4485012110,4485012110,\(us),True,True\n"
                             + "3261437103,97550.02000000,0.10000000,4485012111,4485012113,\(us + 5),False,False\n",
                             key: "data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2025-01-01.zip")
        XCTAssertEqual(spot.ints("agg_trade_id"), [3_261_437_102, 3_261_437_103])
        XCTAssertEqual(spot.doubles("price"), [97550.01, 97550.02])
        XCTAssertEqual(spot.doubles("quantity"), [0.0002, 0.1])
        XCTAssertEqual(spot.ints("first_trade_id"), [4_485_012_110, 4_485_012_111])
        XCTAssertEqual(spot.ints("last_trade_id"), [4_485_012_110, 4_485_012_113])
        XCTAssertEqual(spot.ints("transact_time"), [us, us + 5])
        XCTAssertEqual(spot.bools("is_best_match"), [true, false])
        XCTAssertEqual(spot.codes, ["cut_short"]) // two rows in the day's first millisecond

        let cm = try parse("agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n1,62000.1,5,10,11,\(millisText(day)),true\n",
                           key: "data/futures/cm/daily/aggTrades/BTCUSD_PERP/BTCUSD_PERP-aggTrades-\(day).zip")
        XCTAssertEqual(cm.ints("transact_time"), [micros(day)])
        XCTAssertEqual(cm.schema.count, 7)
    }

    func testFundingRateBookTickerAndLiquidations() throws {
        let funding = try parse("calc_time,funding_interval_hours,last_funding_rate\n\(millisText("2024-03-01")),8,0.00010000\n\(Int64(millisText("2024-03-01", 8))! + 3),8,-0.00002100\n",
                                key: "data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-03.zip")
        XCTAssertEqual(funding.ints("calc_time"), [micros("2024-03-01"), micros("2024-03-01", 8) + 3000])
        XCTAssertEqual(funding.ints("funding_interval_hours"), [8, 8])
        XCTAssertEqual(funding.doubles("last_funding_rate"), [0.0001, -0.000021])

        let ms = millisText(day, 12)
        let ticker = try parse("update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time\n"
                               + "4096000000001,62000.1,1.5,62000.2,0.25,\(ms),\(Int64(ms)! + 2)\n",
                               key: "data/futures/um/daily/bookTicker/BTCUSDT/BTCUSDT-bookTicker-\(day).zip")
        XCTAssertEqual(ticker.ints("update_id"), [4_096_000_000_001])
        XCTAssertEqual(ticker.doubles("best_ask_qty"), [0.25])
        XCTAssertEqual(ticker.ints("event_time"), [micros(day, 12) + 2000])

        let liquidations = try parse("time,side,order_type,time_in_force,original_quantity,price,average_price,order_status,last_fill_quantity,accumulated_fill_quantity\n"
                                     + "\(ms),SELL,LIMIT,IOC,12,61000.5,61010.2,FILLED,12,12\n",
                                     key: "data/futures/cm/daily/liquidationSnapshot/BTCUSD_PERP/BTCUSD_PERP-liquidationSnapshot-\(day).zip")
        XCTAssertEqual(liquidations.texts("side"), ["SELL"])
        XCTAssertEqual(liquidations.texts("order_status"), ["FILLED"])
        XCTAssertEqual(liquidations.doubles("average_price"), [61010.2])
    }

    func testMetricsAndBookDepthWithTextTimes() throws {
        let metrics = try parse("create_time,symbol,sum_open_interest,sum_open_interest_value,count_toptrader_long_short_ratio,sum_toptrader_long_short_ratio,count_long_short_ratio,sum_taker_long_short_vol_ratio\n"
                                + "\(day) 00:05:00,BTCUSDT,80000.123,4960000000.5,1.8,1.6,2.1,0.95\n"
                                + "\(day) 00:10:00,BTCUSDT,80001,4960000001,1.7,1.5,2,1.05\n",
                                key: "data/futures/um/daily/metrics/BTCUSDT/BTCUSDT-metrics-\(day).zip")
        XCTAssertEqual(metrics.ints("create_time"), [micros(day, 0, 5), micros(day, 0, 10)])
        XCTAssertEqual(metrics.texts("symbol"), ["BTCUSDT", "BTCUSDT"])
        XCTAssertEqual(metrics.doubles("sum_taker_long_short_vol_ratio"), [0.95, 1.05])
        XCTAssertEqual(metrics.report.timeUnit, "text")
        XCTAssertTrue(metrics.report.header)

        let depth = try parse("timestamp,percentage,depth,notional\n\(day) 00:00:08,-5,5123.45,317654321.12345678\n\(day) 00:00:08,5,5200,322400000\n",
                              key: "data/futures/um/daily/bookDepth/BTCUSDT/BTCUSDT-bookDepth-\(day).zip")
        XCTAssertEqual(depth.ints("timestamp"), [micros(day, 0, 0, 8), micros(day, 0, 0, 8)])
        XCTAssertEqual(depth.doubles("percentage"), [-5, 5])
        XCTAssertEqual(depth.doubles("notional"), [317654321.12345678, 322400000])
    }

    func testOptionLayouts() throws {
        let ms = millisText(day, 1)
        let bvol = try parse("calc_time,symbol,base_asset,quote_asset,index_value\n\(ms),BTCBVOLUSDT,BTC,USDT,55.21\n",
                             key: "data/option/daily/BVOLIndex/BTCBVOLUSDT/BTCBVOLUSDT-BVOLIndex-\(day).zip")
        XCTAssertEqual(bvol.texts("base_asset"), ["BTC"])
        XCTAssertEqual(bvol.doubles("index_value"), [55.21])
        XCTAssertEqual(bvol.ints("calc_time"), [micros(day, 1)])

        let header = "date,hour,symbol,underlying,type,strike,open,high,low,close,volume_contracts,volume_usdt,best_bid_price,best_ask_price,best_bid_qty,best_ask_qty,best_buy_iv,best_sell_iv,mark_price,mark_iv,delta,gamma,vega,theta,openinterest_contracts,openinterest_usdt"
        let eoh = try parse(header + "\n\(day),0,BTC-240301-60000-C,BTCUSDT,C,60000,2100,2200,2000,2150,1.5,3200,2140,2160,3,2.5,0.55,0.57,2150.5,0.56,0.61,0.0001,12.5,-80.2,100,6200000\n"
                            + "\(day),1,BTC-240301-60000-P,BTCUSDT,P,60000,,,,,0,0,,,,,,,150.1,0.58,-0.39,0.0001,12.4,-79,20,1240000\n",
                            key: "data/option/daily/EOHSummary/BTCUSDT/BTCUSDT-EOHSummary-\(day).zip")
        XCTAssertEqual(eoh.rows, 2)
        XCTAssertEqual(eoh.report.findings.filter { $0.severity == .fail }, [])
        XCTAssertEqual(eoh.ints("date"), [micros(day), micros(day)])
        XCTAssertEqual(eoh.ints("hour"), [0, 1])
        XCTAssertEqual(eoh.texts("type"), ["C", "P"])
        XCTAssertEqual(eoh.doubles("open"), [2100, 0])
        XCTAssertEqual(eoh.present[eoh.column("open")], [true, false])
        XCTAssertEqual(eoh.present[eoh.column("mark_price")], [true, true])
        XCTAssertEqual(eoh.doubles("theta"), [-80.2, -79])
    }
}
