import ArcCore

/// Masks what must not leave the machine: emails, IPv4 and IPv6 addresses, AWS access key
/// ids, the values of secret-bearing keys (`SecretKeys`; in JSON, text and URL queries),
/// URL passwords, bearer tokens, JWTs and Authorization values, card numbers that pass
/// the Luhn check, and the user's own `--pattern`s. Each detector is a hand-written scan
/// over bytes with explicit boundaries, so what it must leave alone is decided in one
/// place: timestamps (`12:00:00` is no IPv6: that needs `::` or eight groups), versions
/// with a `v` or with more than four parts, hex ids and hashes (no colons or dots; digit
/// runs inside them have letters on their sides), numbers that fail Luhn or start with no
/// card issuer's prefix (epoch milliseconds start with 1).
///
/// A bare dotted quad whose parts are 0-255 (`1.2.3.4`) is masked as an address even when
/// it was meant as a version: a redactor that guesses wrong should guess towards masking.
public final class Redactor {
    public enum Mask: String, CaseIterable, Sendable {
        case email, ipv4, ipv6, awsKey = "aws_key", secret, token, card, redacted
        var bytes: [UInt8] { Array("[\(rawValue)]".utf8) }
    }

    /// What the member key around a JSON value says about it (`SecretKeys` has the list).
    public typealias KeyContext = SecretKeys.Kind

    struct Span {
        var start: Int
        var end: Int
        var mask: Mask
        /// Found by a key's name (or a URL's userinfo) rather than by the value's shape.
        var fromKey = false
    }

    private let patterns: [ByteRegex]

    public init(patterns: [String] = []) throws {
        self.patterns = try patterns.map { try ByteRegex($0, flag: "--pattern") }
    }

    /// The text with every match masked, or nil when nothing matched.
    public func redact(_ t: UnsafeBufferPointer<UInt8>, context: KeyContext = .none) -> [UInt8]? {
        switch context {
        case .secret where !t.isEmpty: return Mask.secret.bytes
        case .authorization where !t.isEmpty: return Mask.token.bytes
        default: break
        }
        var spans: [Span] = []
        for p in patterns {
            for m in p.allMatches(in: t) { spans.append(Span(start: m.lowerBound, end: m.upperBound, mask: .redacted)) }
        }
        RedactScan.keyed(t, &spans)
        RedactScan.urlPasswords(t, &spans)
        RedactScan.bearer(t, &spans)
        RedactScan.jwt(t, &spans)
        RedactScan.awsKeys(t, &spans)
        RedactScan.emails(t, &spans)
        RedactScan.cards(t, &spans)
        RedactScan.ipv6(t, &spans)
        RedactScan.ipv4(t, &spans)
        guard !spans.isEmpty else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(t.count)
        var at = 0
        for s in Self.chosen(spans) {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: t[at..<s.start]))
            out.append(contentsOf: s.mask.bytes)
            at = s.end
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: t[at...]))
        return out
    }

    /// The spans to mask, in order and apart. What a key named comes first: the key said what
    /// the value is, so a detector that saw an email in `user:pw@host.io` gives way to the
    /// URL's password. Then the detectors' spans that overlap none of those; among them the
    /// earliest, at the same start the longest.
    static func chosen(_ spans: [Span]) -> [Span] {
        func apart(_ candidates: [Span], avoiding taken: [Span]) -> [Span] {
            var out: [Span] = []
            var at = 0
            var t = 0
            for s in candidates.sorted(by: { $0.start != $1.start ? $0.start < $1.start : $0.end > $1.end }) where s.start >= at {
                while t < taken.count && taken[t].end <= s.start { t += 1 }
                if t < taken.count && taken[t].start < s.end { continue }
                out.append(s)
                at = s.end
            }
            return out
        }
        let keyed = apart(spans.filter(\.fromKey), avoiding: [])
        let shaped = apart(spans.filter { !$0.fromKey }, avoiding: keyed)
        return (keyed + shaped).sorted { $0.start < $1.start }
    }

    public func redact(_ text: String, context: KeyContext = .none) -> String {
        var text = text
        return text.withUTF8 { t in redact(t, context: context).map { String(decoding: $0, as: UTF8.self) } ?? String(decoding: t, as: UTF8.self) }
    }

    /// A whole line: a JSON object value by value (keys, numbers and structure kept, so
    /// every line is still valid JSON with the same keys); anything else as text.
    /// Nil when nothing changed.
    public func redactLine(_ entry: LogEntry) -> [UInt8]? {
        entry.isJSON ? JSONRedaction.rewrite(entry.bytes, self) : redact(entry.bytes)
    }
}

extension SecretKeys.Kind {
    public init(key: String) { self = SecretKeys.classify(Array(key.utf8)) }
}
