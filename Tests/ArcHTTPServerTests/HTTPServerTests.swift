import Glibc
import XCTest
import ArcCore
import ArcTestSupport
@testable import ArcHTTPServer

/// The server `telem-trace serve` runs on, driven over real loopback sockets: by the
/// project's own client (SimpleHTTP) for well-formed requests, by raw bytes for the rest.
final class HTTPServerTests: XCTestCase {
    private var server: HTTPServer!
    private var thread: WorkerThread!
    private let seen = Locked([String]())

    override func setUpWithError() throws {
        server = try HTTPServer(host: "127.0.0.1", port: 0)
        server.maxBody = 1 << 16
        let (server, seen) = (server!, seen)
        thread = WorkerThread(name: "serve") {
            server.serve(drainSeconds: 2) { request in
                seen.withLock { $0.append("\(request.method) \(request.path) \(request.body.count)") }
                if request.path == "/echo" { return HTTPResponse(status: 200, contentType: "text/plain", body: request.body) }
                return .error(404, "no such path")
            }
        }
    }

    override func tearDown() {
        server.stop()
        thread.join()
    }

    private var base: String { "http://127.0.0.1:\(server.port)" }

    /// Sends raw bytes on a new connection and returns everything the server answered
    /// until it closed the connection (or a second passed).
    private func raw(_ request: [UInt8]) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = server.port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(connected, 0)
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        try FileSystem.writeAll(fd, request, path: "socket")
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            answer += chunk[0..<n]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    func testRequestsOnOneConnectionGetTheirOwnAnswers() throws {
        let body = Array("hello".utf8)
        let r = try SimpleHTTP.request(base + "/echo", method: "POST", headers: ["Content-Type: text/plain"], body: body)
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body, body)
        XCTAssertEqual(r.header("content-length"), "5")
        XCTAssertEqual(try SimpleHTTP.request(base + "/other?x=1").status, 404)
        XCTAssertEqual(seen.current, ["POST /echo 5", "GET /other 0"], "the query is not part of the path")
    }

    func testKeepAliveServesSeveralRequestsThenCloseEndsTheConnection() throws {
        let two = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab"
            + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\ncde"
        let answer = try raw(Array(two.utf8))
        XCTAssertEqual(answer.components(separatedBy: "HTTP/1.1 200").count - 1, 2, answer)
        XCTAssertTrue(answer.hasSuffix("cde"), answer)
    }

    func testChunkedBodiesAreJoined() throws {
        let request = "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\n\r\n"
        let answer = try raw(Array(request.utf8))
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200"), answer)
        XCTAssertTrue(answer.hasSuffix("abcdefg"), answer)
    }

    func testWhatIsNotHTTPGetsAnErrorAndTheConnectionCloses() throws {
        XCTAssertTrue(try raw(Array("HELLO\r\n\r\n".utf8)).hasPrefix("HTTP/1.1 400"))
        XCTAssertTrue(try raw(Array("GET / HTTP/1.1\r\nno colon here\r\n\r\n".utf8)).hasPrefix("HTTP/1.1 400"))
        let bigHead = "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 70_000) + "\r\n\r\n"
        let tooLong = try raw(Array(bigHead.utf8))
        XCTAssertTrue(tooLong.hasPrefix("HTTP/1.1 431"), tooLong)
    }

    func testBodiesOverTheLimitAreRefusedUnread() throws {
        let declared = "POST /echo HTTP/1.1\r\nContent-Length: 100000\r\n\r\n"
        let refused = try raw(Array(declared.utf8))
        XCTAssertTrue(refused.hasPrefix("HTTP/1.1 413"), refused)
        XCTAssertTrue(seen.current.isEmpty, "no handler saw it")
    }

    func testChunkSizesThatWouldOverflowACountAreOverTheLimit() throws {
        let huge = "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n7fffffffffffffff\r\n"
        let refused = try raw(Array(huge.utf8))
        XCTAssertTrue(refused.hasPrefix("HTTP/1.1 413"), refused)
        XCTAssertTrue(seen.current.isEmpty, "no handler saw it")
    }

    func testStopEndsServeAndRefusesNewConnections() throws {
        XCTAssertEqual(try SimpleHTTP.request(base + "/echo").status, 200)
        server.stop()
        thread.join()
        XCTAssertThrowsError(try SimpleHTTP.request(base + "/echo", timeout: 1, connectTimeout: 1))
    }
}
