import ArcCore

/// arc-discover: list the archives a source publishes, as archive records on stdout.
public enum DiscoverCommand {
    public static let spec = CommandSpec(
        name: "arc-discover",
        summary: "list the archives a source publishes",
        usage: ["[OPTIONS] SOURCE [SOURCE-OPTIONS]"],
        description: """
        Writes one archive record (NDJSON) per file the source publishes: source, market, \
        period, type, symbol, interval, date, key, url, checksum_url, size, etag, \
        last_modified and checksum (how arc-collect verifies it: the man page section \
        "Writing a source plugin" has them all). Pipe them into arc-plan, which decides what to fetch, and arc-collect, \
        which fetches it.

        Binance's and KuCoin's public archives are built in. Any other NAME runs arc-source-NAME from PATH \
        with the remaining arguments, so a source can be written in any language; its \
        stdout must be archive records (at least a url per line), which arc-discover checks \
        and passes on. Its exit status becomes arc-discover's when it is one that arc \
        uses (0, 1, 2, 3, 130, 143); any other failure, a crash included, becomes 1.

        Logs go to stderr: human lines on a terminal, NDJSON otherwise.
        """,
        options: [
            .flag("strict", help: "stop at the first bad record from a plugin instead of skipping it"),
        ],
        subcommands: ArchiveSources.builtIn.map { $0.spec },
        externalSubcommand: ArgumentSpec("NAME", help: "any other source: runs arc-source-NAME from PATH with the remaining arguments"),
        examples: [
            Example("A source written as a plugin (any executable named arc-source-NAME on PATH):",
                    "arc-discover bitmex --type trade | arc-plan --dest ./data | arc-collect"),
        ],
        environment: [
            EnvironmentSpec("ARC_STATE", "the state database holding the --incremental catalog: a SQLite file or postgres://USER:PASSWORD@HOST/DB (--state)"),
            EnvironmentSpec("ARC_LOG_LEVEL", "the lowest log level written (--log-level)"),
            EnvironmentSpec("ARC_LOG_FORMAT", "human or json (--log-format)"),
            EnvironmentSpec("NO_COLOR", "no colours in human log lines"),
        ],
        sections: [("Writing a source plugin", pluginGuide)],
        seeAlso: ["arc-plan(1)", "arc-collect(1)"])

    /// The contract an arc-source-NAME program keeps (the man page's section).
    static let pluginGuide = """
        A plugin is any executable named arc-source-NAME on PATH, in any language. \
        arc-discover NAME ARGS runs it with ARGS; its stderr is passed through (logs).

        Output: one JSON object per line on stdout, UTF-8, each line ended by a newline, \
        and nothing else there. Fields (snake_case; a field the tools do not know is kept \
        and passed on to the results): url (required: the http:// or https:// URL of the \
        file), source (the plugin's NAME), market, period (daily or monthly), type, symbol, \
        interval (kline-like types only), date (YYYY-MM-DD, or YYYY-MM for monthly files; \
        the day the data covers), key (the file's path at the source: arc-plan's default \
        layout puts it at DEST/key), size (bytes, as listed), etag (as listed: arc-plan \
        plans a file again when its etag or size changes), last_modified (RFC 3339), \
        checksum (below), and checksum_url (only for a SHA-256 sidecar, else null or absent).

        checksum says how arc-collect verifies the file (it hashes the bytes as they \
        arrive); results say which kind was checked (verification), and verified is true \
        only when a hash matched. The kinds:

        {"kind": "sha256", "url": URL}: a sidecar file whose first token is the file's \
        SHA-256, 64 hex digits (Binance).

        {"kind": "md5", "url": URL}: a sidecar whose first token is the MD5, 32 hex digits \
        (KuCoin).

        {"kind": "sha256" or "md5", "value": HEX}: the hash itself.

        {"kind": "etag-md5", "value": HEX}: the listing's ETag of a single-part object, \
        which is its MD5 (Bybit). An ETag with a - (multipart) is no MD5: write kind size \
        for it; arc-collect rejects such a value as a bad field.

        {"kind": "size"}: only the size is compared (OKX). {"kind": "none"}: stored \
        unverified. arc-collect --require-checksum refuses both.

        A record without checksum but with a checksum_url means a SHA-256 sidecar there; \
        without either, the size is compared when there is one.

        Exit status: 0 when everything was listed; 1 when some of it could not be (what was \
        listed is still written); 2 for a usage error or bad arguments, before anything is \
        listed; 3 when the source cannot be reached at all; 130 or 143 when stopped by \
        SIGINT or SIGTERM. arc-discover exits with the plugin's status when it is one of \
        these, and 1 for any other failure (a crash included). A line that is not a JSON \
        object, or has no url or a bad checksum, is reported and skipped (arc-discover then \
        exits 1; with --strict, it stops the run with status 2).
        """

    public static func main() -> Never {
        Tool.main(spec) { context in
            let output = BufferedOutput.stdout
            if let external = context.parsed.external {
                return try ExternalSource.run(name: external.name, arguments: external.arguments, context: context, output: output)
            }
            guard let source = ArchiveSources.named(context.parsed.spec.name) else {
                throw UsageError("missing SOURCE")
            }
            return try source.run(context, output: output)
        }
    }
}
