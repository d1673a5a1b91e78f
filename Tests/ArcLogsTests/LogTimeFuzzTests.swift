import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcLogs

/// Log lines the fuzzer (Fuzz/, fuzz-log-line) found crashing telem-log.
final class LogTimeFuzzTests: XCTestCase {
    /// `"ts":1e300` trapped converting to Int64 milliseconds; now it is a line without a time.
    func testHugeEpochIsNoTime() {
        let entry = LogEntry()
        for ts in ["1e300", "9e24", "1.7976931348623157e308"] {
            entry.load(#"{"ts":\#(ts),"msg":"x"}"#)
            XCTAssertNil(entry.ownTime, ts)
        }
        entry.load(#"{"ts":1.5e18,"msg":"x"}"#)  // nanoseconds
        XCTAssertEqual(entry.ownTime, 1_500_000_000_000)
        entry.load(#"{"ts":1700000000,"msg":"x"}"#)
        XCTAssertEqual(entry.ownTime, 1_700_000_000_000)
    }
}
