import CZlib
import CZstd

/// Compresses one page body at a time into a buffer it keeps (the codec's state and the
/// output are reused from page to page: a zstd context costs more to create than a 1 MB
/// page takes to compress at level 1).
final class PageCompressor {
    let compression: ParquetCompression
    let level: Int32
    /// The last page's compressed bytes.
    let output = ByteBuffer(capacity: 1 << 20)
    private var zstd: OpaquePointer?
    private var zlib = z_stream()
    private var zlibReady = false

    init(_ compression: ParquetCompression, level: Int?) throws {
        self.compression = compression
        switch compression {
        case .zstd:
            self.level = Int32(level ?? ParquetOptions.defaultZstdLevel)
            zstd = ZSTD_createCCtx()
            guard zstd != nil else { throw ParquetError(.compression, "zstd: cannot create a compression context") }
        case .gzip:
            self.level = Int32(level ?? 6)
            let rc = arc_deflate_init2(&zlib, self.level, 31)
            guard rc == Z_OK else { throw ParquetError(.compression, "zlib: deflateInit2 failed (\(rc))") }
            zlibReady = true
        case .snappy, .none:
            self.level = 0
        }
    }

    deinit {
        if let zstd { ZSTD_freeCCtx(zstd) }
        if zlibReady { deflateEnd(&zlib) }
    }

    var codec: ParquetFormat.Codec {
        switch compression {
        case .zstd: return .zstd
        case .gzip: return .gzip
        case .snappy: return .snappy
        case .none: return .uncompressed
        }
    }

    /// Compresses `input` into `output` (replacing what was there) and returns it; with no
    /// codec the input itself comes back.
    func compress(_ input: UnsafeRawBufferPointer, column: String) throws -> UnsafeRawBufferPointer {
        switch compression {
        case .none:
            return input
        case .snappy:
            output.removeAll(keepingCapacity: 8 << 20)
            SnappyEncoder.encode(input, into: output)
        case .zstd:
            let bound = ZSTD_compressBound(input.count)
            output.removeAll(keepingCapacity: 8 << 20)
            output.reserve(bound)
            let n = ZSTD_compressCCtx(zstd, output.base, output.capacity, input.baseAddress, input.count, level)
            if ZSTD_isError(n) != 0 {
                throw ParquetError(.compression, column: column, "zstd: " + String(cString: ZSTD_getErrorName(n)))
            }
            output.count = n
        case .gzip:
            output.removeAll(keepingCapacity: 8 << 20)
            let bound = Int(deflateBound(&zlib, uLong(input.count)))
            output.reserve(bound)
            zlib.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            zlib.avail_in = uInt(input.count)
            zlib.next_out = output.base.assumingMemoryBound(to: Bytef.self)
            zlib.avail_out = uInt(output.capacity)
            let rc = deflate(&zlib, Z_FINISH)
            guard rc == Z_STREAM_END else {
                deflateReset(&zlib)
                throw ParquetError(.compression, column: column, "zlib: deflate failed (\(rc))")
            }
            output.count = Int(zlib.total_out)
            deflateReset(&zlib)
        }
        return output.bytes
    }
}
