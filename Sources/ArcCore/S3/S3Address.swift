/// An `s3://bucket/key` argument. The key may hold wildcards (`*`, `?`) for commands that
/// expand them; it is kept exactly as given otherwise (`//`, `.`, spaces and all).
public struct S3URL: Sendable, Equatable, CustomStringConvertible {
    public var bucket: String
    public var key: String

    public init(bucket: String, key: String) {
        self.bucket = bucket
        self.key = key
    }

    public static func isS3(_ text: String) -> Bool { text.hasPrefix("s3://") }

    public init(parsing text: String) throws {
        guard text.hasPrefix("s3://") else { throw UsageError("'\(text)': expected an s3://bucket[/key] URL") }
        let rest = text.dropFirst(5)
        let slash = rest.firstIndex(of: "/")
        bucket = String(rest[..<(slash ?? rest.endIndex)])
        key = slash.map { String(rest[rest.index(after: $0)...]) } ?? ""
        guard !bucket.isEmpty else { throw UsageError("'\(text)': the bucket name is missing") }
        guard !bucket.contains(where: { $0 == "*" || $0 == "?" }) else {
            throw UsageError("'\(text)': wildcards are not allowed in bucket names")
        }
    }

    public var description: String { "s3://\(bucket)/\(key)" }
    public func with(key: String) -> S3URL { S3URL(bucket: bucket, key: key) }

    /// True when the key holds a wildcard: the command works on every match.
    public var hasWildcard: Bool { key.contains { $0 == "*" || $0 == "?" } }

    /// The literal part before the first wildcard: what to list.
    public var listPrefix: String {
        guard let i = key.firstIndex(where: { $0 == "*" || $0 == "?" }) else { return key }
        return String(key[..<i])
    }

    /// The "directory" of the listing: keys are shown and copied relative to it
    /// (`s3://b/a/b*` lists `a/bx/y` as `bx/y`).
    public var baseDirectory: String {
        let prefix = listPrefix
        guard let slash = prefix.lastIndex(of: "/") else { return "" }
        return String(prefix[...slash])
    }

    public var isDirectoryLike: Bool { key.isEmpty || key.hasSuffix("/") }
}

public enum AddressingStyle: String, Sendable, CaseIterable {
    case auto, path, virtual
}

/// Where requests for a bucket go: an endpoint (scheme, host, port) and an addressing
/// style. Virtual-host style (`bucket.host`) on AWS; path style (`host/bucket`) for custom
/// endpoints, and for bucket names that cannot be a host name (dots break TLS wildcards).
public struct S3Endpoint: Sendable {
    public let scheme: String
    /// Host and port as in the URL.
    public let authority: String
    public let basePath: String
    public let style: AddressingStyle
    public let isAWS: Bool

    public init(url: String?, region: String, style: AddressingStyle = .auto) throws {
        let text = url ?? "https://s3.\(region).amazonaws.com"
        let lower = text.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw UsageError("endpoint '\(text)': expected an http:// or https:// URL")
        }
        scheme = lower.hasPrefix("https") ? "https" : "http"
        var rest = text.dropFirst(scheme.count + 3)
        if let slash = rest.firstIndex(of: "/") {
            var path = String(rest[slash...])
            while path.hasSuffix("/") { path.removeLast() }
            basePath = path
            rest = rest[..<slash]
        } else {
            basePath = ""
        }
        guard !rest.isEmpty, !rest.hasPrefix(":") else { throw UsageError("endpoint '\(text)': the host is missing") }
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            guard let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else {
                throw UsageError("endpoint '\(text)': bad port")
            }
        }
        // curl leaves the scheme's default port out of the Host header: sign what it sends.
        let defaultPort = scheme == "https" ? ":443" : ":80"
        authority = rest.hasSuffix(defaultPort) ? String(rest.dropLast(defaultPort.count)) : String(rest)
        guard !authority.isEmpty else { throw UsageError("endpoint '\(text)': the host is missing") }
        isAWS = url == nil || authority.hasSuffix(".amazonaws.com")
        self.style = style
    }

    func usesVirtualHost(_ bucket: String) -> Bool {
        switch style {
        case .path: return false
        case .virtual: return true
        case .auto:
            return isAWS && !bucket.contains(".") && bucket == bucket.lowercased()
        }
    }

    /// The URL (without query), the Host header and the canonical (encoded) path of a request.
    public func locate(bucket: String?, key: String?) -> (url: String, host: String, path: String) {
        let encodedKey = key.map { URLEncoding.path($0) } ?? ""
        guard let bucket else {
            let path = basePath + "/"
            return ("\(scheme)://\(authority)\(path)", authority, path)
        }
        if usesVirtualHost(bucket) {
            let host = "\(bucket).\(authority)"
            let path = basePath + "/" + encodedKey
            return ("\(scheme)://\(host)\(path)", host, path)
        }
        let path = basePath + "/" + URLEncoding.component(bucket) + (key == nil ? "" : "/" + encodedKey)
        return ("\(scheme)://\(authority)\(path)", authority, path)
    }
}
