import Glibc
import ArcCore

/// `telem-trace exec -- COMMAND`: COMMAND runs inside this process's root span, with
/// TRACEPARENT naming that span and ARC_TRACE_FILE naming where spans go, so every arc
/// tool it starts (each stage of a shell pipeline) records its spans as children of ours.
enum ExecCommand {
    static func run(_ tool: ToolContext) throws -> ExitStatus {
        let p = tool.parsed
        let command = p.positionals
        guard let program = command.first, !program.isEmpty else { throw UsageError("missing COMMAND") }
        let telemetry = tool.telemetry
        let span = telemetry.root
        span.name = p.value("name") ?? defaultName(command)
        let commandLine = command.joined(separator: " ")
        span.set("command", .string(commandLine))

        // Where the command's spans go. The tools read ARC_TRACE_FILE as their --trace, and
        // OTEL_EXPORTER_OTLP_* they inherit as they are.
        var spool: String?
        if let file = p.value("trace"), !file.isEmpty {
            setenv("ARC_TRACE_FILE", FileSystem.absolute(file), 1)
        } else if OTLPEndpoint.fromEnvironment()?.tracesURL == nil {
            // A wrapper must not be why a job fails: without a spool the command still runs.
            do {
                spool = try makeSpool()
                setenv("ARC_TRACE_FILE", spool!, 1)
            } catch {
                tool.log.warn("spans will not be recorded: \(error)")
            }
        }
        setenv("TRACEPARENT", span.context.traceparent, 1)
        tool.log.trace = span.context

        SignalForwarder.install([SIGINT, SIGTERM, SIGHUP])
        var status: Int32
        var message: String?
        do {
            let child = try Subprocess(executable: try resolve(program), arguments: command, captureStdout: false)
            SignalForwarder.forward(to: child.pid)
            // The status passed on is the shell's (128 + N for signal N); the words say how it
            // ended, since a command may exit 129 itself.
            let ended = child.waitForTermination()
            status = ended.status
            if ended != .exited(0) { message = ended.description }
        } catch let error as ExecError {
            tool.log.error(error.description, ["code": .string(error.code.rawValue)])
            status = error.status
            message = error.description
        } catch let error as SystemError {
            let missing = error.errno == ENOENT
            tool.log.error("\(program): \(missing ? "command not found" : String(cString: strerror(error.errno)))")
            status = missing ? 127 : 126
            message = "cannot run \(program)"
        }
        let endNanos = WallClock.nowNanos()

        if let spool {
            // Not recording through Telemetry: our own span goes into the spool beside the
            // command's, and the spool into the store.
            let record = SpanRecord(
                traceID: span.context.traceID, spanID: span.context.spanID, parentSpanID: span.parentSpanID,
                name: span.name, service: telemetry.tracer.service, startNanos: span.startNanos, endNanos: endNanos,
                status: status == 0 ? .ok : .error, statusMessage: message,
                attributes: [("process.pid", .int(Int64(getpid()))), ("command", .string(commandLine)),
                             ("exit_status", .int(Int64(status)))])
            store(record.redacted, spool: spool, tool)
        }
        tool.log.info("trace \(span.context.traceID): \(message ?? "exit status 0") after \(DurationText.format(endNanos - span.startNanos))",
                      ["exit_status": .int(Int64(status))])
        tool.exit(status, error: message)
    }

    /// `sh -c 'a | b'` -> `sh -c a | b`, cut to 60 characters.
    static func defaultName(_ command: [String]) -> String {
        let line = ([FileSystem.baseName(of: command[0])] + command.dropFirst()).joined(separator: " ")
        return line.count > 60 ? String(line.prefix(59)) + "…" : line
    }

    /// The program's path: as given when it has a slash, else the first in PATH.
    static func resolve(_ program: String) throws -> String {
        if program.contains("/") {
            guard FileSystem.exists(program) else { throw ExecError.notFound(program) }
            guard access(program, X_OK) == 0 else { throw ExecError.notExecutable(program) }
            return program
        }
        guard let path = FileSystem.which(program) else { throw ExecError.notFound(program) }
        return path
    }

    /// A temporary file for the command's span records.
    static func makeSpool() throws -> String {
        let file = try FileSystem.temporaryFile(prefix: "telem-trace")
        close(file.fd)
        return file.path
    }

    /// Appends our span to the spool and ingests the spool. A store that cannot be written
    /// keeps the spool for a later `telem-trace ingest`: the command's status stands.
    static func store(_ record: SpanRecord, spool: String, _ tool: ToolContext) {
        do {
            let exporter = try SpanFileExporter(path: spool)
            exporter.export(record)
            if let problem = exporter.shutdown(deadline: 1) { throw UnavailableError("spool", problem) }
            let outcome = try SpanIngest(store: try TraceStore.open(tool.statePath), log: tool.log)
                .run(paths: [spool], strict: false)
            tool.log.debug("stored \(outcome.spans) spans", ["spans": .int(Int64(outcome.spans))])
            FileSystem.remove(spool)
        } catch {
            tool.log.warn("spans not stored: \(error); they are in \(spool) (telem-trace ingest \(spool))")
        }
    }
}

/// COMMAND could not be started: exit 127 (not found) or 126 (not executable), as shells do.
enum ExecError: ArcError {
    case notFound(String)
    case notExecutable(String)

    var code: FailureCode {
        switch self {
        case .notFound: return .commandNotFound
        case .notExecutable: return .notExecutable
        }
    }
    var status: Int32 {
        switch self {
        case .notFound: return 127
        case .notExecutable: return 126
        }
    }
    var exitStatus: ExitStatus { .unavailable }
    var description: String {
        switch self {
        case .notFound(let p): return "\(p): command not found"
        case .notExecutable(let p): return "\(p): not executable"
        }
    }
}

extension FailureCode {
    static let commandNotFound = FailureCode("command_not_found")
    static let notExecutable = FailureCode("not_executable")
}
