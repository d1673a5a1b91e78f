import XCTest
@testable import ArcSilver
import ArcCore
import ArcTestSupport

/// The CSVs scripts/make-mirror.py writes for the test mirror (what arc-check and
/// arc-convert meet in the tool tests), parsed here: whole periods of klines pass, and
/// the other types give only the warnings their generator earns.
final class MirrorContentTests: XCTestCase {
    func mirrorCSVs(_ keys: [String], rows: Int, dir: TempDir) throws -> [String] {
        let root = FileSystem.parent(of: FileSystem.parent(of: FileSystem.parent(of: "\(#filePath)")))
        let script = """
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("m", sys.argv[1] + "/scripts/make-mirror.py")
        m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
        for i, key in enumerate(sys.argv[3:]):
            open(f"{sys.argv[2]}/{i}.csv", "w").write(m.csv_text(m.parse_key(key), \(rows), 1))
        """
        let python = FileSystem.exists(root + "/.venv/bin/python") ? root + "/.venv/bin/python" : "/usr/bin/python3"
        let process = try Subprocess(executable: python, arguments: [python, "-c", script, root, dir.path] + keys, captureStdout: false)
        XCTAssertEqual(process.wait(), 0)
        return keys.indices.map { String(decoding: dir.read("\($0).csv"), as: UTF8.self) }
    }

    func testWholeDaysOfKlinesPass() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let keys = ["data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-01-01.zip",      // µs, no header
                    "data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-12-31.zip",      // ms, no header
                    "data/futures/um/daily/klines/ETHUSDT/1m/ETHUSDT-1m-2024-01-02.zip", // header
                    "data/futures/cm/daily/indexPriceKlines/ETHUSD/1h/ETHUSD-1h-2024-01-01.zip",
                    "data/futures/um/monthly/klines/ETHUSDT/1h/ETHUSDT-1h-2023-12.zip"]
        for (key, csv) in zip(keys, try mirrorCSVs(keys, rows: 1440, dir: dir)) {
            let t = try parse(csv, key: key, chunk: 4096)
            XCTAssertEqual(t.report.status, .pass, "\(key): \(t.report.findings)")
            XCTAssertEqual(t.report.firstTime, try ArchiveIdentity(path: key).periodStart, key)
            XCTAssertEqual(t.rows, key.contains("1h-2024") ? 24 : key.contains("2023-12") ? 744 : 1440, key)
        }
    }

    func testOtherTypesGiveOnlyWarnings() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let keys = ["data/spot/daily/trades/XRPUSDT/XRPUSDT-trades-2024-01-01.zip",
                    "data/futures/um/daily/trades/BTCUSDT/BTCUSDT-trades-2024-01-01.zip",
                    "data/spot/daily/aggTrades/XRPUSDT/XRPUSDT-aggTrades-2025-01-02.zip",
                    "data/futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01-01.zip",
                    "data/futures/um/daily/bookDepth/ETHUSDT/ETHUSDT-bookDepth-2024-01-01.zip",
                    "data/futures/um/monthly/fundingRate/ETHUSDT/ETHUSDT-fundingRate-2023-12.zip",
                    "data/option/daily/BVOLIndex/BTCBVOLUSDT/BTCBVOLUSDT-BVOLIndex-2024-01-01.zip"]
        for (key, csv) in zip(keys, try mirrorCSVs(keys, rows: 200, dir: dir)) {
            let t = try parse(csv, key: key, chunk: 777)
            XCTAssertFalse(t.report.findings.contains { $0.severity == .fail }, "\(key): \(t.report.findings)")
            XCTAssertEqual(t.report.rows, key.contains("fundingRate") ? 93 : 200, key)
            XCTAssertEqual(t.rows, t.report.rows)
            XCTAssertEqual(t.report.timeUnit, key.contains("bookDepth") ? "text" : key.contains("2025") ? "us" : "ms", key)
            // The generator's aggregate ids skip numbers (agg id = row + first trade id / 3).
            XCTAssertEqual(t.codes.filter { $0 != "cut_short" && $0 != "id_gaps" }, [], key)
        }
    }
}
