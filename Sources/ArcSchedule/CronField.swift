import ArcCore

/// One of the six positions of a cron expression: its name in messages, its range, and
/// the names it accepts (months and weekdays, three letters, any case).
struct CronFieldKind: Sendable {
    let name: String
    let range: ClosedRange<Int>
    /// What `*` means: for day-of-week 0-6, since 7 is Sunday again.
    let starRange: ClosedRange<Int>
    /// Month names stand for 1-12, weekday names for 0-6.
    let names: [String]

    static let second = CronFieldKind(name: "second", range: 0...59, starRange: 0...59, names: [])
    static let minute = CronFieldKind(name: "minute", range: 0...59, starRange: 0...59, names: [])
    static let hour = CronFieldKind(name: "hour", range: 0...23, starRange: 0...23, names: [])
    static let dayOfMonth = CronFieldKind(name: "day-of-month", range: 1...31, starRange: 1...31, names: [])
    static let month = CronFieldKind(
        name: "month", range: 1...12, starRange: 1...12,
        names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])
    static let dayOfWeek = CronFieldKind(
        name: "day-of-week", range: 0...7, starRange: 0...6,
        names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"])

    func value(named text: String) -> Int? {
        guard let index = names.firstIndex(of: text.lowercased()) else { return nil }
        return names.count == 12 ? index + 1 : index
    }
}

/// The values one field allows, as bits (bit n set: value n allowed).
struct CronValues: Sendable, Equatable {
    var bits: UInt64 = 0

    func contains(_ value: Int) -> Bool { value >= 0 && value < 64 && bits & (1 << UInt64(value)) != 0 }
    mutating func insert(_ value: Int) { bits |= 1 << UInt64(value) }

    /// The smallest allowed value at or above `value`, if any.
    func first(atOrAbove value: Int) -> Int? {
        guard value < 64 else { return nil }
        let rest = bits & ~((1 << UInt64(max(0, value))) - 1)
        return rest == 0 ? nil : rest.trailingZeroBitCount
    }
}

/// Parses one field: a comma list of `*`, `N`, `A-B`, each optionally `/STEP`, where `N/STEP`
/// means N through the field's maximum. Errors name the field and the token's column.
struct CronFieldParser {
    let kind: CronFieldKind
    let text: [Character]
    /// Column of `text[0]` in the whole expression.
    let column: Int
    var i = 0

    init(kind: CronFieldKind, text: [Character], column: Int) {
        self.kind = kind
        self.text = text
        self.column = column
    }

    mutating func parse() throws -> CronValues {
        var values = CronValues()
        while true {
            let itemStart = i
            if i >= text.count || text[i] == "," { throw error("empty list item", at: itemStart) }
            var low = kind.starRange.lowerBound, high = kind.starRange.upperBound
            var single = false
            if text[i] == "*" {
                i += 1
            } else {
                low = try value()
                high = low
                single = true
                if i < text.count, text[i] == "-" {
                    i += 1
                    high = try value(endingRangeFrom: low)
                    single = false
                    guard low <= high else {
                        throw error("range \(String(text[itemStart..<i])) runs backwards", at: itemStart)
                    }
                }
            }
            var step = 1
            if i < text.count, text[i] == "/" {
                i += 1
                step = try stepValue()
                // `N/STEP` runs to where `*` ends, so `mon/3` is Monday and Thursday, not Sunday too.
                if single { high = max(low, kind.starRange.upperBound) }
            }
            for v in stride(from: low, through: high, by: step) { values.insert(v) }
            if i >= text.count { return values }
            guard text[i] == "," else { throw error("unexpected '\(text[i])'", at: i) }
            i += 1
        }
    }

    /// A number or (in the month and weekday fields) a name, within the field's range.
    /// `sun` ending a range that starts later in the week is 7, so `mon-sun` and `sat-sun`
    /// mean what they say (Vixie cron would call them backwards).
    private mutating func value(endingRangeFrom low: Int? = nil) throws -> Int {
        let start = i
        let atom = self.atom()
        if atom.isEmpty { throw error("expected a value", at: start) }
        if atom.allSatisfy(\.isASCIIDigit) {
            guard atom.count <= 4, let n = Int(atom), kind.range.contains(n) else {
                throw error("\(atom) is out of range \(kind.range.lowerBound)-\(kind.range.upperBound)", at: start)
            }
            return n
        }
        if let n = kind.value(named: atom) { return n == 0 && (low ?? 0) > 0 && kind.names.count == 7 ? 7 : n }
        if atom.contains(where: { "LW#?".contains($0) }) {
            throw error("'\(atom)' is not supported (L, W, # and ? are Quartz extensions, not cron)", at: start)
        }
        if kind.names.isEmpty { throw error("expected a number, got '\(atom)'", at: start) }
        throw error("unknown name '\(atom)'", at: start)
    }

    private mutating func stepValue() throws -> Int {
        let start = i
        let atom = self.atom()
        guard !atom.isEmpty, atom.allSatisfy(\.isASCIIDigit) else {
            throw error("step must be a number, got '\(atom)'", at: start)
        }
        let span = kind.starRange.count
        guard atom.count <= 4, let step = Int(atom), step >= 1 else { throw error("step must be at least 1", at: start) }
        guard step <= span else { throw error("step \(atom) is more than the \(span) values the field has", at: start) }
        return step
    }

    /// The characters up to the next `-`, `/` or `,`.
    private mutating func atom() -> String {
        let start = i
        while i < text.count, text[i] != "-", text[i] != "/", text[i] != "," { i += 1 }
        return String(text[start..<i])
    }

    private func error(_ message: String, at index: Int) -> CronError {
        CronError("\(kind.name): \(message)", column: column + index)
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
