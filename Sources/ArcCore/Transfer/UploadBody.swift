import Glibc

/// Where a request's body comes from. The engine calls `rewind` before each attempt and
/// `read` as libcurl asks for bytes, on its own thread. The length is known up front:
/// S3 wants Content-Length on every PUT and part. Handed over with its transfer, as a
/// `TransferSink` is: one thread at a time touches it.
public protocol UploadBody: AnyObject, Sendable {
    var length: Int64 { get }
    /// Back to byte 0, for a retried attempt (hashes kept while reading start over too).
    func rewind() throws
    /// Fills `buffer` with the next bytes; 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A body held in memory: XML documents, parts cut from a stream.
public final class MemoryBody: UploadBody, @unchecked Sendable { // handed over, see UploadBody
    public let bytes: [UInt8]
    private var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public convenience init(_ text: String) { self.init(Array(text.utf8)) }

    public var length: Int64 { Int64(bytes.count) }
    public func rewind() throws { position = 0 }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - position)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + position, byteCount: n)
        }
        position += n
        return n
    }
}

/// A range of a file, read with pread so several parts of one file upload at once from
/// one descriptor. MD5 is computed as the bytes go out, to check the ETag S3 answers,
/// unless the part carries a CRC the store checks instead (`hashing` false).
public final class FileRangeBody: UploadBody, @unchecked Sendable { // handed over, see UploadBody
    public let file: SharedFile
    public let offset: Int64
    public let length: Int64
    private var position: Int64 = 0
    public let md5 = MD5()
    private let hashing: Bool

    public init(file: SharedFile, offset: Int64, length: Int64, hashing: Bool = true) {
        self.file = file
        self.offset = offset
        self.length = length
        self.hashing = hashing
    }

    public func rewind() throws {
        position = 0
        md5.reset()
    }

    /// Reads the whole range from its start, in 1 MiB blocks, each also given to `block`
    /// (a CRC computed ahead of a send, parts checked against an earlier upload's).
    public func readThrough(_ block: (UnsafeRawBufferPointer) -> Void) throws {
        try rewind()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { return }
            buffer.withUnsafeBytes { block(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let want = Int(min(Int64(buffer.count), length - position))
        guard want > 0 else { return 0 }
        while true {
            let n = pread(file.fd, buffer.baseAddress, want, off_t(offset + position))
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw SystemError("read", path: file.path, errno: errno) }
            guard n > 0 else { throw SystemError("read (the file shrank while uploading)", path: file.path, errno: EIO) }
            if hashing { md5.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) }
            position += Int64(n)
            return n
        }
    }
}
