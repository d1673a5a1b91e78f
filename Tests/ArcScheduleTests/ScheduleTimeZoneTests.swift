import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcSchedule

/// Time zones read from TZif files. Expected offsets come from python3 zoneinfo for the
/// system's files and from glibc (`TZ='RULE' date -d @SECONDS`) for the synthetic rules.
final class ScheduleTimeZoneTests: XCTestCase {
    func instant(_ text: String) -> Int64 { WallClock.parseRFC3339(text)! / 1000 }

    func testSystemZones() throws {
        let cases: [(zone: String, at: String, offset: Int32, abbreviation: String)] = [
            ("America/New_York", "2026-07-01T12:00:00Z", -14400, "EDT"),
            ("America/New_York", "2026-01-15T12:00:00Z", -18000, "EST"),
            ("America/New_York", "2060-07-01T12:00:00Z", -14400, "EDT"),  // footer rule
            ("America/New_York", "1850-01-01T00:00:00Z", -17762, "LMT"),  // before the first transition
            ("America/New_York", "2026-03-08T06:59:59Z", -18000, "EST"),
            ("America/New_York", "2026-03-08T07:00:00Z", -14400, "EDT"),
            ("America/New_York", "2026-11-01T05:59:59Z", -14400, "EDT"),
            ("America/New_York", "2026-11-01T06:00:00Z", -18000, "EST"),
            ("Europe/London", "2026-07-01T00:00:00Z", 3600, "BST"),
            ("Europe/London", "2026-01-01T00:00:00Z", 0, "GMT"),
            ("Asia/Kathmandu", "2026-01-01T00:00:00Z", 20700, "+0545"),
            ("Asia/Kolkata", "2026-01-01T00:00:00Z", 19800, "IST"),
            ("Australia/Lord_Howe", "2026-01-01T00:00:00Z", 39600, "+11"),
            ("Australia/Lord_Howe", "2026-07-01T00:00:00Z", 37800, "+1030"),
            ("UTC", "2026-07-01T00:00:00Z", 0, "UTC"),
            ("Etc/UTC", "2026-07-01T00:00:00Z", 0, "UTC"),
        ]
        for c in cases {
            let zone = try TimeZoneRules.named(c.zone)
            XCTAssertEqual(zone.name, c.zone)
            XCTAssertEqual(zone.offset(at: instant(c.at)), c.offset, "\(c.zone) at \(c.at)")
            XCTAssertEqual(zone.abbreviation(at: instant(c.at)), c.abbreviation, "\(c.zone) at \(c.at)")
        }
    }

    func testUnknownNames() {
        for name in ["Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime", "", "America", "zone.tab"] {
            XCTAssertThrowsError(try TimeZoneRules.named(name), name) { error in
                let zoneError = error as? TimeZoneError
                XCTAssertEqual(zoneError?.code, FailureCode("unknown_time_zone"), name)
                XCTAssertTrue("\(error)".contains("\"\(name)\""), "\(error)")
            }
        }
    }

    /// Footer-only files (no transitions at all), so the POSIX rule answers everything.
    func testFooterRules() throws {
        let dir = TempDir("tzif")
        defer { dir.remove() }
        let cases: [(rule: String, at: String, offset: Int32, abbreviation: String)] = [
            ("EST5EDT,M3.2.0,M11.1.0", "2026-03-08T06:59:59Z", -18000, "EST"),
            ("EST5EDT,M3.2.0,M11.1.0", "2026-03-08T07:00:00Z", -14400, "EDT"),
            ("<+0330>-3:30", "2026-03-08T07:00:00Z", 12600, "+0330"),
            ("CET-1CEST,M3.5.0,M10.5.0/3", "2026-03-29T01:00:00Z", 7200, "CEST"),
            ("CET-1CEST,M3.5.0,M10.5.0/3", "2026-10-25T00:59:59Z", 7200, "CEST"),
            ("CET-1CEST,M3.5.0,M10.5.0/3", "2026-10-25T01:00:00Z", 3600, "CET"),
            // Jn never counts 29 February: J60 is 1 March in 2028 too.
            ("XXX3YYY,J60/2,J300/25", "2028-03-01T04:59:59Z", -10800, "XXX"),
            ("XXX3YYY,J60/2,J300/25", "2028-03-01T05:00:00Z", -7200, "YYY"),
            ("XXX3YYY,J60/2,J300/25", "2027-10-28T02:59:59Z", -7200, "YYY"),  // 25:00 on 27 October
            ("XXX3YYY,J60/2,J300/25", "2027-10-28T03:00:00Z", -10800, "XXX"),
            // Zero-based n counts it: day 59 is 29 February in 2028, 1 March in 2027.
            ("XXX3YYY,59/-2,299/26", "2028-02-29T00:59:59Z", -10800, "XXX"),
            ("XXX3YYY,59/-2,299/26", "2028-02-29T01:00:00Z", -7200, "YYY"),
            ("XXX3YYY,59/-2,299/26", "2027-03-01T01:00:00Z", -7200, "YYY"),
            ("XXX3YYY,59/-2,299/26", "2027-10-28T03:59:59Z", -7200, "YYY"),
            ("XXX3YYY,59/-2,299/26", "2027-10-28T04:00:00Z", -10800, "XXX"),
            // Negative transition times (Greenland's rule) and times past 24:00 (Israel's).
            ("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2026-03-29T00:59:59Z", -7200, "-02"),
            ("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2026-03-29T01:00:00Z", -3600, "-01"),
            ("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2026-10-25T01:00:00Z", -7200, "-02"),
            ("IST-2IDT,M3.4.4/26,M10.5.0", "2026-03-26T23:59:59Z", 7200, "IST"),
            ("IST-2IDT,M3.4.4/26,M10.5.0", "2026-03-27T00:00:00Z", 10800, "IDT"),
            // RFC 8536's idiom for daylight time all year: it must hold across the new year
            // (glibc gets this one wrong for the first hours of January).
            ("EST5EDT,0/0,J365/25", "2031-01-01T02:00:00Z", -14400, "EDT"),
            ("EST5EDT,0/0,J365/25", "2031-07-01T00:00:00Z", -14400, "EDT"),
            ("EST5EDT,0/0,J365/25", "2030-12-31T23:59:59Z", -14400, "EDT"),
        ]
        for (index, c) in cases.enumerated() {
            dir.write("t\(index)", TZif.build(types: [(0, false, "ZZZ")], transitions: [], footer: c.rule))
            let zone = try TimeZoneRules.named("t\(index)", directory: dir.path)
            XCTAssertEqual(zone.offset(at: instant(c.at)), c.offset, "\(c.rule) at \(c.at)")
            XCTAssertEqual(zone.abbreviation(at: instant(c.at)), c.abbreviation, "\(c.rule) at \(c.at)")
        }
    }

    /// A "slim" file: explicit transitions stop in 2007 and the footer carries on.
    func testSlimFileAndVersion1() throws {
        let dir = TempDir("tzif")
        defer { dir.remove() }
        let types: [(Int32, Bool, String)] = [(-18000, false, "EST"), (-14400, true, "EDT")]
        let transitions: [(Int64, UInt8)] = [(instant("2007-03-11T07:00:00Z"), 1), (instant("2007-11-04T06:00:00Z"), 0)]
        dir.write("slim", TZif.build(types: types, transitions: transitions, footer: "EST5EDT,M3.2.0,M11.1.0"))
        let slim = try TimeZoneRules.named("slim", directory: dir.path)
        XCTAssertEqual(slim.offset(at: instant("2000-07-01T00:00:00Z")), -18000)  // before: type 0
        XCTAssertEqual(slim.offset(at: instant("2007-07-01T00:00:00Z")), -14400)
        XCTAssertEqual(slim.offset(at: instant("2026-07-01T00:00:00Z")), -14400)
        XCTAssertEqual(slim.offset(at: instant("2026-12-01T00:00:00Z")), -18000)
        let next = try CronSchedule.parse("30 2 * * *").next(after: instant("2026-03-07T17:00:00Z"), in: slim)
        XCTAssertEqual(next, instant("2026-03-08T07:00:00Z"))

        dir.write("v1", TZif.build(types: types, transitions: transitions, footer: nil))
        let v1 = try TimeZoneRules.named("v1", directory: dir.path)
        XCTAssertEqual(v1.offset(at: instant("2007-07-01T00:00:00Z")), -14400)
        XCTAssertEqual(v1.offset(at: instant("2026-07-01T00:00:00Z")), -18000)  // last type stays

        dir.write("cut", Array(TZif.build(types: types, transitions: transitions, footer: "EST5").prefix(60)))
        XCTAssertThrowsError(try TimeZoneRules.named("cut", directory: dir.path)) {
            XCTAssertEqual(($0 as? TimeZoneError)?.code, FailureCode("bad_time_zone_file"))
        }
        dir.write("badfooter", TZif.build(types: types, transitions: [], footer: "EST5EDT,M13.1.0,M1.1.0"))
        XCTAssertThrowsError(try TimeZoneRules.named("badfooter", directory: dir.path))
    }

    func testRFC3339() throws {
        XCTAssertEqual(rfc3339(0, in: .utc), "1970-01-01T00:00:00Z")
        XCTAssertEqual(rfc3339(instant("2026-11-26T00:00:00Z"), in: try .named("Europe/Paris")), "2026-11-26T01:00:00+01:00")
        XCTAssertEqual(rfc3339(instant("2026-01-01T00:00:00Z"), in: try .named("America/St_Johns")),
                       "2025-12-31T20:30:00-03:30")
        XCTAssertEqual(rfc3339(instant("2026-01-01T00:00:00Z"), in: try .named("Asia/Kathmandu")),
                       "2026-01-01T05:45:00+05:45")
        // Local mean time (-4:56:02) has seconds RFC 3339 cannot write: UTC instead.
        XCTAssertEqual(rfc3339(instant("1850-01-01T00:00:00Z"), in: try .named("America/New_York")), "1850-01-01T00:00:00Z")
    }
}

/// Builds TZif bytes: a version 2 file (a version 1 one when `footer` is nil).
enum TZif {
    static func build(types: [(Int32, Bool, String)], transitions: [(Int64, UInt8)], footer: String?) -> [UInt8] {
        var chars: [UInt8] = [], indices: [UInt8] = []
        for type in types {
            indices.append(UInt8(chars.count))
            chars += Array(type.2.utf8) + [0]
        }
        func bigEndian(_ value: Int64, _ size: Int) -> [UInt8] { (0..<size).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        func block(version: UInt8, timeSize: Int) -> [UInt8] {
            var out = Array("TZif".utf8) + [version] + [UInt8](repeating: 0, count: 15)
            for count in [0, 0, 0, transitions.count, types.count, chars.count] { out += bigEndian(Int64(count), 4) }
            for t in transitions { out += bigEndian(t.0, timeSize) }
            out += transitions.map(\.1)
            for (i, type) in types.enumerated() { out += bigEndian(Int64(type.0), 4) + [type.1 ? 1 : 0, indices[i]] }
            return out + chars
        }
        guard let footer else { return block(version: 0, timeSize: 4) }
        let version = UInt8(ascii: "2")
        return block(version: version, timeSize: 4) + block(version: version, timeSize: 8) + [10] + Array(footer.utf8) + [10]
    }
}
