import CCurl

/// What a `SimpleHTTP` request got back. Any status is a response, 404 and 500 included:
/// the caller decides what a status means.
public struct SimpleHTTPResponse: Sendable {
    public var status: Int
    /// In arrival order, names lower-cased, values trimmed.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// The first value of header `name` (any case).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name == lower }?.value
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A blocking HTTP client on one curl easy handle, for tiny control requests off the hot
/// path (credential endpoints, instance metadata). The multi engine is built for thousands
/// of transfers with retries and sinks; this is one request, no retries, the body in memory.
public enum SimpleHTTP {
    /// One request, no retries. Throws TransferError.network on connection failure/timeout,
    /// and when the body grows past `maxBody` bytes (a control answer that large is wrong);
    /// TransferError.setup when libcurl refuses the request's options.
    public static func request(_ url: String, method: String = "GET", headers: [String] = [], body: [UInt8]? = nil,
                               timeout: Double = 5, connectTimeout: Double = 2,
                               maxBody: Int = 1 << 20) throws -> SimpleHTTPResponse {
        let easy = try CurlEasy()
        let collector = Collector(maxBody: maxBody)
        try easy.begin(url: url, delegate: collector)
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(connectTimeout * 1000)))
        try easy.set(CURLOPT_TIMEOUT_MS, max(1, Int(timeout * 1000)))
        if method == "HEAD" { try easy.set(CURLOPT_NOBODY, 1) }
        // A PUT or POST without a body still sends `Content-Length: 0` (IMDSv2's token PUT),
        // and the body is always set, or curl would read one from stdin.
        if body != nil || method == "PUT" || method == "POST" { try easy.post(body ?? []) }
        if method != "GET" && method != "HEAD" || body != nil { try easy.set(CURLOPT_CUSTOMREQUEST, method) }
        // No "Expect: 100-continue" round trip; no form Content-Type curl would add to a body.
        var lines = headers + ["Expect:"]
        let hasContentType = headers.contains { $0.lowercased().hasPrefix("content-type:") }
        if body != nil && !hasContentType { lines.append("Content-Type:") }
        try easy.setHeaders(lines)

        let code = easy.perform()
        guard code == CURLE_OK else {
            let message = collector.overflow ? "the response is larger than \(maxBody) bytes" : easy.failureMessage(code)
            throw TransferError.network(curlCode: Int32(code.rawValue), url: url, message: message)
        }
        return SimpleHTTPResponse(status: easy.responseCode, headers: collector.headers, body: collector.bytes)
    }

    /// What the curl callbacks collect during `curl_easy_perform`.
    private final class Collector: CurlEasyDelegate {
        let maxBody: Int
        var bytes: [UInt8] = []
        var headers: [(name: String, value: String)] = []
        var overflow = false

        init(maxBody: Int) { self.maxBody = maxBody }

        func curlBody(_ chunk: UnsafeRawBufferPointer) -> Int {
            guard bytes.count + chunk.count <= maxBody else {
                overflow = true
                return 0
            }
            bytes.append(contentsOf: chunk)
            return chunk.count
        }

        /// One header line. A status line starts a new response (after a 100 Continue or a
        /// proxy's CONNECT answer), so only the final response's headers are kept.
        func curlHeader(_ line: UnsafeRawBufferPointer) {
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("HTTP/") {
                headers.removeAll()
                return
            }
            guard let colon = text.firstIndex(of: ":") else { return }
            let name = text[..<colon].trimmed().lowercased()
            let value = text[text.index(after: colon)...].trimmed()
            headers.append((name: name, value: value))
        }
    }
}
