/// How a failed attempt is retried: exponential backoff with jitter, so many transfers
/// failing together (a server restart) do not come back in lockstep.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double
    /// Treat 403 as transient: Binance's archive has answered outages with 403 AccessDenied.
    public var retryForbidden: Bool

    public init(maxAttempts: Int = 5, baseDelay: Double = 0.5, maxDelay: Double = 30, retryForbidden: Bool = false) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.retryForbidden = retryForbidden
    }

    /// Seconds to wait after failed attempt `attempt` (1-based): half fixed, half random.
    public func delay(afterAttempt attempt: Int, retryAfter: Double? = nil) -> Double {
        let exponential = min(maxDelay, baseDelay * Double(1 << min(attempt - 1, 20)))
        let jittered = exponential / 2 + Double.random(in: 0...(exponential / 2))
        if let retryAfter { return min(maxDelay, max(jittered, retryAfter)) }
        return jittered
    }

    public func isRetryable(status: Int) -> Bool {
        status >= 500 || status == 408 || status == 429 || (retryForbidden && status == 403)
    }
}

/// One HTTP request to make, with its retry policy.
public struct TransferRequest: Sendable {
    public var url: String
    public var method: Method
    /// Extra request headers, `Name: value`.
    public var headers: [String]
    /// The entity a resumed download must match (If-Range): the ETag known from the listing.
    public var ifRange: String?
    public var retry: RetryPolicy

    public enum Method: String, Sendable {
        case get = "GET", head = "HEAD", put = "PUT", post = "POST", delete = "DELETE"
    }

    public init(url: String, method: Method = .get, headers: [String] = [], ifRange: String? = nil, retry: RetryPolicy) {
        self.url = url
        self.method = method
        self.headers = headers
        self.ifRange = ifRange
        self.retry = retry
    }
}

/// Settings shared by every transfer of an engine.
public struct TransferConfiguration: Sendable {
    /// Transfers in flight at once; more wait their turn.
    public var maxConcurrent: Int
    /// Idle connections kept for reuse; at least `maxConcurrent`.
    public var maxConnections: Int
    public var connectTimeout: Double
    /// A transfer slower than 1 byte/s for this long is cut and retried (a stalled server).
    public var stallTimeout: Double
    /// Hard limit for one attempt; 0 for none.
    public var attemptTimeout: Double
    public var userAgent: String
    public var bufferSize: Int
    /// Bytes a second for all transfers together (`--bwlimit`), shared evenly among the
    /// transfers in flight; 0 for no limit.
    public var bandwidthLimit: Int64
    /// Requests a second per host (`--rate`) and how bans are waited out; none by default.
    public var hostRates = HostRateLimits()

    public init(maxConcurrent: Int = 16, maxConnections: Int? = nil, connectTimeout: Double = 10,
                stallTimeout: Double = 30, attemptTimeout: Double = 0, userAgent: String = "arc/\(ArcVersion.current)",
                bufferSize: Int = 64 * 1024, bandwidthLimit: Int64 = 0) {
        self.maxConcurrent = max(1, maxConcurrent)
        self.maxConnections = max(maxConnections ?? 0, self.maxConcurrent)
        self.connectTimeout = connectTimeout
        self.stallTimeout = stallTimeout
        self.attemptTimeout = attemptTimeout
        self.userAgent = userAgent
        self.bufferSize = bufferSize
        self.bandwidthLimit = max(0, bandwidthLimit)
    }
}
