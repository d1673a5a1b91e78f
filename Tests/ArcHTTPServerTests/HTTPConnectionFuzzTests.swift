import XCTest
@testable import ArcHTTPServer

/// The request reader of `telem-trace serve`, over bytes (as Fuzz/'s fuzz-http-request reads it).
final class HTTPConnectionFuzzTests: XCTestCase {
    private func read(_ text: String, chunk: Int = 3) -> ([HTTPRequest], HTTPReadError?) {
        let c = HTTPConnection(bytes: Array(text.utf8), chunk: chunk, maxBody: 1 << 16)
        var out: [HTTPRequest] = []
        do {
            while let r = try c.next() { out.append(r) }
        } catch let e as HTTPReadError {
            return (out, e)
        } catch {
            XCTFail("\(error)")
        }
        return (out, nil)
    }

    func testRequestsOverBytes() {
        let (requests, error) = read("POST /v1/traces?x=1 HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
                                     + "POST /v1/traces HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
                                     + "3;x=y\r\nabc\r\n1\r\nd\r\n0\r\nTrailer: t\r\n\r\n")
        XCTAssertNil(error)
        XCTAssertEqual(requests.map(\.path), ["/v1/traces", "/v1/traces"])
        XCTAssertEqual(requests.map { String(decoding: $0.body, as: UTF8.self) }, ["{}", "abcd"])
        XCTAssertEqual(requests.first?.mediaType, "application/json")
        XCTAssertEqual(read("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /").1?.status, 400)
    }

    /// A chunk size near Int.max after a first chunk overflowed `body.count + size`: a trap
    /// any client could set off. Now it is refused as too large.
    func testHugeChunkSizeIsRefused() {
        let (requests, error) = read("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n7fffffffffffffff\r\n")
        XCTAssertTrue(requests.isEmpty)
        XCTAssertEqual(error?.status, 413)
    }
}
