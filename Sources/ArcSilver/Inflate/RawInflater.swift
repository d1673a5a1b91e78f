import CZlib

/// zlib's inflate over raw deflate data (negative window bits: no zlib or gzip wrapper),
/// fed in place from a ZipInput's pending bytes. The zip and gzip readers both use it:
/// each parses its own headers and trailers, to say which part of the file is wrong, and
/// keeps its own counts and CRC-32 (a zip's stored entries have them too).
final class RawInflater {
    /// What one call did: the input bytes it consumed, the bytes it wrote, and how zlib
    /// stands. The counts are valid whatever the outcome.
    struct Step {
        var used: Int
        var made: Int
        var outcome: Outcome
    }

    enum Outcome {
        /// The deflate data ended (its last block was inflated).
        case ended
        /// More to come: zlib wants more input or more room.
        case going
        /// zlib refused the data (Z_DATA_ERROR), with its reason.
        case corrupt(reason: String)
        /// Any other zlib failure, with its code.
        case failed(code: Int32)
    }

    private let stream: UnsafeMutablePointer<z_stream>

    init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = arc_inflate_init2(stream, -15)
        precondition(rc == Z_OK, "inflateInit2 failed: \(rc)")
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Forgets the last stream, for the next zip entry or gzip member.
    func reset() { inflateReset(stream) }

    /// Inflates up to `limit` of `input`'s pending bytes into `out`, after the `filled`
    /// bytes already there, and consumes what zlib took.
    func inflate(from input: ZipInput, limit: Int = .max, into out: UnsafeMutableRawBufferPointer, after filled: Int) -> Step {
        let offered = min(input.available, limit, Int(UInt32.max))
        let room = min(out.count - filled, Int(UInt32.max))
        stream.pointee.next_in = (input.buffer.baseAddress! + input.position).assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = UInt32(offered)
        stream.pointee.next_out = (out.baseAddress! + filled).assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = UInt32(room)
        let rc = CZlib.inflate(stream, Z_NO_FLUSH)
        let step = Step(used: offered - Int(stream.pointee.avail_in), made: room - Int(stream.pointee.avail_out),
                        outcome: outcome(rc))
        input.consume(step.used)
        return step
    }

    private func outcome(_ rc: Int32) -> Outcome {
        switch rc {
        case Z_STREAM_END: return .ended
        case Z_OK, Z_BUF_ERROR: return .going
        case Z_DATA_ERROR: return .corrupt(reason: stream.pointee.msg.map { String(cString: $0) } ?? "invalid data")
        default: return .failed(code: rc)
        }
    }
}

/// The CRC-32 zip and gzip record (zlib's), continued over `count` bytes at `bytes`.
func crc32(continuing crc: UInt32, _ bytes: UnsafeRawPointer, count: Int) -> UInt32 {
    UInt32(crc32_z(UInt(crc), bytes.assumingMemoryBound(to: Bytef.self), count))
}
