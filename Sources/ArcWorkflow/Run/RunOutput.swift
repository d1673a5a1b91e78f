import Glibc
import ArcCore

/// Where a run's events go besides the log: NDJSON records on stdout for a pipe (or with
/// --json), short human lines on a terminal.
final class RunOutput {
    let workflow: String
    let human: Bool
    /// Where the lines go: stdout, or a test's capture.
    let stream: BufferedOutput
    private var builder = RecordBuilder(capacity: 512)

    init(workflow: String, human: Bool, stream: BufferedOutput = .stdout) {
        self.workflow = workflow
        self.human = human
        self.stream = stream
    }

    func emit(_ e: RunEvent) throws {
        if human {
            guard let line = Self.humanLine(e) else { return }
            try stream.write(String(e.time.dropFirst(11).prefix(8)) + " " + line + "\n")
            try stream.flush()
        } else {
            e.record(workflow: workflow, into: &builder)
            try stream.write(builder.bytes)
            try stream.flush()
        }
    }

    static func humanLine(_ e: RunEvent) -> String? {
        let step = e.step ?? ""
        let took = e.durationMillis.map { " " + DurationText.format($0 * 1_000_000) } ?? ""
        let why = e.message.map { ": " + $0 } ?? ""
        switch e.kind {
        case .runStarted: return "▶ run \(e.runID)"
        case .runResumed: return "▶ resume \(e.runID)"
        case .stepStarted: return "  \(step) started" + ((e.attempt ?? 1) > 1 ? " (attempt \(e.attempt!))" : "")
        case .stepRetrying: return "↻ \(step) attempt \(e.attempt ?? 0) failed\(why)"
        case .stepSucceeded: return "✓ \(step)\(took)"
        case .stepFailed: return "✗ \(step)\(took)\(why)"
        case .stepSkipped where e.reason == "cached": return "✓ \(step) cached: the output of run \(e.message ?? "?")"
        case .stepSkipped: return "– \(step) skipped\(why)"
        case .stepCancelled: return "■ \(step) cancelled\(took)"
        case .runSucceeded: return "✓ run \(e.runID) succeeded\(took)"
        case .runFailed: return "✗ run \(e.runID) failed\(took)\(why)"
        case .runCancelled: return "■ run \(e.runID) cancelled\(took)\(why); wf-run resume \(e.runID) goes on"
        }
    }
}
