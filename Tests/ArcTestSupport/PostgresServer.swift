import Glibc
import ArcCore

/// A real PostgreSQL for unit tests, started and stopped by scripts/arcservers.py (Debian's
/// server binaries, as an unprivileged user, on a free loopback port, in a temporary
/// directory) like the tool tests' `postgres` fixture. One per test class: initdb takes
/// about a second.
public final class PostgresServer: Sendable {
    /// `postgres://arc:PASSWORD@127.0.0.1:PORT/arc`.
    public let url: String
    public let port: Int
    private let directory: TempDir

    /// The repository, found from this file's place in it (Tests/ArcTestSupport/).
    static let repository: String = {
        var path = "\(#filePath)"
        for _ in 0..<3 { path = FileSystem.parent(of: path) }
        return path
    }()

    /// Starts a server; throws with arcservers.py's output when it does not come up.
    public init() throws {
        directory = TempDir("arc-pg-test")
        let output = try PostgresServer.arcservers(["start", directory.path])
        let prefix = "export ARC_POSTGRES_URL="
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else {
            directory.remove()
            throw UnavailableError("scripts/arcservers.py postgres start", "printed no URL: \(output)")
        }
        url = String(line.dropFirst(prefix.count))
        port = url.split(separator: ":").last.flatMap { Int($0.prefix(while: { $0.isNumber })) } ?? 0
    }

    /// The URL with another password (or user, database...) in place.
    public func url(user: String = "arc", password: String, database: String = "arc") -> String {
        "postgres://\(user):\(password)@127.0.0.1:\(port)/\(database)"
    }

    /// Kills the server and removes its directories.
    public func stop() {
        _ = try? PostgresServer.arcservers(["stop", directory.path])
        directory.remove()
    }

    private static func arcservers(_ arguments: [String]) throws -> String {
        let venvPython = repository + "/.venv/bin/python"
        let python = FileSystem.exists(venvPython) ? venvPython : (FileSystem.which("python3") ?? "/usr/bin/python3")
        let child = try Subprocess(executable: python, arguments: [python, repository + "/scripts/arcservers.py", "postgres"] + arguments,
                                   captureStdout: true)
        let bytes = try FileSystem.readToEnd(child.stdout!, path: "arcservers.py")
        close(child.stdout!)
        let text = String(decoding: bytes, as: UTF8.self)
        let status = child.wait()
        guard status == 0 else {
            throw UnavailableError("scripts/arcservers.py postgres \(arguments[0])", "exit status \(status): \(text)")
        }
        return text
    }
}
