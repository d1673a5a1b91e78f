// An OTLP/HTTP JSON body (what `telem-trace serve` receives on /v1/traces) through
// OTLPTraceDecoder. Properties: no crash; every span kept has valid ids, ends no earlier
// than it starts, and stored attributes and events that are valid JSON; written as a span
// record it reads back the same (times to the microsecond, as records carry them); and
// encoded again by Telemetry's OTLPJSON it decodes to the same span.
import FuzzSupport
import FuzzSpans
@testable import ArcTraces
@testable import ArcCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOTLPTraces(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let body = fuzzBytes(data, size)
    let result: OTLPTraceDecoder.Result
    do { result = try OTLPTraceDecoder.decode(body) } catch is OTLPTraceDecoder.DecodeError { return 0 } catch {
        fuzzFail("decode threw \(error), not a DecodeError")
    }
    fuzzCheck(result.rejected == 0 || result.firstProblem != nil, "spans rejected without a reason")
    for span in result.spans.prefix(16) {
        checkStoredSpan(span)
        // OTLP out (Telemetry's encoder, as `telem-trace export` sends) and in again.
        let again: OTLPTraceDecoder.Result
        let encoded = OTLPJSON.traces([span.spanRecord()], defaultService: "fuzz")
        do { again = try OTLPTraceDecoder.decode(encoded) } catch {
            fuzzFail("OTLPJSON's own body does not decode: \(error)")
        }
        fuzzCheck(again.spans.count == 1 && again.rejected == 0, "OTLPJSON's span did not come back: \(again.firstProblem ?? "")")
        let back = again.spans[0]
        fuzzCheck(back.traceID == span.traceID && back.spanID == span.spanID && back.parentSpanID == span.parentSpanID
                  && back.name == span.name && back.service == (span.service ?? "fuzz") && back.startNanos == span.startNanos
                  && back.endNanos == span.endNanos && back.status == span.status && back.statusMessage == span.statusMessage,
                  "an OTLP round trip changed the span: \(span) -> \(back)")
        fuzzCheck(attributes(back.attributesJSON) == attributes(span.attributesJSON),
                  "an OTLP round trip changed the attributes: \(span.attributesJSON ?? "") -> \(back.attributesJSON ?? "")")
        fuzzCheck(events(back.eventsJSON) == events(span.eventsJSON),
                  "an OTLP round trip changed the events: \(span.eventsJSON ?? "") -> \(back.eventsJSON ?? "")")
    }
    return 0
}

private func text(_ v: LogValue) -> String {
    switch v {
    case .string(let s): return "s:" + s
    case .int(let i): return "i:\(i)"
    case .double(let d): return "d:\(d)"
    case .bool(let b): return "b:\(b)"
    }
}

private func attributes(_ json: String?) -> [String] { SpanJSON.attributes(json).map { $0.0 + "=" + text($0.1) } }

private func events(_ json: String?) -> [String] {
    SpanJSON.events(json).map { e in "\(e.name)@\(e.timeNanos):" + e.attributes.map { $0.0 + "=" + text($0.1) }.joined(separator: ",") }
}
