import CZlib

/// Whole gzip (or zlib) streams held in memory: a `Content-Encoding: gzip` body
/// (OpenTelemetry exporters compress when configured to) or a small `.gz` file.
public enum Gzip {
    public enum Header: Sendable {
        /// A gzip wrapper only.
        case gzip
        /// gzip or zlib, told apart by the header.
        case gzipOrZlib

        var windowBits: Int32 { self == .gzip ? 15 + 16 : 15 + 32 } // a 32 KiB window, and the wrapper
    }

    /// The inflated bytes; nil when the input is not such a stream, is cut short, or would
    /// inflate past `maxOutput` bytes (a small body must not become gigabytes in memory).
    /// `everyMember`: go on through the members that follow the first (a `.gz` file may be
    /// several joined); without it the first stream's end is the end (an HTTP body).
    public static func decompress(_ input: [UInt8], maxOutput: Int, header: Header = .gzipOrZlib,
                                  everyMember: Bool = false) -> [UInt8]? {
        var stream = z_stream()
        guard arc_inflate_init2(&stream, header.windowBits) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(64 * 1024, maxOutput + 1))
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
                if rc == Z_STREAM_END {
                    if !everyMember || stream.avail_in == 0 { return output }
                    guard inflateReset(&stream) == Z_OK else { return nil } // another member follows
                    continue
                }
                guard rc == Z_OK else { return nil }
                // No progress possible: the input ended before the stream did.
                if stream.avail_in == 0 && produced == 0 { return nil }
            }
        }
    }

    /// `input` as one gzip member at zlib's default level (what an OTLP exporter sends
    /// with `Content-Encoding: gzip`); nil only when zlib cannot start (out of memory).
    public static func compress(_ input: [UInt8]) -> [UInt8]? {
        var stream = z_stream()
        guard arc_deflate_init2(&stream, Z_DEFAULT_COMPRESSION, 15 + 16) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        // deflateBound is room for the whole stream: one deflate call finishes it.
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))))
        var input = input
        let rc = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard rc == Z_STREAM_END else { return nil }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }
}
