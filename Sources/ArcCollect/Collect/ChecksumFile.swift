import ArcCore

/// A `.CHECKSUM` file: `<64 hex>  <file name>`, usually without a trailing newline.
/// Only the first token counts.
public enum ChecksumFile {
    public struct Invalid: ArcError {
        public let url: String
        public let excerpt: String
        public var code: FailureCode { .badChecksumFile }
        public var exitStatus: ExitStatus { .failures }
        public var description: String { "\(url): not a SHA-256 checksum file: \"\(excerpt)\"" }
    }

    /// The expected SHA-256, lowercase.
    public static func parse(_ body: [UInt8], url: String) throws -> String {
        let text = String(decoding: body.prefix(512), as: UTF8.self)
        let token = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).first ?? ""
        guard Hex.isHex(token, count: 64) else {
            throw Invalid(url: url, excerpt: String(text.prefix(80)))
        }
        return token.lowercased()
    }
}
