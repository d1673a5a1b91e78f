// Bytes from a client of `telem-trace serve` through the server's request reader
// (HTTPConnection over bytes, arriving in pieces of a size chosen from the input), then
// Content-Encoding: gzip bodies through Gzip. Properties: no crash, no hang; a refused
// request has a 4xx status; a request read has an HTTP/1.x version, lower-case header
// names and a body within the limit (of Content-Length's size when it has one); written
// back (the body with a Content-Length) it reads back the same; inflating stays within
// its output limit.
import FuzzSupport
@testable import ArcHTTPServer
import ArcCore

private let maxBody = 1 << 16

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    var choices = FuzzChoices(input)
    let requests = read(input, chunk: choices.int(1...512))
    for request in requests {
        fuzzCheck(request.version.hasPrefix("HTTP/1.") && !request.method.isEmpty && !request.path.contains("?"),
                  "request line read as \(request.method) \(request.path) \(request.version)")
        fuzzCheck(request.headers.allSatisfy { $0.name == $0.name.lowercased() }, "a header name is not lower case")
        fuzzCheck(request.body.count <= maxBody, "a body of \(request.body.count) bytes, over the limit")
        if request.header("transfer-encoding") == nil, let length = request.header("content-length") {
            fuzzCheck(Int(length) == request.body.count, "Content-Length \(length), body \(request.body.count)")
        }
        _ = request.keepAlive
        _ = request.mediaType
        // Written back with a Content-Length, it reads back the same (a target of just "?"
        // leaves an empty path, which has no request line to be written in).
        if request.path.isEmpty { continue }
        var text = "\(request.method) \(request.path) \(request.version)\r\n"
        for h in request.headers where h.name != "content-length" && h.name != "transfer-encoding" {
            text += "\(h.name): \(h.value)\r\n"
        }
        text += "content-length: \(request.body.count)\r\n\r\n"
        let again = read(Array(text.utf8) + request.body, chunk: 4096)
        fuzzCheck(again.count == 1, "a request written back reads as \(again.count) requests:\n\(text)")
        let back = again[0]
        fuzzCheck(back.method == request.method && back.path == request.path && back.version == request.version
                  && back.body == request.body, "a request written back reads differently:\n\(text)")
        let headers = request.headers.filter { $0.name != "content-length" && $0.name != "transfer-encoding" }
        fuzzCheck(back.headers.dropLast().map { $0.name + ":" + $0.value } == headers.map { $0.name + ":" + $0.value },
                  "headers changed when written back:\n\(text)")
        if !request.body.isEmpty {
            if let inflated = Gzip.decompress(request.body, maxOutput: 1 << 20) {
                fuzzCheck(inflated.count <= 1 << 20, "inflated past the limit")
            }
        }
    }
    if input.starts(with: [0x1F, 0x8B]) || input.first == 0x78 {
        if let inflated = Gzip.decompress(input, maxOutput: 4096) { fuzzCheck(inflated.count <= 4096, "inflated past the limit") }
    }
    return 0
}

/// Every request the bytes hold, as the server reads them one after another.
private func read(_ bytes: [UInt8], chunk: Int) -> [HTTPRequest] {
    let connection = HTTPConnection(bytes: bytes, chunk: chunk, maxBody: maxBody)
    var requests: [HTTPRequest] = []
    while requests.count < 64 {
        do {
            guard let request = try connection.next() else { break }
            requests.append(request)
        } catch let e as HTTPReadError {
            fuzzCheck((400..<500).contains(e.status), "refused with status \(e.status)")
            _ = HTTPResponse.error(e.status, e.message).head(keepAlive: false)
            break
        } catch {
            fuzzFail("HTTPConnection.next threw \(error), not an HTTPReadError")
        }
    }
    return requests
}
