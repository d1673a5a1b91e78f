import ArcCore

/// A `.CHECKSUM` sidecar: `<hex>  <file name>`, usually without a trailing newline; 64
/// hex digits for a SHA-256 (Binance, HTX), 32 for an MD5 (KuCoin). Only the first token
/// counts.
public enum ChecksumFile {
    public struct Invalid: ArcError {
        public let url: String
        public let excerpt: String
        public var algorithm = "SHA-256"
        public var code: FailureCode { .badChecksumFile }
        public var exitStatus: ExitStatus { .failures }
        public var description: String { "\(url): not a\(algorithm.hasPrefix("M") ? "n" : "") \(algorithm) checksum file: \"\(excerpt)\"" }
    }

    /// The expected hash of `kind` (sha256 or md5), lowercase.
    public static func parse(_ body: [UInt8], url: String, kind: ArchiveChecksum.Kind = .sha256) throws -> String {
        let text = String(decoding: body.prefix(512), as: UTF8.self)
        let token = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).first ?? ""
        guard Hex.isHex(token, count: kind.hexLength ?? 64) else {
            throw Invalid(url: url, excerpt: String(text.prefix(80)), algorithm: kind.algorithmName)
        }
        return token.lowercased()
    }
}
