import ArcCore

/// arc-check: a quality gate over the CSV inside each archive.
public enum CheckCommand {
    public static let spec = CommandSpec(
        name: "arc-check",
        summary: "check what is inside each archive: layout, types, times, duplicates, gaps",
        usage: ["[OPTIONS] [ARCHIVE...]", "[OPTIONS] [FILE...] < results.ndjson"],
        description: """
        Reads result records from arc-collect (status ok or skipped; dest a local path or an \
        s3:// URL) on stdin or from FILEs, or archives given as arguments (any argument \
        ending in .zip or .gz, or an s3:// URL), understood by the key their record's key or \
        their path ends with, as the record's source (or --source) lays keys out. Binance: \
        data/MARKET/PERIOD/TYPE/SYMBOL/[INTERVAL/]SYMBOL-TYPE-DATE.zip. Bybit (csv.gz): \
        trading/SYMBOL/SYMBOLYYYY-MM-DD.csv.gz (derivatives trades, market linear), \
        spot/SYMBOL/SYMBOL_YYYY-MM-DD.csv.gz and spot/SYMBOL/SYMBOL-YYYY-MM.csv.gz (spot \
        trades). KuCoin: data/spot/daily/klines/SYMBOL/INTERVAL/SYMBOL-INTERVAL-DATE.zip and \
        data/spot/daily/trades/SYMBOL/SYMBOL-trades-DATE.zip, read as KuCoin's only when the \
        record says source kucoin or --source kucoin is given (they look like Binance's). \
        Without a source, a key is Binance's, else Bybit's by its shape. \
        Each archive is streamed once: read (or downloaded), hashed, inflated on a thread of \
        its own and parsed, with nothing unzipped to disk and memory bounded whatever its size.

        One record per archive goes to stdout: the input's fields (for an argument: dest, \
        market, period, type, symbol, interval, date, key and sha256) plus check: {status \
        (pass, warn or fail), rows (data rows; a header line is not counted), columns, header, \
        time_unit (ms, us, or s for seconds), first_time, last_time (RFC 3339 with microseconds), findings: \
        [{code, severity, message, count, ranges, lines}]}. Records that are not archives \
        held (failed or dry-run results) are passed on unchanged.

        fail means the file cannot be trusted as this archive's data: not_zip, not_gzip, \
        truncated, corrupt_stream, crc_mismatch, size_mismatch, several_entries, empty_entry, \
        empty_archive (a gzip of nothing), unknown_layout (the header \
        found is shown), bad_field (line and column), non_positive_price, outside_period, or \
        sha256_mismatch (the file changed after arc-collect verified it). warn means usable \
        with care: duplicate_rows, duplicate_keys, out_of_order, missing_intervals (as \
        ranges), off_grid, cut_short, id_gaps. pass means none of these.

        Results are kept in the state database keyed by the archive's SHA-256 (the record's, \
        or a local file's own): checking an unchanged archive again reads nothing (--force \
        checks it again), and a republished archive is checked anew.

        An archive that cannot be read at all (a dead S3 server, a missing file) gets \
        error {code, message} instead of check.

        Exit status 0 when no archive failed (warnings count with --fail-on warn), 1 when \
        some archive failed its check or could not be read, 3 when none could be read because \
        the store is unreachable.
        """,
        options: [
            OptionSpec("jobs", short: "j", valueName: "N", help: "archives read at once", defaultValue: "2"),
            OptionSpec("fail-on", valueName: "LEVEL", help: "the lowest check status that makes the exit status 1",
                       choices: ["fail", "warn"], defaultValue: "fail"),
            SilverCommand.sourceOption,
            .flag("force", help: "check archives again even when the state database has their result"),
            .flag("strict", help: "stop at the first bad record instead of skipping it"),
        ],
        arguments: [ArgumentSpec("ARCHIVE|FILE", help: "archives (.zip, .csv.gz or s3:// URLs) to check, or files of result records; stdin when none or -",
                                 repeating: true, optional: true, completion: .file)],
        examples: [
            Example("Check what was just collected, and show what is wrong:",
                    "arc-collect -j 64 < tasks.ndjson | arc-check | jq -c 'select(.check.status != \"pass\") | {key, check}'"),
            Example("Check archives on disk, failing on warnings too:",
                    "arc-check --fail-on warn data/spot/daily/aggTrades/BTCUSDT/*.zip"),
        ],
        environment: SilverCommand.environment,
        seeAlso: ["arc-convert(1)", "arc-collect(1)", "arc-plan(1)"])

    public static func main() -> Never {
        Tool.main(spec) { context in
            let p = context.parsed
            var options = SilverOptions(mode: .check)
            options.failOnWarn = p.value("fail-on") == "warn"
            return try SilverCommand.run(context, options: &options)
        }
    }
}
