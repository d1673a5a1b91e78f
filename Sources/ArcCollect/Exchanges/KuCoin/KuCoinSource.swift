import ArcCore

/// `arc-discover kucoin`: lists KuCoin's public archive (historical-data.kucoin.com).
public enum KuCoinSource: ArchiveSource {
    public static let spec = CommandSpec(
        name: "kucoin",
        summary: "list KuCoin's public archive (historical-data.kucoin.com)",
        usage: ["[--market M] [--type T] [--symbol S] [--interval I] [--since DATE] [--until DATE]"],
        description: """
        Lists the archives KuCoin publishes at historical-data.kucoin.com, using the host's \
        S3 listing (ListObjects v1, every page, many folders at once), and writes one archive \
        record per zip file as the listing goes. The archive is laid out like Binance's, daily \
        files only: data/{spot|futures}/daily/{type}/{SYMBOL}/[{interval}/]{file}.zip.

        Each record's checksum is {"kind":"md5","url":"...zip.CHECKSUM"}: KuCoin's CHECKSUM \
        files hold an MD5, not a SHA-256, so records carry no checksum_url.

        Symbols are the archive's, which are not the trading API's: spot pairs lose their \
        dash (BTCUSDT for BTC-USDT; order books keep it) and futures say BTC where the API \
        says XBT (BTCUSDTM for XBTUSDTM). --symbol takes either spelling and lists the \
        archive's; --list symbols says so in a note on each record.

        Filters combine; a filter left out means everything listed. --symbol takes exact \
        names and shell globs ('*USDTM'). --since and --until take YYYY-MM-DD or YYYY-MM; \
        listings start at --since instead of reading the whole folder. With --incremental, \
        the state database's catalog remembers the last key seen in each folder and the next \
        run lists only what came after it.
        """,
        options: [
            OptionSpec("market", short: "m", kind: .list, valueName: "MARKET", help: "markets: spot, futures",
                       choices: KuCoinMarket.allCases.map { $0.rawValue }),
            OptionSpec("period", short: "p", kind: .list, valueName: "PERIOD", help: "daily (KuCoin publishes daily archives only)",
                       choices: [ArchivePeriod.daily.rawValue]),
            OptionSpec("type", short: "t", kind: .list, valueName: "TYPE",
                       help: "data types, e.g. klines, trades, fundingRates", choices: KuCoinTree.typeNames),
            OptionSpec("symbol", short: "s", kind: .list, valueName: "SYMBOL",
                       help: "symbols or globs, as the archive or the trading API spells them: BTCUSDT or BTC-USDT, BTCUSDTM or XBTUSDTM, '*USDT'"),
            OptionSpec("interval", short: "i", kind: .list, valueName: "INTERVAL", help: "kline intervals, e.g. 1m,1h,1d"),
            OptionSpec("since", valueName: "DATE", help: "first day wanted (YYYY-MM-DD or YYYY-MM)"),
            OptionSpec("until", valueName: "DATE", help: "last day wanted (YYYY-MM-DD or YYYY-MM)"),
            OptionSpec("list", valueName: "WHAT",
                       help: "instead of archives, list the types, symbols or intervals the archive has",
                       choices: TreeListMode.allCases.filter { $0 != .archives }.map { $0.rawValue }),
            .flag("incremental", help: "list only keys after those seen by the last run (catalog in the state database)"),
            OptionSpec("jobs", short: "j", valueName: "N", help: "listing requests in flight at once", defaultValue: "16"),
            OptionSpec("retries", valueName: "N", help: "attempts per request, the first included", defaultValue: "5"),
            OptionSpec("list-url", valueName: "URL", help: "S3 listing endpoint (ListObjects v1)",
                       defaultValue: KuCoinEndpoints.defaultURL, environment: "ARC_KUCOIN_LIST_URL"),
            OptionSpec("download-url", valueName: "URL", help: "base URL archives are downloaded from",
                       defaultValue: KuCoinEndpoints.defaultURL, environment: "ARC_KUCOIN_DOWNLOAD_URL"),
        ],
        examples: [
            Example("Spot 1m klines of BTC-USDT since 2024, into the pipeline:",
                    "arc-discover kucoin --market spot --type klines --interval 1m --symbol BTC-USDT --since 2024-01-01 | arc-plan --dest ./data | arc-collect -j 64"),
            Example("Every futures symbol with trades (the archive's names):",
                    "arc-discover kucoin --list symbols --market futures --type trades"),
            Example("A cheap daily run that lists only what is new since the last one:",
                    "arc-discover kucoin --incremental --market spot --type klines --interval 1d"),
        ],
        environment: [
            EnvironmentSpec("ARC_KUCOIN_LIST_URL", "the S3 listing endpoint (--list-url)"),
            EnvironmentSpec("ARC_KUCOIN_DOWNLOAD_URL", "the download base URL (--download-url)"),
        ])

    public static func run(_ context: ToolContext, output: BufferedOutput) throws -> ExitStatus {
        let selection = try selection(from: context.parsed, log: context.log)
        return try TreeDiscovery<KuCoinTree>.run(context, output: output, selection: selection, endpoints: {
            KuCoinEndpoints(listURL: $0 ?? KuCoinEndpoints.defaultURL, downloadURL: $1 ?? KuCoinEndpoints.defaultURL)
        }, symbolNote: KuCoinSymbols.note)
    }

    /// The shared filters, with the trading API's spellings of --symbol widened to the
    /// archive's (both are kept: book folders keep the dash).
    static func selection(from p: ParsedCommand, log: Logger) throws -> TreeSelection<KuCoinMarket> {
        var s = try TreeDiscovery<KuCoinTree>.selection(from: p)
        s.periods = [.daily]  // no monthly folders to list
        var symbols: [Glob] = []
        for glob in s.symbols {
            symbols.append(glob)
            let spellings = KuCoinSymbols.archiveSpellings(of: glob.pattern)
            guard !spellings.isEmpty else { continue }
            log.info("--symbol \(glob.pattern): KuCoin's archive spells it \(spellings.joined(separator: " or ")); listing those too",
                     ["symbol": .string(glob.pattern), "archive_symbols": .string(spellings.joined(separator: ","))])
            symbols += spellings.map(Glob.init)
        }
        s.symbols = symbols
        return s
    }
}
