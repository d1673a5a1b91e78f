import Glibc
import XCTest
import ArcCore
import ArcTestSupport
@testable import ArcHTTPServer

/// Bearer tokens: the comparison (its answers; its timing is by construction), the header's
/// forms, the token file's rules, and a server that asks for one, over real sockets.
final class BearerTokenTests: XCTestCase {
    func testConstantTimeEqualityIsEquality() {
        let cases: [([UInt8], [UInt8])] = [
            ([], []), ([1], []), ([], [1]), ([1, 2, 3], [1, 2, 3]), ([1, 2, 3], [1, 2, 4]), ([0, 2, 3], [1, 2, 3]),
            ([1, 2], [1, 2, 3]), ([1, 2, 3], [1, 2]), ([1, 2, 1, 2], [1, 2]), ([1, 2], [1, 2, 1, 2]),
            (Array("secret".utf8), Array("secret".utf8)), (Array("secreT".utf8), Array("secret".utf8)),
        ]
        for (a, b) in cases {
            XCTAssertEqual(BearerToken.constantTimeEqual(a, b), a == b, "\(a) vs \(b)")
        }
        // Every single-bit change anywhere, and every prefix and extension, is told apart.
        let token = Array("0123456789abcdef-_.~+/=".utf8)
        for i in token.indices {
            for bit in 0..<8 {
                var changed = token
                changed[i] ^= 1 << bit
                XCTAssertFalse(BearerToken.constantTimeEqual(changed, token))
            }
            XCTAssertFalse(BearerToken.constantTimeEqual(Array(token[..<i]), token))
        }
        XCTAssertFalse(BearerToken.constantTimeEqual(token + token, token), "a repeat of the token is not the token")
        XCTAssertFalse(BearerToken.constantTimeEqual(token + [0], token))
    }

    func testTheHeaderNeedsTheBearerSchemeAndTheWholeToken() throws {
        let token = try XCTUnwrap(BearerToken("s3cr3t-t0ken"))
        XCTAssertTrue(token.admits("Bearer s3cr3t-t0ken"))
        XCTAssertTrue(token.admits("bearer s3cr3t-t0ken"), "the scheme is case-insensitive")
        XCTAssertTrue(token.admits("BEARER   s3cr3t-t0ken"))
        for wrong in [nil, "", "Bearer", "Bearer ", "s3cr3t-t0ken", "Basic s3cr3t-t0ken", "Bearers3cr3t-t0ken",
                      "Bearer s3cr3t-t0ke", "Bearer s3cr3t-t0kenX", "Bearer S3CR3T-T0KEN", "Token s3cr3t-t0ken"] {
            XCTAssertFalse(token.admits(wrong), wrong ?? "nil")
        }
        XCTAssertNil(BearerToken(""))
        XCTAssertNil(BearerToken("two words"))
        XCTAssertNil(BearerToken("line\nbreak"))
        XCTAssertFalse("\(token)".contains("s3cr3t"), "printing a token does not show it")
    }

    func testTheTokenFileIsTrimmedAndBadFilesAreUsageErrorsNamingThem() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.write("token", "  s3cr3t\n\n")
        chmod(path, 0o600)
        let loaded = try BearerToken.read(file: path)
        XCTAssertTrue(loaded.token.admits("Bearer s3cr3t"))
        XCTAssertNil(loaded.warning)

        chmod(path, 0o644)
        let open = try BearerToken.read(file: path)
        XCTAssertEqual(open.warning?.contains("mode 644"), true, open.warning ?? "")
        XCTAssertEqual(open.warning?.contains(path), true)
        XCTAssertEqual(open.warning?.contains("s3cr3t"), false)

        func refusal(_ content: String?, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
            let p = dir.file("bad")
            FileSystem.remove(p)
            if let content { dir.write("bad", content) }
            XCTAssertThrowsError(try BearerToken.read(file: p), file: file, line: line) { error in
                XCTAssertEqual((error as? ArcError)?.exitStatus, .usage, file: file, line: line)
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix("--token-file \(p): ") && text.contains(expected), text, file: file, line: line)
                XCTAssertFalse(text.contains("\n"), file: file, line: line)
                XCTAssertFalse(text.contains("s3cr3t"), "never the content", file: file, line: line)
            }
        }
        refusal(nil, "No such file")
        refusal(" \n\t\n", "is empty")
        refusal("s3cr3t one\n", "whitespace")
        refusal(String(repeating: "s3cr3t", count: 1000), "over 4096 bytes")
    }
}

/// A server with a token: requests without it never reach the handler.
final class AuthenticatedServerTests: XCTestCase {
    private var server: HTTPServer!
    private var thread: WorkerThread!
    private let seen = Locked([String]())

    override func setUpWithError() throws {
        server = try HTTPServer(host: "127.0.0.1", port: 0)
        server.token = BearerToken("s3cr3t")
        let (server, seen) = (server!, seen)
        thread = WorkerThread(name: "serve") {
            server.serve(drainSeconds: 2) { request in
                let authorization = request.header("authorization") ?? "none"
                seen.withLock { $0.append("\(request.path) authorization=\(authorization)") }
                return HTTPResponse(status: 200, contentType: "text/plain", body: request.body)
            }
        }
    }

    override func tearDown() {
        server.stop()
        thread.join()
    }

    func testOnlyRequestsWithTheTokenAreAnswered() throws {
        let url = "http://127.0.0.1:\(server.port)/anything"
        let missing = try SimpleHTTP.request(url, method: "POST", body: Array("x".utf8))
        XCTAssertEqual(missing.status, 401)
        XCTAssertEqual(missing.header("www-authenticate"), "Bearer")
        XCTAssertTrue(missing.text.contains("\"code\":16"), missing.text)
        let wrong = try SimpleHTTP.request(url, method: "POST", headers: ["Authorization: Bearer s3cr3T"], body: Array("x".utf8))
        XCTAssertEqual(wrong.status, 401)
        XCTAssertEqual(wrong.header("www-authenticate"), "Bearer error=\"invalid_token\"")
        XCTAssertFalse(wrong.text.contains("s3cr3"), "the answer does not echo what was sent")
        XCTAssertTrue(seen.current.isEmpty, "no handler saw them")

        let right = try SimpleHTTP.request(url, method: "POST", headers: ["Authorization: Bearer s3cr3t"], body: Array("x".utf8))
        XCTAssertEqual(right.status, 200)
        XCTAssertEqual(right.body, Array("x".utf8))
        XCTAssertEqual(seen.current, ["/anything authorization=none"], "the handler never sees the token")
    }

    func testLoopbackAddresses() {
        for host in ["127.0.0.1", "127.1.2.3", "::1", "localhost", "::ffff:127.0.0.1"] {
            XCTAssertTrue(HTTPServer.isLoopback(host), host)
        }
        for host in ["0.0.0.0", "::", "10.0.0.1", "192.168.1.1", "128.0.0.1", "::2", "::ffff:10.0.0.1", "example.com"] {
            XCTAssertFalse(HTTPServer.isLoopback(host), host)
        }
    }
}
