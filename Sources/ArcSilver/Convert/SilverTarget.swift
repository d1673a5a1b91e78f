import ArcCore

/// Where silver files go: a directory or an S3 prefix, and the layout under it.
struct SilverTarget: Sendable {
    enum Root: Sendable {
        case directory(String)
        case s3(S3URL)
    }

    /// Hive-style folders for the partition fields (symbol, interval where the type has one,
    /// date), so `read_parquet('DEST/spot/daily/aggTrades/**/*.parquet', hive_partitioning
    /// = true)` reads one dataset with those as columns.
    static let defaultLayout = "{market}/{period}/{type}/symbol={symbol}/interval={interval}/date={date}/{file}"

    /// Other sources' files go under a folder named for the source (`bybit/linear/daily/
    /// trades/...`), so Binance's paths stay as they were and no two sources share one;
    /// a --layout given is used as given (put {source} in it to keep sources apart).
    static let otherSourceLayout = "{source}/" + defaultLayout

    let root: Root
    let layout: Layout
    /// The layout for sources other than Binance's: otherSourceLayout for the default,
    /// else the one given.
    let otherLayout: Layout

    init(dest: String, layout: String?) throws {
        if S3URL.isS3(dest) {
            var url = try S3URL(parsing: dest)
            if !url.key.isEmpty && !url.key.hasSuffix("/") { url = url.with(key: url.key + "/") }
            root = .s3(url)
        } else {
            root = .directory(FileSystem.absolute(dest))
        }
        self.layout = try Layout(layout ?? Self.defaultLayout)
        // The default (whether given or not): other sources under their own folder.
        otherLayout = (layout ?? Self.defaultLayout) == Self.defaultLayout ? try Layout(Self.otherSourceLayout) : self.layout
    }

    /// The silver file's path or URL for an archive (or a merged month, `file` named so).
    func dest(for identity: ArchiveIdentity, file: String, date: String? = nil) throws -> String {
        var b = RecordBuilder()
        b.begin()
        b.string("source", identity.source)
        b.string("market", identity.market)
        b.string("period", identity.period)
        b.string("type", identity.type)
        b.string("symbol", identity.symbol)
        b.optionalString("interval", identity.interval)
        b.string("date", date ?? identity.date)
        b.string("key", file)
        b.end()
        let relative = try (identity.source == "binance" ? layout : otherLayout).path(for: try Record(parsing: String(decoding: b.bytes.dropLast(), as: UTF8.self)))
        switch root {
        case .directory(let dir): return dir + "/" + relative
        case .s3(let url): return url.with(key: url.key + relative).description
        }
    }

    /// The silver file name of an archive: the zip's (or csv.gz's) name with .parquet.
    static func fileName(_ identity: ArchiveIdentity) -> String {
        let name = FileSystem.baseName(of: identity.key)
        for suffix in [".zip", ".csv.gz"] where name.hasSuffix(suffix) {
            return String(name.dropLast(suffix.count)) + ".parquet"
        }
        return name + ".parquet"
    }

    var isS3: Bool { if case .s3 = root { return true } else { return false } }

    /// Where a silver file at `dest` is written: a safe local file or a multipart upload;
    /// it appears only when committed.
    static func sink(for dest: String, s3: () throws -> S3Client) throws -> ByteSink {
        if S3URL.isS3(dest) { return S3MultipartSink(client: try s3(), url: try S3URL(parsing: dest)) }
        return try AtomicFileSink(path: dest)
    }
}
