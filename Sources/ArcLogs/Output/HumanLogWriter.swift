import Glibc
import ArcCore

/// Lines for people: `TIME LEVEL TOOL message key=value...`, the level coloured on a
/// terminal (unless NO_COLOR or TERM=dumb). With `--fields`, just those columns, `-` for
/// an absent one. A text line is shown as its text.
public final class HumanLogWriter: LogWriter {
    private let out: BufferedOutput
    private let fields: [FieldPath]
    private let color: Bool
    private static let shown = Set(["ts", "time", "timestamp", "@timestamp", "level", "severity", "lvl", "tool", "service", "msg", "message"])

    public init(_ out: BufferedOutput, fields: [FieldPath] = [], color: Bool) {
        self.out = out
        self.fields = fields
        self.color = color
    }

    public static func wantsColor(_ out: BufferedOutput) -> Bool {
        guard out.isTerminal, getenv("NO_COLOR") == nil else { return false }
        return getenv("TERM").map { String(cString: $0) } != "dumb"
    }

    public func write(_ entry: LogEntry) throws {
        var line = fields.isEmpty ? standard(entry) : columns(entry)
        line += "\n"
        try out.write(line)
    }

    private func standard(_ e: LogEntry) -> String {
        guard e.isJSON else { return e.text.controlCharactersEscaped }
        var parts: [String] = []
        if let ts = e.string(FieldKey.timeKeys) ?? e.ownTime.map(LogTime.format) { parts.append(dim(ts)) }
        let severity = e.severity
        let levelText = e.string(FieldKey.levelKeys) ?? severity?.name ?? ""
        if !levelText.isEmpty { parts.append(paint(levelText.uppercased().padded(to: 5), severity)) }
        if let tool = e.string(FieldKey.toolKeys) { parts.append(bold(tool)) }
        if let msg = e.message { parts.append(msg.controlCharactersEscaped) }
        for f in e.fields {
            let key = keyText(e, f)
            if HumanLogWriter.shown.contains(key) { continue }
            parts.append(dim(key + "=") + quoteIfNeeded(e, FieldValue(f)))
        }
        return parts.joined(separator: " ")
    }

    private func columns(_ e: LogEntry) -> String {
        fields.map { path -> String in
            guard let v = e.value(path) else { return "-" }
            let text = quoteIfNeeded(e, v)
            if path.parts.count == 1, ["level", "severity", "lvl"].contains(path.text) {
                return paint(text.uppercased(), e.severity)
            }
            return text
        }.joined(separator: " ")
    }

    private func keyText(_ e: LogEntry, _ f: JSONField) -> String {
        let raw = UnsafeBufferPointer(start: e.base + Int(f.keyStart), count: Int(f.keyEnd - f.keyStart))
        return f.keyEscaped ? JSONText.unescape(raw.arraySlice) : String(decoding: raw, as: UTF8.self)
    }

    private func quoteIfNeeded(_ e: LogEntry, _ v: FieldValue) -> String {
        let text = e.text(of: v).controlCharactersEscaped
        guard v.kind == .string, text.isEmpty || text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) else { return text }
        return "\"" + text.replacing("\"", with: "\\\"") + "\""
    }

    private func paint(_ s: String, _ severity: Severity?) -> String {
        guard color, let severity else { return s }
        let code: String
        switch severity {
        case .trace, .debug: code = "2"
        case .info: code = "32"
        case .warn: code = "33"
        case .error: code = "31"
        case .fatal: code = "1;31"
        }
        return "\u{1B}[\(code)m\(s)\u{1B}[0m"
    }

    private func dim(_ s: String) -> String { color ? "\u{1B}[2m\(s)\u{1B}[0m" : s }
    private func bold(_ s: String) -> String { color ? "\u{1B}[1m\(s)\u{1B}[0m" : s }

    public func flush() throws { try out.flush() }
}
