import Glibc
import ArcCore

/// A time zone as the system's TZif files describe it (RFC 8536): explicit transitions,
/// then the footer's POSIX TZ rule for every time after the last one. Read once and kept
/// as plain values, so it is thread-safe and never touches the process's TZ or tzset().
public struct TimeZoneRules: Sendable {
    /// One offset from UTC in force over a stretch of time (a TZif "local time type").
    struct LocalTimeType: Sendable, Equatable {
        let utoff: Int32
        let isDST: Bool
        let abbreviation: String
    }

    public let name: String
    /// Instants (Unix seconds, ascending) where the offset may change.
    let transitions: [Int64]
    /// For each transition, the index into `types` in force from it on.
    let transitionTypes: [UInt8]
    /// `types[0]` is also in force before the first transition (RFC 8536 section 3.2).
    let types: [LocalTimeType]
    /// Governs from the last transition on; nil when the file has none (TZif v1,
    /// or an empty footer), and then the last type simply stays in force.
    let footer: PosixTimeZoneRule?

    init(name: String, transitions: [Int64], transitionTypes: [UInt8], types: [LocalTimeType],
         footer: PosixTimeZoneRule?) {
        self.name = name
        self.transitions = transitions
        self.transitionTypes = transitionTypes
        self.types = types
        self.footer = footer
    }

    public static let utc = TimeZoneRules(
        name: "UTC", transitions: [], transitionTypes: [],
        types: [LocalTimeType(utoff: 0, isDST: false, abbreviation: "UTC")], footer: nil)

    /// The zone NAME from `$TZDIR` (else /usr/share/zoneinfo). Names are relative paths
    /// inside that directory, so `..` and a leading `/` are refused rather than resolved.
    public static func named(_ name: String) throws -> TimeZoneRules {
        let directory = FileSystem.environment("TZDIR").flatMap { $0.isEmpty ? nil : $0 }
        return try named(name, directory: directory ?? "/usr/share/zoneinfo")
    }

    static func named(_ name: String, directory: String) throws -> TimeZoneRules {
        if name == "UTC" || name == "Etc/UTC" {
            return TimeZoneRules(name: name, transitions: [], transitionTypes: [], types: utc.types, footer: nil)
        }
        guard !name.isEmpty, !name.hasPrefix("/"), !name.contains("..") else {
            throw TimeZoneError.unknown(name)
        }
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.read(directory + "/" + name)
        } catch {
            throw TimeZoneError.unknown(name)
        }
        return try TZifParser.parse(bytes, name: name)
    }

    /// Seconds east of UTC in force at `unixSeconds`.
    public func offset(at unixSeconds: Int64) -> Int32 { localTimeType(at: unixSeconds).utoff }

    /// The abbreviation in force at `unixSeconds` (`EST`, `CEST`, `+0545`).
    public func abbreviation(at unixSeconds: Int64) -> String {
        localTimeType(at: unixSeconds).abbreviation
    }

    func localTimeType(at t: Int64) -> LocalTimeType {
        // The footer governs from the last transition on (where a consistent file has the
        // footer's type anyway), so no change of offset goes unlisted in changeInstants.
        if let footer, transitions.isEmpty || t >= transitions[transitions.count - 1] {
            return footer.localTimeType(at: t)
        }
        guard let first = transitions.first, t >= first else { return types[0] }
        return types[Int(transitionTypes[lastTransitionIndex(atOrBefore: t)])]
    }

    /// Index of the last transition at or before `t` (there must be one).
    private func lastTransitionIndex(atOrBefore t: Int64) -> Int {
        var low = 0, high = transitions.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if transitions[middle] <= t { low = middle } else { high = middle - 1 }
        }
        return low
    }

    /// Every instant in `low...high` where the offset may change, ascending. Some may not
    /// change it (a footer rule's events are listed whatever the state before them).
    func changeInstants(in low: Int64, _ high: Int64) -> [Int64] {
        var found: [Int64] = []
        if let first = transitions.first, high >= first {
            var i = low <= first ? 0 : lastTransitionIndex(atOrBefore: low)
            while i < transitions.count, transitions[i] <= high {
                if transitions[i] >= low { found.append(transitions[i]) }
                i += 1
            }
        }
        if let footer {
            let governedFrom = transitions.last ?? Int64.min
            for instant in footer.eventInstants(in: max(low, governedFrom), high) { found.append(instant) }
        }
        return found
    }
}

/// A zone name that has no readable TZif file, or a file that is not TZif.
public struct TimeZoneError: ArcError {
    public let name: String
    public let reason: String
    public let code: FailureCode

    static func unknown(_ name: String) -> TimeZoneError {
        TimeZoneError(name: name, reason: "unknown time zone (no such file under the zoneinfo directory)",
                      code: .unknownTimeZone)
    }
    static func malformed(_ name: String, _ reason: String) -> TimeZoneError {
        TimeZoneError(name: name, reason: "not a usable TZif file: " + reason, code: .badTimeZoneFile)
    }
    public var exitStatus: ExitStatus { .usage }
    public var description: String { "time zone \"\(name)\": \(reason)" }
}
