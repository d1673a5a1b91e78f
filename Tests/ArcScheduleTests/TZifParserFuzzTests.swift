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

    /// RFC 8536 keeps offsets within (-25 h, +26 h); a 29-day offset broke instant(forLocal:).
    func testOffsetOutOfRangeIsRefused() throws {
        for utoff: Int32 in [2_497_568, 93_600, -90_000, .min] {
            let bytes = TZif.build(types: [(utoff, false, "XXX")], transitions: [], footer: nil)
            XCTAssertThrowsError(try TZifParser.parse(bytes, name: "x"), "\(utoff)")
        }
        for utoff: Int32 in [93_599, -89_999, 20_700] {
            XCTAssertNoThrow(try TZifParser.parse(TZif.build(types: [(utoff, false, "XXX")], transitions: [], footer: nil), name: "x"))
        }
    }

    /// A last transition to GMT while the footer says BST at that time: the footer now
    /// governs from the last transition on, so the change from it is not hidden a second later.
    func testFooterGovernsFromTheLastTransition() throws {
        let last: Int64 = 1_058_718_777_232  // July, about 35,500 years on
        let zone = try TZifParser.parse(TZif.build(types: types, transitions: [(0, 1), (last, 0)],
                                                   footer: "GMT0BST,M3.5.0/1,M10.5.0"), name: "x")
        XCTAssertEqual(zone.offset(at: last), 3600)
        XCTAssertEqual(zone.offset(at: last + 1), 3600)
        let local = zone.localSeconds(at: last + 1)
        XCTAssertEqual(zone.instant(forLocal: local), last + 1)
        // Every real zone is unchanged: its footer agrees with its last transition.
        let london = try TimeZoneRules.named("Europe/London")
        let t = london.transitions.last!
        XCTAssertEqual(london.offset(at: t), london.types[Int(london.transitionTypes.last!)].utoff)
    }
}
