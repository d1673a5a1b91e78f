import XCTest
@testable import ArcCore

final class LayoutTests: XCTestCase {
    func testHiveFolderWithoutValueIsDropped() throws {
        let layout = try Layout("{market}/{type}/symbol={symbol}/interval={interval}/date={date}/{file}")
        let trades = try Record(parsing: #"{"market":"spot","type":"trades","symbol":"BTCUSDT","date":"2024-03-01","key":"data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2024-03-01.parquet"}"#)
        XCTAssertEqual(try layout.path(for: trades), "spot/trades/symbol=BTCUSDT/date=2024-03-01/BTCUSDT-trades-2024-03-01.parquet")
        let klines = try Record(parsing: #"{"market":"futures/um","type":"klines","symbol":"ETHUSDT","interval":"1m","date":"2024-03","key":"x/ETHUSDT-1m-2024-03.parquet"}"#)
        XCTAssertEqual(try layout.path(for: klines), "futures/um/klines/symbol=ETHUSDT/interval=1m/date=2024-03/ETHUSDT-1m-2024-03.parquet")
    }
}
