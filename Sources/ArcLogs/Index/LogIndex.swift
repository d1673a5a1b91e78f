import Glibc
import ArcCore

/// Log lines in the state database: `ingest` stores them (with an FTS5 index over msg and
/// the whole line), `search` and `count --db` read them back. Tables: migration 3 in
/// StateStore.
public final class LogIndex {
    let db: Database
    /// Lines per transaction: large enough that commits cost little, small enough that
    /// another tool waiting for the write lock is not kept waiting long.
    static let batch = 5000

    public init(_ db: Database) { self.db = db }

    public struct Ingested {
        public var source: String
        public var lines = 0
        public var fromOffset: Int64 = 0
        public var toOffset: Int64 = 0
    }

    /// Stores the lines of `source` that `filter` accepts, starting where the last ingest
    /// of the same file stopped. Each batch commits with the file's new offset, so a run
    /// stopped at any point resumes without losing or repeating a line.
    public func ingest(_ source: LogSources.Source, sources: LogSources, filter: LogFilter,
                       stop: StopSignal? = nil) throws -> Ingested {
        let isFile = source.path != "-"
        let path = isFile ? FileSystem.absolute(source.path) : "stdin"
        var result = Ingested(source: path)
        let fingerprint = isFile ? LogIndex.fingerprint(fd: source.reader.fd) : 0
        if isFile, let done = try storedOffset(path, fingerprint) {
            var st = stat()
            if fstat(source.reader.fd, &st) == 0 && Int64(st.st_size) >= done {
                source.reader.seek(to: done)
                result.fromOffset = done
            }
        }
        var more = true
        while more && !(stop?.requested ?? false) {
            try db.transaction {
                var n = 0
                let s = try LogTable.statement(db)
                while n < LogIndex.batch {
                    guard try sources.advance(source) else { more = false; break }
                    let e = source.entry
                    guard filter.accepts(e) else { continue }
                    try LogTable.insert(s, tsMillis: e.ts, level: e.isJSON ? (e.severity?.name) : nil,
                                        tool: e.string(FieldKey.toolKeys), msg: e.message,
                                        traceID: e.string(FieldKey.traceKeys), spanID: e.string(FieldKey.spanKeys),
                                        source: path, line: e.text)
                    n += 1
                }
                result.lines += n
                if isFile { try saveOffset(path, fingerprint, source.reader.offset, lines: n) }
            }
        }
        result.toOffset = source.reader.offset
        return result
    }

    private func storedOffset(_ path: String, _ fingerprint: Int64) throws -> Int64? {
        let s = try db.statement("SELECT offset FROM log_sources WHERE path = ? AND fingerprint = ?")
        defer { s.reset() }
        s.bind(1, path).bind(2, fingerprint)
        return try s.step() ? s.int(0) : nil
    }

    private func saveOffset(_ path: String, _ fingerprint: Int64, _ offset: Int64, lines: Int) throws {
        let s = try db.statement("""
            INSERT INTO log_sources (path, fingerprint, offset, lines, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (path, fingerprint) DO UPDATE SET offset = excluded.offset,
                lines = lines + excluded.lines, updated_at = excluded.updated_at
            """)
        s.bind(1, path).bind(2, fingerprint).bind(3, offset).bind(4, lines).bind(5, WallClock.now())
        try s.run()
    }

    /// A hash of the file's first line (at most 4 KiB of it), read without moving the
    /// reader: what tells a file from the next one written at the same path.
    static func fingerprint(fd: Int32) -> Int64 {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, 4096, 0) }
        guard n > 0 else { return 0 }
        let end = buf[..<n].firstIndex(of: 0x0A) ?? n
        var h = StableHash()
        buf.withUnsafeBytes { h.add(UnsafeRawBufferPointer(rebasing: $0[..<end])) }
        return Int64(bitPattern: h.value)
    }

    // MARK: reading back

    public enum Order: Sendable { case newestFirst, oldestFirst, stored }

    /// Calls `body` with each stored line that matches `query` (FTS5 syntax; nil: every
    /// line) and `filter`, in `order`, at most `limit` (0: all). The filters with a column
    /// run in SQL; --where and --grep on the line itself.
    public func lines(matching query: String?, filter: LogFilter, order: Order, limit: Int,
                      _ body: (LogEntry) throws -> Void) throws {
        var sql = query == nil
            ? "SELECT l.line, l.ts_ms FROM logs l WHERE 1"
            : "SELECT l.line, l.ts_ms FROM logs_fts JOIN logs l ON l.id = logs_fts.rowid WHERE logs_fts MATCH ?"
        var texts: [String] = query.map { [$0] } ?? []
        var ints: [(Int, Int64)] = []
        func param(_ text: String) -> String { texts.append(text); return "?" }
        if let min = filter.minSeverity {
            let names = Severity.allCases.filter { $0 >= min }.map { param($0.name) }
            sql += " AND (l.level IN (\(names.joined(separator: ", ")))" + (min <= .info ? " OR l.level IS NULL)" : ")")
        }
        // Numbers are bound after the texts: positions are worked out at the end.
        if let since = filter.since { sql += " AND l.ts_ms >= ?#"; ints.append((0, since)) }
        if let until = filter.until { sql += " AND l.ts_ms < ?#"; ints.append((0, until)) }
        if !filter.tools.isEmpty {
            sql += " AND l.tool IN (" + filter.tools.map { param(String(decoding: $0, as: UTF8.self)) }.joined(separator: ", ") + ")"
        }
        if let trace = filter.trace { sql += " AND l.trace_id = " + param(String(decoding: trace, as: UTF8.self)) }
        switch order {
        case .newestFirst: sql += " ORDER BY l.ts_ms DESC, l.id DESC"
        case .oldestFirst: sql += " ORDER BY l.ts_ms, l.id"
        case .stored: sql += " ORDER BY l.id"
        }
        let postFilter = !filter.wheres.isEmpty || filter.grep != nil
        if limit > 0 && !postFilter { sql += " LIMIT \(limit)" }

        // Bind in textual order: walk the SQL's placeholders.
        let s = try db.statement(sql.replacing("?#", with: "?"))
        defer { s.reset() }
        var index: Int32 = 1
        var nextText = 0, nextInt = 0
        var rest = Substring(sql)
        while let q = rest.firstIndex(of: "?") {
            let after = rest.index(after: q)
            if after < rest.endIndex && rest[after] == "#" {
                s.bind(index, ints[nextInt].1)
                nextInt += 1
            } else {
                s.bind(index, texts[nextText])
                nextText += 1
            }
            index += 1
            rest = rest[after...]
        }
        let entry = LogEntry()
        var shown = 0
        var fts = LogFilter()
        fts.wheres = filter.wheres
        fts.grep = filter.grep
        while try stepReportingQuery(s, query) {
            entry.load(s.text(0) ?? "")
            entry.ts = s.optionalInt(1)
            guard fts.accepts(entry) else { continue }
            try body(entry)
            shown += 1
            if limit > 0 && shown >= limit { break }
        }
    }

    /// A query FTS5 cannot parse is the user's mistake: exit 2, with SQLite's reason.
    /// (SQLITE_ERROR from stepping a prepared query is always about the query.)
    private func stepReportingQuery(_ s: Statement, _ query: String?) throws -> Bool {
        do { return try s.step() } catch let e as StoreError where query != nil && e.sqliteCode == 1 {
            throw UsageError("search: bad query '\(query ?? "")': \(e.message)")
        }
    }
}
