import XCTest
@testable import ArcCore
import ArcTestSupport
@testable import ArcTraces

/// `telem-trace show` on spans that fuzz-span-record (Fuzz/) read from span records.
final class WaterfallFuzzTests: XCTestCase {
    private func span(_ id: String, parent: String? = nil, name: String, start: Int64, end: Int64,
                      attributes: String? = nil, status: SpanStatus = .ok) -> StoredSpan {
        StoredSpan(traceID: "0af7651916cd43dd8448eb211c80319c", spanID: id, parentSpanID: parent, name: name, service: nil,
                   startNanos: start, endNanos: end, status: status, statusMessage: status == .error ? "bad\u{1B}[2J" : nil,
                   attributesJSON: attributes)
    }

    /// A trace lasting a year at --width 10000: offset * width overflowed Int64.
    func testLongTraceAtFullWidth() {
        let year: Int64 = 365 * 86_400 * 1_000_000_000
        let spans = [span("b7ad6b7169203331", name: "root", start: 1_700_000_000_000_000_000, end: 1_700_000_000_000_000_000 + year),
                     span("00f067aa0ba902b7", parent: "b7ad6b7169203331", name: "late", start: 1_700_000_000_000_000_000 + year / 2,
                          end: 1_700_000_000_000_000_000 + year)]
        let text = Waterfall.render(TraceTree(spans), width: 10_000, color: false)
        let rows = text.split(separator: "\n").filter { $0.contains(" │") }
        XCTAssertEqual(rows.count, 2)
        let bar = rows[0].split(separator: "│")[1]
        XCTAssertGreaterThan(bar.count, 9_900)
        XCTAssertTrue(bar.allSatisfy { $0 == "█" }, "the root's bar runs the whole width")
        XCTAssertEqual(Waterfall.scaled(5, 100, 10, roundingUp: false), 50)
        XCTAssertEqual(Waterfall.scaled(1, 3, 2, roundingUp: false), 1)
        XCTAssertEqual(Waterfall.scaled(1, 3, 2, roundingUp: true), 2)
        XCTAssertEqual(Waterfall.scaled(Int64.max, 10_000, Int64.max, roundingUp: true), 10_000)
    }

    /// A newline in a name or a step attribute broke the rows; ESC reached the terminal.
    func testControlCharactersAreShownEscaped() {
        let spans = [span("b7ad6b7169203331", name: "a\nb", start: 0, end: 10, attributes: #"{"step":"x\u001b[31my"}"#,
                          status: .error)]
        let text = Waterfall.render(TraceTree(spans), width: 100, color: false)
        XCTAssertFalse(text.unicodeScalars.contains("\u{1B}"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertTrue(lines[0].contains(#"a\nb"#))
        XCTAssertTrue(lines[2].hasPrefix(#"* ✗ a\nb x\x1b[31my"#) || lines[2].contains(#"a\nb x\x1b"#), String(lines[2]))
        XCTAssertEqual(lines[3], "")
        XCTAssertTrue(text.contains(#"✗ a\nb: bad\x1b[2J"#))
    }
}
