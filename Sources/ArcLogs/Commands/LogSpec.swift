import ArcCore

/// telem-log's command line, described once: the parser, --help, the man page and the
/// completions all come from here.
extension TelemLogCommand {
    /// Filters: valid with reading and with every command (the parser keeps a command's
    /// options valid inside its subcommands).
    static let filterOptions: [OptionSpec] = [
        OptionSpec("level", valueName: "LEVEL", help: "lines of this level and above (a line without a level counts as info)",
                   choices: Severity.names),
        OptionSpec("since", valueName: "TIME", help: "lines at or after TIME: an age (30s, 15m, 2h, 3d, 1w) or RFC 3339"),
        OptionSpec("until", valueName: "TIME", help: "lines before TIME: an age (30s, 15m, 2h, 3d, 1w) or RFC 3339"),
        OptionSpec("tool", kind: .list, valueName: "NAME", help: "lines of this tool (the tool or service field; repeatable)"),
        // The issue's --trace ID; telem-log's own spans go to ARC_TRACE_FILE (Tool.fullSpec).
        OptionSpec("trace", valueName: "ID", help: "lines of this trace (the trace_id field)"),
        OptionSpec("where", kind: .list, valueName: "EXPR",
                   help: "FIELD=VALUE, FIELD!=VALUE, FIELD>N, FIELD>=N, FIELD<N, FIELD<=N, FIELD~REGEX or FIELD!~REGEX; "
                       + "dot paths reach nested fields (error.code); repeatable, all must hold. "
                       + "> >= < <= are numeric: N is a number, and only a number or numeric string holds "
                       + "(text, null, true, false never do); times go to --since/--until"),
        OptionSpec("grep", valueName: "REGEX", help: "lines matching REGEX (POSIX extended) anywhere in the line as written"),
        .flag("ignore-case", short: "i", help: "--grep and --where ~ ignore case"),
    ]

    static let outputOptions: [OptionSpec] = [
        OptionSpec("format", valueName: "FORMAT", help: "output: human on a terminal, json (the lines as written) otherwise",
                   choices: ["human", "json"]),
        OptionSpec("fields", kind: .list, valueName: "FIELD,...",
                   help: "only these fields: an object of them (json) or these columns (human)"),
    ]

    static let redact = CommandSpec(
        name: "redact", summary: "mask emails, addresses, keys, tokens and card numbers in log lines",
        usage: ["[--pattern REGEX]... [FILE...]"],
        description: """
        Writes each line with what must not be shared masked: emails [email], IPv4 [ipv4] and \
        IPv6 [ipv6] addresses, AWS access key ids [aws_key], the values of secret keys and URL \
        passwords [secret], bearer tokens, JWTs and Authorization and Cookie values [token], \
        card numbers with an issuer's prefix and a valid Luhn digit [card], and matches of \
        --pattern [redacted].

        Secret keys, in JSON members, key=value and key: value text and URL queries: a name \
        (split into words at _ - . and camelCase, any case) with password, passwd or \
        passphrase in any word, or a word pwd, secret or ending in secret (client_secret, \
        not secretary), or ending in token, api_key, access_key, \
        secret_key, private_key, signing_key, encryption_key, master_key, session_key, \
        access_key_id, session, session_id, auth, credential(s) or signature; in a URL query \
        also key and sig (?key=, X-Amz-Signature=, X-Amz-Credential=). So access_token and \
        X-Amz-Security-Token are masked, tokens_used and token_count are not. The whole value \
        is masked, the key kept: quoted ('two words', "a b") to its closing quote, {...} or \
        [...] to its closing bracket, an Authorization or Cookie value to the end of the line, \
        any other to a space or , ; & } ]. A URL's user:PASSWORD@ keeps its user.

        A JSON line keeps its structure: every line is still valid JSON with the same keys (any \
        invalid UTF-8 in it replaced by U+FFFD). A \
        secret key's string or number becomes "[secret]"; under an object or array value every \
        string and number inside does. null, true, false and "" are kept (they say no secret \
        was set). A number that is a card number becomes "[card]"; other numbers stay. A plain \
        text line is redacted as text. Left alone: timestamps, hex ids and hashes, numbers \
        failing Luhn, hosts that are names. A bare dotted quad of 0-255 parts (1.2.3.4) is \
        masked even if it was a version; v1.2.3.4 and 1.2.3.4.5 are not addresses.

        A line over 16 MiB can be neither masked nor left out: redact stops at it with an \
        error naming its file and line, exit 1. The lines before it are written whole, none \
        after it, so what was written can be shared and what is missing is said.
        """,
        options: [OptionSpec("pattern", kind: .list, valueName: "REGEX",
                             help: "also mask matches of REGEX (POSIX extended; repeatable)")],
        arguments: [ArgumentSpec("FILE", help: "log files; stdin when none or -", repeating: true, optional: true,
                                 completion: .file)],
        examples: [Example("Redact a day's logs before attaching them to a ticket:",
                           "telem-log redact --pattern 'customer-[0-9]+' collect.log > collect.redacted.log")])

    static let ingest = CommandSpec(
        name: "ingest", summary: "store log lines in the state database, full-text indexed",
        usage: ["[FILTERS] [FILE...]"],
        description: """
        Adds the lines (those the filters accept) to the state database's logs table and its \
        FTS5 index. A file is remembered by its path and first line: ingesting it again adds \
        only the lines appended since, and a rotated file at the same path starts over. stdin \
        is always added whole. Writes one record per input: source, lines, from_offset, to_offset.
        """,
        arguments: [ArgumentSpec("FILE", help: "log files; stdin when none or -", repeating: true, optional: true,
                                 completion: .file)],
        examples: [Example("Index every log of the day:", "telem-log ingest /var/log/arc/*.log")])

    static let search = CommandSpec(
        name: "search", summary: "full-text search of ingested lines",
        usage: ["[FILTERS] [--limit N] [--oldest-first] [QUERY]"],
        description: """
        QUERY is FTS5 syntax: words (all must appear), "a phrase", prefix*, OR, NOT, \
        NEAR(a b), and msg: or line: to search one column. Without QUERY, every line the \
        filters accept. Prints the newest matches first, as log lines like reading does.
        """,
        options: [
            OptionSpec("limit", short: "n", valueName: "N", help: "at most N lines (0: all)", defaultValue: "100"),
            .flag("oldest-first", help: "the oldest matches, in time order"),
        ],
        arguments: [ArgumentSpec("QUERY", help: "an FTS5 query", optional: true)],
        examples: [Example("Errors about timeouts in the last day:", "telem-log search --level error --since 1d 'timeout OR timed'")])

    static let dbOption = OptionSpec.flag("db", help: "count the lines ingested into the state database instead of files")

    static let count = CommandSpec(
        name: "count", summary: "count lines by field values, optionally per time bucket",
        usage: ["--by FIELD[,FIELD] [--every DURATION] [FILTERS] [--db | FILE...]"],
        description: """
        Writes one record per distinct value: the fields, then count (most frequent first); \
        with --every, per time bucket too (ts, the bucket's start), in time order. A table on \
        a terminal. An absent field counts as null.
        """,
        options: [
            OptionSpec("by", kind: .list, valueName: "FIELD,...", help: "the fields to count by (dot paths allowed)"),
            OptionSpec("every", valueName: "DURATION", help: "also per time bucket of this size (30s, 1m, 1h, 1d)"),
            dbOption,
        ],
        arguments: [ArgumentSpec("FILE", help: "log files; stdin when none or -", repeating: true, optional: true,
                                 completion: .file)],
        examples: [Example("Errors per code, per hour:", "telem-log count --level error --by error.code --every 1h collect.log")])

    static let metrics = CommandSpec(
        name: "metrics", summary: "line counts in Prometheus text format",
        usage: ["[--by FIELD,...] [FILTERS] [--db | FILE...]"],
        description: """
        Writes the counter arc_log_lines_total with a label per --by field (a dot path's dots \
        become underscores), for node_exporter's textfile collector or a push gateway.
        """,
        options: [
            OptionSpec("by", kind: .list, valueName: "FIELD,...", help: "the label fields", defaultValue: "tool,level"),
            dbOption,
        ],
        arguments: [ArgumentSpec("FILE", help: "log files; stdin when none or -", repeating: true, optional: true,
                                 completion: .file)],
        examples: [Example("For node_exporter's textfile collector:",
                           "telem-log metrics /var/log/arc/*.log > /var/lib/node_exporter/arc_logs.prom")])

    public static let spec = CommandSpec(
        name: "telem-log",
        summary: "read, merge, filter, redact, search and count structured logs",
        usage: ["[OPTIONS] [FILE...]", "COMMAND [OPTIONS] [ARGS]"],
        description: """
        Without a command, reads log lines from the FILEs (stdin when none, or -) and writes \
        those the filters accept; several files are merged in time order. Lines are NDJSON as \
        arc's tools write them (ts level tool msg trace_id span_id ...fields); other common \
        shapes work too (time, timestamp or @timestamp; severity or lvl; message; epoch \
        numbers; WARNING, ERR, fatal, critical). A line that is not a JSON object is kept as \
        text (its msg) and takes the time of the line before it in its file, so a stack trace \
        stays with its error. A first argument naming a command is the command; write ./count \
        for a file of that name.

        Output is human lines on a terminal, else NDJSON: each JSON line exactly as it came, a \
        text line as {"msg": ...}. Invalid UTF-8 is replaced by U+FFFD, one per bad sequence, \
        as jq does: a JSON line with a stray byte is read so, keeps its level, tool and fields, \
        and is written so (valid JSON for what reads it next). Memory stays flat however large \
        the input: one line per file is held. A line over 16 MiB is not held: it is skipped \
        with a warning naming its file, line number and byte offset, and the exit status is 1.

        -f follows the files like tail -F: what they hold, then lines as they are written, \
        across rotation (a new file at the name) and truncation, until SIGINT or SIGTERM. A \
        file truncated in place (copytruncate) is read from its start even when written past \
        the old offset before telem-log looked again: after each read the last bytes read \
        (up to 64, the last line's end) are checked to be still there.
        """,
        options: filterOptions + outputOptions + [
            .flag("follow", short: "f", help: "keep reading as the files grow, across rotation (tail -F)"),
        ],
        arguments: [ArgumentSpec("FILE", help: "log files; stdin when none or -", repeating: true, optional: true,
                                 completion: .file)],
        subcommands: [redact, ingest, search, count, metrics],
        examples: [
            Example("Warnings and errors of the last two hours, from three tools' logs, in time order:",
                    "telem-log --level warn --since 2h discover.log plan.log collect.log"),
            Example("Failed downloads of one symbol with a server error:",
                    "telem-log --where 'error.code~^http_5' --where symbol=BTCUSDT collect.log"),
            Example("Follow a log, showing only time, level and message:", "telem-log -f --fields ts,level,msg collect.log"),
            Example("One trace's lines:", "telem-log --trace 4bf92f3577b34da6a3ce929d0e0e4736 *.log"),
        ],
        environment: [
            EnvironmentSpec("ARC_STATE", "the state database for ingest, search and --db (--state)"),
            EnvironmentSpec("NO_COLOR", "no colours in human output"),
            EnvironmentSpec("ARC_LOG_LEVEL, ARC_LOG_FORMAT", "telem-log's own logging (--log-level, --log-format)"),
        ],
        sections: [("Exit status notes", """
        A missing or unreadable FILE is exit 3, named. A bad --where (FIELD>N with an N that is \
        not a number among them), regular expression, time or search query is exit 2, naming \
        the flag. Lines that are not JSON are never errors. A line over 16 MiB is exit 1: \
        skipped and named (file, line) when reading, counting or ingesting; where redact \
        stopped.
        """)],
        seeAlso: ["telem-trace(1)", "arc-collect(1)", "jq(1)", "tail(1)"])
}
