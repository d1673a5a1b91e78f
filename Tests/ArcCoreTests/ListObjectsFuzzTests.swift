import XCTest
@testable import ArcCore
import ArcTestSupport

/// S3 listings fuzz-s3-listing (Fuzz/) found read wrongly.
final class ListObjectsFuzzTests: XCTestCase {
    /// An entity followed by a combining mark: as Characters ";\u{301}" is no ';', so the
    /// entity stayed undecoded and the key came out wrong (then 404 on its download).
    func testEntityBeforeACombiningMark() throws {
        XCTAssertEqual(XMLText.decode(Array("a&amp;\u{301}b&#20;\u{301}&lt;".utf8)), "a&\u{301}b\u{14}\u{301}<")
        XCTAssertEqual(XMLText.decode(Array("&bogus;&amp;&#xD800;&".utf8)), "&bogus;&&#xD800;&")
        for key in ["x&\u{301}", "data/fu\u{14}\u{301}tures/", "a'\u{301}\"<>&"] {
            let xml = "<ListBucketResult><Contents><Key>\(S3Call.escape(key))</Key><Size>1</Size></Contents>"
                + "<CommonPrefixes><Prefix>\(S3Call.escape(key))</Prefix></CommonPrefixes></ListBucketResult>"
            let page = try ListObjects.parse(Array(xml.utf8))
            XCTAssertEqual(page.objects.first?.key.unicodeScalars.map(\.value), key.unicodeScalars.map(\.value))
            XCTAssertEqual(page.commonPrefixes.first?.unicodeScalars.map(\.value), key.unicodeScalars.map(\.value))
        }
    }

    /// An ETag whose first character after the quote is a combining mark kept its quotes.
    func testETagQuotesAreBytes() {
        XCTAssertEqual(ETag.unquote("\"\u{301}abc\""), "\u{301}abc")
        XCTAssertEqual(ETag.unquote("W/\"\u{301}\""), "\u{301}")
        XCTAssertEqual(ETag.unquote("\"abc\""), "abc")
        XCTAssertEqual(ETag.unquote("W/\"abc\""), "abc")
        XCTAssertEqual(ETag.unquote("\""), "\"")
        XCTAssertEqual(ETag.unquote("abc"), "abc")
    }
}
