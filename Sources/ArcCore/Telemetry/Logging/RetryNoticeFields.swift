extension RetryNotice {
    /// `url code attempt max_attempts retry_in_ms`, for the warning a retry is logged as.
    public var logFields: [(String, LogValue)] {
        [("url", .string(url)), ("code", .string(error.code.rawValue)), ("attempt", .int(Int64(attempt))),
         ("max_attempts", .int(Int64(maxAttempts))), ("retry_in_ms", .int(Int64(delay * 1000)))]
    }
}
