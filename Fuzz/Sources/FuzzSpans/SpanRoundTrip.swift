// What telem-trace keeps of a span, checked the same way by fuzz-otlp-traces,
// fuzz-otlp-protobuf and fuzz-span-record: valid ids, an end no earlier than the start, and a span record round trip.
import FuzzSupport
@testable import ArcTraces
@testable import ArcCore

/// Valid ids, ends no earlier than it starts; written as a span record it reads back the
/// same (times to the microsecond, which is what records carry).
public func checkSpanRecordRoundTrip(_ span: StoredSpan) {
    fuzzCheck(TraceIDs.isValid(span.traceID, length: 32) && TraceIDs.isValid(span.spanID, length: 16)
              && span.parentSpanID.map { TraceIDs.isValid($0, length: 16) } ?? true, "bad ids kept: \(span)")
    fuzzCheck(span.endNanos >= span.startNanos && span.durationNanos >= 0, "ends before it starts: \(span)")
    var b = RecordBuilder()
    span.write(into: &b)
    let line = String(decoding: b.bytes.dropLast(), as: UTF8.self)
    let back: StoredSpan
    do { back = try StoredSpan(record: try Record(parsing: line)) } catch {
        fuzzFail("a span written as a record does not read back: \(error)\n\(line)")
    }
    var expected = span
    expected.startNanos = micros(span.startNanos)
    expected.endNanos = micros(span.endNanos)
    fuzzCheck(back == expected, "a span record round trip changed the span:\n\(line)\n\(back)")
}

private func micros(_ nanos: Int64) -> Int64 { (nanos >= 0 ? nanos / 1000 : (nanos - 999) / 1000) * 1000 }

/// What telem-trace keeps of a span from OTLP: valid, the same after a span record round
/// trip, and stored attributes and events that are valid JSON.
public func checkStoredSpan(_ span: StoredSpan) {
    checkSpanRecordRoundTrip(span)
    if let a = span.attributesJSON { fuzzCheck((try? Record(parsing: a)) != nil, "attributes are not a JSON object: \(a)") }
    if let e = span.eventsJSON { fuzzCheck((try? Record(parsing: #"{"e":"# + e + "}")) != nil, "events are not JSON: \(e)") }
}

