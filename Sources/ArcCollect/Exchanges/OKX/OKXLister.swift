import ArcCore
import Glibc

/// Makes the manifest calls on a transfer engine and gathers what they list. Its state is
/// touched from the engine's thread only (submissions go through `submitOnLoop`, answers
/// arrive in completions there); `results` and `totals` are read after the engine ends.
final class OKXLister: @unchecked Sendable { // engine thread only, see above
    struct Found: Sendable {
        var request: OKXRequest
        var file: OKXManifest.File
    }

    struct Totals: Sendable {
        var requests = 0
        var files = 0
        var failed = 0
        /// 50011 answers inside a 200, asked again (the engine counts its own retries).
        var retries = 0
    }

    private let engine: TransferEngine
    private let listURL: String
    private let retry: RetryPolicy
    private let log: Logger
    private var found: [Found] = []
    private var seenURLs: Set<String> = []
    private var failedRequests: [OKXRequest] = []
    /// Calls not yet answered for good (a 50011 being waited out counts).
    private var outstanding = 0
    private let counts = Locked(Totals())

    init(engine: TransferEngine, listURL: String, retry: RetryPolicy, log: Logger) {
        self.engine = engine
        self.listURL = listURL
        self.retry = retry
        self.log = log
    }

    var totals: Totals { counts.current }

    /// Every file listed, once each (the funding file of all swaps is listed for every
    /// instrument asked about), sorted by symbol, then day.
    var results: [Found] {
        found.sorted { ($0.file.instrument, $0.file.filename) < ($1.file.instrument, $1.file.filename) }
    }

    func failedPrefixes(_ dataset: OKXDataset) -> Set<String> {
        Set(failedRequests.flatMap { r in r.instruments.map { OKXSource.catalogPrefix(dataset, r.market, $0) } })
    }

    /// Sends every call; the engine finishes once all are answered.
    func start(_ requests: [OKXRequest]) {
        for r in requests { submit(r) }
        if outstanding == 0 { engine.finishWhenIdle() }
    }

    /// Sends one call; an answer of 50011 inside a 200 (too many requests) is asked again
    /// after a backoff, like the 429 the engine retries itself.
    func submit(_ request: OKXRequest, attempt: Int = 1) {
        let url = listURL + "api/v5/public/market-data-history?" + request.query
        let sink = MemorySink()
        if attempt == 1 {
            outstanding += 1
            counts.withLock { $0.requests += 1 }
        }
        engine.submit(Transfer(TransferRequest(url: url, retry: retry), sink: sink) { [self] result, _ in
            switch result {
            case .success:
                do {
                    let files = try OKXManifest.parse(sink.bytes)
                    for f in files where seenURLs.insert(f.url).inserted { found.append(Found(request: request, file: f)) }
                    counts.withLock { $0.files = found.count }
                } catch let e as OKXManifest.APIError where e.apiCode == OKXManifest.tooManyRequests && attempt < retry.maxAttempts {
                    let delay = retry.delay(afterAttempt: attempt)
                    counts.withLock { $0.retries += 1 }
                    engine.reportRetry(RetryNotice(url: url, attempt: attempt, maxAttempts: retry.maxAttempts, delay: delay, error: e))
                    resubmit(request, attempt: attempt + 1, after: delay)
                    return
                } catch {
                    fail(request, url: url, error)
                }
            case .failure(.cancelled):
                break
            case .failure(let error):
                if case .http(_, _, let detail) = error, let apiError = OKXManifest.apiError(inBody: detail) {
                    fail(request, url: url, apiError)
                } else {
                    fail(request, url: url, error)
                }
            }
            outstanding -= 1
            if outstanding == 0 { engine.finishWhenIdle() }
        })
    }

    private func resubmit(_ request: OKXRequest, attempt: Int, after delay: Double) {
        // The engine has no timer for work of ours: a thread sleeps the backoff, then hands
        // the call back to the engine's thread.
        WorkerThread(name: "okx-backoff") { [self] in
            usleep(UInt32(min(delay, 60) * 1_000_000))
            engine.submitOnLoop { self.submit(request, attempt: attempt) }
        }.detach()
    }

    private func fail(_ request: OKXRequest, url: String, _ error: Error) {
        failedRequests.append(request)
        counts.withLock { $0.failed += 1 }
        log.error("okx: \(error) (instruments \(request.instruments.joined(separator: ",")), days \(request.first) to \(request.last))",
                  ["url": .string(url), "code": .string((error as? ArcError)?.code.rawValue ?? "error")])
    }
}
