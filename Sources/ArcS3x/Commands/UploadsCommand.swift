import ArcCore

/// uploads: the multipart uploads in progress under a prefix, listed or (--abort) aborted.
/// An interrupted run leaves its upload for the next to resume; one never resumed keeps
/// its parts stored (and billed) until it is aborted.
enum UploadsCommand {
    static func run(_ target: String, _ p: ParsedCommand, _ context: S3xContext) throws {
        let url = try S3URL(parsing: target)
        let pattern = url.hasWildcard ? Glob(url.key) : nil
        let olderThan = try p.duration("older-than")
        let abort = p.flag("abort")
        let now = WallClock.nowMillis()
        let aborts = WaitGroup()
        try UploadListing.each(context.client, bucket: url.bucket, prefix: url.listPrefix) { uploads in
            for upload in uploads where pattern?.matches(upload.key) ?? true {
                if let olderThan {
                    // An upload whose age cannot be told is never old enough to abort.
                    guard let began = WallClock.parseRFC3339(upload.initiated),
                          Double(now - began) / 1000 >= olderThan else { continue }
                }
                let object = url.with(key: upload.key)
                if abort {
                    send(abort: upload, of: object, context, aborts)
                } else if context.output.json {
                    context.output.record { r in
                        r.string("type", "upload")
                        r.string("url", object.description)
                        r.string("key", upload.key)
                        r.string("upload_id", upload.uploadID)
                        r.string("initiated", upload.initiated)
                    }
                } else {
                    context.output.line(ListCommand.displayTime(upload.initiated) + "  " + upload.uploadID + "  " + upload.key)
                }
            }
        }
        aborts.wait()
    }

    /// AbortMultipartUpload, reported as an `abort` event of the object's URL. An upload
    /// gone meanwhile (completed or aborted by its own run) is skipped, not failed.
    private static func send(abort upload: S3Reply.Upload, of object: S3URL, _ context: S3xContext, _ group: WaitGroup) {
        let output = context.output
        if context.dryRun { return output.emit("abort", source: object.description, destination: nil, dryRun: true) }
        group.enter()
        context.client.send(S3Call.abortMultipart(object, uploadID: upload.uploadID)) { result in
            switch result {
            case .success:
                output.emit("abort", source: object.description, destination: nil)
            case .failure(let error) where error.s3Code == "NoSuchUpload":
                output.emit("abort", source: object.description, destination: nil, status: .skipped)
            case .failure(let error):
                output.emit("abort", source: object.description, destination: nil, status: .failed, error: error)
            }
            group.leave()
        }
    }
}
