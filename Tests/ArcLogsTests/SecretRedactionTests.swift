import XCTest
@testable import ArcLogs
@testable import ArcCore

/// The values of secret-bearing keys, URL passwords and query credentials: masked whole,
/// in text and in JSON, and nothing after them.
final class SecretRedactionTests: XCTestCase {
    private let r = try! Redactor()
    private func red(_ s: String) -> String { r.redact(s) }

    private func redLine(_ line: String) -> String {
        let e = LogEntry()
        e.load(line)
        XCTAssertTrue(e.isJSON, line)
        guard let out = r.redactLine(e) else { return line }
        let text = String(decoding: out, as: UTF8.self)
        XCTAssertNoThrow(try Record(parsing: text), "still JSON: \(text)")
        return text
    }

    func testQuotedValuesAreMaskedWhole() {
        XCTAssertEqual(red("login password='two words' ok"), "login password='[secret]' ok")
        XCTAssertEqual(red(#"api_key: "abc def" next"#), #"api_key: "[secret]" next"#)
        XCTAssertEqual(red(#"cfg {"password": "value with spaces", "user": "bob"}"#),
                       #"cfg {"password": "[secret]", "user": "bob"}"#)
        XCTAssertEqual(red(#"secret="a \"quoted\" b" x=1"#), #"secret="[secret]" x=1"#)
        XCTAssertEqual(red("password='never closed"), "password='[secret]")
    }

    func testBareValuesKeyFormsAndCase() {
        XCTAssertEqual(red("PASSWORD=hunter2 Api-Key=k1 apiKey=k2 SESSION_ID=s1 sessionId=s2 db.passwd=p"),
                       "PASSWORD=[secret] Api-Key=[secret] apiKey=[secret] SESSION_ID=[secret] sessionId=[secret] db.passwd=[secret]")
        XCTAssertEqual(red("token=abc access_token: xyz client_secret=c private-key=pk auth=a1 credentials=cr"),
                       "token=[secret] access_token: [secret] client_secret=[secret] private-key=[secret] auth=[secret] credentials=[secret]")
        XCTAssertEqual(red("pwd=12345; next"), "pwd=[secret]; next")
        XCTAssertEqual(red("credentials={\"user\": \"a\", \"pass\": \"b\"} done"), "credentials=[secret] done")
        XCTAssertEqual(red(#"secrets=[{"a": "}]"}, 2] done"#), "secrets=[secret] done")
        XCTAssertEqual(red("private_key={never closed\nnext line"), "private_key=[secret]\nnext line")
        XCTAssertEqual(red("Cookie: sid=abc; theme=dark"), "Cookie: [token]")
    }

    func testOrdinaryFieldsAreKept() {
        for text in ["tokens_used=1234 token_count=12 max_tokens=4096 session_count=3 token_type=bearer",
                     "secretary=alice keyboard=us key=data/x.zip cache_key=k", "std::vector a==b",
                     "password= ", "password=null", #"{"password": ""}"#] {
            XCTAssertEqual(red(text), text)
        }
    }

    func testURLPasswordsAndQueryCredentials() {
        XCTAssertEqual(red("GET https://bob:hunter2@example.com/x"), "GET https://bob:[secret]@example.com/x")
        XCTAssertEqual(red("redis://:p%40ss@cache:6379/0"), "redis://:[secret]@cache:6379/0")
        XCTAssertEqual(red("ftp://anon@mirror/ and https://example.com:443/a:b@c"),
                       "ftp://anon@mirror/ and https://example.com:443/a:b@c", "no password, or an @ past the host")
        XCTAssertEqual(red("https://h/cb?token=abc&next=/home#frag"), "https://h/cb?token=[secret]&next=/home#frag")
        XCTAssertEqual(
            red("https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20260101%2Fus-east-1"
                + "&X-Amz-Security-Token=FwoG&X-Amz-Signature=abc123&x-id=GetObject"),
            "https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=[secret]"
                + "&X-Amz-Security-Token=[secret]&X-Amz-Signature=[secret]&x-id=GetObject")
        XCTAssertEqual(red("http://h/o?AWSAccessKeyId=AK&Signature=s%2B&Expires=1&key=AIza9&sig=zz&page=2"),
                       "http://h/o?AWSAccessKeyId=[secret]&Signature=[secret]&Expires=1&key=[secret]&sig=[secret]&page=2")
        XCTAssertEqual(red("http://h/o?access_token=a&password=p&secret=s"),
                       "http://h/o?access_token=[secret]&password=[secret]&secret=[secret]")
    }

    func testJSONSecretValuesOfEveryType() {
        XCTAssertEqual(redLine(#"{"password":12345,"n":12345}"#), #"{"password":"[secret]","n":12345}"#)
        XCTAssertEqual(redLine(#"{"api_key":"abc def","token":-1.5e3,"session_id":"s"}"#),
                       #"{"api_key":"[secret]","token":"[secret]","session_id":"[secret]"}"#)
        XCTAssertEqual(redLine(#"{"password":null,"auth":true,"secret":"","x":1}"#),
                       #"{"password":null,"auth":true,"secret":"","x":1}"#)
        XCTAssertEqual(redLine(#"{"Authorization":7,"Cookie":"a=1; b=2"}"#), #"{"Authorization":"[token]","Cookie":"[token]"}"#)
        XCTAssertEqual(redLine(#"{"credentials":{"user":"bob","id":7,"on":false,"list":["a",1]},"after":"x"}"#),
                       #"{"credentials":{"user":"[secret]","id":"[secret]","on":false,"list":["[secret]","[secret]"]},"after":"x"}"#)
    }

    func testJSONStateEndsWithTheValue() {
        XCTAssertEqual(redLine(#"{"list":[{"password":"p"},"harmless",7,{"ok":"fine"}],"next":"kept"}"#),
                       #"{"list":[{"password":"[secret]"},"harmless",7,{"ok":"fine"}],"next":"kept"}"#)
        XCTAssertEqual(redLine(#"{"tokens":["t1"],"a":{"token":"x","b":"y"},"c":"z"}"#),
                       #"{"tokens":["t1"],"a":{"token":"[secret]","b":"y"},"c":"z"}"#)
        XCTAssertEqual(redLine(#"{"tokens_used":1234,"token_count":12}"#), #"{"tokens_used":1234,"token_count":12}"#)
    }

    func testJSONCardNumbersAndTextInside() {
        XCTAssertEqual(redLine(#"{"pan":4111111111111111,"epoch":1732536000123,"order":4111111111111112}"#),
                       #"{"pan":"[card]","epoch":1732536000123,"order":4111111111111112}"#)
        XCTAssertEqual(redLine(#"{"msg":"login password='two words' from https://u:pw@h.io/?sig=s&x=1"}"#),
                       #"{"msg":"login password='[secret]' from https://u:[secret]@h.io/?sig=[secret]&x=1"}"#)
        XCTAssertEqual(redLine(#"{"msg":"cfg {\"api_key\": \"a b\"} ok"}"#), #"{"msg":"cfg {\"api_key\": \"[secret]\"} ok"}"#)
        XCTAssertEqual(redLine(#"{"pass\u0077ord":"x"}"#), #"{"pass\u0077ord":"[secret]"}"#)
    }

    func testKeyWords() {
        XCTAssertEqual(SecretKeys.words(Array("AWSAccessKeyId".utf8)).map { String(decoding: $0, as: UTF8.self) },
                       ["aws", "access", "key", "id"])
        XCTAssertEqual(SecretKeys.words(Array("X-Amz-Security-Token".utf8)).map { String(decoding: $0, as: UTF8.self) },
                       ["x", "amz", "security", "token"])
        for (key, context) in [("csrftoken", Redactor.KeyContext.secret), ("jsessionid", .secret), ("xapikey", .secret), ("set-cookie", .authorization),
                               ("proxy_authorization", .authorization), ("aws_secret_access_key", .secret),
                               ("token_count", .none), ("secret_name", .secret), ("key", .none)] {
            XCTAssertEqual(Redactor.KeyContext(key: key), context, key)
        }
        XCTAssertEqual(SecretKeys.classify(Array("key".utf8), inQuery: true), .secret)
    }
}
