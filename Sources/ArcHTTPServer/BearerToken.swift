import Glibc
import ArcCore

/// The secret a server asks every request for, as `Authorization: Bearer <token>`
/// (RFC 6750), the way the OpenTelemetry collector's bearertokenauth extension does.
/// The token is compared in constant time and never printed: `description` hides it.
public struct BearerToken: Sendable, CustomStringConvertible {
    private let secret: [UInt8]
    /// The longest token file read; a longer one is a mistake (a key pair, a log), not a token.
    static let maxFileBytes = 4096

    /// nil when `token` is empty or holds whitespace or control characters, which no
    /// client could send in a header.
    public init?(_ token: String) {
        let bytes = Array(token.utf8)
        guard !bytes.isEmpty, !bytes.contains(where: { $0 <= 0x20 || $0 == 0x7f }) else { return nil }
        secret = bytes
        Secrets.register(token)  // masked should anything ever write it
    }

    public var description: String { "BearerToken(\(secret.count) bytes)" }

    /// Whether an `Authorization` header value carries this token: the scheme `Bearer`
    /// (any case), one or more spaces, then the token.
    public func admits(_ authorization: String?) -> Bool {
        guard let value = authorization else { return false }
        let bytes = Array(value.utf8)
        let scheme = Array("bearer".utf8)
        guard bytes.count > scheme.count,
              zip(bytes, scheme).allSatisfy({ $0 | 0x20 == $1 }),
              bytes[scheme.count] == 0x20 else { return false }
        let credentials = bytes[scheme.count...].drop { $0 == 0x20 }
        return Self.constantTimeEqual(Array(credentials), secret)
    }

    /// Equality whose time depends on the lengths only, never on where the bytes first
    /// differ: every byte of `expected` is looked at whatever `given` holds, so a client
    /// cannot find the token a byte at a time by timing its guesses.
    static func constantTimeEqual(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference: UInt8 = given.count == expected.count ? 0 : 1
        let n = given.count
        for i in 0..<expected.count {
            // A shorter `given` is read round and round (and has already made the
            // difference non-zero), so no branch depends on the bytes.
            difference |= expected[i] ^ (n == 0 ? 0 : given[i % n])
        }
        return difference == 0
    }

    /// What `read(file:)` found: the token, and a warning when others may read the file.
    public struct Loaded: Sendable {
        public let token: BearerToken
        /// Set when the file's mode lets group or others at it (ssh refuses such keys;
        /// here it is a warning, as a Kubernetes secret volume is 0644 unless told otherwise).
        public let warning: String?
    }

    /// The token in `path`: the file's content, surrounding whitespace trimmed. An
    /// unreadable, empty or oversized file, or one whose token has inner whitespace, is a
    /// usage error naming the file (never its content).
    public static func read(file path: String) throws -> Loaded {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw UsageError("--token-file \(path): cannot read: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        var warning: String?
        if fstat(fd, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFDIR { throw UsageError("--token-file \(path): is a directory") }
            if info.st_mode & S_IFMT == S_IFREG && info.st_mode & 0o077 != 0 {
                warning = "--token-file \(path): mode \(String(info.st_mode & 0o777, radix: 8)) lets group or others read "
                    + "or change the token; chmod 600 \(path)"
            }
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while bytes.count <= maxFileBytes {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 { bytes += chunk[0..<n]; continue }
            if n == 0 { break }
            if errno == EINTR { continue }
            throw UsageError("--token-file \(path): cannot read: \(String(cString: strerror(errno)))")
        }
        guard bytes.count <= maxFileBytes else { throw UsageError("--token-file \(path): over \(maxFileBytes) bytes, not a token") }
        let text = String(decoding: bytes, as: UTF8.self).trimmed()
        guard !text.isEmpty else { throw UsageError("--token-file \(path): is empty") }
        guard let token = BearerToken(text) else {
            throw UsageError("--token-file \(path): the token holds whitespace or control characters, which a header cannot carry")
        }
        return Loaded(token: token, warning: warning)
    }
}
