import CCurl

/// Why a transfer failed, after its retries.
public enum TransferError: ArcError {
    /// The server answered with an error status.
    case http(status: Int, url: String, detail: String)
    /// The connection failed, timed out, or was cut (libcurl's error code and text).
    case network(curlCode: Int32, url: String, message: String)
    /// Writing what arrived failed (disk full, permissions).
    case sink(url: String, error: Error)
    /// Stopped by a signal or by `--fail-fast`.
    case cancelled(url: String)
    /// libcurl refused to set the request up (an option it rejects or was built without,
    /// out of memory): no request was sent, and another attempt would fare no better.
    case setup(url: String, message: String)

    public var code: FailureCode {
        switch self {
        case .http(let status, _, _):
            switch status {
            case 404: return .notFound
            case 403: return .forbidden
            case 401: return .unauthorized
            default: return status >= 500 ? .serverError : .httpError
            }
        case .network(let curlCode, _, _):
            switch CURLcode(UInt32(curlCode)) {
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .connectionFailed
            case CURLE_OPERATION_TIMEDOUT: return .timeout
            case CURLE_PARTIAL_FILE, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING: return .connectionLost
            default: return .networkError
            }
        case .sink(_, let error): return (error as? ArcError)?.code ?? .ioError
        case .cancelled: return .interrupted
        case .setup: return .transferSetupFailed
        }
    }

    public var exitStatus: ExitStatus {
        switch self {
        case .network: return .unavailable
        default: return .failures
        }
    }

    public var description: String {
        switch self {
        case .http(let status, let url, let detail):
            return "\(url): HTTP \(status)" + (detail.isEmpty ? "" : " (\(detail))")
        case .network(_, let url, let message): return "\(url): \(message)"
        case .sink(_, let error): return "\(error)"
        case .cancelled(let url): return "\(url): cancelled"
        case .setup(let url, let message): return url.isEmpty ? message : "\(url): \(message)"
        }
    }

    /// libcurl errors worth another attempt: the network, not the request, failed.
    static func isRetryable(curlCode: CURLcode) -> Bool {
        switch curlCode {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_OPERATION_TIMEDOUT, CURLE_PARTIAL_FILE,
             CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_SSL_CONNECT_ERROR, CURLE_HTTP2,
             CURLE_HTTP2_STREAM, CURLE_WEIRD_SERVER_REPLY, CURLE_HTTP3, CURLE_QUIC_CONNECT_ERROR:
            return true
        default:
            return false
        }
    }
}
