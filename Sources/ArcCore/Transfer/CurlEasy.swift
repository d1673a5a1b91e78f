import CCurl

/// What a `CurlEasy` handle calls as its request runs, on the thread driving it (inside
/// `curl_multi_perform` or `curl_easy_perform`). Called once per chunk: no allocations here.
protocol CurlEasyDelegate: AnyObject {
    /// Body bytes arrived: `chunk.count` takes them, `CurlEasy.pauseWrite` pauses the
    /// transfer (the same chunk comes again on resume), any other value aborts it.
    func curlBody(_ chunk: UnsafeRawBufferPointer) -> Int
    /// One response header line with its CRLF, status lines included.
    func curlHeader(_ line: UnsafeRawBufferPointer)
    /// The next request body bytes (uploads): how many were put in `buffer`, 0 at the
    /// end, `CurlEasy.pauseRead` or `CurlEasy.abortRead`.
    func curlRead(_ buffer: UnsafeMutableRawBufferPointer) -> Int
}

extension CurlEasyDelegate {
    func curlRead(_ buffer: UnsafeMutableRawBufferPointer) -> Int { 0 }
}

/// One libcurl easy handle: libcurl wrapped once, for the multi engine and SimpleHTTP
/// alike. It owns the handle, the request's header list (curl_slist) and the delegate its
/// callbacks reach, and frees them in `deinit`; every option set is checked, and a refused
/// one throws `TransferError.setup` naming the option. `reset` readies a pooled handle for
/// the next request while libcurl keeps its connections and caches.
///
/// Not thread-safe: one thread drives a handle at a time (the engine's, or the caller's).
final class CurlEasy {
    /// The CURL *, for the multi calls (`curl_multi_add_handle` and friends).
    let handle: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// Kept alive as long as libcurl may call it: the callbacks reach it through `self`.
    private var delegate: (any CurlEasyDelegate)?
    /// libcurl's detail for the last failure (CURLOPT_ERRORBUFFER), NUL-terminated.
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// The request's URL, for errors.
    private(set) var url = ""

    static let pauseWrite = Int(CURL_WRITEFUNC_PAUSE)
    static let pauseRead = Int(CURL_READFUNC_PAUSE)
    static let abortRead = Int(CURL_READFUNC_ABORT)

    init() throws(TransferError) {
        try Curl.checkInitialized()
        guard let handle = arc_curl_easy_init() else {
            throw .setup(url: "", message: "curl_easy_init failed (out of memory?)")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        arc_curl_easy_cleanup(handle)
        arc_curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    /// Starts setting up a request: its URL, the delegate the callbacks reach, and what
    /// every request has (no signals, the error buffer, body and header callbacks). Set
    /// the rest with `set` and `setHeaders`, then perform it.
    func begin(url: String, delegate: any CurlEasyDelegate) throws(TransferError) {
        self.url = url
        self.delegate = delegate
        errorBuffer[0] = 0
        let me = Unmanaged.passUnretained(self).toOpaque()
        try set(CURLOPT_URL, url)
        try check(arc_easy_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errorBuffer), CURLOPT_ERRORBUFFER)
        try set(CURLOPT_NOSIGNAL, 1)
        try check(arc_easy_setopt_data_cb(handle, CURLOPT_WRITEFUNCTION, { ptr, size, count, user in
            CurlEasy.from(user).delegate!.curlBody(UnsafeRawBufferPointer(start: ptr, count: size * count))
        }), CURLOPT_WRITEFUNCTION)
        try check(arc_easy_setopt_ptr(handle, CURLOPT_WRITEDATA, me), CURLOPT_WRITEDATA)
        try check(arc_easy_setopt_data_cb(handle, CURLOPT_HEADERFUNCTION, { ptr, size, count, user in
            CurlEasy.from(user).delegate!.curlHeader(UnsafeRawBufferPointer(start: ptr, count: size * count))
            return size * count
        }), CURLOPT_HEADERFUNCTION)
        try check(arc_easy_setopt_ptr(handle, CURLOPT_HEADERDATA, me), CURLOPT_HEADERDATA)
    }

    /// Sends a body of `length` bytes read through the delegate's `curlRead` (PUT, or a
    /// POST with CURLOPT_CUSTOMREQUEST).
    func upload(length: Int64) throws(TransferError) {
        try set(CURLOPT_UPLOAD, 1)
        try set(CURLOPT_INFILESIZE_LARGE, Int(length))
        try check(arc_easy_setopt_data_cb(handle, CURLOPT_READFUNCTION, { ptr, size, count, user in
            CurlEasy.from(user).delegate!.curlRead(UnsafeMutableRawBufferPointer(start: ptr, count: size * count))
        }), CURLOPT_READFUNCTION)
        try check(arc_easy_setopt_ptr(handle, CURLOPT_READDATA, Unmanaged.passUnretained(self).toOpaque()), CURLOPT_READDATA)
    }

    /// Sends `body` as it is (libcurl copies it): small control requests.
    func post(_ body: [UInt8]) throws(TransferError) {
        // The size first: COPYPOSTFIELDS copies that many bytes (a NUL inside is data).
        try set(CURLOPT_POSTFIELDSIZE_LARGE, body.count)
        let code = (body.isEmpty ? [0] : body).withUnsafeBytes {
            arc_easy_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress))
        }
        try check(code, CURLOPT_COPYPOSTFIELDS)
    }

    /// A number option (`long` or `curl_off_t`, whichever the option takes).
    func set(_ option: CURLoption, _ value: Int) throws(TransferError) {
        switch option.rawValue / 10_000 * 10_000 {
        case UInt32(CURLOPTTYPE_LONG): try check(arc_easy_setopt_long(handle, option, value), option)
        case UInt32(CURLOPTTYPE_OFF_T): try check(arc_easy_setopt_off(handle, option, curl_off_t(value)), option)
        default: preconditionFailure("curl option \(option.rawValue) does not take a number")
        }
    }

    /// A string option; libcurl keeps its own copy.
    func set(_ option: CURLoption, _ value: String) throws(TransferError) {
        precondition(option.rawValue / 10_000 * 10_000 == UInt32(CURLOPTTYPE_OBJECTPOINT),
                     "curl option \(option.rawValue) does not take a string")
        try check(arc_easy_setopt_str(handle, option, value), option)
    }

    /// The request's header lines (`Name: value`; `Name:` removes one libcurl would add),
    /// replacing any set before.
    func setHeaders(_ lines: [String]) throws(TransferError) {
        var list: UnsafeMutablePointer<curl_slist>?
        for line in lines {
            guard let longer = arc_curl_slist_append(list, line) else {
                arc_curl_slist_free_all(list)
                throw .setup(url: url, message: "curl_slist_append failed (out of memory)")
            }
            list = longer
        }
        let code = arc_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        // libcurl holds on to the list until the handle is reset or gets another one.
        arc_curl_slist_free_all(headerList)
        headerList = list
        try check(code, CURLOPT_HTTPHEADER)
    }

    /// Readies the handle for another request: options back to their defaults, the header
    /// list freed, the delegate let go. Connections, DNS and TLS caches stay.
    func reset() {
        arc_curl_easy_reset(handle)
        arc_curl_slist_free_all(headerList)
        headerList = nil
        delegate = nil
        url = ""
    }

    /// Pauses or resumes (`CURLPAUSE_CONT`) a transfer.
    func pause(_ bitmask: Int32) throws(TransferError) {
        let code = arc_curl_easy_pause(handle, bitmask)
        guard code == CURLE_OK else { throw .setup(url: url, message: "curl_easy_pause: " + Self.text(code)) }
    }

    /// Runs the request on this thread (SimpleHTTP; the engine drives handles through
    /// its multi handle instead).
    func perform() -> CURLcode { arc_curl_easy_perform(handle) }

    /// The last response's status; 0 before one arrived.
    var responseCode: Int {
        var status = 0
        return arc_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK ? status : 0
    }

    /// Why the last request failed, in libcurl's words: the error buffer's detail, else the code's text.
    func failureMessage(_ code: CURLcode) -> String {
        errorBuffer[0] != 0 ? String(cString: UnsafePointer(errorBuffer)) : Self.text(code)
    }

    static func text(_ code: CURLcode) -> String { String(cString: arc_curl_easy_strerror(code)) }

    /// libcurl's name for an option (`CURLOPT_URL`), for errors.
    static func name(_ option: CURLoption) -> String {
        guard let info = arc_curl_easy_option_by_id(option), let name = info.pointee.name else { return "option \(option.rawValue)" }
        return "CURLOPT_" + String(cString: name)
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws(TransferError) {
        guard code != CURLE_OK else { return }
        throw .setup(url: url, message: "curl_easy_setopt(\(Self.name(option))): \(Self.text(code)) (curl error \(code.rawValue))")
    }

    @inline(__always)
    private static func from(_ user: UnsafeMutableRawPointer?) -> CurlEasy {
        Unmanaged<CurlEasy>.fromOpaque(user!).takeUnretainedValue()
    }
}

/// Process-wide libcurl set-up, done once before any thread uses it.
public enum Curl {
    private static let initialized: CURLcode = arc_curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    public static func ensureInitialized() { _ = initialized }

    /// Throws when libcurl could not set itself up (then no request can work).
    static func checkInitialized() throws(TransferError) {
        guard initialized == CURLE_OK else {
            throw .setup(url: "", message: "curl_global_init: " + CurlEasy.text(initialized))
        }
    }

    public static var version: String { String(cString: arc_curl_version()) }

    /// A multi call's error, in libcurl's words.
    static func text(_ code: CURLMcode) -> String { String(cString: arc_curl_multi_strerror(code)) }
}
