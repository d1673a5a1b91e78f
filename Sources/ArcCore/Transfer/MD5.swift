import CCrypto

/// Streaming MD5 (OpenSSL's EVP): S3 reports a single-part object's ETag, and each part's,
/// as the MD5 of its bytes, so hashing what goes over the wire checks what S3 stored.
public final class MD5 {
    private let context: OpaquePointer

    public init() {
        context = EVP_MD_CTX_new()!
        EVP_DigestInit_ex(context, EVP_md5(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    public func reset() { EVP_DigestInit_ex(context, EVP_md5(), nil) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    /// The 16-byte digest. The hasher must not be used afterwards.
    public func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 16)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return digest
    }

    public static func digest(_ bytes: [UInt8]) -> [UInt8] {
        let h = MD5()
        bytes.withUnsafeBytes { h.update($0) }
        return h.finalize()
    }

    /// A multipart object's ETag: the MD5 of the parts' MD5s, then `-` and the count.
    public static func multipartETag(partDigests: [[UInt8]]) -> String {
        digestHex(partDigests.flatMap { $0 }) + "-\(partDigests.count)"
    }

    public static func digestHex(_ bytes: [UInt8]) -> String { Hex.encode(digest(bytes)) }
}
