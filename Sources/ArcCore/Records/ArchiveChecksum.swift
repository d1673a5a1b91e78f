/// How an archive is verified: an archive record's `checksum` object. Sources verify
/// differently (Binance a SHA-256 sidecar, KuCoin an MD5 one, Bybit the MD5 its listing's
/// ETag is, OKX only a size), so the record says which, and arc-collect checks that:
///
///     {"kind": "sha256", "url": "https://.../X.zip.CHECKSUM"}   a sidecar holding a SHA-256
///     {"kind": "md5", "url": "https://.../X.zip.CHECKSUM"}      a sidecar holding an MD5
///     {"kind": "sha256" | "md5", "value": "<hex>"}               the hash itself
///     {"kind": "etag-md5", "value": "<32 hex>"}                  a single-part ETag (an MD5)
///     {"kind": "size"}                                           only the record's `size`
///     {"kind": "none"}
///
/// A record without `checksum` but with `checksum_url` means a SHA-256 sidecar there (the
/// contract before `checksum`, which Binance's records still carry beside it).
public struct ArchiveChecksum: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case sha256
        case md5
        case etagMD5 = "etag-md5"
        case size
        case none

        /// A hash is compared (sha256, md5, etag-md5): only these make a result `verified`.
        public var isHash: Bool { self == .sha256 || self == .md5 || self == .etagMD5 }
        /// MD5 is computed besides the SHA-256 every archive gets.
        public var usesMD5: Bool { self == .md5 || self == .etagMD5 }
        /// Hex digits in the hash, for the kinds that compare one.
        public var hexLength: Int? {
            switch self {
            case .sha256: return 64
            case .md5, .etagMD5: return 32
            case .size, .none: return nil
            }
        }
        /// The algorithm's name as people write it, for messages.
        public var algorithmName: String { self == .sha256 ? "SHA-256" : usesMD5 ? "MD5" : rawValue }
    }

    public var kind: Kind
    /// A sidecar file holding the hash (sha256, md5).
    public var url: String?
    /// The hash itself, lowercase hex (sha256, md5, etag-md5).
    public var value: String?

    public init(kind: Kind, url: String? = nil, value: String? = nil) {
        self.kind = kind
        self.url = url
        self.value = value
    }

    public static func sha256(url: String) -> ArchiveChecksum { ArchiveChecksum(kind: .sha256, url: url) }

    /// What a listing's ETag vouches for: its MD5 when single-part (32 hex digits), else
    /// (a multipart ETag, `HEX-N`, is no MD5 of the bytes) only the size.
    public static func fromETag(_ etag: String) -> ArchiveChecksum {
        let text = ETag.unquote(etag)
        return Hex.isHex(Substring(text), count: 32) ? ArchiveChecksum(kind: .etagMD5, value: text.lowercased())
                                                     : ArchiveChecksum(kind: .size)
    }

    /// The `checksum` object's members.
    public func encode(into b: inout RecordBuilder) {
        b.string("kind", kind.rawValue)
        b.optionalString("url", url)
        b.optionalString("value", value)
    }

    /// The record's `checksum` object, checked; nil when the record has none (absent or
    /// null). Throws `FieldError` naming `checksum.kind`, `checksum.url` or `checksum.value`
    /// for one that cannot be acted on: an unknown kind, a hash kind with neither url nor
    /// value, a value that is not the kind's hex digits (an ETag with a `-` is multipart
    /// and never an MD5).
    public static func read(from record: Record) throws -> ArchiveChecksum? {
        guard let f = record.field("checksum"), f.kind != .null else { return nil }
        guard f.kind == .object else { throw FieldError(field: "checksum", expected: "an object", kind: f.kind) }
        var raw = Array(record.raw(f))
        let object = try raw.withUnsafeMutableBufferPointer { try Record(line: UnsafeBufferPointer($0)) }
        func member(_ key: String) throws -> String? {
            do { return try object.string(key) } catch let e as FieldError {
                throw FieldError(field: "checksum." + key, expected: e.expected, kind: e.kind)
            }
        }
        guard let kindText = try member("kind") else {
            throw FieldError(field: "checksum.kind", expected: "one of " + kindList, kind: nil)
        }
        guard let kind = Kind(rawValue: kindText) else {
            throw FieldError(field: "checksum.kind", problem: "unknown checksum kind \"\(kindText)\"; expected one of \(kindList)")
        }
        var checksum = ArchiveChecksum(kind: kind, url: try member("url"), value: try member("value"))
        if let url = checksum.url, kind == .sha256 || kind == .md5 {
            guard url.isHTTPURL else {
                throw FieldError(field: "checksum.url", expected: "an http:// or https:// URL", kind: .string)
            }
        } else {
            checksum.url = nil // size, none and etag-md5 have no sidecar
        }
        guard let length = kind.hexLength else {
            checksum.value = nil
            return checksum
        }
        if let value = checksum.value {
            let text = kind == .etagMD5 ? ETag.unquote(value) : value
            guard Hex.isHex(Substring(text), count: length) else {
                let why = kind == .etagMD5 && text.contains("-")
                    ? "a multipart ETag (\"\(text)\") is not an MD5; a source writes kind size for it"
                    : "\"\(text)\" is not \(length) hex digits (\(kind.algorithmName))"
                throw FieldError(field: "checksum.value", problem: why)
            }
            checksum.value = text.lowercased()
        } else if kind == .etagMD5 || checksum.url == nil {
            throw FieldError(field: "checksum.value", problem: kind == .etagMD5
                ? "kind etag-md5 needs a value (the ETag)"
                : "kind \(kind.rawValue) needs a url (a sidecar file) or a value (the hash)")
        }
        return checksum
    }

    private static let kindList = Kind.allCases.map(\.rawValue).joined(separator: ", ")
}
