import Glibc
import ArcCore

/// s3x: the entry point. Parses the command line, builds the context (clients, engine,
/// output), runs one command, and turns what happened into the exit status.
public enum S3xCommand {
    public static func main() -> Never {
        Tool.main(spec) { context in try run(context) }
    }

    static func run(_ tool: ToolContext) throws -> ExitStatus {
        let p = tool.parsed
        if let level = p.value("log").flatMap(LogLevel.init(name:)), !p.explicit.contains("log-level") { tool.log.level = level }
        guard p.path.count > 1 else { throw UsageError("missing command") }
        // Before any thread starts: threads inherit the blocked signals.
        let signals = StopSignal.shared
        signals.install()
        let context = try S3xContext(tool)
        signals.onStop { _ in context.stop() }
        let progress = ProgressLine(enabled: !tool.quiet && !["cat", "ls", "uploads"].contains(p.path[1])) {
            let bytes = context.engine.stats.bytesReceived + context.engine.stats.bytesSent
            return "\(context.output.succeeded) objects, \(HumanFormat.bytes(bytes))"
        }
        defer {
            progress.stop()
            if p.flag("stat") { Terminal.stderr.writeLine(context.output.statistics()) }
        }
        do {
            try execute(p.path[1], p, context)
        } catch let error as ArcError where signals.requested && error.code == .interrupted {
            // A request the stop cut short: the exit status says so, not an error line.
        }
        context.finish()
        publishMetrics(context, tool.telemetry)
        if signals.requested { return signals.exitStatus }
        return context.output.exitStatus
    }

    /// `s3x_objects_total{operation,status}`, bytes each way and retries, for the run's metrics.
    static func publishMetrics(_ context: S3xContext, _ telemetry: Telemetry) {
        let m = telemetry.metrics
        m.declare("s3x_objects_total", .counter, help: "objects handled, by operation and status (ok, skipped, failed)")
        for c in context.output.countsByOperation {
            for (status, n) in [("ok", c.ok), ("skipped", c.skipped), ("failed", c.failed)] where n > 0 {
                m.add("s3x_objects_total", Double(n), MetricsRegistry.Labels(["operation": c.operation, "status": status]))
            }
        }
        let stats = context.engine.stats
        m.declare("s3x_bytes_total", .counter, help: "bytes moved over the network, by direction (sent, received)")
        m.add("s3x_bytes_total", Double(stats.bytesSent), MetricsRegistry.Labels(["direction": "sent"]))
        m.add("s3x_bytes_total", Double(stats.bytesReceived), MetricsRegistry.Labels(["direction": "received"]))
        m.declare("s3x_retries_total", .counter, help: "requests retried after a transient failure")
        m.add("s3x_retries_total", Double(stats.retries))
        telemetry.root.set("arc.objects", .int(Int64(context.output.succeeded)))
        telemetry.root.set("arc.failed", .int(Int64(context.output.failed)))
    }

    /// Runs one command line's command; `run` calls it once per input line.
    static func execute(_ command: String, _ p: ParsedCommand, _ context: S3xContext) throws {
        let args = p.positionals
        switch command {
        case "ls": try ListCommand.ls(args.first, p, context)
        case "du": try ListCommand.du(args[0], p, context)
        case "mb": try BucketCommand.make(args[0], context)
        case "rb": try BucketCommand.remove(args[0], context)
        case "head": try BucketCommand.head(args[0], context)
        case "presign": try BucketCommand.presign(args[0], p, context)
        case "uploads": try UploadsCommand.run(args[0], p, context)
        case "rm": try RemoveCommand.run(args, p, context)
        case "cp", "mv": try CopyCommand.run(command, args, p, context)
        case "sync": try SyncCommand.run(args[0], args[1], p, context)
        case "cat": try StreamCommand.cat(args[0], p, context)
        case "pipe": try StreamCommand.pipe(args[0], p, context)
        case "run": try RunCommand.run(args.first, context)
        default: throw UsageError("unknown command '\(command)'")
        }
    }

    /// The move options from cp, mv, sync and pipe's flags.
    static func moveOptions(_ p: ParsedCommand) throws -> MoveOptions {
        var o = MoveOptions()
        let mib: Int64 = 1 << 20
        o.partSize = Int64(try p.int("part-size", range: 5...5120) ?? 50) * mib
        o.partsInFlight = try p.int("concurrency", range: 1...1000) ?? 5
        o.multipartThreshold = Int64(try p.int("multipart-threshold", range: 0...Int.max) ?? Int(o.partSize))
        o.copyThreshold = Int64(try p.int("copy-threshold", range: 1...(5 << 30)) ?? (5 << 30))
        o.contentType = p.value("content-type")
        if let v = p.value("cache-control") { o.headers.append(("Cache-Control", v)) }
        if let v = p.value("expires") { o.headers.append(("Expires", v)) }
        if let v = p.value("storage-class") { o.headers.append(("x-amz-storage-class", v)) }
        if let v = p.value("acl") { o.headers.append(("x-amz-acl", v)) }
        for pair in p.values["metadata"] ?? [] {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw UsageError("--metadata: expected KEY=VALUE, got '\(pair)'")
            }
            o.headers.append(("x-amz-meta-" + pair[..<eq].lowercased(), String(pair[pair.index(after: eq)...])))
        }
        // pipe always verifies; sync decides by its own rules, not cp's -n, -s and -u.
        o.verify = !(p.declares("no-verify") && p.flag("no-verify"))
        o.noClobber = p.declares("no-clobber") && p.flag("no-clobber")
        o.ifSizeDiffer = p.declares("if-size-differ") && p.flag("if-size-differ")
        o.ifSourceNewer = p.declares("if-source-newer") && p.flag("if-source-newer")
        return o
    }
}
