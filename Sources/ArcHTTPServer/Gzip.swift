import ArcCore
import CZlib

/// `Content-Encoding: gzip` bodies (OpenTelemetry exporters compress when configured to).
public enum Gzip {
    /// Inflates a gzip (or zlib) stream; nil when it is not one, is cut short, or would
    /// inflate past `maxOutput` bytes (a small body must not become gigabytes in memory).
    public static func decompress(_ input: [UInt8], maxOutput: Int) -> [UInt8]? {
        var stream = z_stream()
        // 15 + 32: a 32 KiB window, gzip or zlib header detected automatically.
        guard arc_inflate_init2(&stream, 15 + 32) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        return input.withUnsafeMutableBufferPointer { inBuffer -> [UInt8]? in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = uInt(inBuffer.count)
            while true {
                let rc = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                guard output.count + produced <= maxOutput else { return nil }
                output.append(contentsOf: chunk[..<produced])
                if rc == Z_STREAM_END { return output }
                guard rc == Z_OK else { return nil }
                // No progress possible: the input ended before the stream did.
                if stream.avail_in == 0 && produced == 0 { return nil }
            }
        }
    }
}
