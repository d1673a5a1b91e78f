import Glibc
import ArcCore

/// Search before parsing: the literal bytes that every line a filter accepts must hold,
/// found in the whole read buffer at once (ByteNeedle), so that only the lines around a
/// hit are parsed and checked by `LogFilter.accepts`. A line without any hit cannot be
/// accepted, so the answers are those of parsing every line; a hit only makes a
/// candidate (a `"level":"error"` inside a message is still parsed and turned down).
///
/// Each filter that names a literal gives a `Condition`: lines holding one of its anchors
/// (a needle, and for --level a look at the value after the key). The most selective is
/// searched in the buffer; the others are checked in each candidate line before it is
/// parsed. A filter without a safe literal (--level info, --since, --where k!=v, a regex,
/// -i) gives none, and with no condition at all there is no prefilter: every line is
/// parsed, as before.
public struct LinePrefilter {
    /// A byte string to look for and what a hit of it needs to make its line a candidate.
    struct Anchor {
        enum Check { case any, severityAtLeast(Severity) }
        let bytes: [UInt8]
        let check: Check

        init(_ bytes: [UInt8], _ check: Check = .any) {
            self.bytes = bytes
            self.check = check
        }
    }

    /// Lines holding at least one anchor (that passes its check).
    struct Condition {
        let anchors: [Anchor]
        /// The anchors in as few passes as they can share: one for those with a rare byte
        /// each (memchr), one for all the others together; with the anchor of each needle.
        let searchers: [(needles: ByteNeedles, anchors: [Int])]

        init(anchors: [Anchor]) {
            self.anchors = anchors
            var searchers: [(ByteNeedles, [Int])] = []
            var common: [Int] = []
            for (i, a) in anchors.enumerated() {
                if a.bytes.contains(where: { ByteNeedles.rank($0) <= ByteNeedles.rareRank }) {
                    searchers.append((ByteNeedles([a.bytes]), [i]))
                } else {
                    common.append(i)
                }
            }
            if !common.isEmpty {
                let starts = common.map { i -> Set<UInt8>? in
                    if case .severityAtLeast(let min) = anchors[i].check { return Severity.nameStarts(atLeast: min) }
                    return nil
                }
                searchers.append((ByteNeedles(common.map { anchors[$0].bytes }, valueStarts: starts), common))
            }
            self.searchers = searchers
        }
    }

    /// Searched in the whole buffer.
    let primary: Condition
    /// Checked within each candidate line of `primary`.
    let others: [Condition]

    /// nil when no filter names a safe literal.
    public init?(_ filter: LogFilter) {
        // Most selective first, as a guess: a literal the user typed is rarer than the
        // `level` key, which most lines hold.
        var conditions: [Condition] = []
        if let grep = filter.grep, let c = LinePrefilter.grep(grep) { conditions.append(c) }
        for w in filter.wheres { if let c = LinePrefilter.whereCondition(w) { conditions.append(c) } }
        if !filter.tools.isEmpty, let c = LinePrefilter.stringValue(filter.tools) { conditions.append(c) }
        if let trace = filter.trace, let c = LinePrefilter.stringValue([trace]) { conditions.append(c) }
        if let min = filter.minSeverity, let c = LinePrefilter.level(min) { conditions.append(c) }
        guard let first = conditions.first else { return nil }
        primary = first
        others = Array(conditions.dropFirst())
    }

    /// U+FFFD as UTF-8: what a line with invalid UTF-8 is read with in place of each bad
    /// sequence. A literal holding it could match such a line without being in its bytes.
    private static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
    private static let backslash = Anchor([UInt8(ascii: "\\")])

    private static func holdsReplacement(_ b: [UInt8]) -> Bool {
        b.count >= 3 && (0...b.count - 3).contains { b[$0] == 0xEF && b[$0 + 1] == 0xBF && b[$0 + 2] == 0xBD }
    }

    /// `--grep` with a pattern that is a plain literal: it is in the line as written.
    static func grep(_ regex: ByteRegex) -> Condition? {
        guard let literal = regex.literal, !holdsReplacement(literal) else { return nil }
        return Condition(anchors: [Anchor(literal)])
    }

    /// `--where FIELD=TEXT` and `FIELD~LITERAL`: the value's text holds TEXT. Unescaped,
    /// it is in the line's bytes as is (a string's contents, any other value as written,
    /// a text line's msg is the line); escaped, the line holds a backslash.
    /// `=` with a number has no literal: 503 also equals 503.0, 5.03e2 and "503".
    static func whereCondition(_ w: WhereExpression) -> Condition? {
        let text: [UInt8]
        switch w.op {
        case .equal:
            guard !w.comparesNumbers else { return nil }
            text = Array(w.value.utf8)
        case .matches:
            guard let literal = w.regexLiteral else { return nil }
            text = literal
        default:
            return nil
        }
        guard !text.isEmpty, !holdsReplacement(text) else { return nil }
        return Condition(anchors: [Anchor(text), backslash])
    }

    /// `--tool` and `--trace`: a string value equal to one of `values`, so `"VALUE"` with
    /// its quotes is in the line, or the line holds a backslash (an escaped string).
    static func stringValue(_ values: [[UInt8]]) -> Condition? {
        guard !values.contains(where: holdsReplacement) else { return nil }
        let quoted = values.map { [UInt8(ascii: "\"")] + $0 + [UInt8(ascii: "\"")] }
        return Condition(anchors: quoted.map { Anchor($0) } + [backslash])
    }

    /// `--level warn` and above: a line without a level counts as info, so the line must
    /// hold a level key (`level`, `severity` or `lvl`, as `Severity` reads them) whose
    /// value ranks high enough. Each key is looked at where it is found, its value read as
    /// `Severity` reads it; a key written with a `\u` escape is in no needle, so `\u`
    /// makes a candidate too. `--level info` and below: no literal (most lines pass).
    static func level(_ min: Severity) -> Condition? {
        guard min > .info else { return nil }
        let keys = FieldKey.levelKeys.map { Anchor($0.bytes + [UInt8(ascii: "\"")], .severityAtLeast(min)) }
        return Condition(anchors: keys + [Anchor(Array("\\u".utf8))])
    }

    // MARK: searching

    /// Whether a hit of `anchor` at `at` in `line[..<end]` makes its line a candidate.
    static func passes(_ anchor: Anchor, _ b: UnsafePointer<UInt8>, at: Int, end: Int) -> Bool {
        switch anchor.check {
        case .any: return true
        case .severityAtLeast(let min):
            return LinePrefilter.severity(after: at + anchor.bytes.count, in: b, end: end).map { $0 >= min } ?? false
        }
    }

    /// The severity of the value after a level key's closing quote at `i`, read as
    /// `LogEntry.severity` reads it; nil when none follows (no colon: the bytes were not
    /// a key; an escaped string, `true`, an object: no severity). The end of the
    /// buffer before the value ends is .fatal, a candidate: the line is not all here yet.
    static func severity(after start: Int, in b: UnsafePointer<UInt8>, end: Int) -> Severity? {
        var i = start
        func space(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D }
        while i < end && space(b[i]) { i += 1 }
        guard i < end else { return .fatal }
        guard b[i] == UInt8(ascii: ":") else { return nil }
        i += 1
        while i < end && space(b[i]) { i += 1 }
        guard i < end else { return .fatal }
        let valueStart = i
        if b[i] == UInt8(ascii: "\"") {
            i += 1
            while i < end && b[i] != UInt8(ascii: "\"") && b[i] != UInt8(ascii: "\\") && b[i] != 0x0A { i += 1 }
            guard i < end else { return .fatal }
            // A backslash: an escaped string, which Severity reads as no name.
            guard b[i] == UInt8(ascii: "\"") else { return nil }
            return Severity(UnsafeBufferPointer(start: b + valueStart, count: i + 1 - valueStart), kind: .string)
        }
        if b[i] == UInt8(ascii: "-") || (b[i] >= 0x30 && b[i] <= 0x39) {
            // A JSON number ends at a space, a comma, or the object's end.
            while i < end && b[i] != UInt8(ascii: ",") && b[i] != UInt8(ascii: "}") && !space(b[i]) && b[i] != 0x0A { i += 1 }
            guard i < end else { return .fatal }
            return Severity(UnsafeBufferPointer(start: b + valueStart, count: i - valueStart), kind: .number)
        }
        return nil
    }

    /// Whether `line[from..<end]` holds an anchor of `condition` that passes its check.
    static func holds(_ condition: Condition, _ b: UnsafePointer<UInt8>, from: Int, end: Int) -> Bool {
        for searcher in condition.searchers {
            var at = from
            while let hit = searcher.needles.find(in: b, from: at, end: end) {
                if passes(condition.anchors[searcher.anchors[hit.needle]], b, at: hit.at, end: end) { return true }
                at = hit.at + 1
            }
        }
        return false
    }

    /// Whether the whole line `b[from..<end]` is a candidate: every condition holds in it.
    func admits(_ b: UnsafePointer<UInt8>, from: Int, end: Int) -> Bool {
        LinePrefilter.holds(primary, b, from: from, end: end) && others.allSatisfy { LinePrefilter.holds($0, b, from: from, end: end) }
    }
}

/// A prefilter's search of a reader's buffer: each anchor's next hit is kept, in offsets
/// of the input, so however many candidates a buffer holds it is searched once per anchor
/// (kept across candidates until the next read into the buffer; then `reset`). A plain
/// value over memory of its own, freed by `deallocate` (the reader's deinit): a reader
/// takes it out of a stored property and puts it back for each candidate, and a value
/// holding arrays (or the prefilter) cost retains, releases and a runtime exclusivity
/// check a line there.
struct PrefilterScan {
    /// Per searcher of the primary condition: its next hit (an input offset, and which
    /// anchor) at or after `searchedFrom`, or Int.max for none before the buffer's end.
    private let next: UnsafeMutablePointer<(at: Int, anchor: Int)>
    private let searchedFrom: UnsafeMutablePointer<Int>
    private let count: Int

    init(_ prefilter: LinePrefilter) {
        count = prefilter.primary.searchers.count
        next = .allocate(capacity: count)
        next.initialize(repeating: (-1, 0), count: count)
        searchedFrom = .allocate(capacity: count)
        searchedFrom.initialize(repeating: -1, count: count)
    }

    func deallocate() {
        next.deallocate()
        searchedFrom.deallocate()
    }

    /// Forgets the hits: the buffer was read into.
    func reset() {
        for i in 0..<count { next[i] = (-1, 0); searchedFrom[i] = -1 }
    }

    /// The first candidate line in `bytes[..<end]`, which starts at input offset `origin`
    /// with a line: its start, and its newline's offset, or nil when it runs to the end
    /// (the rest is not read yet). nil when no line holds a hit.
    func nextCandidate(_ prefilter: LinePrefilter, _ bytes: UnsafePointer<UInt8>, end: Int,
                                origin: Int) -> (start: Int, newline: Int?)? {
        var lineFrom = 0
        let condition = prefilter.primary
        let searchers = condition.searchers
        while true {
            // The earliest hit of any searcher, each searched again only when passed.
            var best = Int.max, which = -1
            for i in searchers.indices {
                if searchedFrom[i] < 0 || next[i].at < origin + lineFrom || searchedFrom[i] > origin + lineFrom {
                    next[i] = PrefilterScan.skipRefused(searchers[i], condition.anchors, bytes, from: lineFrom, end: end,
                                                        origin: origin, before: .min)
                    searchedFrom[i] = origin + lineFrom
                }
                if next[i].at < best { best = next[i].at; which = i }
            }
            guard which >= 0 else { return nil }
            let hit = best - origin
            guard LinePrefilter.passes(condition.anchors[next[which].anchor], bytes, at: hit, end: end) else {
                // Hits turned down (under --level, the key in every line): searched on
                // here while they stay before every other searcher's next hit, without
                // going round the loop above, whose copies of each searcher cost a retain
                // and a release per hit (7% of --level error).
                next[which] = PrefilterScan.skipRefused(searchers[which], condition.anchors, bytes, from: hit + 1,
                                                        end: end, origin: origin, before: earliest(but: which))
                continue
            }
            let start = ByteScan.lastNewline(in: bytes, from: lineFrom, end: hit).map { $0 + 1 } ?? lineFrom
            guard let newline = ByteScan.firstNewline(in: bytes, from: hit, end: end) else { return (start, nil) }
            if prefilter.others.isEmpty
                || prefilter.others.allSatisfy({ LinePrefilter.holds($0, bytes, from: start, end: newline) }) {
                return (start, newline)
            }
            lineFrom = newline + 1
        }
    }

    /// The earliest next hit of the searchers other than `which`.
    private func earliest(but which: Int) -> Int {
        var best = Int.max
        for i in 0..<count where i != which && next[i].at < best { best = next[i].at }
        return best
    }

    /// The next hit of `searcher` at or after `from` that passes its check, or the first
    /// at or after `before` (an input offset) whatever it is: the caller's loop, which
    /// looks at each hit in input order, then takes it as it would have. With `before`
    /// .min: the next hit, checked or not.
    private static func skipRefused(_ searcher: (needles: ByteNeedles, anchors: [Int]), _ anchors: [LinePrefilter.Anchor],
                                    _ bytes: UnsafePointer<UInt8>, from: Int, end: Int, origin: Int,
                                    before: Int) -> (at: Int, anchor: Int) {
        let needles = searcher.needles
        var from = from
        while true {
            guard let hit = needles.find(in: bytes, from: from, end: end) else { return (.max, 0) }
            let anchor = searcher.anchors[hit.needle]
            if hit.at + origin >= before || LinePrefilter.passes(anchors[anchor], bytes, at: hit.at, end: end) {
                return (hit.at + origin, anchor)
            }
            from = hit.at + 1
        }
    }
}
