import Glibc
import ArcCore

/// run: one s3x command a line, all in this process, sharing the engine and its
/// connections. Lines are parsed with the same spec as the command line.
enum RunCommand {
    static func run(_ file: String?, _ context: S3xContext) throws {
        var fd: Int32 = 0
        if let file, file != "-" {
            fd = open(file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw UnavailableError(file, String(cString: strerror(errno))) }
        }
        defer { if fd > 0 { close(fd) } }
        let name = file ?? "stdin"
        let reader = LineReader(fd: fd, name: name)
        var number = 0
        while let line = try reader.nextLine({ String(decoding: $0, as: UTF8.self) }) {
            number += 1
            let text = Substring(line).trimmed()
            if text.isEmpty || text.hasPrefix("#") { continue }
            do {
                let words = try ShellWords.split(text)
                let parsed = try ArgumentParser.parse(words, spec: Tool.fullSpec(S3xCommand.spec))
                guard parsed.path.count > 1, parsed.path[1] != "run" else { throw UsageError("expected a command other than run") }
                try S3xCommand.execute(parsed.path[1], parsed, context)
            } catch let error as BrokenPipeError {
                throw error
            } catch let error as UsageError {
                context.output.emit("run", source: "\(name):\(number)", destination: nil, status: .failed,
                                    error: BadCommandLine(message: error.message))
            } catch let error as ArcError {
                context.output.emit("run", source: "\(name):\(number)", destination: nil, status: .failed, error: error)
            }
        }
    }
}

/// A line that is not a command s3x can run. The record's source names the file and line,
/// so the message does not name them again.
struct BadCommandLine: ArcError {
    let message: String
    var code: FailureCode { .badRecord }
    var exitStatus: ExitStatus { .usage }
    var description: String { message }
}

/// Splits a command line as a POSIX shell would for words: single and double quotes, and
/// backslash escapes; no expansions.
enum ShellWords {
    static func split(_ line: String) throws -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for c in line {
            if escaped {
                if quote == "\"", !"$`\"\\".contains(c) { word.append("\\") }
                word.append(c)
                escaped = false
                continue
            }
            if let q = quote {
                if c == q { quote = nil } else if c == "\\" && q == "\"" { escaped = true } else { word.append(c) }
                continue
            }
            switch c {
            case "\\": escaped = true; inWord = true
            case "'", "\"": quote = c; inWord = true
            case " ", "\t":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            default:
                word.append(c)
                inWord = true
            }
        }
        if quote != nil { throw UsageError("unclosed quote") }
        if inWord { words.append(word) }
        return words
    }
}
