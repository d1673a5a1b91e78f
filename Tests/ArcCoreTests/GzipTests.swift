import XCTest
@testable import ArcCore

/// Gzip.compress (OTLP bodies with OTEL_EXPORTER_OTLP_COMPRESSION=gzip) against
/// Gzip.decompress, which the receiver and the .gz readers use.
final class GzipTests: XCTestCase {
    func testCompressedBodiesInflateToWhatWentIn() throws {
        var random = SystemRandomNumberGenerator()
        let noise = (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        let text = Array(String(repeating: "{\"name\":\"collect.task\",\"bytes\":1234}", count: 5000).utf8)
        for input in [[], [0x41], noise, text] {
            let compressed = try XCTUnwrap(Gzip.compress(input))
            XCTAssertEqual(Array(compressed.prefix(2)), [0x1f, 0x8b], "a gzip member, as Content-Encoding: gzip says")
            XCTAssertEqual(Gzip.decompress(compressed, maxOutput: input.count, header: .gzip), input)
            XCTAssertNil(Gzip.decompress(Array(compressed.dropLast()), maxOutput: input.count + 1, header: .gzip),
                         "cut short: no stream end")
        }
        XCTAssertLessThan(try XCTUnwrap(Gzip.compress(text)).count, text.count / 20)
        XCTAssertLessThan(try XCTUnwrap(Gzip.compress(noise)).count, noise.count + 100, "deflateBound was trimmed")
    }
}
