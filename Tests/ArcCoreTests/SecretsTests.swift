import ArcCore
import XCTest

final class SecretsTests: XCTestCase {
    func testAURLsPasswordIsMaskedAndTheRestKept() {
        XCTAssertEqual(Secrets.redact("push to http://user:PASSWORD@host:9091/metrics failed"),
                       "push to http://user:***@host:9091/metrics failed")
        XCTAssertEqual(Secrets.redact("http://user@host/ and https://host/a@b"), "http://user@host/ and https://host/a@b",
                       "a user without a password, an @ in the path: nothing to hide")
        XCTAssertEqual(Secrets.redact("a=http://u:p%40ss@h/ b=https://v:w@k"), "a=http://u:***@h/ b=https://v:***@k")
        XCTAssertEqual(Secrets.redact("x://y://u:p@h/"), "x://y://u:***@h/", "a URL right after a scheme (found by fuzz-secrets)")
    }

    func testCredentialParametersAreMaskedWhateverTheirCase() {
        let url = "https://b.s3.amazonaws.com/k.zip?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F2026&"
            + "X-Amz-Signature=abcdef0123&x-amz-security-token=TOKEN&prefix=data/"
        XCTAssertEqual(Secrets.redact("retrying \(url) (503)"),
                       "retrying https://b.s3.amazonaws.com/k.zip?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=***&"
                       + "X-Amz-Signature=***&x-amz-security-token=***&prefix=data/ (503)")
        XCTAssertEqual(Secrets.redact("https://h/x?Signature=s1&AWSAccessKeyId=a1&token=t1#frag"),
                       "https://h/x?Signature=***&AWSAccessKeyId=***&token=***#frag")
        XCTAssertEqual(Secrets.redact("https://h/x?list-type=2&continuation-token-x=1&keys=3"),
                       "https://h/x?list-type=2&continuation-token-x=1&keys=3", "other names are left alone")
    }

    func testAuthorizationValuesAreMaskedKeepingTheScheme() {
        XCTAssertEqual(Secrets.redact("sent Authorization: Bearer abc.def.ghi\nnext"), "sent Authorization: Bearer ***\nnext")
        XCTAssertEqual(Secrets.redact("OTEL_EXPORTER_OTLP_HEADERS=authorization=Basic%20dXNlcjpwYXNz,x-tenant=acme"),
                       "OTEL_EXPORTER_OTLP_HEADERS=authorization=***,x-tenant=acme")
        XCTAssertEqual(Secrets.redact(#"{"authorization":"Bearer xyz"}"#), #"{"authorization":"Bearer ***"}"#)
    }

    func testRegisteredSecretsAreMaskedAnywhere() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz\(getpid())"
        XCTAssertEqual(Secrets.redact("key \(secret) leaked"), "key \(secret) leaked")
        _ = S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: secret)
        XCTAssertEqual(Secrets.redact("key \(secret) leaked, twice: \(secret)"), "key *** leaked, twice: ***")
        Secrets.register("short")
        XCTAssertEqual(Secrets.redact("a short word"), "a short word", "values under 8 bytes are not registered")
    }

    func testTextWithoutSecretsIsReturnedAsItIs() {
        for text in ["", "planned 12 tasks", "2026-01-02T03:04:05Z done", "s3://bucket/key?x", "ünïcødé = 1"] {
            XCTAssertEqual(Secrets.redact(text), text)
        }
        XCTAssertEqual(Secrets.redact(Secrets.redact("http://u:p@h/?sig=1")), "http://u:***@h/?sig=***", "idempotent")
    }
}
