/// An HTTP entity tag as records carry it: listings and headers quote it (`"HEX"`, or
/// `W/"…"` when weak); comparisons and checksums want the text inside.
public enum ETag {
    /// The tag without `W/` and its quotes. On bytes: as Characters, a quote followed by a
    /// combining mark is no quote.
    public static func unquote(_ etag: String) -> String {
        let b = Array(etag.utf8)
        var start = b.starts(with: Array("W/".utf8)) ? 2 : 0, end = b.count
        if end - start >= 2 && b[start] == UInt8(ascii: "\"") && b[end - 1] == UInt8(ascii: "\"") { start += 1; end -= 1 }
        return String(decoding: b[start..<end], as: UTF8.self)
    }
}
