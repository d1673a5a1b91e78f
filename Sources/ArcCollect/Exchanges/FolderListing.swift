import ArcCore

/// A file a folder listing found: from an S3 listing (size, ETag, time) or from an HTML
/// index page (the size, when the page shows it in bytes).
public struct ListedFile: Sendable {
    public var key: String
    public var size: Int64?
    public var etag: String?
    public var lastModified: String?
}

/// One answer for a folder: its sub-folders (full prefixes ending in `/`) and files.
public struct FolderPage: Sendable {
    public var folders: [String] = []
    public var files: [ListedFile] = []
}

/// Lists folders of a public archive through the transfer engine, many at once, either by
/// the bucket's S3 listing (ListObjects v1 with `/` as delimiter, page after page from a
/// marker) or by the CDN's HTML index pages (one page a folder, everything at once; the
/// marker is then applied here). A source walks its tree with `list` and decides, page by
/// page, whether to go on; the engine is told to finish when the last listing is done.
///
/// Everything runs on the engine thread (from completion handlers) but `totals`, which the
/// progress line reads from its own thread, behind a lock.
public final class FolderListing: @unchecked Sendable { // confined to the engine thread but `counts`, which has its own lock
    public enum Backend: Sendable {
        /// The bucket's ListObjects endpoint (path style, without the query); page size
        /// (`max-keys`) when set.
        case s3(listURL: String, pageSize: Int?)
        /// The base URL of the HTML index: a folder `a/b/` is the page `BASE/a/b/`.
        case htmlIndex(baseURL: String)
    }

    public struct Totals: Sendable {
        public var requests = 0
        public var failedRequests = 0
    }

    public let backend: Backend
    private let engine: TransferEngine
    private let retry: RetryPolicy
    private let log: Logger
    private let pageDone: () -> Void
    private var outstanding = 0
    private let counts = Locked(Totals())
    public var totals: Totals { counts.current }

    public init(backend: Backend, engine: TransferEngine, retry: RetryPolicy, log: Logger, pageDone: @escaping () -> Void) {
        self.backend = backend
        self.engine = engine
        self.retry = retry
        self.log = log
        self.pageDone = pageDone
    }

    /// Lists the keys under `prefix` (a folder `a/b/`, or a name prefix inside one,
    /// `a/b/NAME_`) after `marker`. `handle` gets each page and says whether the next one
    /// is wanted; it is not called for a listing that failed for good (logged, counted).
    public func list(_ prefix: String, marker: String?, handle: @escaping (FolderPage, _ hasMore: Bool) -> Bool) {
        switch backend {
        case .s3(let listURL, let pageSize):
            let query = ListObjects.query(prefix: prefix, delimiter: "/", marker: marker, maxKeys: pageSize)
            request(listURL + "?" + query, prefix: prefix) { body in
                let page = try ListObjects.parse(body)
                let next = try page.continuation(after: marker)
                var answer = FolderPage()
                answer.folders = page.commonPrefixes.filter { $0.hasPrefix(prefix) && $0 != prefix }
                answer.files = page.objects.filter { $0.key.hasPrefix(prefix) && $0.key != prefix }.map {
                    ListedFile(key: $0.key, size: $0.size, etag: $0.etag.isEmpty ? nil : $0.etag,
                               lastModified: WallClock.parseRFC3339($0.lastModified).map(WallClock.rfc3339(millis:))
                                   ?? ($0.lastModified.isEmpty ? nil : $0.lastModified))
                }
                return { [self] in
                    if handle(answer, next != nil), let next { list(prefix, marker: next, handle: handle) }
                }
            }
        case .htmlIndex(let baseURL):
            let folder = prefix.lastIndex(of: "/").map { String(prefix[...$0]) } ?? ""
            request(baseURL + "/" + URLEncoding.path(folder), prefix: prefix) { body in
                let entries = try HTMLIndex.parse(body, pagePath: "/" + folder)
                var answer = FolderPage()
                for entry in entries {
                    let key = folder + entry.name
                    guard key.hasPrefix(prefix), marker.map({ $0.utf8.lexicographicallyPrecedes(key.utf8) }) ?? true else { continue }
                    if entry.isFolder { answer.folders.append(key) } else { answer.files.append(ListedFile(key: key, size: entry.size)) }
                }
                // S3 answers in byte order; index pages need not.
                answer.folders.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                answer.files.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                return { _ = handle(answer, false) }
            }
        }
    }

    /// Call once the first listings are submitted: a walk with nothing to list ends here.
    public func started() {
        if outstanding == 0 { engine.finishWhenIdle() }
    }

    /// GETs `url`; `parse` reads the body (throwing for a bad one) and returns what to do
    /// with it, run before the walk is checked for its end (so follow-up listings count).
    private func request(_ url: String, prefix: String, parse: @escaping ([UInt8]) throws -> () -> Void) {
        let parse = EngineThreadOnly(parse)
        outstanding += 1
        counts.withLock { $0.requests += 1 }
        let sink = MemorySink()
        engine.submit(Transfer(TransferRequest(url: url, retry: retry), sink: sink) { [self] result, _ in
            outstanding -= 1
            switch result {
            case .success:
                do { try parse.value(sink.bytes)() } catch { fail(prefix, error) }
            case .failure(let error):
                if case .cancelled = error {} else { fail(prefix, error) }
            }
            pageDone()
            if outstanding == 0 { engine.finishWhenIdle() }
        })
    }

    private func fail(_ prefix: String, _ error: Error) {
        counts.withLock { $0.failedRequests += 1 }
        log.listingFailed(prefix, error)
    }
}

/// A closure made and called on the engine thread only, carried through the engine's
/// `@Sendable` completion handler.
private struct EngineThreadOnly<T>: @unchecked Sendable { // used on the engine thread only
    let value: T
    init(_ value: T) { self.value = value }
}
