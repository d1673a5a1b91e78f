import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcSchedule

/// Cron firings as a table. Times are RFC 3339 with the zone's offset so a reader can check
/// them by eye; each expectation was worked out independently of this code (python3
/// zoneinfo for offsets and a brute-force matcher over local minutes, `date -d @...`).
final class ScheduleTests: XCTestCase {
    struct Row {
        let expression: String
        let zone: String
        let after: String
        /// The next firings in order; empty means `next` is nil.
        let expected: [String]
        init(_ expression: String, _ zone: String, after: String, _ expected: [String]) {
            (self.expression, self.zone, self.after, self.expected) = (expression, zone, after, expected)
        }
    }

    static let rows: [Row] = [
        // Field forms: star, number, range, steps, a/n, lists.
        Row("*/15 * * * *", "UTC", after: "2026-01-01T00:07:00Z",
            ["2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z", "2026-01-01T00:45:00Z", "2026-01-01T01:00:00Z"]),
        Row("5 * * * *", "UTC", after: "2026-01-01T00:07:00Z", ["2026-01-01T01:05:00Z", "2026-01-01T02:05:00Z"]),
        Row("0 9-11 * * *", "UTC", after: "2026-01-01T10:30:00Z",
            ["2026-01-01T11:00:00Z", "2026-01-02T09:00:00Z", "2026-01-02T10:00:00Z"]),
        Row("10-30/10 8 * * *", "UTC", after: "2026-01-01T00:00:00Z",
            ["2026-01-01T08:10:00Z", "2026-01-01T08:20:00Z", "2026-01-01T08:30:00Z", "2026-01-02T08:10:00Z"]),
        Row("50/5 23 * * *", "UTC", after: "2026-01-01T00:00:00Z",
            ["2026-01-01T23:50:00Z", "2026-01-01T23:55:00Z", "2026-01-02T23:50:00Z"]),
        Row("0 0 1,15 * *", "UTC", after: "2026-01-01T00:00:00Z",
            ["2026-01-15T00:00:00Z", "2026-02-01T00:00:00Z", "2026-02-15T00:00:00Z"]),
        Row("0 0 1 */3 *", "UTC", after: "2026-01-01T00:00:00Z",
            ["2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z"]),
        Row("0,30 6,18 * * *", "UTC", after: "2026-01-01T06:00:00Z",
            ["2026-01-01T06:30:00Z", "2026-01-01T18:00:00Z", "2026-01-01T18:30:00Z", "2026-01-02T06:00:00Z"]),
        // Names, any case, also in ranges; 0 and 7 are both Sunday.
        Row("0 12 * jan,JUL *", "UTC", after: "2026-01-31T12:00:00Z", ["2026-07-01T12:00:00Z", "2026-07-02T12:00:00Z"]),
        Row("0 0 * * mon-fri", "UTC", after: "2026-01-02T00:00:00Z",
            ["2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z", "2026-01-07T00:00:00Z"]),
        Row("0 0 * * Sat-SUN", "UTC", after: "2026-01-01T00:00:00Z",
            ["2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z", "2026-01-10T00:00:00Z"]),
        Row("0 0 * * 7", "UTC", after: "2026-01-01T00:00:00Z", ["2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"]),
        Row("0 0 * * 0", "UTC", after: "2026-01-01T00:00:00Z", ["2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"]),
        Row("0 0 * * mon/3", "UTC", after: "2026-01-01T00:00:00Z",
            ["2026-01-05T00:00:00Z", "2026-01-08T00:00:00Z", "2026-01-12T00:00:00Z"]),
        Row("0 0 * mar-may/2 1", "UTC", after: "2026-01-01T00:00:00Z",
            ["2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z", "2026-03-16T00:00:00Z"]),
        // Macros.
        Row("@yearly", "UTC", after: "2026-03-01T00:00:00Z", ["2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"]),
        Row("@annually", "UTC", after: "2026-03-01T00:00:00Z", ["2027-01-01T00:00:00Z"]),
        Row("@monthly", "UTC", after: "2026-03-01T00:00:00Z", ["2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"]),
        Row("@weekly", "UTC", after: "2026-03-01T00:00:00Z", ["2026-03-08T00:00:00Z", "2026-03-15T00:00:00Z"]),
        Row("@daily", "UTC", after: "2026-03-01T00:00:00Z", ["2026-03-02T00:00:00Z"]),
        Row("@midnight", "UTC", after: "2026-03-01T00:00:00Z", ["2026-03-02T00:00:00Z"]),
        Row("@HOURLY", "UTC", after: "2026-03-01T00:30:00Z", ["2026-03-01T01:00:00Z", "2026-03-01T02:00:00Z"]),
        // Six fields: seconds first.
        Row("*/20 * * * * *", "UTC", after: "2026-01-01T00:00:50Z",
            ["2026-01-01T00:01:00Z", "2026-01-01T00:01:20Z", "2026-01-01T00:01:40Z"]),
        Row("30 0 12 * * *", "UTC", after: "2026-01-01T00:00:00Z", ["2026-01-01T12:00:30Z", "2026-01-02T12:00:30Z"]),
        Row("59 59 23 31 12 *", "UTC", after: "2026-06-01T00:00:00Z", ["2026-12-31T23:59:59Z", "2027-12-31T23:59:59Z"]),
        // Both day fields restricted: either matches (13th or a Friday); a leading * means both must.
        Row("0 0 13 * fri", "UTC", after: "2026-01-01T00:00:00Z",
            ["2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z", "2026-01-16T00:00:00Z"]),
        Row("0 0 */2 * fri", "UTC", after: "2026-01-01T00:00:00Z",
            ["2026-01-09T00:00:00Z", "2026-01-23T00:00:00Z", "2026-02-13T00:00:00Z"]),
        Row("0 0 29 2 1", "UTC", after: "2027-03-01T00:00:00Z",
            ["2028-02-07T00:00:00Z", "2028-02-14T00:00:00Z", "2028-02-21T00:00:00Z", "2028-02-28T00:00:00Z",
             "2028-02-29T00:00:00Z", "2029-02-05T00:00:00Z"]),
        // Month ends, leap days, impossible dates, year rollover.
        Row("0 0 31 * *", "UTC", after: "2026-01-31T00:00:00Z",
            ["2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z"]),
        Row("0 0 29 2 *", "UTC", after: "2025-03-01T00:00:00Z", ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"]),
        Row("0 0 29 2 *", "UTC", after: "2096-03-01T00:00:00Z", ["2104-02-29T00:00:00Z"]),
        Row("0 0 30 2 *", "UTC", after: "2026-01-01T00:00:00Z", []),
        Row("0 0 31 4,6,9,11 *", "UTC", after: "2026-01-01T00:00:00Z", []),
        Row("59 23 31 12 *", "UTC", after: "2026-12-31T23:59:00Z", ["2027-12-31T23:59:00Z"]),
        Row("0 0 1 1 *", "UTC", after: "2026-12-31T23:59:59Z", ["2027-01-01T00:00:00Z"]),
        // New York springs forward 2026-03-08 02:00 EST -> 03:00 EDT: the gap fires once, at 03:00 EDT.
        Row("30 2 * * *", "America/New_York", after: "2026-03-07T12:00:00-05:00",
            ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]),
        Row("*/20 * * * *", "America/New_York", after: "2026-03-08T01:30:00-05:00",
            ["2026-03-08T01:40:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:20:00-04:00"]),
        Row("0 3 * * *", "America/New_York", after: "2026-03-08T01:00:00-05:00",
            ["2026-03-08T03:00:00-04:00", "2026-03-09T03:00:00-04:00"]),
        // It falls back 2026-11-01 02:00 EDT -> 01:00 EST: the repeated hour fires once, the first time.
        Row("30 1 * * *", "America/New_York", after: "2026-10-31T12:00:00-04:00",
            ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]),
        Row("*/20 * * * *", "America/New_York", after: "2026-11-01T00:50:00-04:00",
            ["2026-11-01T01:00:00-04:00", "2026-11-01T01:20:00-04:00", "2026-11-01T01:40:00-04:00",
             "2026-11-01T02:00:00-05:00", "2026-11-01T02:20:00-05:00"]),
        Row("*/20 * * * *", "America/New_York", after: "2026-11-01T01:10:00-05:00", ["2026-11-01T02:00:00-05:00"]),
        Row("0 2 * * *", "America/New_York", after: "2026-10-31T12:00:00-04:00",
            ["2026-11-01T02:00:00-05:00", "2026-11-02T02:00:00-05:00"]),
        // London: 2026-03-29 01:00 GMT -> 02:00 BST, 2026-10-25 02:00 BST -> 01:00 GMT.
        Row("30 1 * * *", "Europe/London", after: "2026-03-28T12:00:00Z",
            ["2026-03-29T02:00:00+01:00", "2026-03-30T01:30:00+01:00"]),
        Row("30 1 * * *", "Europe/London", after: "2026-10-24T12:00:00+01:00",
            ["2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00Z"]),
        // Lord Howe shifts by 30 minutes: 2026-04-05 02:00 +11 -> 01:30 +10:30, 2026-10-04 02:00 -> 02:30.
        Row("45 1 * * *", "Australia/Lord_Howe", after: "2026-04-04T12:00:00+11:00",
            ["2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"]),
        Row("15 2 * * *", "Australia/Lord_Howe", after: "2026-10-03T12:00:00+10:30",
            ["2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"]),
        // Sydney (southern hemisphere): summer time from 2026-10-04 02:00 to 2027-04-04 03:00.
        Row("30 2 * * *", "Australia/Sydney", after: "2026-10-03T12:00:00+10:00",
            ["2026-10-04T03:00:00+11:00", "2026-10-05T02:30:00+11:00"]),
        Row("30 2 * * *", "Australia/Sydney", after: "2027-04-03T12:00:00+11:00",
            ["2027-04-04T02:30:00+11:00", "2027-04-05T02:30:00+10:00"]),
        Row("0 12 1 1,7 *", "Australia/Sydney", after: "2026-06-01T00:00:00Z",
            ["2026-07-01T12:00:00+10:00", "2027-01-01T12:00:00+11:00"]),
        // Past the TZif file's explicit transitions (2037): only the footer rule knows these.
        Row("30 2 * * *", "America/New_York", after: "2041-03-09T12:00:00-05:00",
            ["2041-03-10T03:00:00-04:00", "2041-03-11T02:30:00-04:00"]),
        Row("30 1 * * *", "America/New_York", after: "2041-11-02T12:00:00-04:00",
            ["2041-11-03T01:30:00-04:00", "2041-11-04T01:30:00-05:00"]),
        Row("0 12 4 7 *", "America/New_York", after: "2100-01-01T00:00:00Z", ["2100-07-04T12:00:00-04:00"]),
        Row("30 1 * * sun", "Europe/London", after: "2050-03-21T00:00:00Z",
            ["2050-03-27T02:00:00+01:00", "2050-04-03T01:30:00+01:00"]),
        // Half-hour and 45-minute zones.
        Row("0 9 * * *", "Asia/Kolkata", after: "2026-01-01T00:00:00Z",
            ["2026-01-01T09:00:00+05:30", "2026-01-02T09:00:00+05:30"]),
        Row("*/30 9 * * *", "Asia/Kathmandu", after: "2026-01-01T00:00:00Z",
            ["2026-01-01T09:00:00+05:45", "2026-01-01T09:30:00+05:45", "2026-01-02T09:00:00+05:45"]),
    ]

    func testTable() throws {
        for row in Self.rows {
            let schedule = try CronSchedule.parse(row.expression)
            let zone = try TimeZoneRules.named(row.zone)
            var after = try XCTUnwrap(WallClock.parseRFC3339(row.after), row.after) / 1000
            var got: [String] = []
            for _ in 0..<max(1, row.expected.count) {
                guard let next = schedule.next(after: after, in: zone) else { break }
                got.append(rfc3339(next, in: zone))
                // The expected text names the instant on its own (its offset is explicit).
                if got.count <= row.expected.count {
                    XCTAssertEqual(next * 1000, WallClock.parseRFC3339(row.expected[got.count - 1]),
                                   "\(row.expression) in \(row.zone)")
                }
                after = next
            }
            XCTAssertEqual(got, row.expected, "\(row.expression) in \(row.zone) after \(row.after)")
        }
    }
}

final class ScheduleErrorTests: XCTestCase {
    func testErrorTable() {
        let quartz = "is not supported (L, W, # and ? are Quartz extensions, not cron)"
        let rows: [(expression: String, message: String, column: Int)] = [
            ("61 * * * *", "minute: 61 is out of range 0-59", 1),
            ("* * * *", "expected 5 fields (or 6 with seconds), got 4", 8),
            ("* * * * * * *", "expected 5 fields (or 6 with seconds), got 7", 13),
            ("", "expected 5 fields (or 6 with seconds), got 0", 1),
            ("0 0 * * fri2", "day-of-week: unknown name 'fri2'", 9),
            ("  0 0 * * mon-fry", "day-of-week: unknown name 'fry'", 15),
            ("0 0 * * 月", "day-of-week: unknown name '月'", 9),
            ("0 0 * jan-foo *", "month: unknown name 'foo'", 11),
            ("a * * * *", "minute: expected a number, got 'a'", 1),
            ("*/0 * * * *", "minute: step must be at least 1", 3),
            ("0 0 * JAN-DEC/0 *", "month: step must be at least 1", 15),
            ("*/x * * * *", "minute: step must be a number, got 'x'", 3),
            ("*/61 * * * *", "minute: step 61 is more than the 60 values the field has", 3),
            ("0 0 L * *", "day-of-month: 'L' " + quartz, 5),
            ("0 0 15W * *", "day-of-month: '15W' " + quartz, 5),
            ("0 0 ? * *", "day-of-month: '?' " + quartz, 5),
            ("0 0 * * 5#3", "day-of-week: '5#3' " + quartz, 9),
            ("1,,2 * * * *", "minute: empty list item", 3),
            ("1, * * * *", "minute: empty list item", 3),
            ("5-1 * * * *", "minute: range 5-1 runs backwards", 1),
            ("1-2-3 * * * *", "minute: unexpected '-'", 4),
            ("60 * * * * *", "second: 60 is out of range 0-59", 1),
            ("* 24 * * *", "hour: 24 is out of range 0-23", 3),
            ("* * 0 * *", "day-of-month: 0 is out of range 1-31", 5),
            ("* * * 13 *", "month: 13 is out of range 1-12", 7),
            ("* * * * 8", "day-of-week: 8 is out of range 0-7", 9),
            ("99999999999 * * * *", "minute: 99999999999 is out of range 0-59", 1),
            ("@reboot", "@reboot is not supported: schedules here are by the clock only", 1),
            ("@daily x", "unexpected text after @daily", 8),
            ("@every 5m", "unknown macro '@every' (known: @yearly @annually @monthly @weekly @daily @midnight @hourly)", 1),
            ("@fortnightly",
             "unknown macro '@fortnightly' (known: @yearly @annually @monthly @weekly @daily @midnight @hourly)", 1),
        ]
        for row in rows {
            XCTAssertThrowsError(try CronSchedule.parse(row.expression), row.expression) { error in
                guard let cron = error as? CronError else { return XCTFail("\(error)") }
                XCTAssertEqual(cron.message, row.message, row.expression)
                XCTAssertEqual(cron.column, row.column, row.expression)
                XCTAssertEqual(cron.code, FailureCode("bad_cron_expression"))
            }
        }
    }

    /// Day-of-month and month can rule out every day; the error points at day-of-month.
    func testSchedulesThatCanNeverFireAreCaught() throws {
        let never: [(String, String, Int)] = [
            ("0 0 30 2 *", "never fires: February has no day 30", 5),
            ("0 0 30,31 feb *", "never fires: February has no day 30 or 31", 5),
            ("0 0 31 4,6,9,11 *", "never fires: April, June, September and November have no day 31", 5),
            ("0 0 0 31 2 *", "never fires: February has no day 31", 7),
        ]
        for (expression, message, column) in never {
            let schedule = try CronSchedule.parse(expression)
            XCTAssertNil(schedule.next(after: 0, in: .utc), expression)
            XCTAssertThrowsError(try schedule.checkCanFire(), expression) { error in
                XCTAssertEqual(error as? CronError, CronError(message, column: column), expression)
            }
        }
        // February 29 comes (in leap years); a weekday comes in every month; with both day
        // fields restricted either will do.
        for expression in ["0 0 29 2 *", "0 0 31 1-3 *", "0 0 30 2 mon", "0 0 * 2 mon", "@yearly", "0 0 1/30 2 *", "* * * * *"] {
            let schedule = try CronSchedule.parse(expression)
            XCTAssertNoThrow(try schedule.checkCanFire(), expression)
            XCTAssertNotNil(schedule.next(after: 0, in: .utc), expression)
        }
    }

    func testExpressionKeptAsWritten() throws {
        XCTAssertEqual(try CronSchedule.parse(" @daily\t").expression, " @daily\t")
        XCTAssertEqual(try CronSchedule.parse("0  12 * * MON-fri").expression, "0  12 * * MON-fri")
    }

    func testFiringsAreBounded() throws {
        let hourly = try CronSchedule.parse("0 * * * *")
        let start = WallClock.parseRFC3339("2026-01-01T00:00:00Z")! / 1000
        let all = hourly.firings(after: start, until: start + 5 * 3600, in: .utc)
        XCTAssertEqual(all, (1...5).map { start + Int64($0) * 3600 })
        XCTAssertEqual(hourly.firings(after: start, until: start + 5 * 3600, in: .utc, maxCount: 3).count, 3)
        XCTAssertEqual(try CronSchedule.parse("* * * * * *").firings(after: start, until: start + 86_400, in: .utc).count,
                       10_000)
    }

    /// Schedules years apart, and ones that never fire, skip by fields rather than minutes.
    func testFarAndImpossibleSchedulesAreQuick() throws {
        let zone = try TimeZoneRules.named("America/New_York")
        let rare = try CronSchedule.parse("0 0 29 2 *"), never = try CronSchedule.parse("0 0 31 4,6,9,11 *")
        let started = MonotonicClock.millis()
        var t: Int64 = WallClock.parseRFC3339("2025-03-01T00:00:00Z")! / 1000
        for _ in 0..<200 {
            t = try XCTUnwrap(rare.next(after: t, in: zone))
            XCTAssertNil(never.next(after: t, in: zone))
        }
        XCTAssertEqual(rfc3339(t, in: zone), "2848-02-29T00:00:00-05:00")
        XCTAssertLessThan(MonotonicClock.millis() - started, 5000)
    }
}
