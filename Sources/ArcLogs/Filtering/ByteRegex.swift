import Glibc
import ArcCore

/// A POSIX extended regular expression (regcomp/regexec) run on byte buffers in place:
/// glibc's REG_STARTEND takes a start and end, so lines need neither a copy nor a NUL.
/// Measured on arc log lines it is several times faster than Swift's Regex, which wants a
/// String per line. A pattern without metacharacters is searched with memmem instead.
public final class ByteRegex {
    public let pattern: String
    private let regex: UnsafeMutablePointer<regex_t>
    /// The pattern's bytes when it is a plain literal (no metacharacter, case kept): what
    /// every matching line holds, for the prefilter too.
    let literal: [UInt8]?

    /// Throws `UsageError` naming `flag` when the pattern does not compile.
    public init(_ pattern: String, ignoreCase: Bool = false, flag: String) throws {
        // Compiled before any property is set: a class whose init throws after that runs
        // its deinit, which would free a regex that was never compiled.
        let compiled = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        let rc = regcomp(compiled, pattern, REG_EXTENDED | (ignoreCase ? REG_ICASE : 0))
        guard rc == 0 else {
            var message = [CChar](repeating: 0, count: 256)
            regerror(rc, compiled, &message, message.count)
            compiled.deallocate()
            throw UsageError("\(flag): bad regular expression '\(pattern)': \(String(nulTerminated: message))")
        }
        self.pattern = pattern
        regex = compiled
        let metacharacters = Set(".[]()*+?{}|^$\\".utf8)
        literal = !ignoreCase && !pattern.isEmpty && !pattern.utf8.contains(where: metacharacters.contains)
            ? Array(pattern.utf8) : nil
    }

    deinit {
        regfree(regex)
        regex.deallocate()
    }

    /// Whether the pattern matches anywhere in `bytes`.
    public func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if let literal { return ByteRegex.contains(bytes, literal) }
        return firstMatch(in: bytes, from: 0) != nil
    }

    /// memmem, which Swift's Glibc module leaves out: memchr for the first byte, then memcmp.
    static func contains(_ hay: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard let base = hay.baseAddress, hay.count >= needle.count else { return false }
        return needle.withUnsafeBufferPointer { n in
            let first = Int32(n[0]), last = hay.count - n.count
            var i = 0
            while i <= last {
                guard let hit = memchr(base + i, first, last - i + 1) else { return false }
                let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if memcmp(base + at, n.baseAddress!, n.count) == 0 { return true }
                i = at + 1
            }
            return false
        }
    }

    /// The first match at or after `from`, as offsets into `bytes`.
    public func firstMatch(in bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Range<Int>? {
        guard from <= bytes.count else { return nil }
        var match = regmatch_t(rm_so: regoff_t(from), rm_eo: regoff_t(bytes.count))
        // A pointer that is never dereferenced past the end: an empty buffer may have none.
        let empty: [CChar] = [0]
        let rc: Int32 = empty.withUnsafeBufferPointer { e in
            let base = bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) } ?? e.baseAddress!
            // glibc searches from rm_so but keeps offsets (and `^`) relative to `base`.
            return regexec(regex, base, 1, &match, REG_STARTEND)
        }
        guard rc == 0 else { return nil }
        return Int(match.rm_so)..<Int(match.rm_eo)
    }

    /// Every non-overlapping match (an empty match advances one byte).
    public func allMatches(in bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var at = 0
        while at <= bytes.count, let m = firstMatch(in: bytes, from: at) {
            if !m.isEmpty { out.append(m) }
            at = m.isEmpty ? m.upperBound + 1 : m.upperBound
        }
        return out
    }
}
