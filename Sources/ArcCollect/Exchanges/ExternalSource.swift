import Glibc
import ArcCore

/// `arc-discover NAME ARGS...` for a NAME that is not built in runs `arc-source-NAME` from
/// PATH (the git convention). Its stdout must be archive records: each line is checked,
/// bad ones are reported with their line number and skipped (or stop it with --strict),
/// good ones pass through unchanged. Its exit status becomes ours when it is one of the
/// statuses arc uses (DESIGN.md); any other failure, a crash included, becomes 1.
public enum ExternalSource {
    public static func executableName(_ name: String) -> String { "arc-source-" + name }

    public static func run(name: String, arguments: [String], context: ToolContext, output: BufferedOutput) throws -> ExitStatus {
        let executable = executableName(name)
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }),
              let path = FileSystem.which(executable) else {
            let known = ArchiveSources.builtIn.map { $0.spec.name }.joined(separator: ", ")
            throw UsageError("unknown source '\(name)': not built in (\(known)) and no \(executable) in PATH")
        }
        let log = context.log
        let stop = StopSignal.shared
        stop.install()
        let child = try Subprocess(executable: path, arguments: [executable] + arguments, captureStdout: true)
        stop.onStop { child.signal($0) }
        stop.onForcedExit { child.signal(SIGKILL) }
        log.debug("running plugin", ["path": .string(path)])

        let input = RecordInput(fd: child.stdout!, name: executable, strict: context.parsed.flag("strict"), log: log)
        input.willBlock = { try output.flush() }
        var passed = 0
        do {
            while let (record, line) = try input.next() {
                // Downstream tools need at least where to fetch from.
                guard try input.decode(record, line: line, { record -> String in
                    let url = try record.requiredString("url")
                    guard url.isHTTPURL else {
                        throw FieldError(field: "url", problem: "not an http:// or https:// URL: \(url)")
                    }
                    // And how to verify it, if it says: a bad checksum is caught here, not
                    // only when arc-collect meets it.
                    _ = try ArchiveChecksum.read(from: record)
                    return url
                }) != nil else { continue }
                try output.write(record.bytes + [0x0A])
                passed += 1
            }
        } catch {
            child.signal(SIGTERM)
            _ = child.wait()
            throw error
        }
        close(child.stdout!)
        let status = child.wait()
        log.info("plugin \(executable) finished", ["records": .int(Int64(passed)), "bad_lines": .int(Int64(input.badLines)),
                                                  "exit_status": .int(Int64(status))])
        if stop.requested { return stop.exitStatus }
        if status != 0 { return ExitStatus(rawValue: status) ?? .failures }
        return input.badLines > 0 ? .failures : .ok
    }
}
