import Glibc
import ArcCore

/// What every s3x command works with: the clients (destination side and source side), the
/// transfer engine they share, the output, and the settings from the global options.
public final class S3xContext: Sendable {
    public let parsed: ParsedCommand
    public let log: Logger
    public let engine: TransferEngine
    /// The client for destinations, and for sources when no --source-* option is given.
    public let client: S3Client
    /// The client for s3:// sources; the same object as `client` unless --source-* is given.
    public let sourceClient: S3Client
    public let output: EventOutput
    public let numWorkers: Int
    public let region: String
    public let dryRun: Bool
    public let listV1: Bool
    /// A span per object moved, under the run's span, when tracing.
    public let telemetry: Telemetry
    /// What `stop` runs besides cancelling the engine (a mover's cancel), and whether it ran.
    private let stopping = Locked((stopped: false, hooks: [@Sendable () -> Void]()))

    /// Runs `hook` when the run is stopped, or at once when it has been.
    func onStop(_ hook: @escaping @Sendable () -> Void) {
        let stopped: Bool = stopping.withLock {
            if !$0.stopped { $0.hooks.append(hook) }
            return $0.stopped
        }
        if stopped { hook() }
    }

    /// True once the run was stopped (SIGINT, SIGTERM).
    var stopped: Bool { stopping.withLock { $0.stopped } }

    /// Sends what must still go out after a stop, when the run's engine is cancelled (an
    /// upload with nothing to resume from, aborted): on an engine of its own, briefly.
    func afterStop<T>(_ work: (S3Client) throws -> T) rethrows -> T {
        let engine = TransferEngine(TransferConfiguration(maxConcurrent: 2, connectTimeout: 2, stallTimeout: 5,
                                                          attemptTimeout: 10, userAgent: "s3x/\(Tool.version)"))
        engine.start()
        defer {
            engine.finishWhenIdle()
            engine.wait()
        }
        return try work(client.using(engine, retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.1, maxDelay: 0.5)))
    }

    /// Stops the run (SIGINT, SIGTERM): no object waiting for a slot starts, and every
    /// transfer in flight or queued ends cancelled.
    public func stop() {
        let hooks: [@Sendable () -> Void] = stopping.withLock { state in
            state.stopped = true
            defer { state.hooks = [] }
            return state.hooks
        }
        hooks.forEach { $0() }
        engine.cancelAll()
    }

    /// A context over clients and an output made by the caller (a test's client on its own
    /// engine, pointed at a local server). The engine is the caller's to start and finish.
    init(parsed: ParsedCommand, log: Logger, telemetry: Telemetry, engine: TransferEngine, client: S3Client,
         sourceClient: S3Client? = nil, output: EventOutput, numWorkers: Int, region: String,
         dryRun: Bool = false, listV1: Bool = false) {
        self.parsed = parsed
        self.log = log
        self.telemetry = telemetry
        self.engine = engine
        self.client = client
        self.sourceClient = sourceClient ?? client
        self.output = output
        self.numWorkers = numWorkers
        self.region = region
        self.dryRun = dryRun
        self.listV1 = listV1
    }

    /// The context from s3x's command line and the environment, its engine started.
    convenience init(_ context: ToolContext) throws {
        let log = context.log
        let p = context.parsed
        let numWorkers = try p.int("numworkers", range: 1...4096) ?? 64
        let retries = try p.int("retry-count", range: 0...100) ?? 5
        let bandwidth = try p.value("bwlimit").map(Self.parseRate) ?? 0
        _ = OpenFileLimit.raise()
        let engine = TransferEngine(TransferConfiguration(maxConcurrent: numWorkers, maxConnections: numWorkers + 8,
                                                          stallTimeout: 60, userAgent: "s3x/\(Tool.version)",
                                                          bufferSize: 256 * 1024, bandwidthLimit: bandwidth))
        // A retry may still succeed: a warning. An object that fails for good is an error (EventOutput).
        engine.onRetry = { [log] in log.log(.warn, $0.message, fields: $0.logFields) }
        let retry = RetryPolicy(maxAttempts: retries + 1, baseDelay: 0.2, maxDelay: 20)
        let style = AddressingStyle(rawValue: p.value("addressing") ?? "auto") ?? .auto

        let environment = ProcessEnvironment.all
        let resolver = CredentialsResolver(profile: p.value("profile"), environment: environment, home: environment["HOME"])
        let region = p.value("region") ?? resolver.region() ?? "us-east-1"
        let endpointURL = p.value("endpoint-url") ?? environment["AWS_ENDPOINT_URL_S3"].nonEmpty
            ?? environment["AWS_ENDPOINT_URL"].nonEmpty ?? resolver.endpointURL()
        let credentials = p.flag("no-sign-request") ? nil : try resolver.resolve()
        if credentials == nil && !p.flag("no-sign-request") {
            log.debug("no credentials found: sending anonymous requests")
        }
        let client = S3Client(engine: engine, endpoint: try S3Endpoint(url: endpointURL, region: region, style: style),
                              credentials: credentials, region: region, retry: retry)

        var sourceClient: S3Client?
        let sourceGiven = ["source-endpoint-url", "source-region", "source-profile", "source-no-sign-request"]
            .contains { p.values[$0] != nil }
        if sourceGiven {
            let sourceResolver = CredentialsResolver(profile: p.value("source-profile") ?? p.value("profile"),
                                                     environment: environment, home: environment["HOME"])
            let sourceRegion = p.value("source-region") ?? region
            let sourceCredentials = p.flag("source-no-sign-request") ? nil : try sourceResolver.resolve()
            sourceClient = S3Client(engine: engine,
                                    endpoint: try S3Endpoint(url: p.value("source-endpoint-url") ?? endpointURL,
                                                             region: sourceRegion, style: style),
                                    credentials: sourceCredentials, region: sourceRegion, retry: retry)
        }
        self.init(parsed: p, log: log, telemetry: context.telemetry, engine: engine, client: client,
                  sourceClient: sourceClient, output: EventOutput(json: p.flag("json"), quiet: context.quiet, log: log),
                  numWorkers: numWorkers, region: region, dryRun: p.flag("dry-run"), listV1: p.flag("list-v1"))
        engine.start()
    }

    /// True when S3-to-S3 copies can happen inside S3 (one endpoint, one identity).
    public var serverSideCopy: Bool { sourceClient === client }

    /// `50M`, `1.5G`, `800K`, `1000`: bytes per second.
    static func parseRate(_ text: String) throws -> Int64 {
        var digits = Substring(text)
        var scale: Double = 1
        switch digits.last.map({ Character($0.uppercased()) }) {
        case "K": scale = 1024; digits = digits.dropLast()
        case "M": scale = 1024 * 1024; digits = digits.dropLast()
        case "G": scale = 1024 * 1024 * 1024; digits = digits.dropLast()
        default: break
        }
        guard let v = Double(digits), v > 0 else {
            throw UsageError("--bwlimit: expected a rate such as 500K, 50M or 1G, got '\(text)'")
        }
        return Int64(v * scale)
    }

    /// Waits for every transfer, then stops the engine.
    func finish() {
        engine.finishWhenIdle()
        engine.wait()
    }
}

extension Optional where Wrapped == String {
    var nonEmpty: String? {
        guard let s = self, !s.isEmpty else { return nil }
        return s
    }
}
