import ArcCore

/// How one CSV field is read.
public enum FieldKind: UInt8, Sendable {
    /// Epoch milliseconds or microseconds (the unit decided once per file): a timestamp.
    case epochTime
    /// `YYYY-MM-DD HH:MM:SS` (or `YYYY-MM-DD`), UTC: a timestamp.
    case textTime
    case int64
    case double
    /// `True`/`False` (spot) or `true`/`false` (futures).
    case boolean
    case string
    /// Read past and dropped (klines' `ignore`).
    case ignored
    /// Seconds since the epoch, with or without a decimal fraction (Bybit's derivatives
    /// trades, KuCoin's klines): microseconds read from the digits, never through a double.
    case seconds
}

/// One column of a CSV layout and where it lands in the silver schema.
public struct CSVField: Sendable, Equatable {
    /// The name in the CSV header.
    public let name: String
    public let kind: FieldKind
    /// Index in `Dataset.schema`; nil when the field is dropped.
    public let column: Int?
}

/// What the checks look for in a dataset beyond the common ones (order, duplicates,
/// period bounds): the kind of series it is.
public enum SeriesKind: Sendable, Equatable {
    /// One row per interval on a grid: missing intervals, off-grid open times.
    case klines
    /// Trade ids that should follow one another: gaps in ids.
    case trades
    /// Aggregate trade ids that should follow one another, and first/last trade ids
    /// that chain (first = previous last + 1).
    case aggTrades
    case other
}

/// A kline interval: a fixed length, or calendar months (`1mo`).
public struct KlineInterval: Sendable, Equatable {
    public let name: String
    /// Its length in microseconds (a month counts 30 days here, as Binance's REST API
    /// documents; the checks step `1mo` by calendar months instead).
    public let micros: Int64
    public var isCalendarMonth: Bool { name == "1mo" }

    static let lengths: [String: Int64] = [
        "1s": 1, "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "2h": 7200,
        "4h": 14_400, "6h": 21_600, "8h": 28_800, "12h": 43_200, "1d": 86_400, "3d": 259_200,
        "1w": 604_800, "1mo": 2_592_000,
    ]

    public init?(_ name: String) {
        guard let seconds = KlineInterval.lengths[name] else { return nil }
        self.name = name
        self.micros = seconds * 1_000_000
    }
}

/// One market x type's CSV layout and its silver table (SILVER.md, "CSV layouts").
public struct Dataset: Sendable {
    public let source: String
    public let market: String
    public let type: String
    /// The CSV's fields in order: their names are its header line.
    public let fields: [CSVField]
    /// The silver columns (the CSV's minus the dropped ones), snake_case.
    public let schema: [SilverColumn]
    /// The schema column that orders the rows in time.
    public let timeColumn: Int
    /// The schema column that identifies a row (open time for klines, id for trades and
    /// aggTrades); nil when rows have no key of their own.
    public let keyColumn: Int?
    /// Kline-like types: the archive's interval.
    public let interval: KlineInterval?
    public let series: SeriesKind
    /// Schema columns that hold prices, which must be above zero.
    public let priceColumns: [Int]
    /// aggTrades: the first and last trade id columns.
    public let tradeIdColumns: (first: Int, last: Int)?
    /// A file whose last row is earlier than this before its period ends is cut short;
    /// nil where rows come too irregularly to tell (liquidations, option summaries).
    /// Klines use their grid instead.
    public let cutShortAfter: Int64?
    /// How many of the last fields a file may lack altogether (header and rows): Bybit's
    /// trailing `RPI`/`rpi`, in recent files only. Their columns are optional.
    public let trailingOptionalFields: Int
    /// A string column that identifies a row (a trade id that is not a number): a repeat
    /// within a run of equal times is a duplicate key.
    public let textKeyColumn: Int?

    /// The header line's names.
    public var csvColumns: [String] { fields.map(\.name) }
    public var intervalMicros: Int64? { interval?.micros }

    /// The layout of an archive's CSV; `unknown_layout` for a type SILVER.md does not list.
    public static func of(_ identity: ArchiveIdentity) throws -> Dataset {
        let found: DatasetLayouts.Layout?
        switch identity.source {
        case "bybit": found = DatasetLayouts.bybit(market: identity.market, type: identity.type)
        case "kucoin": found = DatasetLayouts.kucoin(market: identity.market, type: identity.type)
        default: found = DatasetLayouts.layout(market: identity.market, type: identity.type)
        }
        guard let layout = found else {
            let source = identity.source == "binance" ? "" : "\(identity.source) "
            throw SilverError(.unknownLayout, "\(identity.key): no known CSV layout for \(source)\(identity.market) \(identity.type)")
        }
        var interval: KlineInterval?
        if let name = identity.interval {
            guard let known = KlineInterval(name) else {
                throw SilverError(.unknownLayout, "\(identity.key): unknown kline interval \(name)")
            }
            interval = known
        }
        return Dataset(source: identity.source, market: identity.market, type: identity.type, layout: layout,
                       interval: interval)
    }

    init(source: String = "binance", market: String, type: String, layout: DatasetLayouts.Layout, interval: KlineInterval?) {
        self.source = source
        self.market = market
        self.type = type
        self.interval = interval
        self.series = layout.series
        var fields: [CSVField] = []
        var schema: [SilverColumn] = []
        for (n, (name, kind, optional)) in layout.columns.enumerated() {
            let header = layout.headerNames?[n] ?? name
            guard kind != .ignored else {
                fields.append(CSVField(name: header, kind: kind, column: nil))
                continue
            }
            fields.append(CSVField(name: header, kind: kind, column: schema.count))
            let type: SilverType
            switch kind {
            case .epochTime, .textTime, .seconds: type = .timestamp
            case .int64: type = .int64
            case .double: type = .double
            case .boolean: type = .boolean
            case .string, .ignored: type = .string
            }
            schema.append(SilverColumn(name, type, optional: optional))
        }
        self.fields = fields
        self.schema = schema
        func index(_ name: String) -> Int { schema.firstIndex { $0.name == name }! }
        timeColumn = index(layout.time)
        keyColumn = layout.key.map(index)
        priceColumns = layout.prices.map(index)
        tradeIdColumns = layout.series == .aggTrades ? (index("first_trade_id"), index("last_trade_id")) : nil
        cutShortAfter = layout.cutShortAfter
        trailingOptionalFields = layout.trailingOptional
        textKeyColumn = layout.textKey.map(index)
    }
}
