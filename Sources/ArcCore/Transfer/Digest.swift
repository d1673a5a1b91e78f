import CCrypto
import Glibc

/// A streaming hash over OpenSSL's EVP (which uses the CPU's SHA extensions), fed as bytes
/// arrive so verification costs no second pass over the data. `SHA256` and `MD5` name the
/// two algorithms arc verifies with; the EVP handling is written once, here.
///
/// A digest is fed by one thread at a time: a download hands it to the thread that hashes
/// a range, and reads it back only after joining that thread.
public class EVPDigest: StreamingDigest, @unchecked Sendable { // fed by one thread at a time, see above
    private let context: OpaquePointer
    private let algorithm: OpaquePointer
    private let length: Int

    init(_ algorithm: OpaquePointer, length: Int) {
        self.algorithm = algorithm
        self.length = length
        context = arc_EVP_MD_CTX_new()!
        arc_EVP_DigestInit_ex(context, algorithm, nil)
    }

    deinit { arc_EVP_MD_CTX_free(context) }

    /// Starts over, for a download that restarts from byte 0.
    public func reset() { arc_EVP_DigestInit_ex(context, algorithm, nil) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        arc_EVP_DigestUpdate(context, base, bytes.count)
    }

    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The digest's bytes. The hasher must not be used afterwards (until `reset`).
    public func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: length)
        var written: UInt32 = 0
        arc_EVP_DigestFinal_ex(context, &digest, &written)
        return digest
    }

    /// The digest as lowercase hex. The hasher must not be used afterwards (until `reset`).
    public func finalizeHex() -> String { Hex.encode(finalize()) }
}

/// SHA-256: Binance's CHECKSUM files, and what arc-collect records for every archive.
public final class SHA256: EVPDigest, @unchecked Sendable { // see EVPDigest
    public init() { super.init(arc_EVP_sha256(), length: 32) }

    public static func hex(_ bytes: [UInt8]) -> String {
        let h = SHA256()
        h.update(bytes)
        return h.finalizeHex()
    }

    /// The SHA-256 of a whole file, read in large blocks.
    public static func hexOfFile(_ path: String) throws -> String {
        let h = SHA256()
        try h.update(file: path)
        return h.finalizeHex()
    }
}

extension StreamingDigest {
    /// Feeds the whole file at `path`, read in large blocks.
    public func update(file path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: path, errno: errno) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 17)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("read", path: path, errno: errno)
            }
            buffer.withUnsafeBytes { update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }
}

/// MD5: S3 reports a single-part object's ETag, and each part's, as the MD5 of its bytes,
/// so hashing what goes over the wire checks what S3 stored.
public final class MD5: EVPDigest, @unchecked Sendable { // see EVPDigest
    public init() { super.init(arc_EVP_md5(), length: 16) }

    public static func digest(_ bytes: [UInt8]) -> [UInt8] {
        let h = MD5()
        h.update(bytes)
        return h.finalize()
    }

    public static func digestHex(_ bytes: [UInt8]) -> String { Hex.encode(digest(bytes)) }

    /// A multipart object's ETag: the MD5 of the parts' MD5s, then `-` and the count.
    public static func multipartETag(partDigests: [[UInt8]]) -> String {
        digestHex(partDigests.flatMap { $0 }) + "-\(partDigests.count)"
    }
}
