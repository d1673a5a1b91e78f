/// A failed S3 request: the HTTP status and S3's own error code and message (from the
/// XML body), or the network failure underneath.
public struct S3Error: ArcError {
    public let operation: String
    public let resource: String
    public let status: Int
    /// S3's code (`NoSuchKey`, `SignatureDoesNotMatch`...), empty when none was sent.
    public let s3Code: String
    public let message: String
    public let transfer: TransferError?

    public init(operation: String, resource: String, status: Int, s3Code: String, message: String,
                transfer: TransferError? = nil) {
        self.operation = operation
        self.resource = resource
        self.status = status
        self.s3Code = s3Code
        self.message = message
        self.transfer = transfer
    }

    /// From an engine failure; the XML error body's Code and Message are in its detail.
    init(operation: String, resource: String, _ error: TransferError) {
        var status = 0, code = "", message = error.description
        if case .http(let s, _, let detail) = error {
            status = s
            let parts = detail.split(separator: ":", maxSplits: 1)
            if parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy({ $0.isLetter || $0.isNumber }) {
                code = String(parts[0])
                message = parts[1].trimmed()
            } else if !detail.isEmpty, detail.allSatisfy({ $0.isLetter || $0.isNumber }) {
                // An error document with a Code and no Message (rclone's NoSuchKey), or whose
                // Message was cut off: the code still says what happened.
                code = detail
                message = "HTTP \(s)"
            } else if !detail.isEmpty {
                message = detail
            } else {
                message = "HTTP \(s)"
            }
        }
        self.init(operation: operation, resource: resource, status: status, s3Code: code, message: message, transfer: error)
    }

    /// Credentials refused: no retry helps, and nothing else will work either.
    public var isAuthFailure: Bool {
        ["InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "AuthorizationHeaderMalformed",
         "InvalidSecurity", "MissingSecurityHeader", "RequestTimeTooSkewed"].contains(s3Code)
    }

    public var isNotFound: Bool { status == 404 || s3Code == "NoSuchKey" || s3Code == "NotFound" }

    /// S3's own codes become ours in snake case (`SlowDown` -> `slow_down`), so every
    /// code S3 may send has a name without a table of them here.
    public var code: FailureCode {
        if let transfer, status == 0 { return transfer.code }
        if isAuthFailure { return .credentialsRejected }
        switch s3Code {
        case "NoSuchKey": return .notFound
        case "NoSuchBucket": return .noSuchBucket
        case "AccessDenied": return .accessDenied
        case "PreconditionFailed": return .changedDuringTransfer
        case "": return transfer?.code ?? .s3Error
        default: return FailureCode(Self.snakeCase(s3Code))
        }
    }

    public var exitStatus: ExitStatus {
        if isAuthFailure { return .unavailable }
        if let transfer, status == 0 { return transfer.exitStatus }
        return .failures
    }

    public var description: String {
        let what = s3Code.isEmpty ? message : "\(s3Code): \(message)"
        if isAuthFailure {
            return "\(operation) \(resource): \(what) (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, --profile and --region)"
        }
        if status == 0 { return "\(operation) \(resource): \(transfer.map { "\($0)" } ?? message)" }
        return "\(operation) \(resource): \(what)"
    }

    /// `SlowDown` -> `slow_down`, `MalformedXML` -> `malformed_xml`,
    /// `XAmzContentSHA256Mismatch` -> `x_amz_content_sha256_mismatch`.
    static func snakeCase(_ s: String) -> String {
        let chars = Array(s)
        var out = ""
        for (i, c) in chars.enumerated() {
            if c.isUppercase, i > 0 {
                let previous = chars[i - 1]
                let nextIsLower = i + 1 < chars.count && chars[i + 1].isLowercase
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && nextIsLower) { out.append("_") }
            }
            out.append(Character(c.lowercased()))
        }
        return out
    }
}
