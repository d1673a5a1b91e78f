import XCTest
@testable import ArcCore
import ArcTestSupport

/// S3 answers the fuzzer (Fuzz/, fuzz-s3-error) found mishandled.
final class S3ErrorFuzzTests: XCTestCase {
    private func transfer(body: String) -> Transfer {
        let t = Transfer(TransferRequest(url: "http://h/b/k", retry: RetryPolicy()), sink: MemorySink()) { _, _ in }
        t.errorBody = Array(body.utf8)
        return t
    }

    /// An error document with a Code and no Message (rclone's NoSuchKey), or a Message cut
    /// off at 2 KiB: the code was lost (SignatureDoesNotMatch then was no auth failure).
    func testCodeWithoutMessageIsKept() {
        for body in ["<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Resource>k</Resource></Error>",
                     "<Error><Code>SignatureDoesNotMatch</Code><Message>" + String(repeating: "x", count: 3000) + "</Message></Error>"] {
            let detail = transfer(body: body).errorDetail
            let e = S3Error(operation: "GetObject", resource: "s3://b/k", TransferError.http(status: 403, url: "http://h/b/k", detail: detail))
            XCTAssertEqual(e.s3Code, "SignatureDoesNotMatch")
            XCTAssertTrue(e.isAuthFailure)
            XCTAssertEqual(e.message, "HTTP 403")
        }
        let plain = S3Error(operation: "GetObject", resource: "s3://b/k",
                            TransferError.http(status: 502, url: "u", detail: "<html>Bad Gateway</html>"))
        XCTAssertEqual(plain.s3Code, "")
        XCTAssertEqual(plain.message, "<html>Bad Gateway</html>")
    }

    /// A Content-Range with its dash before its space trapped (a range running backwards).
    func testContentRangeWithTheDashFirst() {
        let t = transfer(body: "")
        for (line, start) in [("Content-Range: bytes 100-199/200\r\n", Int64(100)), ("Content-Range: by-tes 5/6\r\n", nil),
                              ("Content-Range: x-y z\r\n", nil), ("Content-Range: bytes */1234\r\n", nil)] {
            t.headers = ResponseHeaders()
            Array(line.utf8).withUnsafeBytes { t.header($0) }
            XCTAssertEqual(t.headers.rangeStart, start, line)
        }
    }
}
