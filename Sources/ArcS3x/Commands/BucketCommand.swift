import ArcCore

/// mb, rb, head and presign: one request each.
enum BucketCommand {
    static func bucketOnly(_ target: String) throws -> String {
        let url = try S3URL(parsing: target)
        guard url.key.isEmpty else { throw UsageError("'\(target)': expected s3://bucket, without a key") }
        return url.bucket
    }

    static func make(_ target: String, _ context: S3xContext) throws {
        let bucket = try bucketOnly(target)
        if context.dryRun { return context.output.emit("mb", source: "s3://\(bucket)", destination: nil, dryRun: true) }
        do {
            _ = try context.client.perform(S3Call.createBucket(bucket, region: context.region))
            context.output.emit("mb", source: "s3://\(bucket)", destination: nil)
        } catch let error as S3Error {
            context.output.emit("mb", source: "s3://\(bucket)", destination: nil, status: .failed, error: error)
        }
    }

    static func remove(_ target: String, _ context: S3xContext) throws {
        let bucket = try bucketOnly(target)
        if context.dryRun { return context.output.emit("rb", source: "s3://\(bucket)", destination: nil, dryRun: true) }
        do {
            _ = try context.client.perform(S3Call.deleteBucket(bucket))
            context.output.emit("rb", source: "s3://\(bucket)", destination: nil)
        } catch let error as S3Error {
            context.output.emit("rb", source: "s3://\(bucket)", destination: nil, status: .failed, error: error)
        }
    }

    static func head(_ target: String, _ context: S3xContext) throws {
        let url = try S3URL(parsing: target)
        if url.key.isEmpty {
            let response = try context.sourceClient.perform(S3Request("HeadBucket", .head, bucket: url.bucket))
            context.output.record { r in
                r.string("bucket", "s3://\(url.bucket)")
                r.string("url", "s3://\(url.bucket)")
                r.string("name", url.bucket)
                r.int("status", response.status)
            }
            return
        }
        do {
            let h = try context.sourceClient.perform(S3Call.head(url)).headers
            context.output.record { r in
                // s5cmd's `key` is the URL; `name` (the key itself) and `url` are ours.
                r.string("key", url.description)
                r.string("url", url.description)
                r.string("name", url.key)
                r.int("size", h.contentLength ?? 0)
                r.optionalString("etag", h.etag.map(ETag.unquote))
                r.optionalString("last_modified", h.lastModified.flatMap(WallClock.parseHTTPDate).map(WallClock.rfc3339(millis:)))
                r.optionalString("content_type", h.contentType)
                r.optionalString("cache_control", h.cacheControl)
                // S3 sends no header for STANDARD objects.
                r.string("storage_class", h.storageClass ?? "STANDARD")
                r.object("metadata") { m in
                    for (name, value) in h.metadata.sorted(by: { $0.key < $1.key }) { m.string(name, value) }
                }
            }
        } catch let error as S3Error where error.isNotFound {
            context.output.emit("head", source: url.description, destination: nil, status: .failed,
                                error: S3Error(operation: "HeadObject", resource: url.description, status: 404,
                                               s3Code: "NoSuchKey", message: "no such object"))
        }
    }

    static func presign(_ target: String, _ p: ParsedCommand, _ context: S3xContext) throws {
        let url = try S3URL(parsing: target)
        guard !url.key.isEmpty else { throw UsageError("'\(target)': presign needs an object key") }
        let expires = try p.duration("expire") ?? 3600
        guard expires >= 1 && expires <= 7 * 86_400 else { throw UsageError("--expire: from 1s to 7 days (7d)") }
        context.output.line(try context.sourceClient.presign(bucket: url.bucket, key: url.key, expires: Int(expires)))
    }
}
