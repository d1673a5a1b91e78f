import ArcCore

/// ls and du: listings streamed page by page to stdout.
enum ListCommand {
    static func ls(_ target: String?, _ p: ParsedCommand, _ context: S3xContext) throws {
        let humanize = p.flag("humanize"), showETag = p.flag("etag"), showClass = p.flag("storage-class")
        guard let target else { return try buckets(context) }
        let url = try S3URL(parsing: target)
        let lister = ObjectLister(client: context.sourceClient, v1: context.listV1)
        let recursive = url.hasWildcard || p.flag("recursive")
        let pattern = url.hasWildcard ? Glob(url.key) : nil
        let base = recursive && !url.hasWildcard ? (url.key.hasSuffix("/") || url.key.isEmpty ? url.key : url.baseDirectory) : url.baseDirectory
        var found = false
        try lister.list(bucket: url.bucket, prefix: url.listPrefix, delimiter: recursive ? nil : "/") { objects, prefixes in
            for prefix in prefixes {
                found = true
                if context.output.json {
                    context.output.record { r in
                        // s5cmd's shape: `key` is the URL; `name` (the key itself) and `url` are ours.
                        r.string("key", url.with(key: prefix).description)
                        r.string("type", "directory")
                        r.string("url", url.with(key: prefix).description)
                        r.string("name", prefix)
                    }
                } else {
                    context.output.line("DIR".leftPadded(19 + 2 + (showETag ? 34 : 0) + (showClass ? 14 : 0) + 12) + "  " + String(prefix.dropFirst(base.count)))
                }
            }
            for object in objects where pattern?.matches(object.key) ?? true {
                found = true
                if context.output.json {
                    context.output.record { r in
                        r.string("key", url.with(key: object.key).description)
                        r.string("etag", object.etag)
                        r.string("last_modified", object.lastModified)
                        r.string("type", "file")
                        r.int("size", object.size)
                        if !object.storageClass.isEmpty { r.string("storage_class", object.storageClass) }
                        r.string("url", url.with(key: object.key).description)
                        r.string("name", object.key)
                    }
                } else {
                    var columns = [displayTime(object.lastModified)]
                    if showClass { columns.append(object.storageClass.leftPadded(12)) }
                    if showETag { columns.append(object.etag.leftPadded(34)) }
                    columns.append((humanize ? HumanFormat.bytes(object.size) : String(object.size)).leftPadded(12))
                    columns.append(String(object.key.dropFirst(base.count)))
                    context.output.line(columns.joined(separator: "  "))
                }
            }
        }
        // A bucket may be empty; a key, prefix or wildcard that matches nothing is a failure, as in s5cmd.
        if !found && !url.key.isEmpty {
            throw NoMatchError(url: url.description)
        }
    }

    static func buckets(_ context: S3xContext) throws {
        let response = try context.client.perform(S3Call.listBuckets())
        for bucket in S3Reply.buckets(response.body) {
            if context.output.json {
                context.output.record { r in
                    r.string("created_at", bucket.created)
                    r.string("name", bucket.name)
                    r.string("type", "bucket")
                    r.string("url", "s3://\(bucket.name)")
                    r.string("created", bucket.created)
                }
            } else {
                context.output.line(displayTime(bucket.created) + "  s3://" + bucket.name)
            }
        }
    }

    static func du(_ target: String, _ p: ParsedCommand, _ context: S3xContext) throws {
        let url = try S3URL(parsing: target)
        let pattern = url.hasWildcard ? Glob(url.key) : nil
        var size: Int64 = 0, count = 0
        try ObjectLister(client: context.sourceClient, v1: context.listV1).list(bucket: url.bucket, prefix: url.listPrefix) { objects, _ in
            for object in objects where pattern?.matches(object.key) ?? true {
                size += object.size
                count += 1
            }
        }
        if context.output.json {
            context.output.record { r in
                r.string("source", url.description)
                r.int("count", count)
                r.int("size", size)
                r.string("url", url.description)
            }
        } else {
            let shown = p.flag("humanize") ? HumanFormat.bytes(size) : "\(size) bytes"
            context.output.line("\(shown) in \(count) objects: \(url)")
        }
    }

    /// `2024-01-02T03:04:05.000Z` as `2024/01/02 03:04:05`, as s5cmd shows it.
    static func displayTime(_ iso: String) -> String {
        guard iso.count >= 19 else { return iso.leftPadded(19) }
        let chars = Array(iso.prefix(19))
        return String(chars[0..<4]) + "/" + String(chars[5..<7]) + "/" + String(chars[8..<10]) + " " + String(chars[11..<19])
    }
}

extension FailureCode {
    /// A key, prefix or wildcard that matched no object.
    static let noMatch = FailureCode("no_match")
}

/// A key, prefix or wildcard that matched nothing: worth a non-zero exit, as s5cmd gives,
/// in s5cmd's words.
struct NoMatchError: ArcError {
    let url: String
    var code: FailureCode { .noMatch }
    var exitStatus: ExitStatus { .failures }
    var description: String { "\(url): no object found" }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
