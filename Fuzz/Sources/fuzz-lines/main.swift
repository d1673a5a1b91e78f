// A whole input (stdin, a file, a plugin's stdout) through LineReader and its LineBuffer,
// with small buffers chosen from the input so growing, compacting and skipping long lines
// all happen; then through RecordInput as the tools read records. Properties: the lines
// are the input split at "\n" (a "\r" before it dropped); a line is skipped as too long
// exactly when it cannot fit the largest buffer; line numbers count skipped lines; and
// RecordInput's records plus bad lines account for every non-blank line.
import Glibc
import FuzzSupport
@testable import ArcCore

private let quiet = Logger(tool: "fuzz", level: .error, format: .json)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLines(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    var choices = FuzzChoices(input)
    let bufferSize = choices.int(1...64)
    let maxLine = choices.int(1...160)
    // What LineBuffer grows to: the buffer size doubled until it reaches the limit.
    let effectiveMax = max(maxLine, bufferSize)
    var largest = bufferSize
    while largest < effectiveMax { largest *= 2 }

    var expected: [ArraySlice<UInt8>] = input.split(separator: 0x0A, omittingEmptySubsequences: false)
    if expected.last?.isEmpty == true { expected.removeLast() }

    withReadableDescriptor(input) { fd in
        let reader = LineReader(fd: fd, name: "fuzz", bufferSize: bufferSize, maxLineLength: maxLine)
        var number = 0
        while true {
            let line: [UInt8]?
            do {
                line = try reader.nextLine { Array($0) }
            } catch let e as LineTooLongError {
                number += 1
                fuzzCheck(e.line == number && reader.lineNumber == number, "long line \(e.line) reported as line \(number)")
                fuzzCheck(number <= expected.count, "a long line past the end of the input")
                fuzzCheck(expected[number - 1].count >= largest,
                          "line \(number) (\(expected[number - 1].count) bytes) skipped, but a \(largest)-byte buffer holds it")
                continue
            } catch {
                fuzzFail("nextLine threw \(error)")
            }
            guard let line else { break }
            number += 1
            fuzzCheck(reader.lineNumber == number, "lineNumber \(reader.lineNumber), expected \(number)")
            fuzzCheck(number <= expected.count, "more lines than the input has")
            var want = expected[number - 1]
            fuzzCheck(want.count < largest, "line \(number) (\(want.count) bytes) kept, longer than the \(largest)-byte buffer")
            if want.last == 0x0D { want = want.dropLast() }
            fuzzCheck(line.elementsEqual(want), "line \(number) is \(fuzzShow(line)), expected \(fuzzShow(want))")
        }
        fuzzCheck(number == expected.count, "read \(number) lines of \(expected.count)")
    }

    // RecordInput: every line that is not blank is a record or a bad line.
    var good = 0, blank = 0
    for raw in expected {
        let line = raw.last == 0x0D ? raw.dropLast() : raw
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { blank += 1; continue }
        if (try? Array(line).withUnsafeBufferPointer { try Record(line: $0) }) != nil { good += 1 }
    }
    withReadableDescriptor(input) { fd in
        let input = RecordInput(fd: dup(fd), name: "fuzz", strict: false, log: quiet)
        var records = 0
        do {
            while let (_, line) = try input.next() {
                records += 1
                fuzzCheck(line >= records && line <= expected.count, "record \(records) on line \(line)")
            }
        } catch {
            fuzzFail("RecordInput.next threw \(error) when not strict")
        }
        fuzzCheck(records == good && input.records == good, "\(records) records, expected \(good)")
        fuzzCheck(input.badLines == expected.count - good - blank, "\(input.badLines) bad lines, expected \(expected.count - good - blank)")
    }
    return 0
}
