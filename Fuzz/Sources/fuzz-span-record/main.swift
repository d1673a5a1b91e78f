// Span records (NDJSON, as `--trace FILE` writes and `telem-trace ingest` reads), one a
// line, through Record and StoredSpan(record:), then shown as `telem-trace show` shows a
// trace. Properties: no crash; a span that reads has valid ids and ends no earlier than it
// starts; written again it reads back the same (times to the microsecond, which is what
// records carry); it converts to the telemetry model and OTLP JSON, which decode to the
// same ids, name and times; and the spans read render as a waterfall of one row per span.
import FuzzSupport
import FuzzSpans
@testable import ArcTraces
@testable import ArcCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSpanRecord(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    var spans: [StoredSpan] = []
    for line in input.split(separator: 0x0A).prefix(64) {
        if let span = read(Array(line)) { spans.append(span) }
    }
    guard !spans.isEmpty else { return 0 }
    var choices = FuzzChoices(input)
    // `telem-trace show` on these spans as one trace (--width is 40 to 10,000).
    let width = [40, 100, 10_000][choices.int(0...2)]
    let text = Waterfall.render(TraceTree(spans), width: width, color: choices.int(0...1) == 1)
    // A header, an axis, then one line per span and a blank line.
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    fuzzCheck(lines.count > spans.count + 2 && lines[2..<spans.count + 2].allSatisfy { $0.contains(" │") }
              && lines[spans.count + 2].isEmpty, "not one line per span:\n\(text)")
    return 0
}

private func read(_ input: [UInt8]) -> StoredSpan? {
    guard let record = try? input.withUnsafeBufferPointer({ try Record(line: $0) }) else { return nil }
    let span: StoredSpan
    do { span = try StoredSpan(record: record) } catch is FieldError { return nil } catch {
        fuzzFail("StoredSpan(record:) threw \(error), not a FieldError")
    }
    checkSpanRecordRoundTrip(span)

    let model = span.spanRecord()
    let encoded = OTLPJSON.traces([model], defaultService: "fuzz")
    guard let decoded = try? OTLPTraceDecoder.decode(encoded), decoded.spans.count == 1 else {
        fuzzFail("OTLPJSON's body for a span record does not decode: \(String(decoding: encoded, as: UTF8.self))")
    }
    let otlp = decoded.spans[0]
    fuzzCheck(otlp.traceID == span.traceID && otlp.spanID == span.spanID && otlp.parentSpanID == span.parentSpanID
              && otlp.name == span.name && otlp.startNanos == span.startNanos && otlp.endNanos == span.endNanos
              && otlp.status == span.status, "OTLP changed the span: \(span) -> \(otlp)")
    return span
}
