// A cron expression (a workflow's `schedule`) through CronSchedule.parse, then its next
// firings from times chosen from the input, in UTC and in zones with daylight saving time.
// Properties: no crash, no hang; an error's column lies inside the expression; a firing is
// after the time asked about, firings increase, and each one's local time matches every
// field (or, in a DST zone, is the transition that ended a gap the schedule fell in).
import FuzzSupport
@testable import ArcSchedule

private let zones: [TimeZoneRules] = [TimeZoneRules.utc]
    + ["America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"].compactMap { try? TimeZoneRules.named($0) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCron(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    let text = String(decoding: input, as: UTF8.self)
    let schedule: CronSchedule
    do {
        schedule = try CronSchedule.parse(text)
    } catch let e as CronError {
        fuzzCheck(e.column >= 1 && e.column <= text.count + 1, "column \(e.column) in a \(text.count)-character expression: \(e.message)")
        return 0
    } catch {
        fuzzFail("CronSchedule.parse threw \(error), not a CronError")
    }
    var choices = FuzzChoices(input)
    let times: [Int64] = [0, 1_764_547_200, Int64(choices.int(-4_000_000_000...8_000_000_000)), (1 << 40) - 2, -(1 << 40) + 2]
    for zone in zones {
        for t in times {
            guard let first = schedule.next(after: t, in: zone) else { continue }
            check(schedule, first, after: t, zone)
            if let second = schedule.next(after: first, in: zone) { check(schedule, second, after: first, zone) }
        }
        let firings = schedule.firings(after: times[2], until: times[2] + 7 * 86_400, in: zone, maxCount: 20)
        fuzzCheck(zip(firings, firings.dropFirst()).allSatisfy { $0 < $1 }, "firings not increasing: \(firings)")
    }
    return 0
}

private func check(_ s: CronSchedule, _ firing: Int64, after t: Int64, _ zone: TimeZoneRules) {
    fuzzCheck(firing > t, "'\(s.expression)' fires at \(firing), not after \(t) in \(zone.name)")
    let c = CivilTime(localSeconds: zone.localSeconds(at: firing))
    let matches = s.seconds.contains(c.second) && s.minutes.contains(c.minute) && s.hours.contains(c.hour)
        && s.months.contains(c.month) && s.dayMatches(c)
    if matches { return }
    fuzzCheck(zone.changeInstants(in: firing, firing).contains(firing),
              "'\(s.expression)' fires at \(firing) (\(rfc3339(firing, in: zone)) in \(zone.name)), which its fields do not match")
}
