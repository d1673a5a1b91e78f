/// What the checks keep about one kind of finding while the file streams by: how often,
/// a few line numbers and time ranges to show, and the first example's detail. Bounded
/// whatever the file's size.
struct Tally {
    static let maxLines = 5
    static let maxRanges = 20

    /// Events (rows, gaps, runs) counted.
    var count = 0
    /// A second total where the finding has one (ids or intervals missing in all gaps).
    var amount: Int64 = 0
    var lines: [Int] = []
    var ranges: [(Int64, Int64)] = []
    /// What the first example was, in words (the field's text, the header found).
    var detail: String?

    var isEmpty: Bool { count == 0 }

    mutating func add(line: Int, detail: @autoclosure () -> String? = nil) {
        count += 1
        if lines.count < Tally.maxLines { lines.append(line) }
        if self.detail == nil { self.detail = detail() }
    }

    mutating func add(range: (Int64, Int64), amount: Int64, line: Int? = nil) {
        count += 1
        self.amount += amount
        if ranges.count < Tally.maxRanges { ranges.append(range) }
        if let line, lines.count < Tally.maxLines { lines.append(line) }
    }
}
