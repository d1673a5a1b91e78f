import Foundation
import XCTest
@testable import ArcCore
import ArcTestSupport

final class TraceContextTests: XCTestCase {
    func testParsesAndFormatsW3CTraceparent() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let c = TraceContext(traceparent: tp)
        XCTAssertEqual(c?.traceID, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(c?.spanID, "00f067aa0ba902b7")
        XCTAssertEqual(c?.sampled, true)
        XCTAssertEqual(c?.traceparent, tp)
        XCTAssertEqual(TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")?.sampled, false)
        // A future version is read for its first four fields.
        XCTAssertNotNil(TraceContext(traceparent: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"))
    }

    func testRejectsMalformedTraceparents() {
        for bad in ["", "garbage", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                    "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
                    "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"] {
            XCTAssertNil(TraceContext(traceparent: bad), bad)
        }
    }

    func testNewIdsAreWellFormedAndDistinct() {
        let ids = Set((0..<1000).map { _ in TraceIDs.spanID() })
        XCTAssertEqual(ids.count, 1000)
        XCTAssertTrue(ids.allSatisfy { TraceIDs.isValid($0, length: 16) })
        let root = TraceContext.newRoot()
        XCTAssertTrue(TraceIDs.isValid(root.traceID, length: 32))
        let child = root.child()
        XCTAssertEqual(child.traceID, root.traceID)
        XCTAssertNotEqual(child.spanID, root.spanID)
    }
}

final class SpanTests: XCTestCase {
    final class Collecting: SpanExporter, @unchecked Sendable {
        var spans: [SpanRecord] = []
        func export(_ span: SpanRecord) { spans.append(span) }
        func shutdown(deadline: Double) -> String? { nil }
    }

    func testSpansNestAndCarryAttributesAndEvents() throws {
        let sink = Collecting()
        let tracer = Tracer(service: "arc-test", exporters: [sink])
        let root = tracer.startSpan("run", parent: nil)
        let child = tracer.startSpan("task", parent: root.context, [("url", "http://x/")])
        child.set("bytes", 42)
        child.set("bytes", 43)
        child.addEvent("retry", [("attempt", 2)])
        child.end(.error, message: "boom")
        child.end()  // a second end is ignored
        root.end()
        XCTAssertEqual(sink.spans.map(\.name), ["task", "run"])
        let task = sink.spans[0]
        XCTAssertEqual(task.parentSpanID, root.context.spanID)
        XCTAssertEqual(task.traceID, root.context.traceID)
        XCTAssertNil(sink.spans[1].parentSpanID)
        XCTAssertEqual(task.status, .error)
        XCTAssertEqual(task.statusMessage, "boom")
        XCTAssertEqual(task.attributes.count, 2)
        if case .int(let b)? = task.attribute("bytes") { XCTAssertEqual(b, 43) } else { XCTFail("bytes") }
        XCTAssertEqual(task.events.first?.name, "retry")
        XCTAssertGreaterThanOrEqual(task.endNanos, task.startNanos)
        XCTAssertEqual(task.service, "arc-test")
    }

    func testNothingIsRecordedWithoutExporters() {
        let tracer = Tracer(service: "t", exporters: [])
        XCTAssertFalse(tracer.isRecording)
        let span = tracer.startSpan("x", parent: nil)
        span.end()  // nowhere to go, no crash
        XCTAssertTrue(TraceIDs.isValid(span.context.spanID, length: 16))
    }

    func testSpanRecordLineIsTheDocumentedShape() throws {
        var record = SpanRecord(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "00f067aa0ba902b7",
                                parentSpanID: nil, name: "collect.task", service: "arc-collect",
                                startNanos: 1_700_000_000_123_456_789, endNanos: 1_700_000_001_123_456_789, status: .ok,
                                attributes: [("url", "http://x/a b"), ("bytes", 5), ("verified", true), ("ratio", .double(0.5))])
        record.events = [SpanEvent(name: "retry", timeNanos: 1_700_000_000_500_000_000)]
        var b = RecordBuilder()
        record.write(into: &b)
        let line = String(decoding: b.bytes, as: UTF8.self)
        XCTAssertEqual(line, """
            {"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","name":"collect.task",\
            "service":"arc-collect","start":"2023-11-14T22:13:20.123456Z","end":"2023-11-14T22:13:21.123456Z",\
            "duration_ms":1000,"status":"ok","attributes":{"url":"http://x/a b","bytes":5,"verified":true,"ratio":0.5},\
            "events":[{"name":"retry","time":"2023-11-14T22:13:20.500000Z"}]}

            """)
    }

    func testNanosecondTimestampsRoundTrip() {
        XCTAssertEqual(WallClock.parseRFC3339Nanos("2023-11-14T22:13:20.123456Z"), 1_700_000_000_123_456_000)
        XCTAssertEqual(WallClock.parseRFC3339Nanos("2023-11-14T22:13:20.123456789Z"), 1_700_000_000_123_456_789)
        XCTAssertEqual(WallClock.parseRFC3339Nanos("2023-11-14T22:13:20Z"), 1_700_000_000_000_000_000)
        XCTAssertEqual(WallClock.parseRFC3339Nanos("2023-11-14T23:13:20.5+01:00"), 1_700_000_000_500_000_000)
        XCTAssertEqual(WallClock.rfc3339(nanos: 1_700_000_000_000_001_000), "2023-11-14T22:13:20.000001Z")
    }
}

final class OTLPTests: XCTestCase {
    func testTraceRequestUsesHexIdsStringIntsAndNumericEnums() throws {
        let span = SpanRecord(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "00f067aa0ba902b7",
                              parentSpanID: "1111111111111111", name: "t", service: "svc", startNanos: 10, endNanos: 20,
                              status: .error, statusMessage: "bad", attributes: [("n", 5), ("s", "x")])
        let json = try JSONSerialization.jsonObject(with: Data(OTLPJSON.traces([span], defaultService: "d"))) as! [String: Any]
        let resource = (json["resourceSpans"] as! [[String: Any]])[0]
        let attrs = (resource["resource"] as! [String: Any])["attributes"] as! [[String: Any]]
        XCTAssertEqual(attrs[0]["key"] as? String, "service.name")
        XCTAssertEqual((attrs[0]["value"] as! [String: Any])["stringValue"] as? String, "svc")
        let s = (((resource["scopeSpans"] as! [[String: Any]])[0])["spans"] as! [[String: Any]])[0]
        XCTAssertEqual(s["traceId"] as? String, span.traceID)
        XCTAssertEqual(s["parentSpanId"] as? String, "1111111111111111")
        XCTAssertEqual(s["startTimeUnixNano"] as? String, "10")
        XCTAssertEqual(s["kind"] as? Int, 1)
        XCTAssertEqual((s["status"] as! [String: Any])["code"] as? Int, 2)
        let n = (s["attributes"] as! [[String: Any]])[0]["value"] as! [String: Any]
        XCTAssertEqual(n["intValue"] as? String, "5")
    }

    func testSpansOfSeveralServicesAreSeveralResources() throws {
        func span(_ service: String?) -> SpanRecord {
            SpanRecord(traceID: TraceIDs.traceID(), spanID: TraceIDs.spanID(), parentSpanID: nil, name: "x",
                       service: service, startNanos: 1, endNanos: 2)
        }
        let json = try JSONSerialization.jsonObject(with: Data(OTLPJSON.traces([span("a"), span("b"), span("a"), span(nil)],
                                                                               defaultService: "c"))) as! [String: Any]
        XCTAssertEqual((json["resourceSpans"] as! [Any]).count, 3)
    }

    func testEndpointFromTheStandardEnvironment() {
        func endpoint(_ env: [String: String]) -> OTLPEndpoint? { OTLPEndpoint.fromEnvironment { env[$0] } }
        XCTAssertNil(endpoint([:]))
        let e = endpoint(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318/", "OTEL_EXPORTER_OTLP_HEADERS": "api-key=a%20b, x=1"])
        XCTAssertEqual(e?.tracesURL, "http://127.0.0.1:4318/v1/traces")
        XCTAssertEqual(e?.logsURL, "http://127.0.0.1:4318/v1/logs")
        XCTAssertEqual(e?.tracesHeaders, ["api-key: a b", "x: 1"])
        XCTAssertEqual(e?.logsHeaders, ["api-key: a b", "x: 1"])
        // A signal's own variable replaces the common one for that signal, as the SDKs have it;
        // a value that decodes to a line break would end the header early and is left out.
        let split = endpoint(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://h", "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20common",
                              "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "Authorization=Bearer%20traces,x=a%0D%0Ab"])
        XCTAssertEqual(split?.tracesHeaders, ["Authorization: Bearer traces"])
        XCTAssertEqual(split?.logsHeaders, ["Authorization: Bearer common"])
        XCTAssertEqual(OTLPEndpoint.headers(signal: "LOGS") { ["OTEL_EXPORTER_OTLP_LOGS_HEADERS": "k=v"][$0] }, ["k: v"])
        XCTAssertEqual(e?.timeout, 10)
        XCTAssertEqual(endpoint(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://h", "OTEL_EXPORTER_OTLP_TIMEOUT": "2500"])?.timeout, 2.5)
        XCTAssertEqual(endpoint(["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://h/t"])?.tracesURL, "http://h/t")
        XCTAssertNil(endpoint(["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://h/t"])?.logsURL)
        XCTAssertNil(endpoint(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://h", "OTEL_SDK_DISABLED": "true"]))
        XCTAssertNil(endpoint(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://h", "OTEL_TRACES_EXPORTER": "none"])?.tracesURL)
    }

    func testProtocolPerSignalFromTheEnvironment() {
        func endpoint(_ env: [String: String]) -> OTLPEndpoint? {
            OTLPEndpoint.fromEnvironment { (["OTEL_EXPORTER_OTLP_ENDPOINT": "http://h"].merging(env) { $1 })[$0] }
        }
        let plain = endpoint([:])
        XCTAssertEqual(plain?.tracesProtocol, .protobuf, "http/protobuf is the default")
        XCTAssertEqual(plain?.logsProtocol, .protobuf)
        XCTAssertEqual(plain?.warnings, [])
        let json = endpoint(["OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"])
        XCTAssertEqual(json?.tracesProtocol, .json)
        XCTAssertEqual(json?.logsProtocol, .json)
        // The signal's own variable wins over the common one.
        let split = endpoint(["OTEL_EXPORTER_OTLP_PROTOCOL": "http/json", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "http/protobuf"])
        XCTAssertEqual(split?.tracesProtocol, .json)
        XCTAssertEqual(split?.logsProtocol, .protobuf)
        XCTAssertEqual(endpoint(["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"])?.logsProtocol, .protobuf)
        // Anything else: protobuf, and one warning naming the variable and its value.
        let grpc = endpoint(["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"])
        XCTAssertEqual(grpc?.tracesProtocol, .protobuf)
        XCTAssertEqual(grpc?.logsProtocol, .protobuf)
        XCTAssertEqual(grpc?.warnings, ["OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported (http/protobuf or http/json): sending http/protobuf"])
        // A signal that is not sent is not asked about.
        XCTAssertEqual(endpoint(["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc", "OTEL_TRACES_EXPORTER": "none"])?.warnings, [])
        XCTAssertEqual(OTLPProtocol.protobuf.contentType, "application/x-protobuf")
        XCTAssertEqual(OTLPProtocol.json.contentType, "application/json")
    }

    func testADeadCollectorDropsAndReportsWithoutBlocking() {
        let batcher = OTLPBatcher<Int>(url: "http://127.0.0.1:9/v1/traces", headers: [], contentType: "application/json",
                                       what: "spans") { _ in Array("{}".utf8) }
        let started = MonotonicClock.nanos()
        for i in 0..<100 { batcher.add(i) }
        XCTAssertLessThan(MonotonicClock.nanos() - started, 100_000_000, "add never waits for the network")
        let report = batcher.shutdown(deadline: 2)
        XCTAssertEqual(report?.hasPrefix("otlp: 100 spans not delivered to http://127.0.0.1:9/v1/traces"), true, report ?? "")
    }
}

final class MetricsTests: XCTestCase {
    func testPrometheusTextFormat() {
        let m = MetricsRegistry()
        m.declare("arc_x_tasks_total", .counter, help: "tasks\nby status")
        m.declare("arc_x_seconds", .histogram, help: "durations", buckets: [0.1, 1])
        m.declare("arc_x_unused", .gauge, help: "never set")
        m.add("arc_x_tasks_total", 2, .init(["status": "ok"]))
        m.add("arc_x_tasks_total", 1, .init(["status": "a \"b\"\\c"]))
        m.add("arc_x_tasks_total", 1, .init(["status": "ok"]))
        m.observe("arc_x_seconds", 0.05)
        m.observe("arc_x_seconds", 0.5)
        m.observe("arc_x_seconds", 5)
        m.add("undeclared_total")  // ignored
        XCTAssertEqual(m.render(), """
            # HELP arc_x_tasks_total tasks\\nby status
            # TYPE arc_x_tasks_total counter
            arc_x_tasks_total{status="ok"} 3
            arc_x_tasks_total{status="a \\"b\\"\\\\c"} 1
            # HELP arc_x_seconds durations
            # TYPE arc_x_seconds histogram
            arc_x_seconds_bucket{le="0.1"} 1
            arc_x_seconds_bucket{le="1"} 2
            arc_x_seconds_bucket{le="+Inf"} 3
            arc_x_seconds_sum 5.55
            arc_x_seconds_count 3

            """)
    }

    func testGroupingKeyValuesThatAreNotPathSafeUseBase64() {
        XCTAssertEqual(MetricsPublisher.groupingValue("arc-collect"), "arc-collect")
        XCTAssertEqual(MetricsPublisher.groupingValue("a/b"), "YS9i@base64")
        XCTAssertEqual(MetricsPublisher.groupingValue(""), "=@base64")
    }

    func testPreviousValueIsReadFromAnEarlierFile() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.file("m.prom")
        try MetricsPublisher.writeFile(path, "# TYPE x_last gauge\nx_last 123.5\nx_last_more 1\n")
        XCTAssertEqual(MetricsPublisher.previousValue("x_last", inFile: path), 123.5)
        XCTAssertNil(MetricsPublisher.previousValue("x_none", inFile: path))
        XCTAssertNil(MetricsPublisher.previousValue("x_last", inFile: dir.file("missing")))
    }
}

final class LoggerTraceTests: XCTestCase {
    func testJSONLinesNameTheTraceAndATaskSpanWins() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let log = Logger(tool: "t", format: .json, terminal: Terminal(fd: fds[1]))
        log.trace = TraceContext(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "00f067aa0ba902b7")
        var forwarded: [String] = []
        log.forward = { _, msg, _, _ in forwarded.append(msg) }
        log.info("run")
        log.log(.warn, "task", fields: [("span_id", .string("1111111111111111")), ("n", 1)])
        close(fds[1])
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = read(fds[0], &buffer, buffer.count)
        close(fds[0])
        let lines = String(decoding: buffer[..<max(0, n)], as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].contains(#""msg":"run","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#), String(lines[0]))
        XCTAssertTrue(lines[1].contains(#""span_id":"1111111111111111","n":1}"#), String(lines[1]))
        XCTAssertEqual(lines[1].components(separatedBy: "span_id").count, 2, "span_id once")
        XCTAssertEqual(forwarded, ["run", "task"])
    }
}
