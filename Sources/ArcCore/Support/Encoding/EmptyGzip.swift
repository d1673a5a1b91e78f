import CZlib

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
        var stream = z_stream()
        // 15 + 16: a 32 KiB window, a gzip wrapper only.
        guard arc_inflate_init2(&stream, 15 + 16) == Z_OK else { return false }
        defer { inflateEnd(&stream) }
        var input = bytes
        var output = [UInt8](repeating: 0, count: 64)
        return input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                while true {
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = uInt(outBuffer.count)
                    let rc = inflate(&stream, Z_NO_FLUSH)
                    if Int(stream.avail_out) != outBuffer.count { return false } // it holds something
                    if rc == Z_STREAM_END {
                        if stream.avail_in == 0 { return true }
                        guard inflateReset(&stream) == Z_OK else { return false } // another member follows
                        continue
                    }
                    // Cut short, or not gzip at all.
                    guard rc == Z_OK, stream.avail_in > 0 else { return false }
                }
            }
        }
    }

    /// `holdsNothing` for the file at `path`, read only when it is small enough.
    public static func fileHoldsNothing(_ path: String) -> Bool {
        guard let size = FileSystem.size(path), size > 0, size <= Int64(sizeLimit),
              let bytes = try? FileSystem.read(path) else { return false }
        return holdsNothing(bytes)
    }
}
