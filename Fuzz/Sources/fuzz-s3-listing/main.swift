// An S3 answer body through the XML readers: ListObjects (v1 and v2, plain and
// encoding-type=url), the S3Reply parsers (multipart uploads, parts, delete errors,
// buckets) and XMLScanner underneath. Properties: no crash; a parsed page written back as
// XML (with S3Operations.escape) parses to the same page; the continuation marker either
// advances or is refused; URL encoding round-trips every key.
import FuzzSupport
@testable import ArcCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzS3Listing(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let body = fuzzBytes(data, size)
    for urlEncoded in [false, true] {
        guard let page = try? ListObjects.parse(body, urlEncoded: urlEncoded) else { continue }
        if !urlEncoded { checkRoundTrip(page) }
        for marker in [nil, "", page.objects.last?.key, page.commonPrefixes.first] {
            if let next = try? page.continuation(after: marker) {
                fuzzCheck(page.isTruncated && (marker ?? "").utf8.lexicographicallyPrecedes(next.utf8),
                          "continuation \(next) does not advance past \(marker ?? "nil")")
            }
        }
        for object in page.objects {
            fuzzCheck(object.size >= 0, "negative size")
            fuzzCheck(URLEncoding.decode(URLEncoding.component(object.key)) == object.key, "URL encoding changed \(object.key)")
            fuzzCheck(URLEncoding.decode(URLEncoding.path(object.key)) == object.key, "path encoding changed \(object.key)")
        }
    }
    _ = try? S3Reply.uploadID(body)
    _ = S3Reply.copyETag(body)
    _ = S3Reply.parts(body)
    _ = S3Reply.uploads(body)
    _ = S3Reply.deleteErrors(body)
    _ = S3Reply.buckets(body)
    var scanner = XMLScanner(body)
    var elements = 0
    while scanner.next() != nil {
        elements += 1
        fuzzCheck(elements <= body.count, "XMLScanner returned more elements than there are bytes")
    }
    return 0
}

private func checkRoundTrip(_ page: ListPage) {
    func element(_ name: String, _ text: String) -> String { "<\(name)>\(S3Call.escape(text))</\(name)>" }
    var xml = #"<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#
    xml += element("IsTruncated", page.isTruncated ? "true" : "false")
    if let m = page.nextMarker { xml += element("NextMarker", m) }
    if let t = page.nextContinuationToken { xml += element("NextContinuationToken", t) }
    for o in page.objects {
        xml += "<Contents>" + element("Key", o.key) + element("LastModified", o.lastModified)
            + element("ETag", "\"\(o.etag)\"") + element("Size", String(o.size))
            + element("StorageClass", o.storageClass) + "</Contents>"
    }
    for p in page.commonPrefixes { xml += "<CommonPrefixes>" + element("Prefix", p) + "</CommonPrefixes>" }
    xml += "</ListBucketResult>"
    guard let again = try? ListObjects.parse(Array(xml.utf8)) else { fuzzFail("a page written back does not parse: \(xml)") }
    fuzzCheck(again.objects == page.objects, "objects changed in a round trip: \(page.objects) -> \(again.objects)")
    fuzzCheck(again.commonPrefixes == page.commonPrefixes, "prefixes changed in a round trip")
    fuzzCheck(again.isTruncated == page.isTruncated && again.nextMarker == page.nextMarker
              && again.nextContinuationToken == page.nextContinuationToken, "page state changed in a round trip")
}
