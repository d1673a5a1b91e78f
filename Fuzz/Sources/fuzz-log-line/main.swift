// Log input as telem-log reads it: the whole input through LogReader (small buffers chosen
// from the input, so long lines are skipped), then each line through LogEntry and what
// runs on it: severity, time, message, fields by dot path, the filter, the JSON and human
// writers, and redact. Properties: no crash; LogReader hands out the same lines as the
// input split at "\n", minus the long ones it counts; the JSON writer writes valid JSON
// objects, a JSON line as it came but for invalid UTF-8 replaced (U+FFFD); redact keeps
// every JSON line valid JSON with the same keys, and value types but for numbers it masks.
import FuzzSupport
@testable import ArcLogs
@testable import ArcCore

private let redactor = try! Redactor(patterns: ["secret-[0-9]+"])
private let masks: Set<String> = ["[secret]", "[token]", "[card]"]
private let paths = ["msg", "level", "error.code", "error", "a.b.c", "ts", ""].map(FieldPath.init)
private let devNullStream = BufferedOutput(fd: devNull)
private let human = HumanLogWriter(devNullStream, color: true)
private let humanColumns = HumanLogWriter(devNullStream, fields: paths, color: false)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLogLine(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    var choices = FuzzChoices(input)
    let bufferSize = choices.int(1...64)
    let maxLine = choices.int(1...300)
    var largest = bufferSize
    while largest < max(maxLine, bufferSize) { largest *= 2 }
    var expected: [ArraySlice<UInt8>] = input.split(separator: 0x0A, omittingEmptySubsequences: false)
    if expected.last?.isEmpty == true { expected.removeLast() }
    let kept = expected.filter { $0.count < largest }.map { $0.last == 0x0D ? $0.dropLast() : $0 }

    var lines: [[UInt8]] = []
    withReadableDescriptor(input) { fd in
        let reader = LogReader(fd: fd, name: "fuzz", bufferSize: bufferSize, maxLineLength: maxLine)
        do {
            while let line = try reader.nextLine() { lines.append(Array(line)) }
        } catch {
            fuzzFail("LogReader.nextLine threw \(error)")
        }
        fuzzCheck(lines.count == kept.count && zip(lines, kept).allSatisfy { $0.elementsEqual($1) },
                  "LogReader read \(lines.count) lines, expected \(kept.count)")
        fuzzCheck(reader.skippedLongLines == expected.count - kept.count,
                  "\(reader.skippedLongLines) long lines skipped, expected \(expected.count - kept.count)")
        fuzzCheck(reader.offset == Int64(input.count),
                  "offset \(reader.offset) after reading \(input.count) bytes")
    }
    let entry = LogEntry(capacity: 16)
    for line in lines.prefix(32) {
        line.withUnsafeBufferPointer { entry.load($0) }
        check(entry, line)
    }
    return 0
}

private func check(_ e: LogEntry, _ line: [UInt8]) {
    _ = e.severity
    e.ts = e.ownTime
    _ = e.message
    _ = e.string(FieldKey.toolKeys)
    for path in paths {
        guard let v = e.value(path) else { continue }
        fuzzCheck(v.start >= 0 && v.start <= v.end && v.end <= e.count, "value of \(path.text) outside the line")
        _ = e.text(of: v)
        e.withText(of: v) { _ in }
    }
    var filter = LogFilter()
    filter.minSeverity = .warn
    filter.since = 0
    _ = filter.accepts(e)
    do {
        try human.write(e)
        try humanColumns.write(e)
    } catch {
        fuzzFail("the human writer threw \(error)")
    }
    // The JSON writer: the line as it came when it is JSON, else {"msg": line}; with --fields, those fields.
    for fields in [[], paths] {
        guard let out = capturedOutput({ fd in
            let stream = BufferedOutput(fd: fd)
            try JSONLogWriter(stream, fields: fields).write(e)
            try stream.flush()
        }) else { continue }
        fuzzCheck(out.last == 0x0A, "the JSON writer's line has no newline")
        let written = Array(out.dropLast())
        if e.isJSON && fields.isEmpty {
            // Invalid UTF-8 in it replaced (U+FFFD), as jq would write it.
            let expected = line.withUnsafeBufferPointer { LogText.replacingInvalidUTF8($0) } ?? line
            fuzzCheck(written == expected, "a JSON line was not passed on unchanged")
            fuzzCheck((try? written.withUnsafeBufferPointer { try Record(line: $0) }) != nil,
                      "a line read as JSON was written as invalid JSON: \(fuzzShow(written))")
        } else {
            fuzzCheck((try? written.withUnsafeBufferPointer { try Record(line: $0) }) != nil,
                      "the JSON writer wrote invalid JSON: \(fuzzShow(written))")
        }
    }
    // redact: a JSON line stays a JSON object with the same keys.
    guard let redacted = redactor.redactLine(e) else { return }
    guard e.isJSON else { return }
    guard let after = try? redacted.withUnsafeBufferPointer({ try Record(line: $0) }) else {
        fuzzFail("redact turned a JSON line into invalid JSON: \(fuzzShow(line)) -> \(fuzzShow(redacted))")
    }
    let before = try! Record(line: e.bytes)
    fuzzCheck(before.fields.map(before.keyText) == after.fields.map(after.keyText),
              "redact changed the keys: \(fuzzShow(line)) -> \(fuzzShow(redacted))")
    // Only a secret key's number or a card number turns into a string, and then into a mask.
    fuzzCheck(zip(before.fields, after.fields).allSatisfy { b, a in
        b.kind == a.kind || (b.kind == .number && a.kind == .string && masks.contains(after.stringValue(a)))
    }, "redact changed a value's type: \(fuzzShow(line)) -> \(fuzzShow(redacted))")
}
