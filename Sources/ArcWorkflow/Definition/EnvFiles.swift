import ArcCore

/// An `env_file` entry: the path as written (relative to the workflow file's directory)
/// and where it is written, for messages.
public struct EnvFileReference: Sendable, Equatable {
    public var path: String
    public var line: Int
    public var column: Int

    public init(path: String, line: Int, column: Int) {
        self.path = path
        self.line = line
        self.column = column
    }

    func resolved(in workflow: Workflow) -> String {
        path.hasPrefix("/") ? path : workflow.directory + "/" + path
    }
}

/// What a workflow's env files hold, read when a run starts and again when it resumes.
/// The state keeps the workflow's text, never these values, which is why secrets belong
/// here; and wherever wf-run itself writes text that could hold one (event messages,
/// cache keys, spans) `mask` replaces it.
public struct EnvFileValues: Sendable {
    /// The workflow-level files' pairs, then each step's (by id), in the order read: a
    /// later file, or a later line, sets a key again.
    public var workflow: [(String, String)] = []
    public var steps: [String: [(String, String)]] = [:]
    /// Every value worth masking, as UTF-8, longest first.
    private var secrets: [[UInt8]] = []

    public static let placeholder = "[from env_file]"
    /// Shorter values are not masked: hiding every "1" or "yes" would garble messages
    /// ("exit status 1") while protecting nothing a secret would be.
    public static let shortestMasked = 4

    public init() {}

    /// Reads every file the workflow and its steps name (each file once). A file that
    /// cannot be read stops with exit status 3, naming it and the line that names it; a
    /// bad line with exit status 2, as FILE:LINE:COLUMN.
    public static func read(_ w: Workflow) throws -> EnvFileValues {
        var cache: [String: [(String, String)]] = [:]
        func pairs(_ references: [EnvFileReference]) throws -> [(String, String)] {
            var out: [(String, String)] = []
            for r in references {
                let path = r.resolved(in: w)
                if cache[path] == nil {
                    let bytes: [UInt8]
                    do { bytes = try FileSystem.read(path) } catch let error as SystemError {
                        throw UnavailableError("\(w.file):\(r.line):\(r.column): env_file", "\(error)")
                    }
                    guard let text = String(validating: bytes, as: UTF8.self) else {
                        throw WorkflowError(file: path, problems: [.init(line: 0, column: 0, "not UTF-8 text")])
                    }
                    cache[path] = try DotEnv.parse(text, file: path)
                }
                out += cache[path]!
            }
            return out
        }
        var values = EnvFileValues()
        values.workflow = try pairs(w.envFiles)
        for step in w.steps + w.handlers where !step.envFiles.isEmpty { values.steps[step.id] = try pairs(step.envFiles) }
        let all = Set(cache.values.flatMap { $0.map(\.1) }.filter { $0.count >= shortestMasked })
        values.secrets = all.map { Array($0.utf8) }.sorted { $0.count > $1.count }
        // And everywhere else (log lines, spans, errors of the core) through Secrets.
        for value in all { Secrets.register(value) }
        return values
    }

    /// How many keys the files set, for `validate` (which never prints a value).
    public var count: Int { Set(workflow.map(\.0) + steps.values.flatMap { $0.map(\.0) }).count }

    /// `text` with every env_file value in it replaced by `[from env_file]`, in one pass
    /// (longest value first); a placeholder already there is never masked again.
    public func mask(_ text: String) -> String {
        guard let masked = Secrets.replacing(secrets, in: Array(text.utf8), with: Array(Self.placeholder.utf8)) else {
            return text
        }
        return String(decoding: masked, as: UTF8.self)
    }
}
