import Glibc

/// A W3C trace context (`traceparent: 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`):
/// what a process inherits from its parent in `TRACEPARENT` and hands to the processes it
/// starts, so every stage of a shell pipeline joins one trace.
public struct TraceContext: Equatable, Sendable {
    /// 32 lowercase hex digits, never all zeros.
    public let traceID: String
    /// 16 lowercase hex digits, never all zeros.
    public let spanID: String
    public let flags: UInt8

    public init(traceID: String, spanID: String, flags: UInt8 = 1) {
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
    }

    /// Parses a `traceparent` value. Per the W3C spec an unknown future version is read
    /// for its first four fields; version `ff`, bad lengths, upper-case or all-zero ids are
    /// invalid (the caller then starts a new trace).
    public init?(traceparent: String) {
        let parts = traceparent.trimmed().split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, isLowerHex(parts[0]), parts[0] != "ff",
              parts[0] != "00" || parts.count == 4,
              parts[1].count == 32, isLowerHex(parts[1]), !isZeros(parts[1]),
              parts[2].count == 16, isLowerHex(parts[2]), !isZeros(parts[2]),
              parts[3].count == 2, isLowerHex(parts[3]), let flags = UInt8(parts[3], radix: 16)
        else { return nil }
        self.init(traceID: String(parts[1]), spanID: String(parts[2]), flags: flags)
    }

    public var traceparent: String {
        "00-\(traceID)-\(spanID)-" + (flags < 16 ? "0" : "") + String(flags, radix: 16)
    }

    public var sampled: Bool { flags & 1 == 1 }

    /// A context for a new span: the same trace, a fresh span id.
    public func child() -> TraceContext { TraceContext(traceID: traceID, spanID: TraceIDs.spanID(), flags: flags) }

    /// The root of a new trace.
    public static func newRoot() -> TraceContext {
        TraceContext(traceID: TraceIDs.traceID(), spanID: TraceIDs.spanID(), flags: 1)
    }
}

/// Random ids from the system generator (getrandom): unique across processes started in
/// the same microsecond, which a clock-seeded generator would not guarantee.
public enum TraceIDs {
    public static func traceID() -> String { randomHex(bytes: 16) }

    public static func spanID() -> String { randomHex(bytes: 8) }

    /// `bytes` random bytes as lowercase hex, never all zeros (an invalid id).
    private static func randomHex(bytes count: Int) -> String {
        var g = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: count)
        while bytes.allSatisfy({ $0 == 0 }) {
            for i in bytes.indices { bytes[i] = g.next() }
        }
        return Hex.encode(bytes)
    }

    /// True for a well-formed id of `length` lowercase hex digits that is not all zeros.
    public static func isValid(_ id: String, length: Int) -> Bool {
        id.utf8.count == length && isLowerHex(Substring(id)) && !isZeros(Substring(id))
    }
}

private func isLowerHex(_ s: Substring) -> Bool {
    s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
}

private func isZeros(_ s: Substring) -> Bool { s.utf8.allSatisfy { $0 == 48 } }

