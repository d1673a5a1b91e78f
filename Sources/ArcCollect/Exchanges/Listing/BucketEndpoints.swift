import ArcCore

/// Where a tree answers: an S3 listing endpoint (ListObjects v1, path style or the
/// bucket's own host) and the host archives are downloaded from. Both are settable so
/// tests and mirrors work; each source has its own defaults.
public protocol BucketEndpoints: Sendable {
    /// Without a trailing `/`.
    var listURL: String { get }
    /// Without a trailing `/`.
    var downloadURL: String { get }
}

extension BucketEndpoints {
    public func listingURL(prefix: String, marker: String?) -> String {
        listURL + "?" + ListObjects.query(prefix: prefix, delimiter: "/", marker: marker)
    }

    public func downloadURL(key: String) -> String { downloadURL + "/" + URLEncoding.path(key) }

    static func trimSlash(_ s: String) -> String {
        var s = s
        while s.hasSuffix("/") { s.removeLast() }
        return s
    }
}
