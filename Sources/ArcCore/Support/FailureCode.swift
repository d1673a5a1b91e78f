/// The machine-readable name of what went wrong (snake_case): the `code` of an error in
/// result records, logs and metric labels. Compared as values (`code == .interrupted`),
/// never as strings.
///
/// A struct with static members rather than an enum, so each tool family declares its own
/// codes beside its own errors (`extension FailureCode { static let bad_cron... }`) and the
/// core does not list every tool's. The core's, shared by every tool, are here.
public struct FailureCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }
}

extension FailureCode {
    // Input and usage
    public static let usage = FailureCode("usage")
    public static let badRecord = FailureCode("bad_record")
    public static let badField = FailureCode("bad_field")
    // The system
    public static let unavailable = FailureCode("unavailable")
    public static let diskFull = FailureCode("disk_full")
    public static let permissionDenied = FailureCode("permission_denied")
    public static let notFound = FailureCode("not_found")
    public static let ioError = FailureCode("io_error")
    public static let brokenPipe = FailureCode("broken_pipe")
    public static let storeBusy = FailureCode("store_busy")
    public static let storeError = FailureCode("store_error")
    // Transfers
    public static let forbidden = FailureCode("forbidden")
    public static let unauthorized = FailureCode("unauthorized")
    public static let serverError = FailureCode("server_error")
    public static let httpError = FailureCode("http_error")
    public static let connectionFailed = FailureCode("connection_failed")
    public static let connectionLost = FailureCode("connection_lost")
    public static let timeout = FailureCode("timeout")
    public static let networkError = FailureCode("network_error")
    public static let interrupted = FailureCode("interrupted")
    public static let bodyTooLarge = FailureCode("body_too_large")
    public static let checksumMismatch = FailureCode("checksum_mismatch")
    public static let sizeMismatch = FailureCode("size_mismatch")
    /// libcurl refused to set a request up: no request was sent.
    public static let transferSetupFailed = FailureCode("transfer_setup_failed")
    // S3
    public static let badListing = FailureCode("bad_listing")
    public static let s3Error = FailureCode("s3_error")
    public static let credentialsRejected = FailureCode("credentials_rejected")
    public static let noSuchBucket = FailureCode("no_such_bucket")
    public static let accessDenied = FailureCode("access_denied")
    /// The object changed between the listing and the transfer (If-Match failed).
    public static let changedDuringTransfer = FailureCode("changed_during_transfer")
}
