// A time zone file (TZif, RFC 8536, versions 1 to 4) through TZifParser, or, when the input
// is not one, a POSIX TZ string (a TZif footer) through PosixTimeZoneRule; then the zone is
// asked what the scheduler asks. Properties: no crash, no hang; for an instant t, the local
// time at t maps back (instant(forLocal:)) to an instant at or before t with that same local
// time; change instants come out ascending; cron's next firing is after the time asked.
import FuzzSupport
@testable import ArcSchedule

private let hourly = try! CronSchedule.parse("0 * * * *")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTZif(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    let zone: TimeZoneRules
    if input.starts(with: Array("TZif".utf8)) {
        do { zone = try TZifParser.parse(input, name: "fuzz") } catch is TimeZoneError { return 0 } catch {
            fuzzFail("TZifParser threw \(error), not a TimeZoneError")
        }
    } else {
        guard let rule = PosixTimeZoneRule(String(decoding: input, as: UTF8.self)) else { return 0 }
        zone = TimeZoneRules(name: "fuzz", transitions: [], transitionTypes: [], types: [rule.standard], footer: rule)
    }
    var choices = FuzzChoices(input)
    var probes: [Int64] = [0, 1_764_547_200, 4_102_444_800, -2_208_988_800, (1 << 40) - 100_000, -(1 << 40) + 100_000]
    for _ in 0..<4 { probes.append(Int64(choices.int(-3_000_000_000...5_000_000_000))) }
    for t in zone.transitions.prefix(8) + zone.transitions.suffix(8) where abs(t) < (1 << 40) - 100_000 {
        probes += [t - 1, t, t + 1]
    }
    for t in probes {
        _ = zone.abbreviation(at: t)
        _ = rfc3339(t, in: zone)
        let local = zone.localSeconds(at: t)
        let back = zone.instant(forLocal: local)
        fuzzCheck(back <= t && zone.localSeconds(at: back) == local,
                  "local time \(local) of \(t) maps back to \(back) (local \(zone.localSeconds(at: back)))")
        let changes = zone.changeInstants(in: t - 2 * 86_400, t + 2 * 86_400)
        fuzzCheck(zip(changes, changes.dropFirst()).allSatisfy { $0 <= $1 }, "change instants out of order near \(t): \(changes)")
        if let next = hourly.next(after: t, in: zone) { fuzzCheck(next > t, "hourly fires at \(next), not after \(t)") }
    }
    return 0
}
