import ArcCore

/// The multipart uploads in progress under a prefix, page by page (ListMultipartUploads).
enum UploadListing {
    static func each(_ client: S3Client, bucket: String, prefix: String, _ visit: ([S3Reply.Upload]) throws -> Void) throws {
        var after: (key: String, uploadID: String)?
        repeat {
            let page = S3Reply.uploadPage(try client.perform(S3Call.listMultipartUploads(bucket: bucket, prefix: prefix, after: after)).body)
            try visit(page.uploads)
            // A store that says "truncated" without moving on would have us ask forever.
            if let next = page.next, let previous = after, next == previous { break }
            after = page.next
        } while after != nil
    }

    /// Every upload of exactly `key`, oldest first (S3 lists them so; not every store does).
    static func uploads(of key: String, bucket: String, _ client: S3Client) throws -> [S3Reply.Upload] {
        var found: [S3Reply.Upload] = []
        try each(client, bucket: bucket, prefix: key) { found += $0.filter { $0.key == key } }
        let began = found.map { WallClock.parseRFC3339($0.initiated) ?? 0 }
        return found.indices.sorted { (began[$0], $0) < (began[$1], $1) }.map { found[$0] }
    }
}
