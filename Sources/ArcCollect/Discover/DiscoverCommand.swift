import ArcCore

/// arc-discover: list the archives a source publishes, as archive records on stdout.
public enum DiscoverCommand {
    public static let spec = CommandSpec(
        name: "arc-discover",
        summary: "list the archives a source publishes",
        usage: ["[OPTIONS] SOURCE [SOURCE-OPTIONS]"],
        description: """
        Writes one archive record (NDJSON) per file the source publishes: source, market, \
        period, type, symbol, interval, date, key, url, checksum_url, size, etag and \
        last_modified. Pipe them into arc-plan, which decides what to fetch, and arc-collect, \
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
        seeAlso: ["arc-plan(1)", "arc-collect(1)"])

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
