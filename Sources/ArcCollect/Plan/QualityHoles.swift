import ArcCore

/// Holes inside archives, as arc-check (or arc-convert) found them: missing klines, days
/// cut short, gaps in trade ids. `arc-plan --gaps` lists them beside the missing files.
/// Read from the quality ledger (the archives' latest check per key).
struct QualityHoles {
    struct Hole {
        var date: String
        var key: String
        var code: String
        var count: Int64?
        /// [from, to) RFC 3339 pairs, as the check wrote them.
        var ranges: [(String, String)]
    }

    static let codes: Set<String> = ["missing_intervals", "cut_short", "id_gaps"]

    /// Holes by archive key.
    let byKey: [String: [Hole]]

    init(_ db: any StateBackend) throws {
        // Only reports that name a hole are parsed; the latest check of each key wins.
        let rows = try db.rows("""
            SELECT key, date, report FROM quality
            WHERE key IS NOT NULL AND (report LIKE '%"code":"missing_intervals"%' OR report LIKE '%"code":"cut_short"%'
                                       OR report LIKE '%"code":"id_gaps"%')
            ORDER BY key, checked_at
            """, [])
        var byKey: [String: [Hole]] = [:]
        for row in rows {
            guard let key = row[0], let report = row[2],
                  let findings = try? JSONValue(parsing: report)["findings"]?.arrayValue else { continue }
            byKey[key] = findings.compactMap { f -> Hole? in
                guard let code = f["code"]?.stringValue, Self.codes.contains(code) else { return nil }
                let ranges = (f["ranges"]?.arrayValue ?? []).compactMap { pair -> (String, String)? in
                    guard let p = pair.arrayValue, p.count == 2, let a = p[0].stringValue, let b = p[1].stringValue else { return nil }
                    return (a, b)
                }
                return Hole(date: row[1] ?? "", key: key, code: code, count: f["count"]?.int64Value, ranges: ranges)
            }
        }
        self.byKey = byKey
    }
}
