import ArcCore

/// A log line's level, ranked, whatever a logger called it: arc's `debug info warn error`,
/// and the usual others (`WARNING`, `ERR`, `fatal`, `critical`, syslog's names, pino's and
/// bunyan's numbers 10-60). fatal and critical rank above error, so `--level error` keeps them.
public enum Severity: Int, Comparable, CaseIterable, Sendable {
    case trace = 0, debug, info, warn, error, fatal

    public static func < (a: Severity, b: Severity) -> Bool { a.rawValue < b.rawValue }

    public var name: String {
        switch self {
        case .trace: return "trace"
        case .debug: return "debug"
        case .info: return "info"
        case .warn: return "warn"
        case .error: return "error"
        case .fatal: return "fatal"
        }
    }

    /// The names `--level` accepts.
    public static let names = ["debug", "info", "warn", "error", "fatal"]

    public init?(name: String) {
        var bytes = Array(name.utf8)
        guard let s = bytes.withUnsafeMutableBufferPointer({ Severity.parseName(UnsafeBufferPointer($0)) }) else { return nil }
        self = s
    }

    /// From a `level` value as written in JSON (a string with its quotes, or a number).
    init?(_ raw: UnsafeBufferPointer<UInt8>, kind: JSONKind) {
        switch kind {
        case .string:
            guard raw.count >= 2, let s = Severity.parseName(UnsafeBufferPointer(rebasing: raw.dropFirst().dropLast())) else { return nil }
            self = s
        case .number:
            guard let n = JSONText.parseInt(Array(raw)[...]) else { return nil }
            // pino and bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
            switch n {
            case ..<20: self = .trace
            case 20..<30: self = .debug
            case 30..<40: self = .info
            case 40..<50: self = .warn
            case 50..<60: self = .error
            default: self = .fatal
            }
        default:
            return nil
        }
    }

    /// Case-insensitive, on bytes: this runs once per line under `--level`. A name of up
    /// to 8 bytes is packed into one integer and compared with the known names.
    static func parseName(_ b: UnsafeBufferPointer<UInt8>) -> Severity? {
        guard b.count >= 1 else { return nil }
        guard b.count <= 8 else {
            let name = String(decoding: b, as: UTF8.self).lowercased()
            return longNames.first { $0.0 == name }?.1
        }
        var word: UInt64 = 0
        for c in b {
            let lower = (c >= 65 && c <= 90) ? c + 32 : c
            word = word << 8 | UInt64(lower)
        }
        for (name, severity) in packedNames where name == word { return severity }
        return nil
    }

    /// The first bytes (lower case) of the names that rank at least `min`, and a space for
    /// a NUL: `parseName` skips leading NULs (they pack to nothing). A string value whose
    /// first byte, ASCII upper case folded to lower and NUL to space, is not in this set
    /// has no severity of `min` or above (LinePrefilter passes over such level keys).
    static func nameStarts(atLeast min: Severity) -> Set<UInt8> {
        var starts: Set<UInt8> = [0x20]
        for (word, severity) in packedNames where severity >= min {
            var top = word
            while top > 0xFF { top >>= 8 }
            starts.insert(UInt8(top))
        }
        for (name, severity) in longNames where severity >= min { starts.insert(name.utf8.first!) }
        return starts
    }

    /// The names over 8 bytes (they do not pack into one integer), lower case.
    private static let longNames: [(String, Severity)] = [("information", .info), ("emergency", .fatal)]

    private static let packedNames: [(UInt64, Severity)] = [
        ("info", .info), ("debug", .debug), ("warn", .warn), ("error", .error), ("warning", .warn),
        ("trace", .trace), ("fatal", .fatal), ("critical", .fatal), ("err", .error), ("crit", .fatal),
        ("notice", .info), ("dbg", .debug), ("inf", .info), ("wrn", .warn), ("eror", .error),
        ("panic", .fatal), ("alert", .fatal), ("emerg", .fatal), ("ftl", .fatal),
        ("d", .debug), ("i", .info), ("w", .warn), ("e", .error), ("f", .fatal),
    ].map { (name: String, severity: Severity) in
        (name.utf8.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }, severity)
    }
}
