// What an S3 server says when it refuses: the error body (XML with Code and Message, or
// anything else a proxy sends), read as arc-collect and s3x read it (Transfer.errorDetail,
// then S3Error from the engine's failure; S3Client.errorDocument for errors inside a 200),
// and the same bytes as response header lines (Transfer.header). Properties: no crash;
// an error code from a failed request is a snake_case word; a description never empty; Code and Message survive
// into the error when the body is an S3 error document written by S3Operations.escape.
import FuzzSupport
@testable import ArcCore

private let request = TransferRequest(url: "http://127.0.0.1:9/bucket/key", retry: RetryPolicy())
private let s3Request = S3Request("GetObject", .get, bucket: "bucket", key: "key")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzS3Error(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let body = fuzzBytes(data, size)
    let transfer = Transfer(request, sink: MemorySink()) { _, _ in }
    transfer.errorBody = body
    let detail = transfer.errorDetail
    for status in [403, 404, 500, 503] {
        let error = S3Error(operation: "GetObject", resource: "s3://bucket/key",
                            TransferError.http(status: status, url: request.url, detail: detail))
        checkCode(error.code.rawValue)
        fuzzCheck(!error.description.isEmpty, "empty description")
        _ = error.exitStatus
        _ = error.isNotFound
    }
    if let error = S3Client.errorDocument(body, request: s3Request, status: 200) {
        // The Code inside a 200 is taken as written (escaped wherever it goes), not checked as a word.
        fuzzCheck(!error.code.rawValue.isEmpty && !error.description.isEmpty, "an error inside a 200 without a code or description")
    }
    // The same bytes as header lines, as libcurl hands them over (each with its "\r\n").
    var start = 0
    for (i, b) in body.enumerated() where b == 0x0A {
        body[start...i].withUnsafeBytes { transfer.header($0) }
        start = i + 1
    }
    body[start...].withUnsafeBytes { transfer.header($0) }

    // A well-formed error document with this input as its Code and Message.
    let text = String(decoding: body, as: UTF8.self)
    let code = String(text.unicodeScalars.filter { ($0.value < 128 && $0.properties.isAlphabetic) }.prefix(40))
    if !code.isEmpty {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(code)</Code><Message>"
            + S3Call.escape(text) + "</Message><RequestId>1</RequestId></Error>"
        transfer.errorBody = Array(xml.utf8)
        let error = S3Error(operation: "GetObject", resource: "s3://bucket/key",
                            TransferError.http(status: 400, url: request.url, detail: transfer.errorDetail))
        fuzzCheck(error.s3Code == code, "code \(code) read as \(error.s3Code)")
        checkCode(error.code.rawValue)
    }
    return 0
}

private func checkCode(_ code: String) {
    // Letters and digits as S3Error takes them (Characters: "H\u{301}" is one letter).
    fuzzCheck(!code.isEmpty && code.allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber }
              && !code.unicodeScalars.contains { $0 >= "A" && $0 <= "Z" },
              "error code '\(code)' is not a snake_case word")
}
