/// An archive record (arc-discover's output, arc-plan's input): one file a source
/// publishes. DESIGN.md, "Contracts".
public struct Archive: Sendable, Equatable {
    public var source: String
    public var market: String
    public var period: String
    public var type: String
    public var symbol: String
    public var interval: String?
    /// `YYYY-MM-DD` for daily archives, `YYYY-MM` for monthly ones.
    public var date: String
    public var key: String
    public var url: String
    public var checksumURL: String?
    public var size: Int64?
    public var etag: String?
    public var lastModified: String?
    /// How to verify it (see ArchiveChecksum); nil writes no `checksum`, which readers take
    /// as a SHA-256 sidecar at `checksumURL` when there is one.
    public var checksum: ArchiveChecksum?

    public init(source: String, market: String, period: String, type: String, symbol: String, interval: String?,
                date: String, key: String, url: String, checksumURL: String?, size: Int64?, etag: String?,
                lastModified: String?, checksum: ArchiveChecksum? = nil) {
        self.source = source
        self.market = market
        self.period = period
        self.type = type
        self.symbol = symbol
        self.interval = interval
        self.date = date
        self.key = key
        self.url = url
        self.checksumURL = checksumURL
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.checksum = checksum
    }

    public func encode(into b: inout RecordBuilder) {
        b.string("source", source)
        b.string("market", market)
        b.string("period", period)
        b.string("type", type)
        b.string("symbol", symbol)
        b.optionalString("interval", interval)
        b.string("date", date)
        b.string("key", key)
        b.string("url", url)
        b.stringOrNull("checksum_url", checksumURL)
        b.intOrNull("size", size)
        b.stringOrNull("etag", etag)
        b.stringOrNull("last_modified", lastModified)
        if let checksum { b.object("checksum") { checksum.encode(into: &$0) } }
    }

    /// The fields this record type owns (others pass through untouched).
    public static let fieldNames = ["source", "market", "period", "type", "symbol", "interval", "date", "key",
                                    "url", "checksum_url", "size", "etag", "last_modified", "checksum"]
}
