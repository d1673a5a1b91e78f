import XCTest
@testable import ArcCore

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
                         etag: "9d2b1e7a4f0c3c51c7f5a2f4b9a1c0de", lastModified: "2024-01-02T09:31:01.000Z"),
            ListedObject(key: "data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip.CHECKSUM", size: 105,
                         etag: "aa", lastModified: "2024-01-02T09:31:02.000Z"),
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
        XCTAssertEqual(e?.code, "bad_listing")
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
        XCTAssertEqual(ListObjects.unquote("\"abc\""), "abc")
        XCTAssertEqual(ListObjects.unquote("W/\"abc\""), "abc")
        XCTAssertEqual(ListObjects.unquote("abc"), "abc")
        XCTAssertEqual(ListObjects.unquote("\""), "\"")
        XCTAssertEqual(ListObjects.unquote("\"abc-3\""), "abc-3")
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
