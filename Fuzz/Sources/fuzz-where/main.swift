// A `telem-log --where` expression (the input's first line) through WhereExpression and
// ByteRegex, tested against the log lines that follow it. Properties: no crash, no hang; a
// bad expression is a UsageError; and on every line a test and its opposite (= and !=,
// < and >=, > and <=, ~ and !~) disagree, except that a field that is missing or not a
// number fails <, <=, > and >= (they compare numbers only), and those take only a number.
import FuzzSupport
@testable import ArcLogs
@testable import ArcCore

private let opposites: [WhereExpression.Operator: WhereExpression.Operator] = [
    .equal: .notEqual, .notEqual: .equal, .less: .greaterOrEqual, .greaterOrEqual: .less,
    .greater: .lessOrEqual, .lessOrEqual: .greater, .matches: .notMatches, .notMatches: .matches,
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWhere(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    let newline = input.firstIndex(of: 0x0A) ?? input.endIndex
    let text = String(decoding: input[..<newline], as: UTF8.self)
    let ignoreCase = fuzzHash(input) & 1 == 1
    // glibc's regcomp takes memory exponential in stacked quantifiers (a+++...: 20 of them
    // take 700 MB) and nested bounds ((a{1,100}){1,100}){1,100}: 8 GB), as grep -E does
    // with these patterns; they are the user's own (--where, --grep, --pattern). Not fuzzed.
    if text.contains("~") && (text.contains("{") || hasQuantifierRun(text)) { return 0 }
    let expression: WhereExpression
    do {
        expression = try WhereExpression(text, ignoreCase: ignoreCase)
    } catch is UsageError {
        return 0
    } catch {
        fuzzFail("WhereExpression threw \(error), not a UsageError")
    }
    if expression.op.isOrdering {
        fuzzCheck(LogNumber.parse(LogNumber.trimmed(Array(expression.value.utf8))) != nil, "'\(text)' accepted without a number")
    }
    let opposite = try? WhereExpression(expression.path.text + opposites[expression.op]!.rawValue + expression.value,
                                        ignoreCase: ignoreCase)
    let usable = opposite.map { $0.op == opposites[expression.op]! && $0.value == expression.value && $0.path.text == expression.path.text } ?? false
    let entry = LogEntry()
    let lines = input[min(newline + 1, input.endIndex)...].split(separator: 0x0A, omittingEmptySubsequences: false)
    for line in lines.prefix(16) {
        Array(line).withUnsafeBufferPointer { entry.load($0) }
        let result = expression.test(entry)
        guard usable, let opposite else { continue }
        let other = opposite.test(entry)
        let ordering = [.less, .lessOrEqual, .greater, .greaterOrEqual].contains(expression.op)
        if ordering && expression.orderedNumber(in: entry) == nil {
            fuzzCheck(!result && !other, "'\(text)' on a line without the field as a number")
        } else {
            fuzzCheck(result != other, "'\(text)' and its opposite agree (\(result)) on \(fuzzShow(line))")
        }
    }
    return 0
}

private func hasQuantifierRun(_ text: String) -> Bool {
    var run = 0
    for c in text.utf8 {
        run = (c == UInt8(ascii: "*") || c == UInt8(ascii: "+") || c == UInt8(ascii: "?")) ? run + 1 : 0
        if run >= 3 { return true }
    }
    return false
}
