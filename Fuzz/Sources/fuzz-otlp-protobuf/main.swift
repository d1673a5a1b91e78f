// Bytes as an OTLP/HTTP protobuf body (what `telem-trace serve` receives on /v1/traces and
// /v1/logs with Content-Type application/x-protobuf) through both request decoders:
// OTLPTraceDecoder.decodeProtobuf and OTLPLogDecoder.decodeProtobuf, over ProtobufReader.
// Properties: no crash, no unbounded recursion or allocation (ASan and -rss_limit_mb
// watch); a malformed body throws DecodeError only, with a reason; every span kept has
// valid ids and reads back from its span record; every log line kept is a JSON object
// whose ts, msg and ids are what the row's columns say.
import FuzzSupport
import FuzzSpans
@testable import ArcTraces
@testable import ArcCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOTLPProtobuf(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let body = fuzzBytes(data, size)
    do {
        let traces = try OTLPTraceDecoder.decodeProtobuf(body)
        fuzzCheck(traces.rejected == 0 || traces.firstProblem != nil, "spans rejected without a reason")
        for span in traces.spans.prefix(16) {
            checkStoredSpan(span)
        }
    } catch let e as OTLPTraceDecoder.DecodeError {
        fuzzCheck(!e.description.isEmpty, "a DecodeError without a reason")
    } catch {
        fuzzFail("decodeProtobuf (traces) threw \(error), not a DecodeError")
    }
    do {
        let logs = try OTLPLogDecoder.decodeProtobuf(body, receivedNanos: 1_700_000_000_000_000_000)
        fuzzCheck(logs.rejected == 0 || logs.firstProblem != nil, "log records rejected without a reason")
        for row in logs.rows.prefix(16) {
            guard let line = try? Record(parsing: row.line) else { fuzzFail("a log line that is not a JSON object: \(row.line)") }
            fuzzCheck((try? line.string("msg")) == row.msg, "msg column \(row.msg ?? "nil") differs from the line: \(row.line)")
            fuzzCheck((try? line.string("trace_id")) == row.traceID, "trace_id column differs from the line: \(row.line)")
            if let t = row.traceID { fuzzCheck(TraceIDs.isValid(t, length: 32), "a bad trace id kept: \(t)") }
            if let s = row.spanID { fuzzCheck(TraceIDs.isValid(s, length: 16), "a bad span id kept: \(s)") }
            let ts = (try? line.string("ts")).flatMap { $0 }.flatMap(WallClock.parseRFC3339Nanos)
            fuzzCheck(ts.map { $0 / 1_000_000 } == row.tsMillis, "ts and ts_ms differ: \(row.line) \(row.tsMillis ?? -1)")
        }
    } catch let e as OTLPTraceDecoder.DecodeError {
        fuzzCheck(!e.description.isEmpty, "a DecodeError without a reason")
    } catch {
        fuzzFail("decodeProtobuf (logs) threw \(error), not a DecodeError")
    }
    return 0
}
