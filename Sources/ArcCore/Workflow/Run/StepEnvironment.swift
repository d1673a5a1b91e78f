/// The environment a step runs in, built in layers, each able to use the ones before it:
/// wf-run's own environment, then the parameters, the workflow's [env], the step's env,
/// and last the WF_* variables, which nothing overrides.
struct StepEnvironment {
    private(set) var values: [String: String]

    init(base: [String: String]) { values = base }

    /// Sets `name` to `value` with `${NAME}` and `$NAME` expanded from what is set so far.
    mutating func add(_ name: String, expanding value: String) {
        values[name] = expand(value)
    }

    mutating func set(_ name: String, _ value: String) { values[name] = value }

    /// `${NAME}` and `$NAME` replaced by their values (unset: empty); `$$` is a `$`.
    /// Only this: the command line itself goes to sh, which expands the rest.
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
            } else if chars.first == "{", let close = chars.firstIndex(of: "}") {
                out += values[String(chars[chars.index(after: chars.startIndex)..<close])] ?? ""
                chars = chars[chars.index(after: close)...]
            } else {
                let name = chars.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
                if name.isEmpty || name.first!.isNumber { out += "$" } else { out += values[String(name)] ?? "" }
                chars = chars.dropFirst(name.first?.isNumber == true ? 0 : name.count)
            }
        }
        return out + chars
    }

    /// `NAME=value` strings for posix_spawn.
    var strings: [String] { values.map { $0.key + "=" + $0.value } }

    /// `WF_DIR_<STEP>`: a step id as a variable name (`fetch-day` -> `WF_DIR_FETCH_DAY`).
    static func directoryVariable(_ stepID: String) -> String {
        "WF_DIR_" + String(stepID.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}
