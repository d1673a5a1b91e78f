import XCTest
@testable import ArcCore
import ArcTestSupport

final class ListObjectsTests: XCTestCase {
    private func parse(_ xml: String) throws -> ListPage { try ListObjects.parse(Array(xml.utf8)) }

    /// A page of a delimited listing of data.binance.vision, as S3 answers it.
    private let folderPage = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
          <Name>data.binance.vision</Name>
          <Prefix>data/spot/daily/klines/</Prefix>
          <Marker></Marker>
          <NextMarker>data/spot/daily/klines/ADAUSDT/</NextMarker>
          <MaxKeys>1000</MaxKeys>
          <Delimiter>/</Delimiter>
          <IsTruncated>true</IsTruncated>
          <CommonPrefixes>
            <Prefix>data/spot/daily/klines/1INCHBTC/</Prefix>
          </CommonPrefixes>
          <CommonPrefixes>
            <Prefix>data/spot/daily/klines/ADAUSDT/</Prefix>
          </CommonPrefixes>
        </ListBucketResult>
        """

    func testFoldersNextMarkerAndTruncation() throws {
        let page = try parse(folderPage)
        XCTAssertEqual(page.commonPrefixes, ["data/spot/daily/klines/1INCHBTC/", "data/spot/daily/klines/ADAUSDT/"],
                       "the <Prefix> echo of the request is not a folder")
        XCTAssertTrue(page.objects.isEmpty)
        XCTAssertTrue(page.isTruncated)
        XCTAssertEqual(page.nextMarker, "data/spot/daily/klines/ADAUSDT/")
        XCTAssertEqual(page.continuationMarker, "data/spot/daily/klines/ADAUSDT/")
    }

    func testObjects() throws {
        let page = try parse("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>data/spot/daily/klines/BTCUSDT/1m/</Prefix><Marker>data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01</Marker><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>false</IsTruncated><Contents><Key>data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip</Key><LastModified>2024-01-02T09:31:01.000Z</LastModified><ETag>&quot;9d2b1e7a4f0c3c51c7f5a2f4b9a1c0de&quot;</ETag><Size>87512</Size><Owner><ID>x</ID><DisplayName>y</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip.CHECKSUM</Key><LastModified>2024-01-02T09:31:02.000Z</LastModified><ETag>"aa"</ETag><Size>105</Size><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>
            """)
        XCTAssertEqual(page.objects, [
            ListedObject(key: "data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip", size: 87512,
                         etag: "9d2b1e7a4f0c3c51c7f5a2f4b9a1c0de", lastModified: "2024-01-02T09:31:01.000Z",
                         storageClass: "STANDARD"),
            ListedObject(key: "data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip.CHECKSUM", size: 105,
                         etag: "aa", lastModified: "2024-01-02T09:31:02.000Z", storageClass: "STANDARD"),
        ])
        XCTAssertTrue(page.commonPrefixes.isEmpty, "neither the Prefix echo nor the Marker is a folder")
        XCTAssertFalse(page.isTruncated)
        XCTAssertNil(page.nextMarker)
        XCTAssertNil(page.continuationMarker, "the last page has no continuation")
    }

    func testXMLEntitiesInKeys() throws {
        let page = try parse("""
            <ListBucketResult><IsTruncated>false</IsTruncated>
            <Contents><Key>a&amp;b/&lt;x&gt;/it&apos;s &quot;q&quot; &#233;&#x4E2D;.zip</Key><Size>1</Size><ETag>W/"weak"</ETag></Contents>
            <CommonPrefixes><Prefix>p&amp;q/</Prefix></CommonPrefixes>
            </ListBucketResult>
            """)
        XCTAssertEqual(page.objects.first?.key, "a&b/<x>/it's \"q\" é中.zip")
        XCTAssertEqual(page.objects.first?.etag, "weak")
        XCTAssertEqual(page.commonPrefixes, ["p&q/"])
    }

    func testContinuationWithoutNextMarker() throws {
        // Without a delimiter S3 sends no NextMarker: the next page starts after the last key.
        let page = try parse("""
            <ListBucketResult><IsTruncated>true</IsTruncated>
            <Contents><Key>k/1</Key><Size>1</Size></Contents><Contents><Key>k/2</Key><Size>2</Size></Contents>
            <CommonPrefixes><Prefix>k/1a/</Prefix></CommonPrefixes>
            </ListBucketResult>
            """)
        XCTAssertNil(page.nextMarker)
        XCTAssertEqual(page.continuationMarker, "k/2", "the greatest of the last key and the last folder")
        XCTAssertEqual(try page.continuation(after: "k/1"), "k/2")
        XCTAssertNotNil(assertThrows(ListParseError.self, try page.continuation(after: "k/2")), "a marker that does not advance")
        XCTAssertNotNil(assertThrows(ListParseError.self, try page.continuation(after: "k/3")), "a marker that goes back")
        let folders = try parse("""
            <ListBucketResult><IsTruncated>true</IsTruncated><NextMarker/>
            <Contents><Key>k/1</Key></Contents><CommonPrefixes><Prefix>k/9/</Prefix></CommonPrefixes>
            </ListBucketResult>
            """)
        XCTAssertEqual(folders.nextMarker, "")
        XCTAssertEqual(folders.continuationMarker, "k/9/", "an empty NextMarker is no marker")
    }

    func testTruncationInsideContentsIsNotThePagesFlag() throws {
        let page = try parse("<ListBucketResult><Contents><Key>k</Key><IsTruncated>true</IsTruncated></Contents><IsTruncated>false</IsTruncated></ListBucketResult>")
        XCTAssertFalse(page.isTruncated)
        XCTAssertEqual(page.objects.map { $0.key }, ["k"])
    }

    func testMissingSizeReadsAsZeroAndABadOneIsAnError() throws {
        let page = try parse("<ListBucketResult><Contents><Key>j</Key></Contents></ListBucketResult>")
        XCTAssertEqual(page.objects.map { $0.size }, [0])
        XCTAssertEqual(page.objects.map { $0.etag }, [""])
        for bad in ["big", "-1", "99999999999999999999999"] {
            let xml = "<ListBucketResult><Contents><Key>k</Key><Size>\(bad)</Size></Contents></ListBucketResult>"
            XCTAssertNotNil(assertThrows(ListParseError.self, try parse(xml)), bad)
        }
    }

    func testEmptyListing() throws {
        let page = try parse(#"<?xml version="1.0"?><ListBucketResult><Name>b</Name><Prefix>none/</Prefix><IsTruncated>false</IsTruncated></ListBucketResult>"#)
        XCTAssertTrue(page.objects.isEmpty)
        XCTAssertTrue(page.commonPrefixes.isEmpty)
        XCTAssertNil(page.continuationMarker)
    }

    func testErrorDocument() {
        let e = assertThrows(ListParseError.self, try parse("""
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>AccessDenied</Code><Message>Access Denied &amp; more</Message><RequestId>1</RequestId></Error>
            """))
        XCTAssertEqual(e?.message, "Access Denied & more")
        XCTAssertEqual(e?.code, FailureCode("bad_listing"))
        XCTAssertEqual(e?.exitStatus, .unavailable)
    }

    func testNotAListing() {
        XCTAssertEqual(assertThrows(ListParseError.self, try parse("<html><body>Service Unavailable</body></html>\nmore"))?.message,
                       "<html><body>Service Unavailable</body></html>")
        XCTAssertEqual(assertThrows(ListParseError.self, try parse(""))?.message, "empty body")
        XCTAssertNotNil(assertThrows(ListParseError.self, try parse("{\"not\":\"xml\"}")))
    }

    func testQuery() {
        XCTAssertEqual(ListObjects.query(prefix: "data/spot/", delimiter: "/", marker: nil),
                       "prefix=data%2Fspot%2F&delimiter=%2F")
        XCTAssertEqual(ListObjects.query(prefix: "", delimiter: nil, marker: "", maxKeys: 10), "prefix=&max-keys=10")
        XCTAssertEqual(ListObjects.query(prefix: "p", delimiter: nil, marker: "p/a&b=c"), "prefix=p&marker=p%2Fa%26b%3Dc")
    }

    func testUnquote() {
        XCTAssertEqual(ETag.unquote("\"abc\""), "abc")
        XCTAssertEqual(ETag.unquote("W/\"abc\""), "abc")
        XCTAssertEqual(ETag.unquote("abc"), "abc")
        XCTAssertEqual(ETag.unquote("\""), "\"")
        XCTAssertEqual(ETag.unquote("\"abc-3\""), "abc-3")
    }
}

final class XMLTextTests: XCTestCase {
    func testEntities() {
        XCTAssertEqual(XMLText.decode(Array("plain".utf8)), "plain")
        XCTAssertEqual(XMLText.decode(Array("a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;".utf8)), "a & b <c> \"d\" 'e'")
        XCTAssertEqual(XMLText.decode(Array("&#65;&#x42;&#X43;&#128512;".utf8)), "ABC😀")
        XCTAssertEqual(XMLText.decode(Array("&amp;lt;".utf8)), "&lt;", "decoded once, not twice")
    }

    func testUnknownAndBrokenEntitiesAreKept() {
        XCTAssertEqual(XMLText.decode(Array("&nbsp;x".utf8)), "&nbsp;x")
        XCTAssertEqual(XMLText.decode(Array("a & b".utf8)), "a & b")
        XCTAssertEqual(XMLText.decode(Array("tail &amp".utf8)), "tail &amp")
        XCTAssertEqual(XMLText.decode(Array("&#xD800;".utf8)), "&#xD800;", "not a scalar")
        XCTAssertEqual(XMLText.decode(Array("&#zz;".utf8)), "&#zz;")
    }

    func testFirstElement() {
        let xml = "<?xml version=\"1.0\"?><!-- c --><R><A>1</A><B>x &amp; y</B><B>2</B><C/></R>"
        XCTAssertEqual(XMLText.firstElement("B", in: xml), "x & y")
        XCTAssertEqual(XMLText.firstElement("C", in: xml), "")
        XCTAssertNil(XMLText.firstElement("D", in: xml))
        XCTAssertNil(XMLText.firstElement("R", in: xml), "a container has no text")
    }

    func testScannerReportsContainersAndLeaves() {
        var s = XMLScanner(Array("<R a=\"1\">\n <L>t</L>\n <E></E>\n</R>".utf8))
        var events: [String] = []
        while let e = s.next() { events.append((e.isClosing ? "/" : "") + e.name + (e.text.map { "=" + $0 } ?? "")) }
        XCTAssertEqual(events, ["R", "L=t", "E=", "/R"])
    }

    func testScannerStopsOnTruncatedInput() {
        var s = XMLScanner(Array("<R><L>text".utf8))
        XCTAssertEqual(s.next()?.name, "R")
        XCTAssertNil(s.next())
    }
}

final class URLEncodingTests: XCTestCase {
    func testComponentAndPath() {
        XCTAssertEqual(URLEncoding.component("AZaz09-_.~"), "AZaz09-_.~")
        XCTAssertEqual(URLEncoding.component("a b/c+d=e&f"), "a%20b%2Fc%2Bd%3De%26f")
        XCTAssertEqual(URLEncoding.path("a b/c+d"), "a%20b/c%2Bd")
        XCTAssertEqual(URLEncoding.component("é"), "%C3%A9")
        XCTAssertEqual(URLEncoding.component(""), "")
    }
}

extension URLEncodingTests {
    func testDecode() {
        XCTAssertEqual(URLEncoding.decode("plain/key.txt"), "plain/key.txt")
        XCTAssertEqual(URLEncoding.decode("a%20b%2Fc"), "a b/c")
        XCTAssertEqual(URLEncoding.decode("%C3%A9t%C3%A9"), "été")
        XCTAssertEqual(URLEncoding.decode("%2b%2f%e4%b8%ad"), "+/中", "lower-case hex digits")
        XCTAssertEqual(URLEncoding.decode("100%25"), "100%")
        XCTAssertEqual(URLEncoding.decode("%2525"), "%25", "decoded once, not twice")
        XCTAssertEqual(URLEncoding.decode("100%"), "100%", "a % at the end is kept")
        XCTAssertEqual(URLEncoding.decode("a%4"), "a%4", "a short escape is kept")
        XCTAssertEqual(URLEncoding.decode("%zz%g1"), "%zz%g1", "not hex: kept")
        XCTAssertEqual(URLEncoding.decode(""), "")
    }

    func testDecodeUndoesComponentAndPath() {
        for s in ["a b+c/d%e", "é/中/😀", "~._-", "x=1&y=2", "  ", "%%"] {
            XCTAssertEqual(Array(URLEncoding.decode(URLEncoding.component(s)).utf8), Array(s.utf8), s)
            XCTAssertEqual(Array(URLEncoding.decode(URLEncoding.path(s)).utf8), Array(s.utf8), s)
        }
    }

    /// BUG: AWS S3 answers `encoding-type=url` listings form-encoded: a space may come as `+`
    /// (a literal `+` always comes as `%2B`). botocore decodes these with `unquote_plus`;
    /// `decode` keeps `+`, so the key `a b.txt` is listed as `a+b.txt`.
    func testDecodePlusIsASpaceAsInS3Listings() {
        XCTAssertEqual(URLEncoding.decode("a+b.txt"), "a b.txt")
        XCTAssertEqual(URLEncoding.decode("run+books/a%2Bb+c.txt"), "run books/a+b c.txt")
        XCTAssertEqual(URLEncoding.decode("a%20b"), "a b", "%20 is a space too")
    }

    /// BUG: the two characters after `%` are parsed with `UInt8(_:radix:)`, which takes a sign:
    /// `%-0` turns into a NUL byte instead of staying as it is.
    func testDecodeKeepsEscapesWithASign() {
        XCTAssertEqual(Array(URLEncoding.decode("a%-0b").utf8), Array("a%-0b".utf8))
    }
}

final class ListObjectsV2Tests: XCTestCase {
    /// A ListObjectsV2 page asked for with encoding-type=url.
    private let page = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>photos%2F2024%2F</Prefix>\
        <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM+=</NextContinuationToken>\
        <KeyCount>3</KeyCount><MaxKeys>3</MaxKeys><Delimiter>%2F</Delimiter><EncodingType>url</EncodingType>\
        <IsTruncated>true</IsTruncated><ContinuationToken>prev%41</ContinuationToken>\
        <Contents><Key>photos/2024/a%20b%2Bc.jpg</Key><LastModified>2024-03-01T10:00:00.000Z</LastModified>\
        <ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm>\
        <Size>1</Size><StorageClass>STANDARD_IA</StorageClass></Contents>\
        <Contents><Key>photos/2024/%C3%A9t%C3%A9%25.png</Key><LastModified>2024-03-02T10:00:00.000Z</LastModified>\
        <ETag>&quot;9b2cf535f27731c974343645a3985328-12&quot;</ETag><Size>123456789012</Size>\
        <StorageClass>GLACIER</StorageClass></Contents>\
        <CommonPrefixes><Prefix>photos/2024/sub%20dir%2F</Prefix></CommonPrefixes></ListBucketResult>
        """

    func testEncodedV2Page() throws {
        let p = try ListObjects.parse(Array(page.utf8), urlEncoded: true)
        XCTAssertEqual(p.objects, [
            ListedObject(key: "photos/2024/a b+c.jpg", size: 1, etag: "0cc175b9c0f1b6a831c399e269772661",
                         lastModified: "2024-03-01T10:00:00.000Z", storageClass: "STANDARD_IA"),
            ListedObject(key: "photos/2024/été%.png", size: 123_456_789_012, etag: "9b2cf535f27731c974343645a3985328-12",
                         lastModified: "2024-03-02T10:00:00.000Z", storageClass: "GLACIER"),
        ])
        XCTAssertEqual(p.commonPrefixes, ["photos/2024/sub dir/"])
        XCTAssertTrue(p.isTruncated)
        XCTAssertEqual(p.nextContinuationToken, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM+=", "tokens are opaque: not decoded")
        XCTAssertNil(p.nextMarker)
    }

    func testWithoutURLEncodingKeysAreKeptAsSent() throws {
        let p = try ListObjects.parse(Array(page.utf8))
        XCTAssertEqual(p.objects.map { $0.key }, ["photos/2024/a%20b%2Bc.jpg", "photos/2024/%C3%A9t%C3%A9%25.png"])
        XCTAssertEqual(p.commonPrefixes, ["photos/2024/sub%20dir%2F"])
    }

    func testEncodedV1NextMarkerIsDecoded() throws {
        let p = try ListObjects.parse(Array("""
            <ListBucketResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>\
            <NextMarker>dir%2Fa%20b%C3%A9</NextMarker><Contents><Key>dir/a</Key><Size>0</Size></Contents></ListBucketResult>
            """.utf8), urlEncoded: true)
        XCTAssertEqual(p.nextMarker, "dir/a bé")
        XCTAssertEqual(p.continuationMarker, "dir/a bé")
        XCTAssertNil(p.nextContinuationToken)
    }

    func testLastPageHasNoToken() throws {
        let p = try ListObjects.parse(Array("""
            <ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>
            """.utf8), urlEncoded: true)
        XCTAssertFalse(p.isTruncated)
        XCTAssertNil(p.nextContinuationToken)
        XCTAssertTrue(p.objects.isEmpty)
    }
}

final class SigV4Tests: XCTestCase {
    /// The credentials, date and bucket of AWS's SigV4 examples for S3
    /// (sig-v4-header-based-auth and sigv4-query-string-auth).
    let example = S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    let may24: Int = 1_369_353_600  // 20130524T000000Z
    let host = "examplebucket.s3.amazonaws.com"
    var signer: SigV4 { SigV4(credentials: example, region: "us-east-1") }

    private func signature(_ headers: [(String, String)]) -> String? {
        guard let auth = headers.first(where: { $0.0 == "Authorization" })?.1,
              let range = auth.range(of: "Signature=") else { return nil }
        return String(auth[range.upperBound...])
    }

    func testTimestamps() {
        XCTAssertTrue(SigV4.timestamps(may24) == ("20130524T000000Z", "20130524"))
        XCTAssertTrue(SigV4.timestamps(0) == ("19700101T000000Z", "19700101"))
        XCTAssertTrue(SigV4.timestamps(1_709_251_199) == ("20240229T235959Z", "20240229"))
        XCTAssertTrue(SigV4.timestamps(951_786_123) == ("20000229T010203Z", "20000229"))
    }

    /// AWS's "GET Object" example: the first 10 bytes of test.txt.
    func testGetObjectExample() {
        let headers = signer.sign(method: "GET", host: host, path: "/test.txt", query: [],
                                  headers: [("Range", "bytes=0-9")], payloadHash: SigV4.emptyPayload, time: may24)
        XCTAssertEqual(headers.map { $0.0 }, ["x-amz-date", "x-amz-content-sha256", "Authorization"])
        XCTAssertEqual(headers[0].1, "20130524T000000Z")
        XCTAssertEqual(headers[1].1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(headers[2].1, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                       + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                       + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    /// The same example through the request builder and the endpoint's addressing.
    func testGetObjectExampleThroughCallAndEndpoint() throws {
        let endpoint = try S3Endpoint(url: "https://s3.amazonaws.com", region: "us-east-1")
        let request = S3Call.get(S3URL(bucket: "examplebucket", key: "test.txt"), range: 0...9)
        let (url, host, path) = endpoint.locate(bucket: request.bucket, key: request.key)
        XCTAssertEqual(url, "https://examplebucket.s3.amazonaws.com/test.txt")
        let headers = signer.sign(method: request.method.rawValue, host: host, path: path, query: request.query,
                                  headers: request.headers, payloadHash: SigV4.emptyPayload, time: may24)
        XCTAssertEqual(signature(headers), "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    /// AWS's "PUT Object" example: a key with `$`, a Date header and a storage class, the payload signed.
    func testPutObjectExample() throws {
        let payload = SHA256.hex(Array("Welcome to Amazon S3.".utf8))
        XCTAssertEqual(payload, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let (_, host, path) = try S3Endpoint(url: "https://s3.amazonaws.com", region: "us-east-1")
            .locate(bucket: "examplebucket", key: "test$file.text")
        XCTAssertEqual(path, "/test%24file.text")
        let headers = signer.sign(method: "PUT", host: host, path: path, query: [],
                                  headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
                                  payloadHash: payload, time: may24)
        XCTAssertTrue(headers.last!.1.contains("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"))
        XCTAssertEqual(signature(headers), "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    /// AWS's "GET Bucket Lifecycle" (a valueless parameter) and "Get Bucket (List Objects)" examples.
    func testBucketQueryExamples() {
        let lifecycle = signer.sign(method: "GET", host: host, path: "/", query: [("lifecycle", "")], headers: [],
                                    payloadHash: SigV4.emptyPayload, time: may24)
        XCTAssertEqual(signature(lifecycle), "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
        let list = signer.sign(method: "GET", host: host, path: "/", query: [("prefix", "J"), ("max-keys", "2")], headers: [],
                               payloadHash: SigV4.emptyPayload, time: may24)
        XCTAssertEqual(signature(list), "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    /// AWS's presigned URL example: GET test.txt, valid 24 hours.
    func testPresignedURLExample() {
        let query = signer.presignedQuery(method: "GET", host: host, path: "/test.txt", query: [], expires: 86400, time: may24)
        XCTAssertEqual(query, "X-Amz-Algorithm=AWS4-HMAC-SHA256"
                       + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                       + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                       + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    /// Expected signatures computed independently (Python hmac/hashlib) from the canonical request.
    func testSessionTokenIsSignedAndSent() {
        let token = "FQoGZXIvYXdzEJr//token+/="
        let withToken = SigV4(credentials: S3Credentials(accessKeyID: example.accessKeyID, secretAccessKey: example.secretAccessKey,
                                                         sessionToken: token), region: "us-east-1")
        let headers = withToken.sign(method: "GET", host: host, path: "/test.txt", query: [],
                                     headers: [("Range", "bytes=0-9"), ("X-Amz-Meta-Note", "  two   words ")],
                                     payloadHash: SigV4.emptyPayload, time: may24)
        XCTAssertEqual(headers.map { $0.0 }, ["x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "Authorization"])
        XCTAssertEqual(headers[2].1, token, "sent as is")
        XCTAssertTrue(headers[3].1.contains("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date;x-amz-meta-note;x-amz-security-token,"))
        XCTAssertEqual(signature(headers), "ac2aed1448e5dc6cefcd4d55f49aae2b8bcd2cd2857509557398d934d270be39")

        let query = withToken.presignedQuery(method: "PUT", host: host, path: "/a%20b/c%2Bd.txt", query: [], expires: 3600, time: may24)
        XCTAssertEqual(query, "X-Amz-Algorithm=AWS4-HMAC-SHA256"
                       + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                       + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=3600"
                       + "&X-Amz-Security-Token=FQoGZXIvYXdzEJr%2F%2Ftoken%2B%2F%3D&X-Amz-SignedHeaders=host"
                       + "&X-Amz-Signature=50f3fb92ab0b23e23ead1f9340a9dd60576f4616f1587e22a80a7c1665bc069a")
    }

    func testHeaderValuesAreSignedTrimmedAndNamesLowerCased() {
        let plain = signer.sign(method: "GET", host: host, path: "/k", query: [], headers: [("x-amz-meta-a", "one two")],
                                payloadHash: SigV4.unsignedPayload, time: may24)
        let spaced = signer.sign(method: "GET", host: host, path: "/k", query: [], headers: [("X-Amz-Meta-A", " \tone  \t two  ")],
                                 payloadHash: SigV4.unsignedPayload, time: may24)
        XCTAssertEqual(signature(plain), signature(spaced))
        let other = signer.sign(method: "GET", host: host, path: "/k", query: [], headers: [("x-amz-meta-a", "onetwo")],
                                payloadHash: SigV4.unsignedPayload, time: may24)
        XCTAssertNotEqual(signature(plain), signature(other), "inner spaces are kept as one")
        XCTAssertEqual(plain[1].1, "UNSIGNED-PAYLOAD")
    }

    func testTrim() {
        XCTAssertEqual(SigV4.trim("  a   b  "), "a b")
        XCTAssertEqual(SigV4.trim("\ta\t\tb "), "a b")
        XCTAssertEqual(SigV4.trim("bytes=0-9"), "bytes=0-9")
        XCTAssertEqual(SigV4.trim("   "), "")
        XCTAssertEqual(SigV4.trim(""), "")
    }

    func testCanonicalQuery() {
        XCTAssertEqual(SigV4.canonicalQuery([]), "")
        XCTAssertEqual(SigV4.canonicalQuery([("uploads", "")]), "uploads=")
        XCTAssertEqual(SigV4.canonicalQuery([("prefix", "a b/c"), ("delimiter", "/"), ("encoding-type", "url")]),
                       "delimiter=%2F&encoding-type=url&prefix=a%20b%2Fc")
        XCTAssertEqual(SigV4.canonicalQuery([("continuation-token", "1ue+Gc/x=="), ("list-type", "2")]),
                       "continuation-token=1ue%2BGc%2Fx%3D%3D&list-type=2")
        XCTAssertEqual(SigV4.canonicalQuery([("k", "b"), ("k", "a"), ("j", "z")]), "j=z&k=a&k=b", "by name, then value")
        XCTAssertEqual(SigV4.canonicalQuery([("b", ""), ("B", ""), ("a-b", ""), ("a", "")]), "B=&a=&a-b=&b=", "byte order")
        XCTAssertEqual(SigV4.canonicalQuery([("prefix", "é~._-&=")]), "prefix=%C3%A9~._-%26%3D")
        XCTAssertEqual(SigV4.canonicalQuery([("uploadId", "u"), ("partNumber", "10")]), "partNumber=10&uploadId=u")
    }

    func testSigningKeyDependsOnDayRegionAndService() {
        let a = signer.sign(method: "GET", host: host, path: "/", query: [], headers: [], payloadHash: SigV4.emptyPayload, time: may24)
        let b = SigV4(credentials: example, region: "eu-west-1")
            .sign(method: "GET", host: host, path: "/", query: [], headers: [], payloadHash: SigV4.emptyPayload, time: may24)
        XCTAssertTrue(b.last!.1.contains("Credential=AKIAIOSFODNN7EXAMPLE/20130524/eu-west-1/s3/aws4_request,"))
        XCTAssertNotEqual(signature(a), signature(b))
        XCTAssertEqual(signature(a)?.count, 64)
    }
}

final class S3URLTests: XCTestCase {
    func testBucketOnly() throws {
        for text in ["s3://bucket", "s3://bucket/"] {
            let u = try S3URL(parsing: text)
            XCTAssertEqual(u, S3URL(bucket: "bucket", key: ""), text)
            XCTAssertTrue(u.isDirectoryLike)
            XCTAssertFalse(u.hasWildcard)
            XCTAssertEqual(u.listPrefix, "")
            XCTAssertEqual(u.baseDirectory, "")
            XCTAssertEqual(u.description, "s3://bucket/")
        }
    }

    func testKeysAreKeptExactly() throws {
        let u = try S3URL(parsing: "s3://my.bucket/a b/ü//x/./y+z%20")
        XCTAssertEqual(u.bucket, "my.bucket")
        XCTAssertEqual(u.key, "a b/ü//x/./y+z%20")
        XCTAssertFalse(u.isDirectoryLike)
        XCTAssertEqual(try S3URL(parsing: "s3://b//lead").key, "/lead")
        XCTAssertEqual(try S3URL(parsing: "s3://b/dir/").isDirectoryLike, true)
        XCTAssertEqual(u.with(key: "k").description, "s3://my.bucket/k")
    }

    func testWildcards() throws {
        let u = try S3URL(parsing: "s3://b/a/b*")
        XCTAssertTrue(u.hasWildcard)
        XCTAssertEqual(u.listPrefix, "a/b")
        XCTAssertEqual(u.baseDirectory, "a/")
        let q = try S3URL(parsing: "s3://b/logs/2024-0?/day*/x.gz")
        XCTAssertTrue(q.hasWildcard)
        XCTAssertEqual(q.listPrefix, "logs/2024-0")
        XCTAssertEqual(q.baseDirectory, "logs/")
        let top = try S3URL(parsing: "s3://b/*.csv")
        XCTAssertEqual(top.listPrefix, "")
        XCTAssertEqual(top.baseDirectory, "")
        let plain = try S3URL(parsing: "s3://b/a/b/c.txt")
        XCTAssertFalse(plain.hasWildcard)
        XCTAssertEqual(plain.listPrefix, "a/b/c.txt")
        XCTAssertEqual(plain.baseDirectory, "a/b/")
    }

    func testRejected() {
        for text in ["s3://", "s3:///key", "http://b/k", "S3://b/k", "b/k", "s3://b*/k", "s3://b?x"] {
            XCTAssertNotNil(assertThrows(UsageError.self, try S3URL(parsing: text)), text)
        }
        XCTAssertTrue(S3URL.isS3("s3://b"))
        XCTAssertFalse(S3URL.isS3("./s3://b"))
    }
}

final class S3EndpointTests: XCTestCase {
    func testAWSDefaultIsVirtualHosted() throws {
        let e = try S3Endpoint(url: nil, region: "eu-west-1")
        XCTAssertEqual(e.scheme, "https")
        XCTAssertEqual(e.authority, "s3.eu-west-1.amazonaws.com")
        XCTAssertEqual(e.basePath, "")
        XCTAssertTrue(e.isAWS)
        let r = e.locate(bucket: "my-bucket", key: "a b/c+d%e/é/x~y")
        XCTAssertEqual(r.host, "my-bucket.s3.eu-west-1.amazonaws.com")
        XCTAssertEqual(r.path, "/a%20b/c%2Bd%25e/%C3%A9/x~y")
        XCTAssertEqual(r.url, "https://my-bucket.s3.eu-west-1.amazonaws.com/a%20b/c%2Bd%25e/%C3%A9/x~y")
        XCTAssertEqual(e.locate(bucket: "my-bucket", key: nil).path, "/", "bucket requests")
        XCTAssertEqual(e.locate(bucket: "my-bucket", key: "a//b").path, "/a//b", "keys are not normalised")
    }

    func testAWSBucketsThatCannotBeHostNamesUsePathStyle() throws {
        let e = try S3Endpoint(url: nil, region: "us-east-1")
        let dotted = e.locate(bucket: "data.binance.vision", key: "a b")
        XCTAssertEqual(dotted.host, "s3.us-east-1.amazonaws.com")
        XCTAssertEqual(dotted.path, "/data.binance.vision/a%20b")
        XCTAssertEqual(dotted.url, "https://s3.us-east-1.amazonaws.com/data.binance.vision/a%20b")
        XCTAssertEqual(e.locate(bucket: "Legacy_Bucket", key: "k").path, "/Legacy_Bucket/k")
        XCTAssertEqual(e.locate(bucket: "data.binance.vision", key: nil).path, "/data.binance.vision")
        XCTAssertEqual(e.locate(bucket: "data.binance.vision", key: "").path, "/data.binance.vision/")
    }

    func testExplicitAWSEndpoint() throws {
        let e = try S3Endpoint(url: "https://s3.us-west-2.amazonaws.com", region: "us-west-2")
        XCTAssertTrue(e.isAWS)
        XCTAssertEqual(e.locate(bucket: "b", key: "k").host, "b.s3.us-west-2.amazonaws.com")
    }

    func testCustomEndpointsUsePathStyle() throws {
        let e = try S3Endpoint(url: "http://localhost:9000/", region: "us-east-1")
        XCTAssertEqual(e.scheme, "http")
        XCTAssertEqual(e.authority, "localhost:9000")
        XCTAssertEqual(e.basePath, "")
        XCTAssertFalse(e.isAWS)
        let r = e.locate(bucket: "bucket", key: "dir/f 1.txt")
        XCTAssertEqual(r.host, "localhost:9000")
        XCTAssertEqual(r.path, "/bucket/dir/f%201.txt")
        XCTAssertEqual(r.url, "http://localhost:9000/bucket/dir/f%201.txt")
        XCTAssertEqual(e.locate(bucket: "bucket", key: nil).path, "/bucket")
        XCTAssertTrue(e.locate(bucket: nil, key: nil) == (url: "http://localhost:9000/", host: "localhost:9000", path: "/"))
    }

    func testBasePath() throws {
        let e = try S3Endpoint(url: "HTTPS://gw.example.com/storage/s3//", region: "r")
        XCTAssertEqual(e.scheme, "https")
        XCTAssertEqual(e.authority, "gw.example.com")
        XCTAssertEqual(e.basePath, "/storage/s3")
        let r = e.locate(bucket: "b", key: "k+1")
        XCTAssertEqual(r.path, "/storage/s3/b/k%2B1")
        XCTAssertEqual(r.url, "https://gw.example.com/storage/s3/b/k%2B1")
        XCTAssertEqual(e.locate(bucket: nil, key: nil).path, "/storage/s3/", "ListBuckets")
    }

    func testForcedStyles() throws {
        let virtual = try S3Endpoint(url: "http://minio.local:9000", region: "us-east-1", style: .virtual)
        let v = virtual.locate(bucket: "b", key: "k")
        XCTAssertEqual(v.host, "b.minio.local:9000")
        XCTAssertEqual(v.url, "http://b.minio.local:9000/k")
        XCTAssertEqual(virtual.locate(bucket: "my.bucket", key: "k").host, "my.bucket.minio.local:9000", "forced, even dotted")
        let path = try S3Endpoint(url: nil, region: "us-east-1", style: .path)
        let p = path.locate(bucket: "b", key: "k")
        XCTAssertEqual(p.host, "s3.us-east-1.amazonaws.com")
        XCTAssertEqual(p.path, "/b/k")
    }

    func testInvalidEndpoints() {
        for url in ["ftp://host", "localhost:9000", "https://", "http:///path"] {
            XCTAssertNotNil(assertThrows(UsageError.self, try S3Endpoint(url: url, region: "us-east-1")), url)
        }
    }

    /// BUG: curl leaves the port out of the Host header when it is the scheme's default
    /// (https on 443, http on 80), but the endpoint signs `host:port`: S3 answers
    /// SignatureDoesNotMatch for `--endpoint-url https://minio.example.com:443`.
    func testDefaultPortIsNotPartOfTheSignedHost() throws {
        XCTAssertEqual(try S3Endpoint(url: "https://minio.example.com:443", region: "us-east-1").locate(bucket: "b", key: "k").host,
                       "minio.example.com")
        XCTAssertEqual(try S3Endpoint(url: "http://localhost:80", region: "us-east-1").locate(bucket: "b", key: "k").host,
                       "localhost")
        XCTAssertEqual(try S3Endpoint(url: "https://localhost:80", region: "us-east-1").locate(bucket: "b", key: "k").host,
                       "localhost:80", "not the default port of https")
        XCTAssertEqual(try S3Endpoint(url: "https://h.example:8443", region: "us-east-1").locate(bucket: "b", key: "k").host,
                       "h.example:8443")
    }
}

final class S3CallTests: XCTestCase {
    private func text(_ request: S3Request) -> String? {
        (request.body as? MemoryBody).map { String(decoding: $0.bytes, as: UTF8.self) }
    }

    private func headers(_ request: S3Request) -> [String] { request.headers.map { "\($0.0): \($0.1)" } }

    func testCompleteMultipartBody() {
        let r = S3Call.completeMultipart(S3URL(bucket: "b", key: "big file.bin"), uploadID: "VXBs+/=",
                                         etags: ["9b2cf535f27731c974343645a3985328", "\"e1f3\"", "a&b"])
        XCTAssertEqual(text(r), "<CompleteMultipartUpload>"
                       + "<Part><PartNumber>1</PartNumber><ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag></Part>"
                       + "<Part><PartNumber>2</PartNumber><ETag>&quot;e1f3&quot;</ETag></Part>"
                       + "<Part><PartNumber>3</PartNumber><ETag>&quot;a&amp;b&quot;</ETag></Part>"
                       + "</CompleteMultipartUpload>")
        XCTAssertEqual(r.payloadHash, "79ea0defb8946e2809ff3baf4b488f04090d900d83a284aaeb7c72537b9e4909")
        XCTAssertEqual(r.method, .post)
        XCTAssertEqual(SigV4.canonicalQuery(r.query), "uploadId=VXBs%2B%2F%3D")
        XCTAssertEqual(r.key, "big file.bin")
        XCTAssertTrue(r.errorIn200)
    }

    func testDeleteObjectsBodyAndContentMD5() {
        let r = S3Call.deleteObjects(bucket: "b", keys: ["a&b", "<c>"])
        XCTAssertEqual(text(r), "<Delete><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object><Object><Key>&lt;c&gt;</Key></Object></Delete>")
        // base64(MD5(body)) and SHA-256(body), computed with Python's hashlib.
        XCTAssertEqual(headers(r), ["Content-MD5: JztbiBH000jpOKfoIFpIpw=="])
        XCTAssertEqual(r.payloadHash, "d30a23c9161def2474fa1992af70018f36bf4136334caecdf706a01f995006a1")
        XCTAssertEqual(SigV4.canonicalQuery(r.query), "delete=")
        XCTAssertNil(r.key)
        XCTAssertEqual(r.bucket, "b")
        XCTAssertEqual(r.method, .post)
    }

    func testXMLEscape() {
        XCTAssertEqual(S3Call.escape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f")
        XCTAssertEqual(S3Call.escape("cr\rlf\ntab\t"), "cr&#13;lf&#10;tab&#9;")
        XCTAssertEqual(S3Call.escape("é 中/😀"), "é 中/😀")
    }

    func testObjectRequests() {
        let url = S3URL(bucket: "b", key: "k")
        let get = S3Call.get(url, range: 0...9, ifMatch: "abc")
        XCTAssertEqual(headers(get), ["Range: bytes=0-9", "If-Match: \"abc\""])
        XCTAssertEqual(get.method, .get)
        XCTAssertEqual(headers(S3Call.get(url, ifMatch: "\"q\"")), ["If-Match: \"q\""], "already quoted")
        XCTAssertEqual(SigV4.canonicalQuery(S3Call.head(url, partNumber: 3).query), "partNumber=3")
        XCTAssertTrue(S3Call.head(url).query.isEmpty)
        let create = S3Call.createMultipart(url, headers: [("Content-Type", "text/plain")])
        XCTAssertEqual(SigV4.canonicalQuery(create.query), "uploads=")
        XCTAssertEqual(create.method, .post)
        XCTAssertEqual(SigV4.canonicalQuery(S3Call.uploadPart(url, uploadID: "u+1", part: 12, body: MemoryBody([])).query),
                       "partNumber=12&uploadId=u%2B1")
        XCTAssertEqual(SigV4.canonicalQuery(S3Call.listParts(url, uploadID: "u", marker: 1000).query),
                       "part-number-marker=1000&uploadId=u")
        XCTAssertEqual(SigV4.canonicalQuery(S3Call.listMultipartUploads(bucket: "b", prefix: "a b").query), "prefix=a%20b&uploads=")
        XCTAssertEqual(S3Call.abortMultipart(url, uploadID: "u").method, .delete)
    }

    func testCopySources() {
        let copy = S3Call.copy(from: S3URL(bucket: "src.b", key: "a b/c+d/é"), to: S3URL(bucket: "d", key: "k"),
                               headers: [("x-amz-storage-class", "GLACIER")], replaceMetadata: false)
        XCTAssertEqual(headers(copy), ["x-amz-storage-class: GLACIER", "x-amz-copy-source: /src.b/a%20b/c%2Bd/%C3%A9",
                                       "x-amz-metadata-directive: COPY"])
        XCTAssertEqual(copy.bucket, "d")
        XCTAssertTrue(copy.errorIn200)
        let part = S3Call.uploadPartCopy(S3URL(bucket: "d", key: "k"), uploadID: "u", part: 2, source: S3URL(bucket: "s", key: "x"),
                                         range: 100...199, ifMatch: "e")
        XCTAssertEqual(headers(part), ["x-amz-copy-source: /s/x", "x-amz-copy-source-range: bytes=100-199",
                                       "x-amz-copy-source-if-match: \"e\""])
    }

    func testListQueries() {
        XCTAssertEqual(SigV4.canonicalQuery(S3Call.list(bucket: "b", prefix: "a/", delimiter: "/", continuation: "t+/=").query),
                       "continuation-token=t%2B%2F%3D&delimiter=%2F&encoding-type=url&list-type=2&prefix=a%2F")
        XCTAssertEqual(SigV4.canonicalQuery(S3Call.list(bucket: "b", prefix: "", delimiter: nil, continuation: "m k", v1: true,
                                                        maxKeys: 5).query),
                       "encoding-type=url&marker=m%20k&max-keys=5&prefix=")
        XCTAssertEqual(S3Call.list(bucket: "b", prefix: "", delimiter: nil, continuation: nil).operation, "ListObjectsV2")
    }

    func testCreateBucket() {
        let east = S3Call.createBucket("b", region: "us-east-1")
        XCTAssertEqual(text(east), "")
        XCTAssertNil(east.payloadHash)
        let west = S3Call.createBucket("b", region: "eu-west-1")
        XCTAssertEqual(text(west), "<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>")
        XCTAssertEqual(west.payloadHash, "aed6303d2f78706bf45bcffd96265507d81b43f07040947f39be18d925244534")
        XCTAssertNil(S3Call.listBuckets().bucket)
    }
}

final class S3ReplyTests: XCTestCase {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testUploadID() throws {
        XCTAssertEqual(try S3Reply.uploadID(bytes("""
            <?xml version="1.0" encoding="UTF-8"?>
            <InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Bucket>example-bucket</Bucket>
              <Key>example-object</Key>
              <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
            </InitiateMultipartUploadResult>
            """)), "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA")
        XCTAssertEqual(try S3Reply.uploadID(bytes("<R><UploadId>a&amp;b</UploadId></R>")), "a&b")
        XCTAssertNotNil(assertThrows(ListParseError.self, try S3Reply.uploadID(bytes("<R><UploadId></UploadId></R>"))))
        XCTAssertNotNil(assertThrows(ListParseError.self, try S3Reply.uploadID(bytes("<R><Key>k</Key></R>"))))
        XCTAssertNotNil(assertThrows(ListParseError.self, try S3Reply.uploadID([])))
    }

    /// AWS's ListParts example: a truncated page.
    private let partsPage = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
          <Bucket>example-bucket</Bucket>
          <Key>example-object</Key>
          <UploadId>XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA</UploadId>
          <Initiator>
              <ID>arn:aws:iam::111122223333:user/some-user-11116a31-17b5-4fb7-9df5-b288870f11xx</ID>
              <DisplayName>umat-user-11116a31-17b5-4fb7-9df5-b288870f11xx</DisplayName>
          </Initiator>
          <Owner>
            <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
            <DisplayName>someName</DisplayName>
          </Owner>
          <StorageClass>STANDARD</StorageClass>
          <PartNumberMarker>1</PartNumberMarker>
          <NextPartNumberMarker>3</NextPartNumberMarker>
          <MaxParts>2</MaxParts>
          <IsTruncated>true</IsTruncated>
          <Part>
            <PartNumber>2</PartNumber>
            <LastModified>2010-11-10T20:48:34.000Z</LastModified>
            <ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag>
            <Size>10485760</Size>
          </Part>
          <Part>
            <PartNumber>3</PartNumber>
            <LastModified>2010-11-10T20:48:33.000Z</LastModified>
            <ETag>&quot;aaaa18db4cc2f85cedef654fccc4a4x8&quot;</ETag>
            <Size>7340032</Size>
          </Part>
        </ListPartsResult>
        """

    func testListParts() {
        let page = S3Reply.parts(bytes(partsPage))
        XCTAssertEqual(page.parts, [S3Reply.Part(number: 2, etag: "7778aef83f66abc1fa1e8477f296d394", size: 10_485_760),
                                    S3Reply.Part(number: 3, etag: "aaaa18db4cc2f85cedef654fccc4a4x8", size: 7_340_032)])
        XCTAssertEqual(page.next, 3)
        let last = S3Reply.parts(bytes(partsPage.replacingOccurrences(of: "<IsTruncated>true", with: "<IsTruncated>false")))
        XCTAssertEqual(last.parts.count, 2)
        XCTAssertNil(last.next, "not truncated: no next page, whatever NextPartNumberMarker says")
        let empty = S3Reply.parts(bytes("<ListPartsResult><IsTruncated>false</IsTruncated></ListPartsResult>"))
        XCTAssertTrue(empty.parts.isEmpty)
        XCTAssertNil(empty.next)
    }

    func testListMultipartUploads() {
        let uploads = S3Reply.uploads(bytes("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Bucket>bucket</Bucket>
              <KeyMarker></KeyMarker>
              <UploadIdMarker></UploadIdMarker>
              <NextKeyMarker>my-movie.m2ts</NextKeyMarker>
              <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>
              <MaxUploads>3</MaxUploads>
              <IsTruncated>true</IsTruncated>
              <Upload>
                <Key>my-divisor</Key>
                <UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>
                <Initiator><ID>arn:aws:iam::111122223333:user/user1</ID><DisplayName>user1</DisplayName></Initiator>
                <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>Owner</DisplayName></Owner>
                <StorageClass>STANDARD</StorageClass>
                <Initiated>2010-11-10T20:48:33.000Z</Initiated>
              </Upload>
              <Upload>
                <Key>my &amp; movie.m2ts</Key>
                <UploadId>VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
                <Initiated>2010-11-10T20:48:33.000Z</Initiated>
              </Upload>
              <CommonPrefixes><Prefix>photos/</Prefix></CommonPrefixes>
            </ListMultipartUploadsResult>
            """))
        XCTAssertEqual(uploads.map { $0.key }, ["my-divisor", "my & movie.m2ts"])
        XCTAssertEqual(uploads.map { $0.uploadID }, ["XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw",
                                                     "VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"])
        XCTAssertEqual(uploads.map { $0.initiated }, ["2010-11-10T20:48:33.000Z", "2010-11-10T20:48:33.000Z"])
        XCTAssertTrue(S3Reply.uploads(bytes("<ListMultipartUploadsResult><Bucket>b</Bucket></ListMultipartUploadsResult>")).isEmpty)
        let page = S3Reply.uploadPage(bytes("""
            <ListMultipartUploadsResult><IsTruncated>true</IsTruncated><NextKeyMarker>k</NextKeyMarker>\
            <NextUploadIdMarker>u</NextUploadIdMarker></ListMultipartUploadsResult>
            """))
        XCTAssertEqual(page.next?.key, "k")
        XCTAssertEqual(page.next?.uploadID, "u")
        XCTAssertNil(S3Reply.uploadPage(bytes("<ListMultipartUploadsResult><IsTruncated>false</IsTruncated><NextKeyMarker>k</NextKeyMarker></ListMultipartUploadsResult>")).next)
        XCTAssertEqual(SigV4.canonicalQuery(S3Call.listMultipartUploads(bucket: "b", prefix: "p", after: ("k 1", "u")).query),
                       "key-marker=k%201&prefix=p&upload-id-marker=u&uploads=")
    }

    func testDeleteErrors() {
        let errors = S3Reply.deleteErrors(bytes("""
            <?xml version="1.0" encoding="UTF-8"?>
            <DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Deleted><Key>sample1.txt</Key></Deleted>
              <Error><Key>sample2.txt</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>
              <Error><Key>a&amp;b &lt;c&gt;</Key><VersionId>v</VersionId><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>
            </DeleteResult>
            """))
        XCTAssertEqual(errors.map { $0.key }, ["sample2.txt", "a&b <c>"])
        XCTAssertEqual(errors.map { $0.code }, ["AccessDenied", "InternalError"])
        XCTAssertEqual(errors.map { $0.message }, ["Access Denied", "We encountered an internal error. Please try again."])
        XCTAssertTrue(S3Reply.deleteErrors(bytes("<DeleteResult><Deleted><Key>k</Key></Deleted></DeleteResult>")).isEmpty)
        XCTAssertTrue(S3Reply.deleteErrors(bytes("<DeleteResult/>")).isEmpty)
    }

    func testBuckets() {
        let buckets = S3Reply.buckets(bytes("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Owner><ID>AIDACKCEVSQ6C2EXAMPLE</ID><DisplayName>Account+Name</DisplayName></Owner>
              <Buckets>
                <Bucket><CreationDate>2019-12-11T23:32:47+00:00</CreationDate><Name>DOC-EXAMPLE-BUCKET</Name></Bucket>
                <Bucket><Name>data.example</Name><CreationDate>2019-11-10T23:32:13.000Z</CreationDate><BucketRegion>eu-west-1</BucketRegion></Bucket>
              </Buckets>
            </ListAllMyBucketsResult>
            """))
        XCTAssertEqual(buckets.map { $0.name }, ["DOC-EXAMPLE-BUCKET", "data.example"])
        XCTAssertEqual(buckets.map { $0.created }, ["2019-12-11T23:32:47+00:00", "2019-11-10T23:32:13.000Z"])
        XCTAssertTrue(S3Reply.buckets(bytes("<ListAllMyBucketsResult><Buckets></Buckets></ListAllMyBucketsResult>")).isEmpty)
    }

    func testCopyETag() {
        XCTAssertEqual(S3Reply.copyETag(bytes("""
            <?xml version="1.0" encoding="UTF-8"?>
            <CopyObjectResult><LastModified>2009-10-28T22:32:00</LastModified><ETag>"9b2cf535f27731c974343645a3985328"</ETag></CopyObjectResult>
            """)), "9b2cf535f27731c974343645a3985328")
        XCTAssertEqual(S3Reply.copyETag(bytes("<CopyPartResult><ETag>&quot;b54357faf0632cce46e942fa68356b38&quot;</ETag></CopyPartResult>")),
                       "b54357faf0632cce46e942fa68356b38")
        XCTAssertNil(S3Reply.copyETag(bytes("<CopyObjectResult><LastModified>x</LastModified></CopyObjectResult>")))
        XCTAssertNil(S3Reply.copyETag([]))
    }
}

final class Base64Tests: XCTestCase {
    func testRFC4648Vectors() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            XCTAssertEqual(Base64.encode(Array(plain.utf8)), encoded, plain)
        }
    }

    func testAllBytes() {
        XCTAssertEqual(Base64.encode([0xFB, 0xFF, 0xBF]), "+/+/")
        XCTAssertEqual(Base64.encode([0, 0, 0]), "AAAA")
        XCTAssertEqual(Base64.encode([0xFF]), "/w==")
        // The Content-MD5 of an empty body: base64 of d41d8cd98f00b204e9800998ecf8427e.
        XCTAssertEqual(Base64.encode(MD5.digest([])), "1B2M2Y8AsgTpgAmY7PhCfg==")
    }

    func testDecodeRoundTripsEveryLength() {
        var bytes: [UInt8] = []
        for n in 0..<70 {
            XCTAssertEqual(Base64.decode(Base64.encode(bytes)), bytes, "\(n) bytes")
            bytes.append(UInt8(truncatingIfNeeded: n &* 37 &+ 11))
        }
    }

    func testDecodeTakesUnpaddedAndURLSafeText() {
        XCTAssertEqual(Base64.decode("Zm8"), Array("fo".utf8))
        XCTAssertEqual(Base64.decode("-_-_"), [0xFB, 0xFF, 0xBF])
        XCTAssertEqual(Base64.decode(""), [])
    }

    func testDecodeRefusesWhatIsNotBase64() {
        for bad in ["Zm9v!", "Z", "Zm9vY", "Zg=a", "Zg===", "Zh==", " Zm9v", "Zm=", "=Zm9"] {
            XCTAssertNil(Base64.decode(bad), bad)
        }
    }
}

final class S3ErrorTests: XCTestCase {
    private func error(_ status: Int, _ detail: String) -> S3Error {
        S3Error(operation: "GetObject", resource: "s3://b/k", .http(status: status, url: "https://b.s3.amazonaws.com/k", detail: detail))
    }

    func testAuthFailuresAreCredentialsRejected() {
        for code in ["InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "AuthorizationHeaderMalformed",
                     "InvalidSecurity", "MissingSecurityHeader", "RequestTimeTooSkewed"] {
            let e = error(403, "\(code): The request was refused")
            XCTAssertEqual(e.s3Code, code)
            XCTAssertTrue(e.isAuthFailure, code)
            XCTAssertEqual(e.code, FailureCode("credentials_rejected"), code)
            XCTAssertEqual(e.exitStatus, .unavailable, code)
        }
        let e = error(403, "SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided.")
        XCTAssertEqual(e.message, "The request signature we calculated does not match the signature you provided.")
        XCTAssertEqual(e.description, "GetObject s3://b/k: SignatureDoesNotMatch: The request signature we calculated does not match "
                       + "the signature you provided. (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, --profile and --region)")
    }

    func testCodes() {
        let e = error(404, "NoSuchKey: The specified key does not exist.")
        XCTAssertEqual(e.status, 404)
        XCTAssertEqual(e.s3Code, "NoSuchKey")
        XCTAssertEqual(e.message, "The specified key does not exist.")
        XCTAssertEqual(e.code, FailureCode("not_found"))
        XCTAssertTrue(e.isNotFound)
        XCTAssertFalse(e.isAuthFailure)
        XCTAssertEqual(e.exitStatus, .failures)
        XCTAssertEqual(e.description, "GetObject s3://b/k: NoSuchKey: The specified key does not exist.")
        XCTAssertEqual(error(404, "NoSuchBucket: The specified bucket does not exist").code, FailureCode("no_such_bucket"))
        XCTAssertEqual(error(403, "AccessDenied: Access Denied").code, FailureCode("access_denied"))
        XCTAssertEqual(error(403, "AccessDenied: Access Denied").exitStatus, .failures)
        XCTAssertEqual(error(412, "PreconditionFailed: At least one of the preconditions you specified did not hold").code,
                       FailureCode("changed_during_transfer"))
        XCTAssertEqual(error(503, "SlowDown: Please reduce your request rate.").code, FailureCode("slow_down"))
        XCTAssertEqual(error(409, "InvalidObjectState: The operation is not valid for the object's storage class").code,
                       FailureCode("invalid_object_state"))
        XCTAssertEqual(error(400, "EntityTooLarge: too big").code, FailureCode("entity_too_large"))
        XCTAssertEqual(error(404, "NoSuchUpload: The specified upload does not exist.").code, FailureCode("no_such_upload"))
        XCTAssertFalse(error(404, "NoSuchUpload: x").isAuthFailure)
        XCTAssertTrue(error(404, "NoSuchUpload: x").isNotFound, "by status")
        XCTAssertFalse(error(409, "BucketNotEmpty: The bucket you tried to delete is not empty").isNotFound)
    }

    func testDetailWithoutAnS3Code() {
        let resume = error(416, "cannot resume from byte 5")
        XCTAssertEqual(resume.s3Code, "")
        XCTAssertEqual(resume.message, "cannot resume from byte 5")
        XCTAssertEqual(resume.code, FailureCode("http_error"), "the engine's code")
        XCTAssertEqual(resume.description, "GetObject s3://b/k: cannot resume from byte 5")
        let spaced = error(502, "Bad Gateway: upstream closed")
        XCTAssertEqual(spaced.s3Code, "", "a code has no space")
        XCTAssertEqual(spaced.message, "Bad Gateway: upstream closed")
        XCTAssertEqual(spaced.code, FailureCode("server_error"))
        let empty = error(503, "")
        XCTAssertEqual(empty.message, "HTTP 503")
        XCTAssertEqual(empty.code, FailureCode("server_error"))
        XCTAssertEqual(error(404, "").code, FailureCode("not_found"))
        XCTAssertTrue(error(404, "").isNotFound)
        let noMessage = error(400, "InvalidArgument: ")
        XCTAssertEqual(noMessage.s3Code, "InvalidArgument")
        XCTAssertEqual(noMessage.message, "")
    }

    func testNetworkFailure() {
        let e = S3Error(operation: "PutObject", resource: "s3://b/k",
                        .network(curlCode: 7, url: "https://b.s3.amazonaws.com/k", message: "Failed to connect"))
        XCTAssertEqual(e.status, 0)
        XCTAssertEqual(e.s3Code, "")
        XCTAssertEqual(e.code, FailureCode("connection_failed"))
        XCTAssertEqual(e.exitStatus, .unavailable)
        XCTAssertEqual(e.description, "PutObject s3://b/k: https://b.s3.amazonaws.com/k: Failed to connect")
        XCTAssertEqual(S3Error(operation: "o", resource: "r", .cancelled(url: "u")).code, FailureCode("interrupted"))
    }

    func testErrorInside200() {
        let request = S3Call.copy(from: S3URL(bucket: "s", key: "a"), to: S3URL(bucket: "d", key: "b"), headers: [], replaceMetadata: false)
        let e = S3Client.errorDocument(Array("""
            <?xml version="1.0" encoding="UTF-8"?>

            <Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>
            """.utf8), request: request, status: 200)
        XCTAssertEqual(e?.s3Code, "InternalError")
        XCTAssertEqual(e?.code, FailureCode("internal_error"))
        XCTAssertEqual(e?.status, 200)
        XCTAssertEqual(e?.resource, "s3://d/b")
        XCTAssertEqual(e?.operation, "CopyObject")
        XCTAssertNil(S3Client.errorDocument(Array("<CopyObjectResult><ETag>\"e\"</ETag></CopyObjectResult>".utf8), request: request, status: 200))
    }

    func testSnakeCase() {
        XCTAssertEqual(S3Error.snakeCase("SlowDown"), "slow_down")
        XCTAssertEqual(S3Error.snakeCase("BucketAlreadyOwnedByYou"), "bucket_already_owned_by_you")
        XCTAssertEqual(S3Error.snakeCase("lower"), "lower")
    }

    /// BUG: runs of capitals are split letter by letter: MalformedXML becomes malformed_x_m_l.
    func testSnakeCaseKeepsAcronymsTogether() {
        XCTAssertEqual(S3Error.snakeCase("MalformedXML"), "malformed_xml")
        XCTAssertEqual(S3Error.snakeCase("InvalidURI"), "invalid_uri")
        XCTAssertEqual(S3Error.snakeCase("XAmzContentSHA256Mismatch"), "x_amz_content_sha256_mismatch")
        XCTAssertEqual(S3Error.snakeCase("MalformedPOSTRequest"), "malformed_post_request")
    }
}

/// MD5 lives in Transfer/; it is tested here with the S3 ETags it exists for.
final class MD5Tests: XCTestCase {
    func testRFC1321Vectors() {
        let vectors = ["": "d41d8cd98f00b204e9800998ecf8427e", "a": "0cc175b9c0f1b6a831c399e269772661",
                       "abc": "900150983cd24fb0d6963f7d28e17f72", "message digest": "f96b697d7cb7938d525a2f31aaf161d0",
                       "abcdefghijklmnopqrstuvwxyz": "c3fcd3d76192e4007dfb496cca67e13b",
                       String(repeating: "1234567890", count: 8): "57edf4a22be3c955ac49da2e2107b67a"]
        for (plain, hex) in vectors {
            XCTAssertEqual(MD5.digestHex(Array(plain.utf8)), hex, plain)
            XCTAssertEqual(Hex.encode(MD5.digest(Array(plain.utf8))), hex, plain)
        }
    }

    func testStreamingAndReset() {
        let bytes = Array(String(repeating: "1234567890", count: 8).utf8)
        let h = MD5()
        h.update(UnsafeRawBufferPointer(start: nil, count: 0))
        for chunk in stride(from: 0, to: bytes.count, by: 7) {
            bytes[chunk..<min(chunk + 7, bytes.count)].withUnsafeBytes { h.update($0) }
        }
        XCTAssertEqual(Hex.encode(h.finalize()), "57edf4a22be3c955ac49da2e2107b67a")
        let r = MD5()
        Array("junk".utf8).withUnsafeBytes { r.update($0) }
        r.reset()
        Array("abc".utf8).withUnsafeBytes { r.update($0) }
        XCTAssertEqual(Hex.encode(r.finalize()), "900150983cd24fb0d6963f7d28e17f72")
    }

    func testMultipartETag() {
        let parts = ["a", "b", "c"].map { MD5.digest(Array($0.utf8)) }
        // Python: hashlib.md5(b"".join(hashlib.md5(p).digest() for p in (b"a", b"b", b"c"))).hexdigest()
        XCTAssertEqual(MD5.multipartETag(partDigests: parts), "4054c6f7787ecb7b323323155b0c0583-3")
        // The same, composed here from the RFC 1321 digests written out.
        let concatenated = ["0cc175b9c0f1b6a831c399e269772661", "92eb5ffee6ae2fec3ad71c777531578f", "4a8a08f09d37b73795649038408b5f33"]
            .flatMap { hex -> [UInt8] in
                let chars = Array(hex.utf8)
                return stride(from: 0, to: chars.count, by: 2).map { UInt8(String(decoding: chars[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
            }
        XCTAssertEqual(concatenated, parts.flatMap { $0 })
        XCTAssertEqual(MD5.multipartETag(partDigests: parts), MD5.digestHex(concatenated) + "-3")
        XCTAssertEqual(MD5.multipartETag(partDigests: [MD5.digest([])]), MD5.digestHex(MD5.digest([])) + "-1",
                       "one part: the MD5 of its MD5, not the plain MD5")
        XCTAssertNotEqual(MD5.multipartETag(partDigests: [MD5.digest([])]), "d41d8cd98f00b204e9800998ecf8427e-1")
    }
}
