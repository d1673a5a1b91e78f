import ArcCore

/// What is wrong with a workflow file: every problem found, each with its line and column,
/// printed as compilers print them (`daily.toml:12:9: needs: unknown step 'fetc'`).
public struct WorkflowError: ArcError {
    public struct Problem: Sendable, Equatable {
        public var line: Int
        public var column: Int
        public var message: String
        public init(line: Int, column: Int, _ message: String) {
            self.line = line
            self.column = column
            self.message = message
        }
    }

    public let file: String
    public let problems: [Problem]

    public init(file: String, problems: [Problem]) {
        self.file = file
        self.problems = problems.sorted { ($0.line, $0.column) < ($1.line, $1.column) }
    }

    public var code: FailureCode { .badWorkflow }
    public var exitStatus: ExitStatus { .usage }

    /// One line per problem.
    public var lines: [String] {
        problems.map { p in p.line > 0 ? "\(file):\(p.line):\(p.column): \(p.message)" : "\(file): \(p.message)" }
    }

    public var description: String {
        guard let first = lines.first else { return "\(file): invalid workflow" }
        return problems.count == 1 ? first : first + " (and \(problems.count - 1) more problems)"
    }
}

extension FailureCode {
    /// A workflow file with problems (syntax, unknown needs, cycles...).
    public static let badWorkflow = FailureCode("bad_workflow")
    /// `wf-run run` found the workflow running already (exit 75).
    public static let workflowRunning = FailureCode("workflow_running")
}
