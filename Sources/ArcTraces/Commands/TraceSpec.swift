import ArcCore

/// telem-trace's command line: one command per job. The parser, --help, the man page and
/// the completions all come from here.
extension TraceCommand {
    /// What ls, show, stats and deps read instead of the state database.
    static let fileOption = OptionSpec("file", short: "f", kind: .list, valueName: "FILE",
                                       help: "read span records from FILE (repeatable) instead of the state database",
                                       completion: .file)
    static let sinceOption = OptionSpec("since", valueName: "WHEN",
                                        help: "only spans that started after WHEN: a duration ago (30m, 2h, 7d) or an RFC 3339 time")
    static let colorOption = OptionSpec.flag("no-color", help: "no colours or bold, even on a terminal (also NO_COLOR)")

    static let exec = CommandSpec(
        name: "exec", summary: "run a command inside a span; every arc tool it starts joins the trace",
        usage: ["[--name NAME] -- COMMAND [ARGS...]"],
        description: """
        Starts a span (a child of TRACEPARENT when set, else the root of a new trace), runs \
        COMMAND with TRACEPARENT set to it and ARC_TRACE_FILE set to where spans go, and \
        exits with COMMAND's exit status (128 + the signal when a signal killed it). The \
        span's status is error when the status is not 0. Wrap a shell to trace a whole \
        pipeline: every arc tool in it makes its root span a child of this one, so one \
        trace shows every stage.

        Where spans go: with --trace FILE (or ARC_TRACE_FILE), to FILE; with \
        OTEL_EXPORTER_OTLP_ENDPOINT, to that collector (COMMAND's tools inherit it); \
        otherwise into the state database, through a temporary file the tools append to \
        that is ingested when COMMAND ends, so `telem-trace ls` and `show` see the run at \
        once. The trace id is logged on stderr when COMMAND ends.

        SIGINT, SIGTERM and SIGHUP sent to telem-trace (kill) are passed on to COMMAND; \
        a Ctrl-C typed on the terminal already reaches COMMAND and is not sent twice.
        """,
        options: [OptionSpec("name", short: "n", valueName: "NAME", help: "the span's name [default: the command line]")],
        arguments: [ArgumentSpec("COMMAND", help: "the command and its arguments (put -- before it)", repeating: true,
                                 completion: .command)],
        examples: [
            Example("Trace a nightly pipeline, then look at it:",
                    "telem-trace exec --name nightly -- sh -c 'arc-discover binance --market um | arc-plan --dest /data | arc-collect'; telem-trace show"),
            Example("Send the spans of a run to an OpenTelemetry collector instead:",
                    "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 telem-trace exec -- ./daily-update.sh /data"),
        ])

    static let ls = CommandSpec(
        name: "ls", summary: "list recent traces",
        usage: ["[--limit N] [--since WHEN] [--file FILE]"],
        description: """
        The most recent traces first: trace_id, name (the root span's), service, start, \
        duration_ms, status (the root span's), spans and errors (spans that failed). NDJSON \
        when stdout is not a terminal; an aligned table on a terminal.
        """,
        options: [OptionSpec("limit", valueName: "N", help: "at most N traces", defaultValue: "20"),
                  sinceOption, fileOption, .flag("json", help: "NDJSON even on a terminal")],
        examples: [Example("Yesterday's failed runs:", "telem-trace ls --since 1d | jq -c 'select(.status == \"error\")'")])

    static let show = CommandSpec(
        name: "show", summary: "show a trace as a tree with a waterfall of its spans",
        usage: ["[--width N] [--no-color] [TRACE_ID]"],
        description: """
        Draws the trace's spans as a tree, each with a bar on the trace's time line and its \
        duration. Failed spans are marked ✗ (red on a terminal) and listed with their \
        status messages below the tree; the spans on the critical path (the chain of work \
        that decided when the trace ended: from a span's end, the child that finished last, \
        then the child that finished last before that one started, and so on) are marked * \
        (bold on a terminal). TRACE_ID may be a unique prefix; without it, the latest trace. \
        When ARC_TRACE_FILE is set, the tools wrote their spans to that file, not to the \
        store: a trace not found in the store is reported with the command that reads the \
        file (--file); ls and stats say the same when the store has nothing to show.

        Not on a terminal, or with --no-color, the text has no escape codes and depends only \
        on the spans and the width. With --json, the trace's span records instead.
        """,
        options: [OptionSpec("width", short: "w", valueName: "N", help: "line width [default: the terminal's, else 100]"),
                  colorOption, fileOption, .flag("json", help: "write the trace's span records (NDJSON) instead")],
        arguments: [ArgumentSpec("TRACE_ID", help: "a trace id or a unique prefix of one [default: the latest trace]",
                                 optional: true)],
        examples: [Example("The last run, 120 columns wide:", "telem-trace show --width 120")])

    static let stats = CommandSpec(
        name: "stats", summary: "durations per span name: count, errors, p50, p95, p99, max",
        usage: ["[--since WHEN] [--name NAME] [--file FILE]"],
        description: """
        One line per span name: count, errors, and the p50, p95, p99 and max durations. \
        Percentiles are nearest-rank: the p-th percentile of n durations is the one at rank \
        ceil(p/100 * n) in ascending order, always an observed duration. NDJSON (name, \
        count, errors, p50_ms, p95_ms, p99_ms, max_ms; whole milliseconds) when stdout is not \
        a terminal; a table on a terminal.
        """,
        options: [sinceOption, OptionSpec("name", kind: .list, valueName: "NAME", help: "only spans named NAME (repeatable)"),
                  fileOption, .flag("json", help: "NDJSON even on a terminal")],
        examples: [Example("How long downloads took this week:", "telem-trace stats --since 7d --name collect.task")])

    static let deps = CommandSpec(
        name: "deps", summary: "the service dependency map: calls, errors and time per caller -> callee",
        usage: ["[--since WHEN] [--trace-id ID] [--name GLOB] [--file FILE] [--format table|json|dot]"],
        description: """
        Which service waits on which, and where the time goes. A call is a span: one whose \
        parent span belongs to another service is a call from the parent's service to its \
        own; a client or producer span (attribute span.kind) with a peer.service attribute \
        is a call to that service when it has no child span in another service (the callee \
        was not traced). Parent and child in one service are not a call. Spans without a \
        service count as unknown_service.

        One line per caller -> callee: calls, errors (calls whose span failed), the p50, p95 \
        and p99 of the calls' durations (nearest rank, as stats) and their total, the most \
        total time first. NDJSON (caller, callee, calls, errors, p50_ms, p95_ms, p99_ms, \
        total_ms; whole milliseconds) when stdout is not a terminal; a table on a terminal; \
        with --format dot, a Graphviz digraph: a node per service, an edge per pair labelled \
        with its calls, errors and p95, red when some calls failed.

        --since counts the calls that started after WHEN (their parents may be older); \
        --trace-id and --name choose whole traces. --file - reads span records from stdin. Finding no calls is not an error: \
        nothing is written (an empty digraph with --format dot, the header on a terminal) \
        and a line on stderr says how many traces and spans were read. With --file, bad \
        lines are reported with their file and line and skipped, as ingest does (exit 1).
        """,
        options: [sinceOption,
                  OptionSpec("trace-id", valueName: "ID", help: "only this trace (a unique prefix will do)"),
                  OptionSpec("name", valueName: "GLOB",
                             help: "only traces that have a span whose name matches GLOB (*, ?, [abc]); all of such a trace's calls count"),
                  fileOption,
                  OptionSpec("format", valueName: "FORMAT",
                             help: "table, json (NDJSON) or dot (Graphviz) [default: table on a terminal, else json]",
                             choices: ["table", "json", "dot"]),
                  .flag("json", help: "NDJSON even on a terminal (as --format json)")],
        examples: [Example("Where the last day's time went, between services:", "telem-trace deps --since 1d"),
                   Example("Draw it:", "telem-trace deps --since 1d --format dot | dot -Tsvg > deps.svg"),
                   Example("The services the nightly runs call, from a span file:",
                           "telem-trace deps --name nightly --file run.ndjson"),
                   Example("The edges with failed calls:", "telem-trace deps | jq -c 'select(.errors > 0)'")])

    static let export = CommandSpec(
        name: "export", summary: "send stored spans to an OpenTelemetry collector (OTLP/HTTP)",
        usage: ["[--otlp URL] [--protocol http/protobuf|http/json] [--compression gzip|none] [--trace-id ID] [--since WHEN]"],
        description: """
        POSTs the stored spans (all, one trace, or those since WHEN) to URL/v1/traces over \
        OTLP/HTTP, --batch spans per request, grouped by service. A URL that already \
        ends in /v1/traces is used as given. Without --otlp, OTEL_EXPORTER_OTLP_ENDPOINT (or \
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is used; OTEL_EXPORTER_OTLP_HEADERS (or \
        OTEL_EXPORTER_OTLP_TRACES_HEADERS) are sent either way. \
        Requests are protobuf unless --protocol, or else OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or \
        OTEL_EXPORTER_OTLP_PROTOCOL, says http/json (another value in those is warned about, \
        and protobuf is sent). Bodies are gzip-compressed when --compression, or else \
        OTEL_EXPORTER_OTLP_TRACES_COMPRESSION or OTEL_EXPORTER_OTLP_COMPRESSION, says gzip. \
        Attribute values that are arrays or objects are sent as their JSON text.

        A receiver that cannot be reached stops the export at once (exit 3). A request the \
        receiver rejects (4xx, or spans it reports rejected) is counted and the export goes \
        on (exit 1); 429 and 5xx answers are retried twice.
        """,
        options: [OptionSpec("otlp", valueName: "URL", help: "the collector's base URL, e.g. http://127.0.0.1:4318"),
                  OptionSpec("protocol", valueName: "PROTOCOL",
                             help: "the requests' encoding (default: from OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf)",
                             choices: OTLPProtocol.allCases.map(\.rawValue)),
                  OptionSpec("compression", valueName: "KIND",
                             help: "gzip the request bodies, or not (default: from OTEL_EXPORTER_OTLP_TRACES_COMPRESSION or OTEL_EXPORTER_OTLP_COMPRESSION, else none)",
                             choices: OTLPCompression.allCases.map(\.rawValue)),
                  OptionSpec("trace-id", valueName: "ID", help: "only this trace (a unique prefix will do)"),
                  sinceOption,
                  OptionSpec("batch", valueName: "N", help: "spans per request", defaultValue: "512"),
                  OptionSpec("timeout", valueName: "DURATION", help: "give up on one request after this long", defaultValue: "10s")],
        examples: [Example("Everything from the last day to a local collector:",
                           "telem-trace export --otlp http://127.0.0.1:4318 --since 1d")])

    static let ingest = CommandSpec(
        name: "ingest", summary: "store span records (NDJSON) from files or stdin",
        usage: ["[--strict] [FILE...]"],
        description: """
        Reads span records, as the tools write them with --trace FILE, into the state \
        database. A span already stored (same trace_id and span_id) is replaced, so \
        ingesting a file twice stores its spans once. A bad line is reported on stderr with \
        its file and line and skipped (exit 1 at the end); --strict stops at the first \
        (exit 2), keeping what came before it.
        """,
        options: [.flag("strict", help: "stop at the first bad line instead of skipping it")],
        arguments: [ArgumentSpec("FILE", help: "span record files; stdin when none or -", repeating: true, optional: true,
                                 completion: .file)],
        examples: [Example("Store the spans of a pipeline run with --trace:",
                           "arc-plan --dest /data --trace run.ndjson < archives.ndjson | arc-collect --trace run.ndjson; telem-trace ingest run.ndjson")])

    static let serve = CommandSpec(
        name: "serve", summary: "receive spans and logs from OpenTelemetry SDKs (OTLP/HTTP) into the store",
        usage: ["[--otlp HOST:PORT] [--token-file FILE | --no-auth]"],
        description: """
        An OTLP/HTTP receiver. POST /v1/traces (an ExportTraceServiceRequest) stores the \
        spans where ls, show and stats read them; POST /v1/logs (an \
        ExportLogsServiceRequest) stores the log records in the logs table telem-log \
        search and count --db read, each as an arc log line: ts, level (from the severity \
        number), tool (the resource's service.name), msg (the body; a body that is not a \
        string as its JSON text), trace_id, span_id, then the attributes. A record without \
        a time gets its observed time, else the time it came.

        Both encodings are taken, as SDKs send them: Content-Type application/x-protobuf \
        (or application/protobuf; the http/protobuf protocol, SDKs' default) and \
        application/json (http/json; ids in hex or base64). Bodies may be sent with \
        Content-Length or chunked, and gzip-compressed. The answer is in the request's \
        encoding: an ExportTraceServiceResponse or ExportLogsServiceResponse (empty, or \
        partial_success naming how many spans or records were skipped, for bad ids or \
        times, and why), and for errors a google.rpc.Status (code, message): 400 for a \
        malformed body (truncated, wrong lengths, messages nested over 32 deep; the \
        message names the field), 404 for other paths, 415 for other content types. \
        Unknown fields are skipped. Attribute values of every kind are kept: arrays as \
        JSON arrays, key-value lists flattened into dotted names, bytes as base64.

        With --token-file, every request must carry Authorization: Bearer TOKEN, TOKEN \
        being the file's content with surrounding whitespace trimmed; any other request \
        gets 401 with WWW-Authenticate: Bearer, before its body is read. The token is \
        compared in constant time and never logged. A file that cannot be read, is empty or \
        holds more than a token is a usage error; a file group or others may read or write \
        is used, with a warning (chmod 600 it). SDKs send the token with \
        OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20TOKEN (values are URL-encoded), \
        and so do the arc tools. On a loopback address (127.0.0.0/8, ::1, localhost) the \
        token is optional; on any other address (0.0.0.0, a LAN address) serve refuses to \
        start (exit 2) unless given --token-file, or --no-auth to accept anyone who can \
        reach it.

        The listening address is logged on stderr once the socket is ready (port 0 picks a \
        free port). SIGINT or SIGTERM stops it after the requests in progress are stored.
        """,
        options: [OptionSpec("otlp", valueName: "HOST:PORT", help: "address to listen on", defaultValue: "127.0.0.1:4318"),
                  OptionSpec("token-file", valueName: "FILE",
                             help: "require Authorization: Bearer TOKEN on every request, TOKEN read from FILE",
                             completion: .file),
                  .flag("no-auth", help: "listen on a non-loopback address without a token (anyone who can reach it may send spans)")],
        examples: [Example("Receive spans and logs from a Python service:",
                           "telem-trace serve & OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 python app.py"),
                   Example("Find its error logs and the traces they belong to:",
                           "telem-log search --tool checkout --level error timeout"),
                   Example("Receive spans from other machines, every request carrying the token in the file:",
                           "telem-trace serve --otlp 0.0.0.0:4318 --token-file /etc/arc/otlp-token"),
                   Example("Send a tool's spans there from another machine:",
                           "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://tracehost:4318/v1/traces OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Bearer%20$(cat otlp-token)\" arc-collect < tasks.ndjson")])

    public static let spec = CommandSpec(
        name: "telem-trace",
        summary: "trace pipelines: wrap commands in spans, store, show and export traces",
        usage: ["COMMAND [OPTIONS] [ARGS]"],
        description: """
        Every arc tool writes spans when asked (--trace FILE, ARC_TRACE_FILE or \
        OTEL_EXPORTER_OTLP_ENDPOINT) and joins the trace named by TRACEPARENT. telem-trace \
        ties that together: exec runs a command (a whole shell pipeline) inside one trace; \
        ingest and serve store spans from files and from OpenTelemetry SDKs in the state \
        database; ls, show and stats read them back and deps maps the calls between \
        services (or read span files directly with --file); export sends them on to any OpenTelemetry collector.

        Span records (NDJSON, one per line): trace_id, span_id, parent_span_id?, name, \
        service?, start, end (RFC 3339, microseconds), duration_ms, status (ok, error, \
        unset), status_message?, attributes {...}, events? [{name, time, attributes?}].
        """,
        subcommands: [exec, ls, show, stats, deps, export, ingest, serve],
        examples: [Example("Trace a pipeline and see where the time went:",
                           "telem-trace exec --name nightly -- sh -c 'arc-plan --dest /data < a.ndjson | arc-collect'; telem-trace show")],
        sections: [("Exit status of exec", """
            telem-trace exec exits with COMMAND's status: 0 when it succeeded, its own status \
            when it failed, 128 + N when signal N killed it, 126 when COMMAND cannot be run \
            and 127 when it is not found. Its own usage errors exit 2. A status above 128 \
            can be either, so the span's status message and the line logged say which: \
            `exit status 129`, or `killed by signal 1 (SIGHUP)`.
            """)],
        seeAlso: ["arc-collect(1)", "arc-plan(1)", "arc-discover(1)", "s3x(1)"])
}
