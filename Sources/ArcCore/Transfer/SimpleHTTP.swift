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
    /// and when the body grows past `maxBody` bytes (a control answer that large is wrong).
    public static func request(_ url: String, method: String = "GET", headers: [String] = [], body: [UInt8]? = nil,
                               timeout: Double = 5, connectTimeout: Double = 2,
                               maxBody: Int = 1 << 20) throws -> SimpleHTTPResponse {
        Curl.ensureInitialized()
        guard let easy = curl_easy_init() else {
            throw TransferError.network(curlCode: Int32(CURLE_FAILED_INIT.rawValue), url: url, message: "curl_easy_init failed")
        }
        defer { curl_easy_cleanup(easy) }
        let collector = Collector(maxBody: maxBody)
        let me = Unmanaged.passUnretained(collector).toOpaque()
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        arc_easy_setopt_str(easy, CURLOPT_URL, url)
        arc_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        arc_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(connectTimeout * 1000)))
        arc_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, Int(timeout * 1000)))
        if method == "HEAD" { arc_easy_setopt_long(easy, CURLOPT_NOBODY, 1) }
        if method != "GET" && method != "HEAD" || body != nil { arc_easy_setopt_str(easy, CURLOPT_CUSTOMREQUEST, method) }
        arc_easy_setopt_data_cb(easy, CURLOPT_WRITEFUNCTION, { ptr, size, count, user in
            let c = Unmanaged<Collector>.fromOpaque(user!).takeUnretainedValue()
            return c.body(UnsafeRawBufferPointer(start: ptr, count: size * count)) ? size * count : 0
        })
        arc_easy_setopt_ptr(easy, CURLOPT_WRITEDATA, me)
        arc_easy_setopt_data_cb(easy, CURLOPT_HEADERFUNCTION, { ptr, size, count, user in
            let c = Unmanaged<Collector>.fromOpaque(user!).takeUnretainedValue()
            c.header(UnsafeRawBufferPointer(start: ptr, count: size * count))
            return size * count
        })
        arc_easy_setopt_ptr(easy, CURLOPT_HEADERDATA, me)

        var list: UnsafeMutablePointer<curl_slist>?
        for h in headers { list = curl_slist_append(list, h) }
        // No "Expect: 100-continue" round trip; no form Content-Type curl would add to a body.
        list = curl_slist_append(list, "Expect:")
        let hasContentType = headers.contains { $0.lowercased().hasPrefix("content-type:") }
        if body != nil && !hasContentType { list = curl_slist_append(list, "Content-Type:") }
        defer { curl_slist_free_all(list) }
        arc_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list)

        // A PUT or POST without a body still sends `Content-Length: 0` (IMDSv2's token PUT),
        // and POSTFIELDS must never be NULL, or curl would read the body from stdin.
        let payload = body ?? []
        let sendsBody = body != nil || method == "PUT" || method == "POST"
        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errors in
            arc_easy_setopt_ptr(easy, CURLOPT_ERRORBUFFER, errors.baseAddress)
            return (payload.isEmpty ? [0] : payload).withUnsafeBytes { raw in
                if sendsBody {
                    arc_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(payload.count))
                    arc_easy_setopt_ptr(easy, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress))
                }
                return curl_easy_perform(easy)
            }
        }
        guard code == CURLE_OK else {
            let detail = String(nulTerminated: errorBuffer)
            let message = collector.overflow ? "the response is larger than \(maxBody) bytes"
                : detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            throw TransferError.network(curlCode: Int32(code.rawValue), url: url, message: message)
        }
        var status = 0
        arc_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return SimpleHTTPResponse(status: status, headers: collector.headers, body: collector.bytes)
    }

    /// What the curl callbacks collect during `curl_easy_perform`.
    private final class Collector {
        let maxBody: Int
        var bytes: [UInt8] = []
        var headers: [(name: String, value: String)] = []
        var overflow = false

        init(maxBody: Int) { self.maxBody = maxBody }

        func body(_ chunk: UnsafeRawBufferPointer) -> Bool {
            guard bytes.count + chunk.count <= maxBody else {
                overflow = true
                return false
            }
            bytes.append(contentsOf: chunk)
            return true
        }

        /// One header line. A status line starts a new response (after a 100 Continue or a
        /// proxy's CONNECT answer), so only the final response's headers are kept.
        func header(_ line: UnsafeRawBufferPointer) {
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
