import ArcCore

/// The environment a step runs in, built in layers, each able to use the ones before it:
/// wf-run's own environment, then the parameters, the workflow's env_file and [env], the
/// step's env_file and env, and last the WF_* variables, which nothing overrides.
struct StepEnvironment {
    private(set) var values: [String: String]

    init(base: [String: String]) { values = base }

    /// Sets `name` to `value` with `${NAME}` and `$NAME` expanded from what is set so far.
    mutating func add(_ name: String, expanding value: String) {
        values[name] = expand(value)
    }

    mutating func set(_ name: String, _ value: String) { values[name] = value }

    /// `${NAME}` and `$NAME` replaced by their values (unset: empty); `$$` is a `$`.
    /// Only this: the command line itself goes to sh, which expands the rest. A `$` that
    /// starts neither (`$1`, `${1}`, `${A:-x}`, a `${` never closed) is kept as written.
    func expand(_ text: String) -> String {
        guard text.contains("$") else { return text }
        var out = ""
        var chars = Substring(text)
        while let dollar = chars.firstIndex(of: "$") {
            out += chars[..<dollar]
            chars = chars[chars.index(after: dollar)...]
            if chars.first == "$" {
                out += "$"
                chars = chars.dropFirst()
            } else if chars.first == "{" {
                let name = Self.name(chars.dropFirst())
                if !name.isEmpty, chars.dropFirst(1 + name.count).first == "}" {
                    out += values[String(name)] ?? ""
                    chars = chars.dropFirst(2 + name.count)
                } else { out += "$" }
            } else {
                let name = Self.name(chars)
                out += name.isEmpty ? "$" : values[String(name)] ?? ""
                chars = chars.dropFirst(name.count)
            }
        }
        return out + chars
    }

    /// The variable name `text` starts with: ASCII letters, digits and '_', not first a
    /// digit; empty when there is none.
    private static func name(_ text: Substring) -> Substring {
        guard let first = text.first, first.isASCII, first.isLetter || first == "_" else { return "" }
        return text.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// `NAME=value` strings for posix_spawn.
    var strings: [String] { values.map { $0.key + "=" + $0.value } }

    /// `WF_DIR_<STEP>`: a step id as a variable name (`fetch-day` -> `WF_DIR_FETCH_DAY`).
    static func directoryVariable(_ stepID: String) -> String {
        "WF_DIR_" + String(stepID.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}
