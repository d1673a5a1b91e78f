import XCTest
import ArcCore

/// A PostgreSQL for one test class: started in its class setUp (`start`), stopped in its
/// tearDown (`stop`). A server that did not start fails each test that asks for it, with
/// why (never a skip).
public final class TestPostgres: Sendable {
    private let server = Locked<PostgresServer?>(nil)
    private let failure = Locked<String?>(nil)

    public init() {}

    public func start() {
        do {
            let started = try PostgresServer()
            server.withLock { $0 = started }
        } catch {
            failure.withLock { $0 = "\(error)" }
        }
    }

    public func stop() { server.withLock { $0?.stop(); $0 = nil } }

    /// The server's URL, or the test fails with why it did not start.
    public func url(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard let url = server.current?.url else {
            XCTFail("PostgreSQL did not start: \(failure.current ?? "?")", file: file, line: line)
            throw UnavailableError("postgres", "not started")
        }
        return url
    }

    /// The URL with every table dropped (those of later migrations too).
    public func freshURL() throws -> String {
        let url = try url()
        try PostgresConnection(url: url).execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        return url
    }

    /// A state opened (and so migrated) on an emptied database.
    public func freshState() throws -> any StateBackend { try StateStore.openShared(try freshURL()) }
}
