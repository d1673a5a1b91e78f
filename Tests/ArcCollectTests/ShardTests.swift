import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcCollect

final class ShardTests: XCTestCase {
    /// Keys shaped like Binance's, many series and days.
    private let keys: [String] = (0..<3000).map { i in
        let symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"]
        let s = symbols[i % symbols.count]
        let day = i / symbols.count
        return "data/futures/um/daily/klines/\(s)/1m/\(s)-1m-\(2020 + day / 365)-\(day % 12 + 1)-\(day % 28 + 1)-\(day).zip"
    }

    func testShardsPartitionEveryKeyExactly() throws {
        for n in [1, 3, 7] {
            let shards = try (0..<n).map { try Shard(index: $0, count: n) }
            var sizes = Array(repeating: 0, count: n)
            for key in keys {
                let owners = shards.filter { $0.contains(identity: key) }
                XCTAssertEqual(owners.count, 1, "\(key) in \(owners.count) of \(n) shards")
                sizes[owners[0].index] += 1
            }
            XCTAssertEqual(sizes.reduce(0, +), keys.count)
            // Even enough that N machines share the work: each within 15% of its share.
            let share = Double(keys.count) / Double(n)
            for size in sizes { XCTAssertEqual(Double(size), share, accuracy: share * 0.15, "sizes \(sizes)") }
        }
    }

    /// A change of hash (or of how it is scaled) would move archives between machines whose
    /// ledgers hold them: these values are fixed for good.
    func testKnownKeysStayInTheirShards() {
        let pinned: [(String, Int, Int)] = [
            ("data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-02.zip", 8, 7),
            ("data/futures/um/daily/trades/ETHUSDT/ETHUSDT-trades-2023-06-30.zip", 8, 3),
            ("data/option/daily/BVOLIndex/BTCBVOLUSDT/BTCBVOLUSDT-BVOLIndex-2024-01-01.zip", 7, 2),
            ("data/futures/cm/monthly/klines/BTCUSD_PERP/1h/BTCUSD_PERP-1h-2023-12.zip", 3, 1),
            ("https://example.com/files/a.csv.gz", 100, 95),
        ]
        for (key, n, shard) in pinned { XCTAssertEqual(Shard.of(identity: key, count: n), shard, key) }
        XCTAssertEqual(Shard.of(identity: pinned[0].0, count: 1), 0)
    }

    func testIdentityIsTheKeyElseTheURL() throws {
        let full = try Record(parsing: #"{"key":"data/a.zip","url":"http://127.0.0.1:9/data/a.zip"}"#)
        XCTAssertEqual(try Shard.identity(of: full), "data/a.zip")
        // The same archive listed from a mirror on another port is in the same shard.
        let mirrored = try Record(parsing: #"{"key":"data/a.zip","url":"http://127.0.0.1:8/data/a.zip"}"#)
        let s = try Shard(index: Shard.of(identity: "data/a.zip", count: 5), count: 5)
        XCTAssertTrue(try s.contains(full))
        XCTAssertTrue(try s.contains(mirrored))
        XCTAssertEqual(try Shard.identity(of: try Record(parsing: #"{"url":"http://x/b.zip"}"#)), "http://x/b.zip")
        XCTAssertNotNil(assertThrows(FieldError.self, try Shard.identity(of: try Record(parsing: #"{"key":5}"#))))
        XCTAssertNotNil(assertThrows(FieldError.self, try Shard.identity(of: try Record(parsing: #"{"size":5}"#))))
    }

    func testParsesKOfN() throws {
        XCTAssertEqual(try Shard(parsing: "0/1", environment: [:]), try Shard(index: 0, count: 1))
        XCTAssertEqual(try Shard(parsing: "6/7", environment: [:]), try Shard(index: 6, count: 7))
        for bad in ["7/7", "0/0", "1", "-1/3", "+1/3", "1/3/4", "a/3", "1/", "/3", " 1/3", ""] {
            let e = assertThrows(UsageError.self, try Shard(parsing: bad, environment: [:]))
            XCTAssertTrue(e?.message.hasPrefix("--shard") ?? false, e?.message ?? bad)
        }
        XCTAssertEqual(assertThrows(UsageError.self, try Shard(parsing: "7/7", environment: [:]))?.message,
                       "--shard 7/7: K must be from 0 to 6 (shards are numbered from 0)")
    }

    func testAutoFromSlurm() throws {
        let env = ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "8"]
        XCTAssertEqual(try Shard(parsing: "auto", environment: env), try Shard(index: 5, count: 8))
        // --array=1-8: renumbered from 0.
        let fromOne = ["SLURM_ARRAY_TASK_ID": "8", "SLURM_ARRAY_TASK_COUNT": "8", "SLURM_ARRAY_TASK_MIN": "1",
                       "SLURM_ARRAY_TASK_MAX": "8", "SLURM_ARRAY_TASK_STEP": "1"]
        XCTAssertEqual(try Shard(parsing: "auto", environment: fromOne), try Shard(index: 7, count: 8))
        // --array=0-14:2
        let stepped = ["SLURM_ARRAY_TASK_ID": "6", "SLURM_ARRAY_TASK_COUNT": "8", "SLURM_ARRAY_TASK_MIN": "0",
                       "SLURM_ARRAY_TASK_MAX": "14", "SLURM_ARRAY_TASK_STEP": "2"]
        XCTAssertEqual(try Shard(parsing: "auto", environment: stepped), try Shard(index: 3, count: 8))

        for (bad, says) in [
            (["SLURM_ARRAY_TASK_ID": "8", "SLURM_ARRAY_TASK_COUNT": "8"], "shard 8 of 8"),
            (["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "0"], "shard 0 of 0"),
            (["SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "8"], "SLURM_ARRAY_TASK_ID=x"),
            (["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "-2"], "SLURM_ARRAY_TASK_COUNT=-2"),
            (["SLURM_ARRAY_TASK_ID": "1"], "SLURM_ARRAY_TASK_COUNT is not"),
            // --array=1,4,9: not a range.
            (["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1",
              "SLURM_ARRAY_TASK_MAX": "9"], "not a range"),
            (["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "8", "SLURM_ARRAY_TASK_STEP": "2"], "not a task"),
        ] {
            let e = assertThrows(UsageError.self, try Shard(parsing: "auto", environment: bad))
            XCTAssertTrue(e?.message.contains(says) ?? false, "\(bad): \(e?.message ?? "no error")")
        }
    }

    func testAutoFromKubernetes() throws {
        let env = ["JOB_COMPLETION_INDEX": "2", "ARC_SHARD_COUNT": "3"]
        XCTAssertEqual(try Shard(parsing: "auto", environment: env), try Shard(index: 2, count: 3))
        let e = assertThrows(UsageError.self, try Shard(parsing: "auto", environment: ["JOB_COMPLETION_INDEX": "2"]))
        XCTAssertTrue(e?.message.contains(".spec.completions") ?? false, e?.message ?? "")
        XCTAssertNotNil(assertThrows(UsageError.self, try Shard(parsing: "auto", environment: [
            "JOB_COMPLETION_INDEX": "3", "ARC_SHARD_COUNT": "3"])))
    }

    func testAutoWithNoEngineNamesTheVariables() {
        let e = assertThrows(UsageError.self, try Shard(parsing: "auto", environment: ["SLURM_ARRAY_TASK_ID": ""]))
        for name in ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "JOB_COMPLETION_INDEX", "ARC_SHARD_COUNT"] {
            XCTAssertTrue(e?.message.contains(name) ?? false, e?.message ?? "")
        }
    }
}
