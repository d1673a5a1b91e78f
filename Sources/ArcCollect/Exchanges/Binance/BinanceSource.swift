import ArcCore

/// `arc-discover binance`: lists Binance's public archive (data.binance.vision).
public enum BinanceSource: ArchiveSource {
    public static let spec = CommandSpec(
        name: "binance",
        summary: "list Binance's public archive (data.binance.vision)",
        usage: ["[--market M] [--period P] [--type T] [--symbol S] [--interval I] [--since DATE] [--until DATE]"],
        description: """
        Lists the archives Binance publishes at data.binance.vision, using the bucket's S3 \
        listing (ListObjects v1, every page, many folders at once), and writes one archive \
        record per zip file as the listing goes. Symbols, types and intervals come from the \
        listing itself, never from the trading API, so delisted symbols are found too.

        Filters combine; a filter left out means everything listed. --symbol takes exact \
        names and shell globs ('*USDT'). --since and --until take YYYY-MM-DD or YYYY-MM and \
        keep the archives whose day (or month) overlaps the range; listings start at --since \
        instead of reading the whole folder.

        With --incremental, the state database's catalog remembers the last key seen in each \
        folder and the next run lists only what came after it: new archives, cheaply. A full \
        listing (without --incremental) also notices archives republished in place, so run \
        one now and then.
        """,
        options: [
            OptionSpec("market", short: "m", kind: .list, valueName: "MARKET",
                       help: "markets: spot, um (USD-M futures), cm (COIN-M futures), option",
                       choices: BinanceMarket.allCases.map { $0.rawValue }),
            OptionSpec("period", short: "p", kind: .list, valueName: "PERIOD", help: "daily or monthly archives",
                       choices: ArchivePeriod.allCases.map { $0.rawValue }),
            OptionSpec("type", short: "t", kind: .list, valueName: "TYPE", help: "data types, e.g. klines, trades, aggTrades",
                       choices: BinanceDatasets.typeNames),
            OptionSpec("symbol", short: "s", kind: .list, valueName: "SYMBOL",
                       help: "symbols or globs, e.g. BTCUSDT,ETHUSDT or '*USDT'"),
            OptionSpec("interval", short: "i", kind: .list, valueName: "INTERVAL",
                       help: "kline intervals, e.g. 1m,1h,1d (1mo for months)", choices: BinanceDatasets.intervals),
            OptionSpec("since", valueName: "DATE", help: "first day wanted (YYYY-MM-DD or YYYY-MM)"),
            OptionSpec("until", valueName: "DATE", help: "last day wanted (YYYY-MM-DD or YYYY-MM)"),
            OptionSpec("list", valueName: "WHAT",
                       help: "instead of archives, list the types, symbols or intervals the archive has",
                       choices: ["types", "symbols", "intervals"]),
            .flag("incremental", help: "list only keys after those seen by the last run (catalog in the state database)"),
            OptionSpec("jobs", short: "j", valueName: "N", help: "listing requests in flight at once", defaultValue: "16"),
            OptionSpec("retries", valueName: "N", help: "attempts per request, the first included", defaultValue: "5"),
            OptionSpec("list-url", valueName: "URL", help: "S3 listing endpoint of the bucket (path style)",
                       defaultValue: BinanceEndpoints.defaultListURL, environment: "ARC_BINANCE_LIST_URL"),
            OptionSpec("download-url", valueName: "URL", help: "base URL archives are downloaded from",
                       defaultValue: BinanceEndpoints.defaultDownloadURL, environment: "ARC_BINANCE_DOWNLOAD_URL"),
        ],
        examples: [
            Example("USD-M futures 1m klines of two symbols since 2024, into the pipeline:",
                    "arc-discover binance --market um --type klines --interval 1m --symbol BTCUSDT,ETHUSDT --since 2024-01-01 | arc-plan --dest ./data | arc-collect -j 64"),
            Example("Every spot symbol ending in USDT that has daily trades:",
                    "arc-discover binance --list symbols --market spot --type trades --period daily --symbol '*USDT'"),
            Example("A cheap daily run that lists only what is new since the last one:",
                    "arc-discover binance --incremental --market spot --type klines --interval 1d"),
        ],
        environment: [
            EnvironmentSpec("ARC_BINANCE_LIST_URL", "the S3 listing endpoint (--list-url)"),
            EnvironmentSpec("ARC_BINANCE_DOWNLOAD_URL", "the download base URL (--download-url)"),
        ])

    public static func run(_ context: ToolContext, output: BufferedOutput) throws -> ExitStatus {
        try TreeDiscovery<BinanceTree>.run(context, output: output, selection: selection(from: context.parsed)) {
            BinanceEndpoints(listURL: $0 ?? BinanceEndpoints.defaultListURL, downloadURL: $1 ?? BinanceEndpoints.defaultDownloadURL)
        }
    }

    static func selection(from p: ParsedCommand) throws -> BinanceSelection {
        try TreeDiscovery<BinanceTree>.selection(from: p)
    }
}
