import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcSchedule

/// TZif files the fuzzer (Fuzz/, fuzz-tzif) made from real ones, each of which broke the
/// promise that a local time maps back to the instant it came from.
final class TZifParserFuzzTests: XCTestCase {
    private let types: [(Int32, Bool, String)] = [(0, false, "GMT"), (3600, true, "BST")]

    /// Lookups search the transitions by halves: out of order, they answered nonsense.
    func testTransitionsOutOfOrderAreRefused() {
        let bytes = TZif.build(types: types, transitions: [(1_000_000, 1), (0, 0)], footer: "GMT0BST,M3.5.0/1,M10.5.0")
        XCTAssertThrowsError(try TZifParser.parse(bytes, name: "x")) {
            XCTAssertEqual(($0 as? TimeZoneError)?.reason, "not a usable TZif file: transition times out of order")
        }
        let repeated = TZif.build(types: types, transitions: [(5, 1), (5, 0)], footer: nil)
        XCTAssertThrowsError(try TZifParser.parse(repeated, name: "x"))
    }
}
