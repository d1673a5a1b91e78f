import Glibc

/// The state database shared by every tool. Each tool owns its tables; the schema grows
/// by appending migrations here, never by editing one that has shipped.
public enum StateStore {
    public static let migrations: [String] = [
        // 1: arc-collect's ledger of what is held where, and arc-discover's listing catalog.
        """
        CREATE TABLE ledger (
            dest          TEXT PRIMARY KEY,   -- where the archive is stored (absolute path or URL)
            url           TEXT NOT NULL,      -- where it came from
            key           TEXT,
            source        TEXT, market TEXT, period TEXT, type TEXT, symbol TEXT, interval TEXT, date TEXT,
            -- What is held at dest (set on success, kept when a later attempt fails):
            size          INTEGER,
            etag          TEXT,
            last_modified TEXT,
            sha256        TEXT,
            verified      INTEGER,
            collected_at  TEXT,
            -- The last attempt:
            status        TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
            error_code    TEXT,
            error_message TEXT,
            attempts      INTEGER NOT NULL DEFAULT 0,
            task_id       TEXT,
            updated_at    TEXT NOT NULL
        );
        CREATE INDEX ledger_series ON ledger (source, market, type, symbol, interval, period, date);
        CREATE TABLE catalog (
            prefix     TEXT PRIMARY KEY,      -- a listed folder, e.g. data/spot/daily/klines/BTCUSDT/1m/
            last_key   TEXT NOT NULL,         -- listings start after this key with --incremental
            updated_at TEXT NOT NULL
        );
        """,
        // 2: telem-trace's spans (from --trace files, `telem-trace ingest` and OTLP via `serve`).
        // Times are Unix nanoseconds so a waterfall can show sub-millisecond spans.
        """
        CREATE TABLE spans (
            trace_id       TEXT NOT NULL,     -- 32 lowercase hex
            span_id        TEXT NOT NULL,     -- 16 lowercase hex
            parent_span_id TEXT,              -- NULL for a root span
            name           TEXT NOT NULL,
            service        TEXT,              -- the tool or OTLP service.name
            start_ns       INTEGER NOT NULL,
            end_ns         INTEGER NOT NULL,
            status         TEXT NOT NULL CHECK (status IN ('ok', 'error', 'unset')),
            status_message TEXT,
            attributes     TEXT,              -- JSON object
            events         TEXT,              -- JSON array of {name, time, attributes}
            PRIMARY KEY (trace_id, span_id)
        ) WITHOUT ROWID;
        CREATE INDEX spans_start ON spans (start_ns);
        CREATE INDEX spans_name ON spans (name);
        """,
        // 3: telem-log's log lines (`telem-log ingest`), full-text searchable (`search`).
        // logs_fts indexes logs' msg and line without a second copy (external content);
        // the triggers keep it in step, also when rows are deleted to prune old logs.
        """
        CREATE TABLE logs (
            id       INTEGER PRIMARY KEY,
            ts_ms    INTEGER,                 -- its time, else the time of the line before it; NULL if none
            level    TEXT,                    -- debug, info, warn, error or fatal (normalized); NULL if none
            tool     TEXT,
            msg      TEXT,                    -- a plain text line is all msg
            trace_id TEXT,
            span_id  TEXT,
            source   TEXT NOT NULL,           -- the file's absolute path, or stdin
            line     TEXT NOT NULL            -- the line as written
        );
        CREATE INDEX logs_ts ON logs (ts_ms);
        CREATE INDEX logs_trace ON logs (trace_id) WHERE trace_id IS NOT NULL;
        CREATE VIRTUAL TABLE logs_fts USING fts5 (msg, line, content = 'logs', content_rowid = 'id');
        CREATE TRIGGER logs_fts_insert AFTER INSERT ON logs BEGIN
            INSERT INTO logs_fts (rowid, msg, line) VALUES (new.id, new.msg, new.line);
        END;
        CREATE TRIGGER logs_fts_delete AFTER DELETE ON logs BEGIN
            INSERT INTO logs_fts (logs_fts, rowid, msg, line) VALUES ('delete', old.id, old.msg, old.line);
        END;
        -- How far each file was ingested, so ingesting it again adds only what is new. A
        -- file is its path and a hash of its first line: a rotated file starts over.
        CREATE TABLE log_sources (
            path        TEXT NOT NULL,
            fingerprint INTEGER NOT NULL,
            offset      INTEGER NOT NULL,     -- bytes ingested
            lines       INTEGER NOT NULL,     -- lines ingested
            updated_at  TEXT NOT NULL,
            PRIMARY KEY (path, fingerprint)
        ) WITHOUT ROWID;
        """,
        // 4: wf-run's runs. A run is one row written when it starts (never updated) and an
        // append-only log of events; status, history and resume are all read from the log.
        """
        CREATE TABLE wf_runs (
            run_id       TEXT PRIMARY KEY,
            workflow     TEXT NOT NULL,
            file         TEXT NOT NULL,       -- the workflow file's absolute path
            definition   TEXT NOT NULL,       -- its text when the run started: resume runs this
            params       TEXT NOT NULL,       -- JSON object of the parameters' values
            run_dir      TEXT NOT NULL,
            scheduled_at TEXT,                -- the firing time, for runs the scheduler started
            created_at   TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX wf_runs_workflow ON wf_runs (workflow, created_at);
        CREATE INDEX wf_runs_created ON wf_runs (created_at);
        CREATE TABLE wf_events (
            id          INTEGER PRIMARY KEY,
            run_id      TEXT NOT NULL REFERENCES wf_runs (run_id),
            ts          TEXT NOT NULL,
            event       TEXT NOT NULL,        -- run_started, step_started, step_succeeded, ...
            step        TEXT,
            attempt     INTEGER,
            exit_status INTEGER,
            duration_ms INTEGER,
            reason      TEXT,                 -- why: timeout, signal, cached, need_failed, ...
            message     TEXT,
            cache_key   TEXT,
            pid         INTEGER,              -- wf-run's pid (run events), the step's process group (step_started)
            trace_id    TEXT
        );
        CREATE INDEX wf_events_run ON wf_events (run_id, id);
        CREATE INDEX wf_events_cache ON wf_events (step, cache_key) WHERE cache_key IS NOT NULL;
        """,
        // 5: warnings given once per state database (not on every run from cron).
        """
        CREATE TABLE notices (
            name     TEXT PRIMARY KEY,         -- what was said, e.g. permissions:/path
            shown_at TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
        // 6: when a step's process group leader started, so that a later wf-run can tell
        // the group still running after wf-run was killed from a group that reused its id.
        """
        ALTER TABLE wf_events ADD COLUMN pid_start INTEGER;  -- /proc/PID/stat starttime of pid (step_started)
        """,
        // 7: the silver stage. What arc-check found inside each archive, keyed by the
        // archive's SHA-256 (a republished archive is a new row; an unchanged one is not
        // checked again), and the Parquet files arc-convert made, keyed by where they are.
        """
        CREATE TABLE quality (
            archive_sha256 TEXT PRIMARY KEY,
            key            TEXT,              -- data/<market>/<period>/<type>/... as the archive was read
            market TEXT, period TEXT, type TEXT, symbol TEXT, interval TEXT, date TEXT,
            status         TEXT NOT NULL CHECK (status IN ('pass', 'warn', 'fail')),
            rows           INTEGER,
            first_time     TEXT,
            last_time      TEXT,
            report         TEXT NOT NULL,     -- the record's check object, JSON
            checked_at     TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX quality_series ON quality (market, type, symbol, interval, period, date);
        CREATE TABLE silver (
            dest          TEXT PRIMARY KEY,   -- the Parquet file: absolute path or s3:// URL
            input_sha256  TEXT NOT NULL,      -- the archive's SHA-256; for a merged month, the SHA-256 of its days' list
            inputs        TEXT NOT NULL,      -- JSON array of {key, sha256} it was made from
            market TEXT, type TEXT, symbol TEXT, interval TEXT, date TEXT,
            rows          INTEGER NOT NULL,
            bytes         INTEGER NOT NULL,
            sha256        TEXT NOT NULL,      -- of the Parquet file
            check_status  TEXT,
            converted_at  TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX silver_input ON silver (input_sha256);
        """,
        // 8: spans by name and start. An index on name alone ends in the primary key's
        // random trace ids, so every batch a receiver stores landed on pages all over it
        // (most of the write-ahead log's pages); new spans of a name now go to its end.
        // `stats NAME` and the name filters read it as they read the old one.
        """
        DROP INDEX spans_name;
        CREATE INDEX spans_name_start ON spans (name, start_ns);
        """,
    ]

    /// The same tables for a PostgreSQL state, for the tools that can keep theirs there
    /// (arc-discover's catalog, arc-plan's and arc-collect's ledger, arc-check's quality
    /// and arc-convert's silver tables, wf-run's runs). A migration appended
    /// to `migrations` for these tables must be appended here too, in PostgreSQL's dialect;
    /// the other tools' tables join this list when those tools learn PostgreSQL.
    public static let postgresMigrations: [String] = [
        // 1: the ledger and the catalog (SQLite's migration 1). Keys compare bytewise
        // (COLLATE "C") as in SQLite: the catalog's marks only move forward by that order.
        """
        CREATE TABLE ledger (
            dest          text COLLATE "C" PRIMARY KEY,
            url           text NOT NULL,
            key           text,
            source        text, market text, period text, type text, symbol text, interval text, date text,
            size          bigint,
            etag          text,
            last_modified text,
            sha256        text,
            verified      integer,
            collected_at  text,
            status        text NOT NULL CHECK (status IN ('ok', 'failed')),
            error_code    text,
            error_message text,
            attempts      integer NOT NULL DEFAULT 0,
            task_id       text,
            updated_at    text NOT NULL
        );
        CREATE INDEX ledger_series ON ledger (source, market, type, symbol, interval, period, date);
        CREATE TABLE catalog (
            prefix     text COLLATE "C" PRIMARY KEY,
            last_key   text COLLATE "C" NOT NULL,
            updated_at text NOT NULL
        );
        """,
        // 2: arc-check's quality and arc-convert's silver tables (SQLite's migration 7).
        """
        CREATE TABLE quality (
            archive_sha256 text PRIMARY KEY,
            key            text,
            market text, period text, type text, symbol text, interval text, date text,
            status         text NOT NULL CHECK (status IN ('pass', 'warn', 'fail')),
            rows           bigint,
            first_time     text,
            last_time      text,
            report         text NOT NULL,
            checked_at     text NOT NULL
        );
        CREATE INDEX quality_series ON quality (market, type, symbol, interval, period, date);
        CREATE TABLE silver (
            dest          text PRIMARY KEY,
            input_sha256  text NOT NULL,
            inputs        text NOT NULL,
            market text, type text, symbol text, interval text, date text,
            rows          bigint NOT NULL,
            bytes         bigint NOT NULL,
            sha256        text NOT NULL,
            check_status  text,
            converted_at  text NOT NULL
        );
        CREATE INDEX silver_input ON silver (input_sha256);
        """,
        // 3: work queues (PostgreSQL only: competing workers on many machines need one
        // server). A task is a record (the JSON line arc-plan wrote) under an identity
        // unique in its queue, so enqueueing it twice keeps one. Workers lease batches of
        // pending tasks and keep extending the lease while they live; a lease that runs out
        // (a worker killed or cut off) makes its tasks claimable again. Times are the
        // server's clock, the one clock every machine shares.
        """
        CREATE TABLE queue_tasks (
            id            bigserial PRIMARY KEY,
            queue         text NOT NULL,
            identity      text COLLATE "C" NOT NULL,  -- the task's dest
            task          text NOT NULL,              -- the task record, JSON
            state         text NOT NULL CHECK (state IN ('pending', 'leased', 'done', 'failed')),
            attempts      integer NOT NULL DEFAULT 0, -- claims so far
            worker        text,                       -- who holds (or last held) it
            lease_until   timestamptz,
            not_before    timestamptz,                -- a task failed for now waits until then
            error_code    text,
            error_message text,
            enqueued_at   timestamptz NOT NULL,
            finished_at   timestamptz,
            UNIQUE (queue, identity)
        );
        CREATE INDEX queue_tasks_open ON queue_tasks (queue, id) WHERE state IN ('pending', 'leased');
        CREATE INDEX queue_tasks_held ON queue_tasks (worker) WHERE state = 'leased';
        CREATE INDEX queue_tasks_leases ON queue_tasks (queue, lease_until) WHERE state = 'leased';
        CREATE TABLE queue_workers (
            queue      text NOT NULL,
            worker     text NOT NULL,                 -- HOST:PID:START unless --worker names it
            host       text,
            pid        integer,
            started_at timestamptz NOT NULL,
            seen_at    timestamptz NOT NULL,          -- its last heartbeat
            lease      double precision NOT NULL,     -- seconds: silent longer than this, it is gone
            stopped_at timestamptz,
            claimed    bigint NOT NULL DEFAULT 0,
            done       bigint NOT NULL DEFAULT 0,
            failed     bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (queue, worker)
        );
        """,
        // 4: wf-run's runs and their event logs (SQLite's migrations 4 and 6), shared by
        // every machine that runs workflows. Ids and times compare bytewise (COLLATE "C")
        // as in SQLite: a run is found by a prefix of its id, and times are RFC 3339 text.
        """
        CREATE TABLE wf_runs (
            run_id       text COLLATE "C" PRIMARY KEY,
            workflow     text COLLATE "C" NOT NULL,
            file         text NOT NULL,
            definition   text NOT NULL,
            params       text NOT NULL,
            run_dir      text NOT NULL,
            scheduled_at text COLLATE "C",
            created_at   text COLLATE "C" NOT NULL
        );
        CREATE INDEX wf_runs_workflow ON wf_runs (workflow, created_at);
        CREATE INDEX wf_runs_created ON wf_runs (created_at);
        CREATE TABLE wf_events (
            id          bigserial PRIMARY KEY,
            run_id      text COLLATE "C" NOT NULL REFERENCES wf_runs (run_id),
            ts          text NOT NULL,
            event       text NOT NULL,
            step        text,
            attempt     integer,
            exit_status integer,
            duration_ms bigint,
            reason      text,
            message     text,
            cache_key   text,
            pid         integer,
            trace_id    text,
            pid_start   bigint
        );
        CREATE INDEX wf_events_run ON wf_events (run_id, id);
        CREATE INDEX wf_events_cache ON wf_events (step, cache_key) WHERE cache_key IS NOT NULL;
        """,
    ]

    /// The advisory lock key PostgreSQL migrations run under ("arcstate" in ASCII).
    static let postgresMigrationLock: Int64 = 0x6172_6373_7461_7465

    /// Where warnings about the state go (the tool's logger: Tool.main sets it).
    public static let warnings = Locked<(@Sendable (String, KeyValuePairs<String, String>) -> Void)?>(nil)

    /// Opens the state for the ledger, the catalog and the silver stage: a PostgreSQL database when `path` is
    /// a `postgres://` or `postgresql://` URL, else the SQLite file; its schema brought up
    /// to date. One that cannot be reached is exit 3.
    public static func openShared(_ path: String) throws -> any StateBackend {
        guard PostgresConnection.isURL(path) else { return try open(path) }
        let state = try PostgresState(url: path)
        try state.migrate(postgresMigrations)
        return state
    }

    /// Opens the SQLite database at `path` and brings its schema up to date. A database that
    /// cannot be opened is a required file that could not be reached: exit 3. A PostgreSQL
    /// URL is a usage error (exit 2) naming the tools that can use one: every tool not yet
    /// ported opens its state here, so this is the one place that says so.
    public static func open(_ path: String) throws -> Database {
        if PostgresConnection.isURL(path) { throw UsageError(sqliteOnlyMessage) }
        let db = try Database(path: path)
        try db.migrate(migrations)
        if path != ":memory:" { try warnIfShared(db, path) }
        return db
    }

    static var sqliteOnlyMessage: String {
        let tool = CommandLine.arguments.first.map { FileSystem.baseName(of: $0) } ?? "this tool"
        return "\(tool) keeps its state in SQLite only for now; "
            + "ARC_STATE=postgres:// is supported by arc-discover, arc-plan, arc-collect, arc-check, arc-convert and wf-run"
    }

    /// The state holds logs, spans, workflow texts and step outputs: a directory or a
    /// database others can read (one we did not create: ours are 0700 and 0600) gets a
    /// warning naming the fix, once per database. No silent chmod: the mode may be meant.
    static func warnIfShared(_ db: Database, _ path: String) throws {
        let directory = FileSystem.parent(of: path)
        let wide = [(directory, mode_t(0o700)), (path, mode_t(0o600))].first { item in
            FileSystem.permissions(item.0).map { $0 & 0o077 != 0 } ?? false
        }
        guard let (shared, fix) = wide, let warn = warnings.current else { return }
        let insert = try db.statement("INSERT OR IGNORE INTO notices (name, shown_at) VALUES (?1, ?2)")
        try insert.bind(1, "permissions:" + shared).bind(2, WallClock.now()).run()
        guard db.changes == 1 else { return }
        let mode = String(FileSystem.permissions(shared) ?? 0, radix: 8)
        warn("\(shared) can be read by other users (mode \(mode)); it holds logs, spans and workflow runs: "
             + "chmod \(String(fix, radix: 8)) \(shared) (said once)", ["path": shared, "mode": mode])
    }
}
