/// One S3 request, before addressing and signing.
public struct S3Request: Sendable {
    /// For messages: "PutObject", "ListObjectsV2"...
    public var operation: String
    public var method: TransferRequest.Method
    public var bucket: String?
    public var key: String?
    public var query: [(String, String)]
    public var headers: [(String, String)]
    public var body: UploadBody?
    /// The payload's SHA-256 when known (signed, so S3 checks it); else UNSIGNED-PAYLOAD.
    public var payloadHash: String?
    public var ifRange: String?
    /// CopyObject, UploadPartCopy and CompleteMultipartUpload can fail inside a 200 answer.
    public var errorIn200: Bool

    public init(_ operation: String, _ method: TransferRequest.Method, bucket: String?, key: String? = nil,
                query: [(String, String)] = [], headers: [(String, String)] = [], body: UploadBody? = nil,
                payloadHash: String? = nil, ifRange: String? = nil, errorIn200: Bool = false) {
        self.operation = operation
        self.method = method
        self.bucket = bucket
        self.key = key
        self.query = query
        self.headers = headers
        self.body = body
        self.payloadHash = payloadHash
        self.ifRange = ifRange
        self.errorIn200 = errorIn200
    }

    var resource: String {
        guard let bucket else { return "s3://" }
        return "s3://\(bucket)/\(key ?? "")"
    }
}

public struct S3Response: Sendable {
    public var status: Int
    public var headers: ResponseHeaders
    /// The body, when it went to the default memory sink.
    public var body: [UInt8]
    public var attempts: Int
    public var bytesReceived: Int64
}

public typealias S3Completion = @Sendable (Result<S3Response, S3Error>) -> Void

/// S3 over the transfer engine: addresses, signs (afresh for each attempt) and sends
/// requests, and turns failures into `S3Error`s. Asynchronous calls complete on the
/// engine thread; `perform` waits, for commands that make a handful of requests.
public final class S3Client: Sendable {
    public let engine: TransferEngine
    public let endpoint: S3Endpoint
    public let signer: SigV4?
    public let retry: RetryPolicy

    /// `credentials` nil: anonymous requests (public buckets, `--no-sign-request`).
    public init(engine: TransferEngine, endpoint: S3Endpoint, credentials: S3Credentials?, region: String,
                retry: RetryPolicy) {
        self.engine = engine
        self.endpoint = endpoint
        self.signer = credentials.map { SigV4(credentials: $0, region: region) }
        self.retry = retry
    }

    private init(engine: TransferEngine, endpoint: S3Endpoint, signer: SigV4?, retry: RetryPolicy) {
        self.engine = engine
        self.endpoint = endpoint
        self.signer = signer
        self.retry = retry
    }

    /// The same endpoint and identity over another engine: for a request that must still go
    /// out once this client's engine was cancelled (aborting an upload after SIGINT).
    public func using(_ engine: TransferEngine, retry: RetryPolicy) -> S3Client {
        S3Client(engine: engine, endpoint: endpoint, signer: signer, retry: retry)
    }

    public func send(_ request: S3Request, sink: TransferSink? = nil, completion: @escaping S3Completion) {
        send(request, sink: sink, attempt: 1, completion: completion)
    }

    /// S3 codes inside a 200 answer that mean "try again", as a 500 or 503 would.
    static let transientCodes: Set<String> = ["InternalError", "SlowDown", "ServiceUnavailable", "RequestTimeout"]

    private func send(_ request: S3Request, sink: TransferSink?, attempt: Int, completion: @escaping S3Completion) {
        let (base, host, path) = endpoint.locate(bucket: request.bucket, key: request.key)
        let query = SigV4.canonicalQuery(request.query)
        let url = query.isEmpty ? base : base + "?" + query
        var transferRequest = TransferRequest(url: url, method: request.method,
                                              headers: request.headers.map { "\($0.0): \($0.1)" },
                                              ifRange: request.ifRange, retry: retry)
        if request.method == .post && request.body == nil {
            transferRequest.headers.append("Content-Length: 0")
        }
        let memory = sink == nil ? MemorySink(limit: 64 << 20) : nil
        let signing: (@Sendable () -> [String])? = signer.map { signer in
            let payload = request.payloadHash ?? (request.body == nil ? SigV4.emptyPayload : SigV4.unsignedPayload)
            return {
                signer.sign(method: request.method.rawValue, host: host, path: path, query: request.query,
                            headers: request.headers, payloadHash: payload).map { "\($0.0): \($0.1)" }
            }
        }
        let transfer = Transfer(transferRequest, sink: sink ?? memory!, body: request.body, attemptHeaders: signing) { result, attempts in
            switch result {
            case .success(let response):
                let body = memory?.bytes ?? []
                if request.errorIn200, let error = Self.errorDocument(body, request: request, status: response.status) {
                    if Self.transientCodes.contains(error.s3Code) && attempt < self.retry.maxAttempts {
                        self.engine.reportRetry(RetryNotice(url: url, attempt: attempt, maxAttempts: self.retry.maxAttempts,
                                                            delay: 0, error: error))
                        try? request.body?.rewind()
                        return self.send(request, sink: sink, attempt: attempt + 1, completion: completion)
                    }
                    return completion(.failure(error))
                }
                completion(.success(S3Response(status: response.status, headers: response.headers, body: body,
                                               attempts: attempts, bytesReceived: response.bytesReceived)))
            case .failure(let error):
                completion(.failure(S3Error(operation: request.operation, resource: request.resource, error)))
            }
        }
        engine.submit(transfer)
    }

    /// Sends and waits. Never call it on the engine thread (from a completion handler).
    public func perform(_ request: S3Request, sink: TransferSink? = nil) throws -> S3Response {
        let done = BlockingQueue<Result<S3Response, S3Error>>(capacity: 1)
        send(request, sink: sink) { done.put($0) }
        return try done.take()!.get()
    }

    /// A presigned GET (or other method) URL valid for `expires` seconds.
    public func presign(method: String = "GET", bucket: String, key: String, expires: Int) throws -> String {
        guard let signer else { throw UsageError("presign needs credentials (not --no-sign-request)") }
        let (base, host, path) = endpoint.locate(bucket: bucket, key: key)
        return base + "?" + signer.presignedQuery(method: method, host: host, path: path, query: [], expires: expires)
    }

    static func errorDocument(_ body: [UInt8], request: S3Request, status: Int) -> S3Error? {
        let head = String(decoding: body.prefix(4096), as: UTF8.self)
        guard head.contains("<Error>") || head.contains("<Error ") else { return nil }
        return S3Error(operation: request.operation, resource: request.resource, status: status,
                       s3Code: XMLText.firstElement("Code", in: head) ?? "InternalError",
                       message: XMLText.firstElement("Message", in: head) ?? "error inside a 200 response")
    }
}

extension S3Client {
    /// A client configured the way AWS tools are, from the environment alone: the
    /// credentials chain (anonymous when it finds nothing), the region
    /// (AWS_REGION, AWS_DEFAULT_REGION, the profile, else us-east-1) and the endpoint
    /// (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's endpoint_url, else AWS).
    public static func fromEnvironment(engine: TransferEngine, retry: RetryPolicy,
                                       environment: [String: String] = ProcessEnvironment.all) throws -> S3Client {
        let resolver = CredentialsResolver(profile: nil, environment: environment, home: environment["HOME"])
        let region = resolver.region() ?? "us-east-1"
        let endpoint = environment["AWS_ENDPOINT_URL_S3"].nonEmpty ?? environment["AWS_ENDPOINT_URL"].nonEmpty ?? resolver.endpointURL()
        let style = AddressingStyle(rawValue: environment["ARC_S3_ADDRESSING"] ?? "auto") ?? .auto
        return S3Client(engine: engine, endpoint: try S3Endpoint(url: endpoint, region: region, style: style),
                        credentials: try resolver.resolve(), region: region, retry: retry)
    }
}
