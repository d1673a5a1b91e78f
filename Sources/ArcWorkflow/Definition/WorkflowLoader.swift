import ArcCore
import ArcSchedule
import ArcTOML

/// Reads a workflow file (the TOML subset the man page describes) into a `Workflow`,
/// collecting every problem with its line and column rather than stopping at the first,
/// so `wf-run validate` lists them all.
public enum WorkflowLoader {
    static let topKeys = ["name", "schedule", "timezone", "concurrency", "env", "env_file", "params", "step",
                          "on_success", "on_failure", "on_exit"]
    static let stepKeys = ["id", "run", "needs", "retries", "retry_delay", "retry_max_delay", "timeout", "when",
                           "continue_on_failure", "env", "env_file", "workdir", "cache_key"]
    static let handlerKeys = ["run", "retries", "retry_delay", "retry_max_delay", "timeout", "env", "env_file", "workdir"]
    public static let defaultConcurrency = 8

    /// Reads and checks the file at `path`.
    public static func load(path: String) throws -> Workflow {
        // A file that cannot be read is one that could not be reached (exit 3), not a bad one.
        let bytes = try FileSystem.read(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw WorkflowError(file: path, problems: [.init(line: 0, column: 0, "not UTF-8 text")])
        }
        return try parse(text, file: FileSystem.absolute(path))
    }

    /// Checks `text` as the contents of `file` (a run's saved copy, on resume).
    public static func parse(_ text: String, file: String) throws -> Workflow {
        let document: TOMLTable
        do { document = try TOML.parse(text) } catch let error as TOMLError {
            throw WorkflowError(file: file, problems: [.init(line: error.line, column: error.column, error.message)])
        }
        var reader = Reader()
        let workflow = reader.workflow(document, file: file, text: text)
        reader.problems += WorkflowGraph.problems(workflow)
        guard reader.problems.isEmpty else { throw WorkflowError(file: file, problems: reader.problems) }
        return workflow
    }

    /// Checks one value at a time, noting problems and going on with a default.
    struct Reader {
        var problems: [WorkflowError.Problem] = []

        mutating func fail(_ value: TOMLValue, _ message: String) {
            problems.append(.init(line: value.line, column: value.column, message))
        }

        mutating func unknownKeys(_ table: TOMLTable, allowed: [String], in place: String) {
            for entry in table.entries where !allowed.contains(entry.key) {
                problems.append(.init(line: entry.keyLine, column: entry.keyColumn,
                                      "unknown key '\(entry.key)' in \(place) (known: \(allowed.joined(separator: ", ")))"))
            }
        }

        mutating func workflow(_ doc: TOMLTable, file: String, text: String) -> Workflow {
            unknownKeys(doc, allowed: WorkflowLoader.topKeys, in: "the workflow")
            // The file name without .toml: "nightly.v2.toml" is "nightly.v2", not "nightly".
            let base = FileSystem.baseName(of: file)
            let fallbackName = base.hasSuffix(".toml") && base.count > 5 ? String(base.dropLast(5)) : base
            if doc["name"] == nil && !isIdentifier(fallbackName) {
                problems.append(.init(line: 0, column: 0, "name: the file name gives '\(fallbackName)', which is not a usable "
                                      + "name (letters, digits, '_', '-' and '.'); set one with name = \"...\""))
            }
            var w = Workflow(name: fallbackName, file: file, text: text, schedule: nil, timeZone: .utc,
                             concurrency: WorkflowLoader.defaultConcurrency, environment: [], parameters: [], steps: [])
            if let v = doc["name"], let name = string(v, "name") {
                if isIdentifier(name) { w.name = name } else { fail(v, "name: use letters, digits, '_', '-' and '.' ('\(name)')") }
            }
            if let v = doc["timezone"], let zone = string(v, "timezone") {
                do { w.timeZone = try TimeZoneRules.named(zone) } catch { fail(v, "timezone: \(error)") }
            }
            if let v = doc["schedule"], let expression = string(v, "schedule") {
                do {
                    let schedule = try CronSchedule.parse(expression)
                    try schedule.checkCanFire()
                    w.schedule = schedule
                } catch let error as CronError {
                    problems.append(.init(line: v.line, column: v.column + error.column, "schedule: \(error.message)"))
                } catch { fail(v, "schedule: \(error)") }
            }
            if let v = doc["concurrency"], let n = integer(v, "concurrency", min: 1) { w.concurrency = n }
            if let v = doc["env"] { w.environment = pairs(v, "env", keysAreNames: true) }
            if let v = doc["env_file"] { w.envFiles = envFiles(v) }
            if let v = doc["params"] { w.parameters = pairs(v, "params", keysAreNames: true) }
            if let v = doc["step"] {
                if let tables = v.array, tables.allSatisfy({ $0.table != nil }) {
                    w.steps = tables.map { step($0) }
                } else {
                    fail(v, "step: expected [[step]] tables, got \(v.typeName)")
                }
            }
            if w.steps.isEmpty && problems.isEmpty {
                problems.append(.init(line: 0, column: 0, "no steps: add a [[step]] table with an id and a run line"))
            }
            w.onSuccess = doc["on_success"].map { handler($0, "on_success") }
            w.onFailure = doc["on_failure"].map { handler($0, "on_failure") }
            w.onExit = doc["on_exit"].map { handler($0, "on_exit") }
            return w
        }

        mutating func step(_ value: TOMLValue) -> Step {
            let t = value.table!
            unknownKeys(t, allowed: WorkflowLoader.stepKeys, in: "a step")
            var id = "?"
            if let v = t["id"], let s = string(v, "id") {
                if !isIdentifier(s) {
                    fail(v, "id: use letters, digits, '_', '-' and '.' ('\(s)')")
                } else if ["on_success", "on_failure", "on_exit"].contains(s) {
                    fail(v, "id: '\(s)' is the name of a handler; handlers are [\(s)] tables")
                } else { id = s }
            } else if t["id"] == nil { fail(value, "step: missing id") }
            var step = Step(id: id, run: "")
            step.line = value.line
            common(t, &step, place: "step '\(id)'", whole: value)
            if let v = t["needs"] {
                if let s = v.string {
                    step.needs = [s]
                    step.needPositions = [(v.line, v.column)]
                } else if let items = v.array {
                    // The element that is wrong, where it is: "got array" would not say which.
                    for (i, item) in items.enumerated() where item.string == nil {
                        fail(item, "needs[\(i)]: expected a step id (string), got \(item.typeName)")
                    }
                    let ids = items.filter { $0.string != nil }
                    step.needs = ids.map { $0.string! }
                    step.needPositions = ids.map { ($0.line, $0.column) }
                } else { fail(v, "needs: expected a step id or a list of them, got \(v.typeName)") }
            }
            if let v = t["when"], let s = string(v, "when") {
                if let c = Step.Condition(rawValue: s) { step.when = c } else {
                    fail(v, "when: expected success, failure or always, got '\(s)'")
                }
            }
            if let v = t["continue_on_failure"] {
                if let b = v.bool { step.continueOnFailure = b } else { fail(v, "continue_on_failure: expected true or false, got \(v.typeName)") }
            }
            if let v = t["cache_key"], let s = string(v, "cache_key") { step.cacheKey = s }
            return step
        }

        mutating func handler(_ value: TOMLValue, _ name: String) -> Step {
            var step = Step(id: name, run: "")
            step.isHandler = true
            step.line = value.line
            guard let t = value.table else {
                fail(value, "\(name): expected a [\(name)] table, got \(value.typeName)")
                return step
            }
            unknownKeys(t, allowed: WorkflowLoader.handlerKeys, in: "[\(name)]")
            common(t, &step, place: "[\(name)]", whole: value)
            step.when = .always
            return step
        }

        /// The keys steps and handlers share.
        mutating func common(_ t: TOMLTable, _ step: inout Step, place: String, whole: TOMLValue) {
            if let v = t["run"], let s = string(v, "run") {
                if s.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" }) { fail(v, "run: empty command line") } else { step.run = s }
            } else if t["run"] == nil { fail(whole, "\(place): missing run (the command line to run)") }
            if let v = t["retries"], let n = integer(v, "retries", min: 0) { step.retries = n }
            if let v = t["retry_delay"], let d = duration(v, "retry_delay") { step.retryDelay = d }
            if let v = t["retry_max_delay"], let d = duration(v, "retry_max_delay") { step.retryMaxDelay = d }
            if let v = t["timeout"], let d = duration(v, "timeout") {
                if d > 0 { step.timeout = d } else { fail(v, "timeout: must be more than 0") }
            }
            if let v = t["env"] { step.environment = pairs(v, "env", keysAreNames: true) }
            if let v = t["env_file"] { step.envFiles = envFiles(v) }
            if let v = t["workdir"], let s = string(v, "workdir") { step.workdir = s }
        }

        mutating func string(_ v: TOMLValue, _ key: String) -> String? {
            if let s = v.string { return s }
            fail(v, "\(key): expected a string, got \(v.typeName)")
            return nil
        }

        mutating func integer(_ v: TOMLValue, _ key: String, min: Int) -> Int? {
            guard let n = v.integer else {
                fail(v, "\(key): expected an integer, got \(v.typeName)")
                return nil
            }
            guard n >= Int64(min), n <= 1_000_000 else {
                fail(v, "\(key): \(n) is out of range (\(min) or more)")
                return nil
            }
            return Int(n)
        }

        /// `"30s"`, `"1h30m"`, `"500ms"`, or a number of seconds.
        mutating func duration(_ v: TOMLValue, _ key: String) -> Double? {
            var seconds: Double?
            if let n = v.integer, n >= 0 { seconds = Double(n) }
            if case .float(let d) = v.kind, d >= 0, d.isFinite { seconds = d }
            if let s = v.string, let d = parseDuration(s) { seconds = d }
            // At most 100 years, so the runner's nanosecond deadlines (UInt64, Int64) hold it.
            if let seconds {
                if seconds <= 3_153_600_000 { return seconds }
                fail(v, "\(key): more than 100 years")
                return nil
            }
            fail(v, "\(key): expected a duration such as \"30s\", \"5m\", \"1h30m\" or \"500ms\", got \(v.string.map { "'\($0)'" } ?? v.typeName)")
            return nil
        }

        /// `env_file = "path"` or a list of paths; the files themselves are read when a run
        /// starts (`EnvFileValues`), since their values must not be kept with the text.
        mutating func envFiles(_ v: TOMLValue) -> [EnvFileReference] {
            let items = v.string != nil ? [v] : v.array ?? []
            if v.string == nil && v.array == nil { fail(v, "env_file: expected a path or a list of paths, got \(v.typeName)") }
            var out: [EnvFileReference] = []
            for item in items {
                if let path = item.string, !path.isEmpty {
                    out.append(EnvFileReference(path: path, line: item.line, column: item.column))
                } else {
                    fail(item, "env_file: expected a path, got \(item.string == nil ? item.typeName : "an empty string")")
                }
            }
            return out
        }

        /// A table of names to values: strings, or numbers and booleans written as text.
        mutating func pairs(_ v: TOMLValue, _ key: String, keysAreNames: Bool) -> [(String, String)] {
            guard let t = v.table else {
                fail(v, "\(key): expected a table, got \(v.typeName)")
                return []
            }
            var out: [(String, String)] = []
            for entry in t.entries {
                if keysAreNames && !isVariableName(entry.key) {
                    problems.append(.init(line: entry.keyLine, column: entry.keyColumn,
                                          "\(key): '\(entry.key)' is not a variable name (letters, digits and '_', not first a digit)"))
                    continue
                }
                switch entry.value.kind {
                case .string(let s): out.append((entry.key, s))
                case .integer(let n): out.append((entry.key, String(n)))
                case .boolean(let b): out.append((entry.key, b ? "true" : "false"))
                case .float(let d): out.append((entry.key, String(d)))
                case .datetime(let s): out.append((entry.key, s))
                default: fail(entry.value, "\(key).\(entry.key): expected a string, got \(entry.value.typeName)")
                }
            }
            return out
        }
    }

    /// Step ids and workflow names become directory names: no slashes, no surprises.
    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first != ".", first != "-", s.count <= 100 else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && (isAlphanumeric($0) || $0 == "_" || $0 == "-" || $0 == ".") }
    }

    static func isVariableName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, !(first >= "0" && first <= "9") else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && (isAlphanumeric($0) || $0 == "_") }
    }

    static func isAlphanumeric(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9")
    }
}
