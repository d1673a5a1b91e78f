/// A gzip file that holds nothing: Bybit publishes some 44-byte `.csv.gz` files whose one
/// member decompresses to zero bytes. Their ETag matches, so they verify; they must still
/// not be stored as good data. Only small files can be empty (an empty member is 20 bytes
/// plus its header's name), so only those are inflated.
public enum EmptyGzip {
    /// Files larger than this are never taken for empty.
    public static let sizeLimit = 128

    /// True when `bytes` (at most `sizeLimit`) is one or more whole gzip members that all
    /// inflate to nothing. Anything else (data, a broken or cut stream, not gzip) is false:
    /// a damaged file is the hash's to catch, not this check's.
    public static func holdsNothing(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty, bytes.count <= sizeLimit else { return false }
        return Gzip.decompress(bytes, maxOutput: 0, header: .gzip, everyMember: true) != nil
    }

    /// `holdsNothing` for the file at `path`, read only when it is small enough.
    public static func fileHoldsNothing(_ path: String) -> Bool {
        guard let size = FileSystem.size(path), size > 0, size <= Int64(sizeLimit),
              let bytes = try? FileSystem.read(path) else { return false }
        return holdsNothing(bytes)
    }
}
