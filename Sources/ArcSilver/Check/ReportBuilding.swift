import ArcCore

/// Turns the tallies of a parse into findings, each with one line a user understands.
extension ParserState {
    func report() -> CheckReport {
        var checks = self.checks
        var cutShort = Tally()
        checks.finish(cutShortAfter: dataset.cutShortAfter, cutShort: &cutShort)
        var findings: [Finding] = []
        func add(_ tally: Tally, _ code: FailureCode, _ severity: Severity, _ message: (Tally) -> String) {
            guard !tally.isEmpty else { return }
            findings.append(Finding(code: code, severity: severity, message: message(tally), count: tally.count,
                                    ranges: tally.ranges.map { TimeRange($0.0, $0.1) }, lines: tally.lines))
        }
        let name = "\(identity.market) \(identity.type)"
        let expected = dataset.csvColumns.joined(separator: ",")
        let key = dataset.keyColumn.map { dataset.schema[$0].name } ?? "key"
        let time = dataset.schema[dataset.timeColumn].name
        func first(_ t: Tally) -> String { t.lines.first.map { ", first on line \($0)" } ?? "" }
        func rows(_ n: Int) -> String { n == 1 ? "1 row" : "\(n) rows" }

        add(unknownLayout, .unknownLayout, .fail) { t in
            "the header is not the \(name) layout: found \"\(t.detail ?? "")\", expected \"\(expected)\"; no row read"
        }
        if unknownLayout.isEmpty && dataRows > 1 && emittedRows == 0 && !(badFields.isEmpty && badRows.isEmpty) {
            // Not one of its rows fits: the file holds another dataset's rows, not bad values.
            let first = (badRows.isEmpty ? badFields : badRows).detail ?? ""
            findings.append(Finding(code: .unknownLayout, severity: .fail,
                                    message: "no row has the \(name) layout (\(expected)): \(first)", count: dataRows))
            return finish(findings)
        }
        add(badFields, .badField, .fail) { t in "\(rows(t.count)) with a field that does not parse (first: \(t.detail ?? "")); not converted" }
        add(badRows, .badRow, .fail) { t in
            "\(rows(t.count)) without the \(dataset.fields.count) fields of \(name) (first: \(t.detail ?? "")); not converted"
        }
        add(checks.timeOutside, .outsidePeriod, .fail) { t in
            "\(rows(t.count)) with \(time) outside \(identity.date) (\(MicrosecondTime.rfc3339(identity.periodStart)) to \(MicrosecondTime.rfc3339(identity.periodEnd)))\(first(t))"
        }
        add(checks.nonPositivePrices, .nonPositivePrice, .fail) { t in "\(rows(t.count)) with a price at or below zero\(first(t))" }
        if dataRows == 0 && unknownLayout.isEmpty {
            findings.append(Finding(code: .noRows, severity: .fail, message: "the file has no data rows", count: 0))
        }
        add(checks.duplicateRows, .duplicateRows, .warn) { t in "\(rows(t.count)) repeating an earlier row with the same \(time)\(first(t))" }
        add(checks.duplicateKeys, .duplicateKeys, .warn) { t in
            if let text = dataset.textKeyColumn {
                return "\(rows(t.count)) with the \(dataset.schema[text].name) of an earlier row with the same \(time) but other values\(first(t))"
            }
            return "\(rows(t.count)) with the \(key) of the row before but other values\(first(t))"
        }
        add(checks.outOfOrder, .outOfOrder, .warn) { t in
            "\(rows(t.count)) earlier than the row before (by \(time)\(dataset.keyColumn == nil || key == time ? "" : " or \(key)"))\(first(t))"
        }
        let interval = dataset.interval?.name ?? ""
        add(checks.missing, .missingIntervals, .warn) { t in
            "\(t.amount) \(interval) klines missing in \(t.count) gap\(t.count == 1 ? "" : "s")"
                + (t.count > t.ranges.count ? " (the first \(t.ranges.count) listed)" : "")
        }
        add(checks.offGrid, .offGrid, .warn) { t in "\(rows(t.count)) with an open time off the \(interval) grid\(first(t))" }
        add(cutShort, .cutShort, .warn) { t in
            if dataset.interval != nil {
                return "the file ends early: the last \(t.amount) \(interval) klines of \(identity.date) are missing"
            }
            let last = checks.maxTime
            return "the file ends early: no row after \(MicrosecondTime.rfc3339(last)), \(MicrosecondTime.duration(identity.periodEnd - last)) before \(identity.date) ends"
        }
        add(checks.idGaps, .idGaps, .warn) { t in
            "\(t.count) jump\(t.count == 1 ? "" : "s") in \(key), \(t.amount) ids missing\(first(t))"
        }
        add(checks.tradeIdGaps, .tradeIdGaps, .warn) { t in
            "\(rows(t.count)) whose first_trade_id does not follow the previous last_trade_id\(first(t))"
        }
        add(blankLines, .blankLines, .warn) { t in "\(t.count) blank line\(t.count == 1 ? "" : "s") skipped\(first(t))" }

        return finish(findings)
    }

    private func finish(_ findings: [Finding]) -> CheckReport {
        CheckReport(rows: dataRows, rowsEmitted: emittedRows, columns: dataset.fields.count, header: header ?? false,
                           timeUnit: timeScale == 1 ? "us" : timeScale == 1000 ? "ms" : sawSeconds ? "s" : sawTextTime ? "text" : nil,
                           firstTime: checks.seen ? checks.minTime : nil, lastTime: checks.seen ? checks.maxTime : nil,
                           findings: findings)
    }
}
