/// The S3 API calls, as requests to send and parsers for their answers. Keeping the two
/// apart lets a command pipeline many calls asynchronously, or `perform` one and wait.
public enum S3Call {
    // MARK: objects

    /// `checksumMode`: ask for the CRC the store keeps (x-amz-checksum-mode: ENABLED).
    public static func head(_ url: S3URL, partNumber: Int? = nil, checksumMode: Bool = false) -> S3Request {
        S3Request("HeadObject", .head, bucket: url.bucket, key: url.key,
                  query: partNumber.map { [("partNumber", String($0))] } ?? [],
                  headers: checksumMode ? [("x-amz-checksum-mode", "ENABLED")] : [])
    }

    /// A GET of the whole object or of `range` (inclusive bounds), pinned to `ifMatch`.
    public static func get(_ url: S3URL, range: ClosedRange<Int64>? = nil, ifMatch: String? = nil) -> S3Request {
        var headers: [(String, String)] = []
        if let range { headers.append(("Range", "bytes=\(range.lowerBound)-\(range.upperBound)")) }
        if let ifMatch { headers.append(("If-Match", quoted(ifMatch))) }
        return S3Request("GetObject", .get, bucket: url.bucket, key: url.key, headers: headers)
    }

    public static func put(_ url: S3URL, body: UploadBody, headers: [(String, String)], payloadHash: String? = nil) -> S3Request {
        S3Request("PutObject", .put, bucket: url.bucket, key: url.key, headers: headers, body: body, payloadHash: payloadHash)
    }

    /// CopyObject: server side, up to 5 GiB. `metadata` nil copies the source's metadata.
    public static func copy(from source: S3URL, to dest: S3URL, headers: [(String, String)], replaceMetadata: Bool) -> S3Request {
        var h = headers
        h.append(("x-amz-copy-source", copySource(source)))
        h.append(("x-amz-metadata-directive", replaceMetadata ? "REPLACE" : "COPY"))
        return S3Request("CopyObject", .put, bucket: dest.bucket, key: dest.key, headers: h, errorIn200: true)
    }

    // MARK: multipart

    /// `checksum`: the parts will carry this CRC, and the store is to keep the whole
    /// object's (FULL_OBJECT: one CRC of all the bytes, whatever the parts).
    public static func createMultipart(_ url: S3URL, headers: [(String, String)], checksum: ChecksumAlgorithm? = nil) -> S3Request {
        var h = headers
        if let checksum { h += [("x-amz-checksum-algorithm", checksum.s3Name), ("x-amz-checksum-type", "FULL_OBJECT")] }
        return S3Request("CreateMultipartUpload", .post, bucket: url.bucket, key: url.key, query: [("uploads", "")], headers: h)
    }

    /// `checksum`: the part's CRC, which the store checks against the bytes it receives.
    public static func uploadPart(_ url: S3URL, uploadID: String, part: Int, body: UploadBody, payloadHash: String? = nil,
                                  checksum: CRCValue? = nil) -> S3Request {
        S3Request("UploadPart", .put, bucket: url.bucket, key: url.key,
                  query: [("partNumber", String(part)), ("uploadId", uploadID)],
                  headers: checksum.map { [($0.algorithm.header, $0.base64), ("x-amz-sdk-checksum-algorithm", $0.algorithm.s3Name)] } ?? [],
                  body: body, payloadHash: payloadHash)
    }

    public static func uploadPartCopy(_ url: S3URL, uploadID: String, part: Int, source: S3URL,
                                      range: ClosedRange<Int64>, ifMatch: String?) -> S3Request {
        var headers = [("x-amz-copy-source", copySource(source)),
                       ("x-amz-copy-source-range", "bytes=\(range.lowerBound)-\(range.upperBound)")]
        if let ifMatch { headers.append(("x-amz-copy-source-if-match", quoted(ifMatch))) }
        return S3Request("UploadPartCopy", .put, bucket: url.bucket, key: url.key,
                         query: [("partNumber", String(part)), ("uploadId", uploadID)], headers: headers, errorIn200: true)
    }

    /// `checksums`: each part's CRC, for an upload created with a checksum algorithm.
    public static func completeMultipart(_ url: S3URL, uploadID: String, etags: [String], checksums: [CRCValue]? = nil) -> S3Request {
        var xml = "<CompleteMultipartUpload>"
        for (i, etag) in etags.enumerated() {
            let crc = checksums.map { "<\($0[i].algorithm.element)>\($0[i].base64)</\($0[i].algorithm.element)>" } ?? ""
            xml += "<Part><PartNumber>\(i + 1)</PartNumber><ETag>\(escape(quoted(etag)))</ETag>\(crc)</Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let body = MemoryBody(xml)
        return S3Request("CompleteMultipartUpload", .post, bucket: url.bucket, key: url.key,
                         query: [("uploadId", uploadID)], body: body, payloadHash: SHA256.hex(body.bytes), errorIn200: true)
    }

    public static func abortMultipart(_ url: S3URL, uploadID: String) -> S3Request {
        S3Request("AbortMultipartUpload", .delete, bucket: url.bucket, key: url.key, query: [("uploadId", uploadID)])
    }

    public static func listParts(_ url: S3URL, uploadID: String, marker: Int?) -> S3Request {
        var q = [("uploadId", uploadID)]
        if let marker { q.append(("part-number-marker", String(marker))) }
        return S3Request("ListParts", .get, bucket: url.bucket, key: url.key, query: q)
    }

    /// One page of the uploads in progress under `prefix`; `after` is the previous page's
    /// `UploadPage.next`.
    public static func listMultipartUploads(bucket: String, prefix: String,
                                            after: (key: String, uploadID: String)? = nil) -> S3Request {
        var q = [("uploads", ""), ("prefix", prefix)]
        if let after { q += [("key-marker", after.key), ("upload-id-marker", after.uploadID)] }
        return S3Request("ListMultipartUploads", .get, bucket: bucket, query: q)
    }

    // MARK: listing, deleting, buckets

    public static func list(bucket: String, prefix: String, delimiter: String?, continuation: String?,
                            v1: Bool = false, maxKeys: Int? = nil) -> S3Request {
        var q: [(String, String)] = [("prefix", prefix), ("encoding-type", "url")]
        if !v1 { q.append(("list-type", "2")) }
        if let delimiter { q.append(("delimiter", delimiter)) }
        if let continuation { q.append((v1 ? "marker" : "continuation-token", continuation)) }
        if let maxKeys { q.append(("max-keys", String(maxKeys))) }
        return S3Request(v1 ? "ListObjects" : "ListObjectsV2", .get, bucket: bucket, query: q)
    }

    /// DeleteObjects for up to 1,000 keys, quiet: the answer lists only the failures.
    public static func deleteObjects(bucket: String, keys: [String]) -> S3Request {
        var xml = "<Delete><Quiet>true</Quiet>"
        for key in keys { xml += "<Object><Key>\(escape(key))</Key></Object>" }
        xml += "</Delete>"
        let body = MemoryBody(xml)
        // Content-MD5 is required by S3 for this call.
        let md5 = Base64.encode(MD5.digest(body.bytes))
        return S3Request("DeleteObjects", .post, bucket: bucket, query: [("delete", "")],
                         headers: [("Content-MD5", md5)], body: body, payloadHash: SHA256.hex(body.bytes))
    }

    public static func deleteObject(_ url: S3URL) -> S3Request {
        S3Request("DeleteObject", .delete, bucket: url.bucket, key: url.key)
    }

    public static func createBucket(_ bucket: String, region: String) -> S3Request {
        guard region != "us-east-1" else { return S3Request("CreateBucket", .put, bucket: bucket, body: MemoryBody([])) }
        let body = MemoryBody("<CreateBucketConfiguration><LocationConstraint>\(escape(region))</LocationConstraint></CreateBucketConfiguration>")
        return S3Request("CreateBucket", .put, bucket: bucket, body: body, payloadHash: SHA256.hex(body.bytes))
    }

    public static func deleteBucket(_ bucket: String) -> S3Request { S3Request("DeleteBucket", .delete, bucket: bucket) }

    public static func listBuckets() -> S3Request { S3Request("ListBuckets", .get, bucket: nil) }

    // MARK: helpers

    static func copySource(_ url: S3URL) -> String {
        "/" + URLEncoding.component(url.bucket) + "/" + URLEncoding.path(url.key)
    }

    static func quoted(_ etag: String) -> String { etag.hasPrefix("\"") ? etag : "\"\(etag)\"" }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                if c.value < 0x20 { out += "&#\(c.value);" } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }
}

/// Parsers for the answers of `S3Call`s.
public enum S3Reply {
    public static func uploadID(_ body: [UInt8]) throws -> String {
        guard let id = XMLText.firstElement("UploadId", in: String(decoding: body, as: UTF8.self)), !id.isEmpty else {
            throw ListParseError(message: "CreateMultipartUpload answer has no UploadId")
        }
        return id
    }

    /// The object's CRC in a CompleteMultipartUpload answer (`<ChecksumCRC32C>`), if any.
    public static func checksum(_ body: [UInt8], _ algorithm: ChecksumAlgorithm) -> StoredChecksum? {
        XMLText.firstElement(algorithm.element, in: String(decoding: body, as: UTF8.self))
            .flatMap { StoredChecksum(algorithm: algorithm, text: $0) }
    }

    /// The ETag in a CopyObject or UploadPartCopy answer, unquoted.
    public static func copyETag(_ body: [UInt8]) -> String? {
        XMLText.firstElement("ETag", in: String(decoding: body, as: UTF8.self)).map(ETag.unquote)
    }

    public struct Part: Equatable, Sendable {
        public var number: Int
        public var etag: String
        public var size: Int64
    }

    public static func parts(_ body: [UInt8]) -> (parts: [Part], next: Int?) {
        var scanner = XMLScanner(body)
        var parts: [Part] = []
        var part = Part(number: 0, etag: "", size: 0)
        var truncated = false
        var next: Int?
        var inPart = false
        while let e = scanner.next() {
            switch (e.name, e.isClosing) {
            case ("Part", false): inPart = true; part = Part(number: 0, etag: "", size: 0)
            case ("Part", true): inPart = false; parts.append(part)
            case ("PartNumber", false) where inPart: part.number = Int(e.text ?? "") ?? 0
            case ("ETag", false) where inPart: part.etag = ETag.unquote(e.text ?? "")
            case ("Size", false) where inPart: part.size = Int64(e.text ?? "") ?? 0
            case ("IsTruncated", false): truncated = e.text == "true"
            case ("NextPartNumberMarker", false): next = Int(e.text ?? "")
            default: break
            }
        }
        return (parts, truncated ? next : nil)
    }

    public struct Upload: Equatable, Sendable {
        public var key: String
        public var uploadID: String
        /// When it began, as S3 gives it (RFC 3339).
        public var initiated: String
        /// The CRC its parts carry, when it was created with one (and the store says so).
        public var checksumAlgorithm: ChecksumAlgorithm? = nil
    }

    /// A page of ListMultipartUploads: uploads in key order (one key's oldest first), and
    /// where the next page starts when there is one.
    public struct UploadPage: Sendable {
        public var uploads: [Upload] = []
        public var next: (key: String, uploadID: String)?
    }

    /// Each multipart upload in progress.
    public static func uploads(_ body: [UInt8]) -> [Upload] { uploadPage(body).uploads }

    public static func uploadPage(_ body: [UInt8]) -> UploadPage {
        var scanner = XMLScanner(body)
        var page = UploadPage()
        var upload = Upload(key: "", uploadID: "", initiated: "")
        var inUpload = false
        var truncated = false
        var nextKey: String?, nextID: String?
        while let e = scanner.next() {
            switch (e.name, e.isClosing) {
            case ("Upload", false): inUpload = true; upload = Upload(key: "", uploadID: "", initiated: "")
            case ("Upload", true): inUpload = false; page.uploads.append(upload)
            case ("Key", false) where inUpload: upload.key = e.text ?? ""
            case ("UploadId", false) where inUpload: upload.uploadID = e.text ?? ""
            case ("Initiated", false) where inUpload: upload.initiated = e.text ?? ""
            case ("ChecksumAlgorithm", false) where inUpload: upload.checksumAlgorithm = ChecksumAlgorithm(s3Name: e.text ?? "")
            case ("IsTruncated", false): truncated = e.text == "true"
            case ("NextKeyMarker", false): nextKey = e.text
            case ("NextUploadIdMarker", false): nextID = e.text
            default: break
            }
        }
        if truncated, let nextKey, !nextKey.isEmpty { page.next = (nextKey, nextID ?? "") }
        return page
    }

    /// Keys DeleteObjects could not delete, with S3's code and message.
    public static func deleteErrors(_ body: [UInt8]) -> [(key: String, code: String, message: String)] {
        var scanner = XMLScanner(body)
        var result: [(String, String, String)] = []
        var key = "", code = "", message = ""
        var inError = false
        while let e = scanner.next() {
            switch (e.name, e.isClosing) {
            case ("Error", false): inError = true; key = ""; code = ""; message = ""
            case ("Error", true): inError = false; result.append((key, code, message))
            case ("Key", false) where inError: key = e.text ?? ""
            case ("Code", false) where inError: code = e.text ?? ""
            case ("Message", false) where inError: message = e.text ?? ""
            default: break
            }
        }
        return result
    }

    public struct Bucket: Sendable {
        public var name: String
        public var created: String
    }

    public static func buckets(_ body: [UInt8]) -> [Bucket] {
        var scanner = XMLScanner(body)
        var result: [Bucket] = []
        var bucket = Bucket(name: "", created: "")
        var inBucket = false
        while let e = scanner.next() {
            switch (e.name, e.isClosing) {
            case ("Bucket", false): inBucket = true; bucket = Bucket(name: "", created: "")
            case ("Bucket", true): inBucket = false; result.append(bucket)
            case ("Name", false) where inBucket: bucket.name = e.text ?? ""
            case ("CreationDate", false) where inBucket: bucket.created = e.text ?? ""
            default: break
            }
        }
        return result
    }
}

