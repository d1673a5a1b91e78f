/// One object in a listing.
public struct ListedObject: Sendable, Equatable {
    public var key: String
    public var size: Int64
    /// Without the quotes S3 puts around it.
    public var etag: String
    public var lastModified: String
    public var storageClass: String = ""
}

/// One page of an S3 ListObjects (v1) answer.
public struct ListPage: Sendable {
    public var objects: [ListedObject] = []
    /// Sub-folders under the prefix (with a delimiter). The `<Prefix>` echo of the request
    /// at the top of the page is not one of them.
    public var commonPrefixes: [String] = []
    public var isTruncated = false
    public var nextMarker: String?
    /// ListObjectsV2's token for the next page.
    public var nextContinuationToken: String?

    /// Where the next page starts: NextMarker when the server sent one (it does with a
    /// delimiter), else the last key or prefix of this page (markers are exclusive).
    public var continuationMarker: String? {
        guard isTruncated else { return nil }
        if let m = nextMarker, !m.isEmpty { return m }
        return [objects.last?.key, commonPrefixes.last].compactMap { $0 }.max()
    }

    /// The marker of the page after this one, which was asked for with `marker`. A server
    /// that says "more" without moving forward would be asked the same page forever.
    public func continuation(after marker: String?) throws -> String? {
        guard isTruncated else { return nil }
        guard let next = continuationMarker, (marker ?? "").utf8.lexicographicallyPrecedes(next.utf8) else {
            throw ListParseError(message: "the page is truncated but its marker does not advance past '\(marker ?? "")'")
        }
        return next
    }
}

public struct ListParseError: ArcError {
    public let message: String
    public init(message: String) { self.message = message }
    public var code: FailureCode { .badListing }
    public var exitStatus: ExitStatus { .unavailable }
    public var description: String { "unexpected listing response: \(message)" }
}

public enum ListObjects {
    /// The query for one page: `?prefix=...&delimiter=/&marker=...`.
    public static func query(prefix: String, delimiter: String?, marker: String?, maxKeys: Int? = nil) -> String {
        var q = "prefix=" + URLEncoding.component(prefix)
        if let delimiter { q += "&delimiter=" + URLEncoding.component(delimiter) }
        if let marker, !marker.isEmpty { q += "&marker=" + URLEncoding.component(marker) }
        if let maxKeys { q += "&max-keys=\(maxKeys)" }
        return q
    }

    /// Parses a v1 or v2 page. With `urlEncoded` (the request sent `encoding-type=url`),
    /// keys and prefixes are percent-decoded: XML 1.0 cannot carry every byte a key may hold.
    public static func parse(_ body: [UInt8], urlEncoded: Bool = false) throws -> ListPage {
        var page = ListPage()
        var scanner = XMLScanner(body)
        var sawRoot = false
        var inContents = false
        var inPrefixes = false
        var object = ListedObject(key: "", size: 0, etag: "", lastModified: "")
        while let e = scanner.next() {
            switch (e.name, e.isClosing) {
            case ("ListBucketResult", false): sawRoot = true
            case ("Error", false):
                throw ListParseError(message: XMLText.firstElement("Message", in: String(decoding: body, as: UTF8.self)) ?? "error document")
            case ("Contents", false):
                inContents = true
                object = ListedObject(key: "", size: 0, etag: "", lastModified: "")
            case ("Contents", true):
                inContents = false
                page.objects.append(object)
            case ("CommonPrefixes", false): inPrefixes = true
            case ("CommonPrefixes", true): inPrefixes = false
            case ("Key", false) where inContents: object.key = urlEncoded ? URLEncoding.decode(e.text ?? "") : e.text ?? ""
            case ("Size", false) where inContents:
                guard let size = Int64(e.text ?? ""), size >= 0 else {
                    throw ListParseError(message: "bad <Size> '\(e.text ?? "")' for key '\(object.key)'")
                }
                object.size = size
            case ("ETag", false) where inContents: object.etag = ETag.unquote(e.text ?? "")
            case ("LastModified", false) where inContents: object.lastModified = e.text ?? ""
            case ("Prefix", false) where inPrefixes:
                page.commonPrefixes.append(urlEncoded ? URLEncoding.decode(e.text ?? "") : e.text ?? "")
            case ("StorageClass", false) where inContents: object.storageClass = e.text ?? ""
            case ("NextContinuationToken", false): page.nextContinuationToken = e.text
            case ("IsTruncated", false) where !inContents: page.isTruncated = e.text == "true"
            case ("NextMarker", false): page.nextMarker = urlEncoded ? e.text.map(URLEncoding.decode) : e.text
            default: break
            }
        }
        guard sawRoot else {
            throw ListParseError(message: String(decoding: body.prefix(120), as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "empty body")
        }
        return page
    }
}

