import ArcCore

/// s3x's command line: global options, then one command. The parser, --help, the man page
/// and the completions all come from here.
extension S3xCommand {
    static let transferOptions: [OptionSpec] = [
        OptionSpec("concurrency", short: "c", valueName: "N", help: "parts of one file in flight at once", defaultValue: "5"),
        OptionSpec("part-size", short: "p", valueName: "MiB", help: "multipart part size in MiB (grown to stay under 10,000 parts)",
                   defaultValue: "50"),
        OptionSpec("multipart-threshold", valueName: "BYTES", help: "objects larger than this move in parts [default: the part size]"),
        OptionSpec("copy-threshold", valueName: "BYTES", help: "S3-to-S3 copies larger than this use UploadPartCopy",
                   defaultValue: "5368709120"),
        OptionSpec("content-type", valueName: "TYPE", help: "Content-Type of uploaded objects [default: from the file extension]"),
        OptionSpec("cache-control", valueName: "VALUE", help: "Cache-Control of uploaded objects"),
        OptionSpec("expires", valueName: "DATE", help: "Expires header of uploaded objects"),
        OptionSpec("storage-class", valueName: "CLASS", help: "storage class of uploaded objects (STANDARD, STANDARD_IA, GLACIER...)"),
        OptionSpec("metadata", kind: .list, valueName: "KEY=VALUE", help: "user metadata of uploaded objects (repeatable)"),
        OptionSpec("acl", valueName: "ACL", help: "canned ACL of uploaded objects (private, public-read...)"),
    ]

    static let filterOptions: [OptionSpec] = [
        OptionSpec("exclude", kind: .list, valueName: "GLOB", help: "skip sources matching GLOB (repeatable)"),
        OptionSpec("include", kind: .list, valueName: "GLOB", help: "only sources matching GLOB (repeatable)"),
    ]

    static let copyOptions: [OptionSpec] = [
        .flag("no-clobber", short: "n", help: "never overwrite an existing destination"),
        .flag("if-size-differ", short: "s", help: "copy only when the sizes differ"),
        .flag("if-source-newer", short: "u", help: "copy only when the source is newer than the destination"),
        .flag("flatten", help: "drop the source's folders: every object lands directly under the destination"),
        .flag("no-verify", help: "skip checking hashes against what S3 reports"),
    ] + transferOptions + filterOptions

    static let ls = CommandSpec(
        name: "ls", summary: "list buckets, or objects and prefixes",
        usage: ["[-H] [-e] [-r] [s3://BUCKET[/PREFIX]]"],
        description: """
        Without an argument, lists the buckets. `s3://bucket/prefix/` lists one level (sub-prefixes \
        as DIR lines); a wildcard (`*` matches across `/`, `?` one character) or -r lists every \
        object below. Keys are shown relative to the listed folder. Listing streams page by page: \
        memory stays flat for millions of objects. A key, prefix or wildcard that matches \
        nothing exits 1 ("no object found", as s5cmd); an empty bucket lists nothing and exits 0.
        """,
        options: [
            .flag("humanize", short: "H", help: "sizes in human units"),
            .flag("etag", short: "e", help: "show ETags"),
            .flag("recursive", short: "r", help: "list every object below the prefix"),
            .flag("storage-class", short: "s", help: "show storage classes"),
        ],
        arguments: [ArgumentSpec("URL", help: "s3://bucket[/prefix], wildcards allowed", optional: true)])

    static let du = CommandSpec(
        name: "du", summary: "total size and object count under a prefix or wildcard",
        usage: ["[-H] s3://BUCKET[/PREFIX]"],
        options: [.flag("humanize", short: "H", help: "sizes in human units")],
        arguments: [ArgumentSpec("URL", help: "s3://bucket[/prefix], wildcards allowed")])

    static let cp = CommandSpec(
        name: "cp", summary: "copy objects: local to S3, S3 to local, S3 to S3",
        usage: ["[OPTIONS] SOURCE... DEST"],
        description: """
        SOURCE is a file, a directory (copied with its name and everything below it), a local \
        glob, an s3:// object, or an s3:// prefix or wildcard. Several sources, or one that \
        expands, need a folder-like DEST (ending in `/`, or an existing directory); a single \
        object to such a DEST keeps its base name. S3 to S3 copies happen inside S3 (CopyObject, \
        UploadPartCopy above --copy-threshold) unless the two sides have different endpoints \
        or credentials (--source-*), when the bytes stream through in memory, never to disk.

        Uploads hash each part as it is read and compare with the ETag S3 answers; downloads \
        hash as they arrive and compare with the object's ETag (single-part MD5, or the \
        multipart MD5 of MD5s when the parts line up). Downloads go to a hidden partial file \
        that is renamed into place when complete; an interrupted download or multipart upload \
        is resumed by the next run. A single-part download goes on from the end of its \
        partial file; a multipart one, fetched in ranges, keeps the ranges recorded complete \
        in a journal beside it (`.NAME.s3x-partial.ranges`, each range written durably before \
        it is recorded) and starts afresh if the object's ETag changed. An upload keeps the \
        parts S3 holds that still match the file (ListParts); an upload of the key with \
        another part size is aborted. See `s3x uploads` for uploads never resumed. Uploads \
        store the file's mtime (x-amz-meta-mtime) and downloads restore it.
        """,
        options: copyOptions,
        arguments: [ArgumentSpec("SOURCE", help: "file, directory, glob or s3:// URL", repeating: true, completion: .file),
                    ArgumentSpec("DEST", help: "file, directory or s3:// URL", completion: .file)])

    static let mv = CommandSpec(
        name: "mv", summary: "move objects: copy, then delete each source once its copy is complete",
        usage: ["[OPTIONS] SOURCE... DEST"],
        options: copyOptions,
        arguments: [ArgumentSpec("SOURCE", help: "file, directory, glob or s3:// URL", repeating: true, completion: .file),
                    ArgumentSpec("DEST", help: "file, directory or s3:// URL", completion: .file)])

    static let rm = CommandSpec(
        name: "rm", summary: "delete objects (wildcards; 1,000 keys a request)",
        usage: ["[OPTIONS] s3://BUCKET/KEY..."],
        description: """
        Deletes the objects named and those a wildcard matches (`s3://b/logs/*` for everything \
        under logs/). A bucket or prefix without a wildcard (`s3://b`, `s3://b/logs/`) is \
        refused, as s5cmd refuses it, exit 2 before anything is deleted; `s3://b/logs/` names \
        only the folder marker object `logs/` when there is one, and deletes it alone. A \
        wildcard never deletes a folder marker.
        """,
        options: filterOptions,
        arguments: [ArgumentSpec("URL", help: "s3:// object or wildcard", repeating: true)])

    static let mb = CommandSpec(name: "mb", summary: "make a bucket", usage: ["s3://BUCKET"],
                                arguments: [ArgumentSpec("URL", help: "s3://bucket")])
    static let rb = CommandSpec(name: "rb", summary: "remove an empty bucket", usage: ["s3://BUCKET"],
                                arguments: [ArgumentSpec("URL", help: "s3://bucket")])

    static let cat = CommandSpec(
        name: "cat", summary: "write an object to stdout (concurrent ranged GETs, in order)",
        usage: ["[-c N] [-p MiB] s3://BUCKET/KEY"],
        options: Array(transferOptions.prefix(2)),
        arguments: [ArgumentSpec("URL", help: "s3://bucket/key")])

    static let pipe = CommandSpec(
        name: "pipe", summary: "upload stdin to an object (multipart when it grows; size need not be known)",
        usage: ["[OPTIONS] s3://BUCKET/KEY"],
        description: """
        Stdin that ends within the first part is one PUT; longer, it is a multipart upload, \
        --concurrency parts in flight, the part size doubling every 2,000 parts. Stopped by \
        SIGINT or SIGTERM, pipe aborts the multipart upload (stdin cannot be read again, so \
        unlike cp there is nothing to resume) and exits 130 or 143, within a second even when \
        the writer has stalled.
        """,
        options: transferOptions,
        arguments: [ArgumentSpec("URL", help: "s3://bucket/key")])

    static let head = CommandSpec(
        name: "head", summary: "print an object's (or a bucket's) metadata as one JSON record",
        usage: ["s3://BUCKET[/KEY]"],
        arguments: [ArgumentSpec("URL", help: "s3://bucket[/key]")])

    static let presign = CommandSpec(
        name: "presign", summary: "print a presigned GET URL for an object",
        usage: ["[--expire DURATION] s3://BUCKET/KEY"],
        options: [OptionSpec("expire", valueName: "DURATION", help: "how long the URL works (at most 7 days)", defaultValue: "1h")],
        arguments: [ArgumentSpec("URL", help: "s3://bucket/key")])

    static let uploads = CommandSpec(
        name: "uploads", summary: "list multipart uploads in progress under a prefix, or abort them",
        usage: ["[--abort] [--older-than DURATION] s3://BUCKET[/PREFIX]"],
        description: """
        Lists the multipart uploads begun and neither completed nor aborted whose keys start \
        with PREFIX (a wildcard filters them): when each began, its upload id and its key, or \
        with --json a record each (url, key, upload_id, initiated). An interrupted cp, mv or \
        sync leaves its upload for the next run to resume; until then S3 keeps, and bills, \
        its parts. --abort aborts them (an `abort` event each), deleting their parts; \
        --older-than spares recent ones, which may belong to a run still going.
        """,
        options: [
            .flag("abort", help: "abort the uploads, deleting their parts"),
            OptionSpec("older-than", valueName: "DURATION", help: "only uploads begun at least DURATION ago (e.g. 7d, 12h, 0s)"),
        ],
        arguments: [ArgumentSpec("URL", help: "s3://bucket[/prefix], wildcards allowed")])

    static let sync = CommandSpec(
        name: "sync", summary: "make DEST hold what SOURCE holds, copying only what differs",
        usage: ["[OPTIONS] SOURCE DEST"],
        description: """
        Walks both sides in sorted order and merges them, so memory stays flat however many \
        objects there are. By default an object is copied when it is missing, its size differs, \
        or the source is newer; --size-only compares sizes alone, --checksum compares MD5 \
        hashes (the local file's MD5, or its multipart MD5 of MD5s, against the ETag), never \
        a multipart ETag against a plain MD5. Uploads store the file mtime (x-amz-meta-mtime) \
        and downloads restore it, so syncing back and forth copies nothing the second time. \
        As with s5cmd, `dir/` syncs the folder's contents and `dir` the folder itself (to \
        PREFIX/dir/), and an S3 source may be a wildcard (`'s3://b/p/*'`, `'s3://b/p/*.gz'`), its \
        keys named relative to the folder before the wildcard. --delete removes what the source \
        does not have, but never anything --exclude matches, nothing outside PREFIX/dir/ for \
        `dir`, and only names a wildcard source matches. Any failure makes the exit status \
        non-zero.
        """,
        options: [
            .flag("delete", help: "delete destination objects that the source does not have"),
            .flag("size-only", help: "compare sizes only"),
            .flag("checksum", help: "compare content hashes instead of sizes and times"),
            .flag("no-verify", help: "skip checking hashes against what S3 reports"),
        ] + transferOptions + filterOptions,
        arguments: [ArgumentSpec("SOURCE", help: "directory, s3://bucket/prefix/ or 's3://bucket/prefix/*'", completion: .directory),
                    ArgumentSpec("DEST", help: "directory or s3://bucket/prefix/", completion: .directory)])

    static let runCommand = CommandSpec(
        name: "run", summary: "run many commands, one a line, from FILE or stdin, in one process",
        usage: ["[FILE]"],
        description: """
        Each line is an s3x command without the `s3x` (`cp a.txt s3://b/a.txt`, `rm s3://b/old`), \
        quoted as in a shell. Lines run concurrently, up to --numworkers objects at once, all \
        sharing one connection pool. Blank lines and lines starting with # are skipped; a bad \
        line is reported with its number and skipped.
        """,
        arguments: [ArgumentSpec("FILE", help: "file of commands; stdin when none", optional: true, completion: .file)])

    public static let spec = CommandSpec(
        name: "s3x",
        summary: "move data to, from and between S3 stores, fast and verified",
        usage: ["[GLOBAL OPTIONS] COMMAND [OPTIONS] ARGS"],
        description: """
        s3x does what s5cmd does: listing, copying, syncing and deleting many objects, or a few \
        huge ones, with one pool of connections and transfers pipelined behind the listing. It \
        also verifies every transfer, resumes interrupted ones, syncs by checksum, keeps mtimes, \
        limits bandwidth, and takes separate endpoints and credentials for source and destination.

        Credentials come from --profile, then AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, \
        ~/.aws/credentials and ~/.aws/config (AWS_PROFILE), then container or instance \
        metadata (IMDSv2). The endpoint is --endpoint-url, else AWS_ENDPOINT_URL_S3, else \
        AWS_ENDPOINT_URL, else AWS for the region.

        Output: a line per object on stdout (`cp SOURCE DEST`), or with --json one record per \
        object with s5cmd's fields (operation, success, source, destination, object {type, \
        size}; for a failure command and error, a string) and ours: size, etag, verified (how \
        the bytes were checked: md5 against the ETag, or crc32c or crc32 against the CRC the \
        store keeps, which large uploads send and downloads prefer; absent when unchecked), \
        status (ok, skipped, failed), error_code. Failures are records on stdout too (s5cmd writes them \
        only on stderr), and are logged on stderr. On a terminal a progress line \
        shows objects, bytes and rate.
        """,
        options: [
            OptionSpec("endpoint-url", valueName: "URL", help: "S3 endpoint (else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL)"),
            OptionSpec("region", valueName: "REGION", help: "region for signing [default: AWS_REGION, the profile, us-east-1]"),
            OptionSpec("profile", valueName: "NAME", help: "profile in ~/.aws/credentials and ~/.aws/config [default: AWS_PROFILE]"),
            .flag("no-sign-request", help: "send anonymous requests (public buckets)"),
            OptionSpec("addressing", valueName: "STYLE", help: "bucket addressing: virtual-host or path style",
                       choices: AddressingStyle.allCases.map(\.rawValue), defaultValue: "auto"),
            OptionSpec("source-endpoint-url", valueName: "URL", help: "endpoint of s3:// sources when it differs from the destination's"),
            OptionSpec("source-region", valueName: "REGION", help: "region of s3:// sources"),
            OptionSpec("source-profile", valueName: "NAME", help: "profile for s3:// sources"),
            .flag("source-no-sign-request", help: "anonymous requests for s3:// sources"),
            OptionSpec("numworkers", valueName: "N", help: "objects and parts in flight at once", defaultValue: "64"),
            OptionSpec("retry-count", valueName: "N", help: "retries of a failed request (5xx, throttling, resets)", defaultValue: "5"),
            OptionSpec("bwlimit", valueName: "RATE", help: "limit bandwidth, bytes per second with K, M or G suffix (e.g. 50M)"),
            .flag("dry-run", help: "show what would be done, change nothing"),
            .flag("json", help: "one JSON event record per object on stdout"),
            .flag("stat", help: "print counts of operations and failures on stderr at the end"),
            .flag("list-v1", help: "list with ListObjects v1 (markers) for stores without ListObjectsV2"),
            OptionSpec("log", valueName: "LEVEL", help: "log level, as --log-level (s5cmd's name for it)",
                       choices: LogLevel.allCases.map { $0.name }),
        ],
        subcommands: [ls, du, cp, mv, rm, mb, rb, cat, pipe, head, presign, uploads, sync, runCommand],
        examples: [
            Example("Upload a directory, 64 objects at once:", "s3x cp data/ s3://lake/raw/"),
            Example("Download everything under a prefix:", "s3x cp 's3://lake/raw/2024-*' ./out/"),
            Example("Mirror a bucket to another provider, streaming through memory:",
                    "s3x --source-endpoint-url https://s3.eu-west-1.amazonaws.com --endpoint-url http://minio:9000 sync s3://a/ s3://b/"),
            Example("Thousands of commands in one process:", "s3x run commands.txt"),
            Example("A link valid for a day:", "s3x presign --expire 24h s3://lake/report.csv"),
            Example("Abort the multipart uploads left for a week or more:", "s3x uploads --abort --older-than 7d s3://lake/raw/"),
        ],
        environment: [
            EnvironmentSpec("AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN", "credentials"),
            EnvironmentSpec("AWS_PROFILE", "profile in the shared files (--profile)"),
            EnvironmentSpec("AWS_REGION, AWS_DEFAULT_REGION", "region (--region)"),
            EnvironmentSpec("AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL", "endpoint (--endpoint-url)"),
            EnvironmentSpec("AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE", "where the shared files are"),
            EnvironmentSpec("ARC_LOG_LEVEL, ARC_LOG_FORMAT", "logging (--log-level, --log-format)"),
        ],
        seeAlso: ["arc-collect(1)", "s5cmd(1)", "aws(1)"])
}
