import CCrypto
import Glibc

/// AWS Signature Version 4 for S3: header authorization and presigned URLs.
/// The canonical request is built from exactly what goes on the wire: the path as encoded
/// by `S3Address`, the query sorted and encoded, the headers lower-cased and trimmed.
public struct SigV4: Sendable {
    public let credentials: S3Credentials
    public let region: String
    public let service: String

    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    public static let emptyPayload = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers to add to a request: x-amz-date, x-amz-content-sha256, the session token
    /// when there is one, and Authorization. `headers` are the other headers sent (Host first
    /// of all), all of which are signed.
    public func sign(method: String, host: String, path: String, query: [(String, String)],
                     headers: [(String, String)], payloadHash: String, time: Int = Int(Glibc.time(nil))) -> [(String, String)] {
        let (amzDate, day) = Self.timestamps(time)
        var signed = headers.map { ($0.0.lowercased(), Self.trim($0.1)) }
        signed.append(("host", host))
        signed.append(("x-amz-date", amzDate))
        signed.append(("x-amz-content-sha256", payloadHash))
        if let token = credentials.sessionToken { signed.append(("x-amz-security-token", token)) }
        signed.sort { $0.0 < $1.0 }
        let names = signed.map { $0.0 }.joined(separator: ";")
        let canonical = [method, path, Self.canonicalQuery(query),
                         signed.map { "\($0.0):\($0.1)\n" }.joined(), names, payloadHash].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let toSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(SHA256.hex(Array(canonical.utf8)))"
        let signature = Hex.encode(Self.hmac(signingKey(day: day), Array(toSign.utf8)))
        var out: [(String, String)] = [("x-amz-date", amzDate), ("x-amz-content-sha256", payloadHash)]
        if let token = credentials.sessionToken { out.append(("x-amz-security-token", token)) }
        out.append(("Authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(names), Signature=\(signature)"))
        return out
    }

    /// A presigned URL's query: the request is authorized by the URL alone, until `expires`
    /// seconds after `time` (S3 allows at most 7 days).
    public func presignedQuery(method: String, host: String, path: String, query: [(String, String)],
                               expires: Int, time: Int = Int(Glibc.time(nil))) -> String {
        let (amzDate, day) = Self.timestamps(time)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        var q = query
        q.append(("X-Amz-Algorithm", "AWS4-HMAC-SHA256"))
        q.append(("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"))
        q.append(("X-Amz-Date", amzDate))
        q.append(("X-Amz-Expires", String(expires)))
        if let token = credentials.sessionToken { q.append(("X-Amz-Security-Token", token)) }
        q.append(("X-Amz-SignedHeaders", "host"))
        let canonical = [method, path, Self.canonicalQuery(q), "host:\(host)\n", "host", Self.unsignedPayload]
            .joined(separator: "\n")
        let toSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(SHA256.hex(Array(canonical.utf8)))"
        let signature = Hex.encode(Self.hmac(signingKey(day: day), Array(toSign.utf8)))
        return Self.canonicalQuery(q) + "&X-Amz-Signature=" + signature
    }

    func signingKey(day: String) -> [UInt8] {
        let kDate = Self.hmac(Array("AWS4\(credentials.secretAccessKey)".utf8), Array(day.utf8))
        let kRegion = Self.hmac(kDate, Array(region.utf8))
        let kService = Self.hmac(kRegion, Array(service.utf8))
        return Self.hmac(kService, Array("aws4_request".utf8))
    }

    /// Query parameters encoded (RFC 3986) and sorted by name, then value.
    public static func canonicalQuery(_ query: [(String, String)]) -> String {
        query.map { (URLEncoding.component($0.0), URLEncoding.component($0.1)) }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    static func hmac(_ key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = arc_HMAC(arc_EVP_sha256(), key, Int32(key.count), data, data.count, &out, &length)
        return out
    }

    /// `20240102T030405Z` and `20240102` for a Unix time.
    static func timestamps(_ time: Int) -> (String, String) {
        var t = time_t(time)
        var parts = tm()
        gmtime_r(&t, &parts)
        let day = zeroPadded(parts.tm_year + 1900, 4) + zeroPadded(parts.tm_mon + 1, 2) + zeroPadded(parts.tm_mday, 2)
        return (day + "T" + zeroPadded(parts.tm_hour, 2) + zeroPadded(parts.tm_min, 2) + zeroPadded(parts.tm_sec, 2) + "Z", day)
    }

    /// Header values are signed trimmed, with inner runs of spaces made one.
    static func trim(_ value: String) -> String {
        var out = ""
        var space = false
        for c in value {
            if c == " " || c == "\t" { space = !out.isEmpty; continue }
            if space { out.append(" ") }
            space = false
            out.append(c)
        }
        return out
    }
}
