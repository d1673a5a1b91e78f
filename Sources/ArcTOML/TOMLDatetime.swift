import ArcCore

/// RFC 3339 date-times as TOML 1.0 writes them: offset date-times, local date-times,
/// local dates and local times. Checked by shape and ranges; the value stays text.
enum TOMLDatetime {
    static func check(_ token: [Unicode.Scalar], written: String) throws {
        var reader = Reader(token: token)
        let shapes = "expected e.g. 1979-05-27T07:32:00Z, 1979-05-27T07:32:00, 1979-05-27 or 07:32:00"
        func fail(_ why: String) -> TOMLBareValue.Problem {
            TOMLBareValue.Problem(message: "invalid date-time '\(written)': \(why)")
        }
        do {
            let isDate = token.count >= 5 && token[4] == "-"
            if isDate {
                let year = try reader.number(4)
                try reader.expect("-")
                let month = try reader.number(2)
                try reader.expect("-")
                let day = try reader.number(2)
                guard (1...12).contains(month) else { throw fail("month must be 01 to 12") }
                guard (1...daysIn(month: month, year: year)).contains(day) else {
                    throw fail("day must be 01 to \(daysIn(month: month, year: year)) in that month")
                }
                if reader.atEnd { return }
                guard let separator = reader.next(), separator == "T" || separator == "t" || separator == " " else {
                    throw fail(shapes)
                }
            }
            let hour = try reader.number(2)
            try reader.expect(":")
            let minute = try reader.number(2)
            try reader.expect(":")
            let second = try reader.number(2)
            guard hour <= 23 else { throw fail("hour must be 00 to 23") }
            guard minute <= 59 else { throw fail("minute must be 00 to 59") }
            // RFC 3339 allows a leap second.
            guard second <= 60 else { throw fail("second must be 00 to 60") }
            if reader.peek() == "." {
                _ = reader.next()
                guard reader.skipDigits() > 0 else { throw fail("a fraction of a second needs digits") }
            }
            if reader.atEnd { return }
            guard isDate else { throw fail("a local time takes no time zone offset") }
            let zone = reader.next()
            if zone == "Z" || zone == "z" {
                // nothing more
            } else if zone == "+" || zone == "-" {
                let offsetHour = try reader.number(2)
                try reader.expect(":")
                let offsetMinute = try reader.number(2)
                guard offsetHour <= 23, offsetMinute <= 59 else { throw fail("offset must be -23:59 to +23:59") }
            } else {
                throw fail(shapes)
            }
            guard reader.atEnd else { throw fail(shapes) }
        } catch is Reader.ShapeError {
            throw fail(shapes)
        }
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private struct Reader {
        struct ShapeError: Error {}
        let token: [Unicode.Scalar]
        var index = 0

        var atEnd: Bool { index >= token.count }
        func peek() -> Unicode.Scalar? { atEnd ? nil : token[index] }
        mutating func next() -> Unicode.Scalar? { defer { index += 1 }; return peek() }

        /// Exactly `count` decimal digits.
        mutating func number(_ count: Int) throws -> Int {
            var value = 0
            for _ in 0..<count {
                guard let s = next(), TOMLBareValue.isDigit(s) else { throw ShapeError() }
                value = value * 10 + Int(s.value - 48)
            }
            return value
        }

        mutating func expect(_ s: Unicode.Scalar) throws {
            guard next() == s else { throw ShapeError() }
        }

        mutating func skipDigits() -> Int {
            var count = 0
            while let s = peek(), TOMLBareValue.isDigit(s) { index += 1; count += 1 }
            return count
        }
    }
}
