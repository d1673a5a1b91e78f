import ArcCore

/// The hashes an archive gets as its bytes arrive: SHA-256 always (the result's `sha256`),
/// and MD5 besides when its checksum is one (kind md5 or etag-md5). One pass feeds both, so
/// a partial file re-hashed from byte 0 on resumption (FileSink) serves every kind alike.
final class ArchiveDigest: StreamingDigest, @unchecked Sendable { // fed by one thread at a time, as EVPDigest
    let sha256 = SHA256()
    let md5: MD5?

    init(for kind: ArchiveChecksum.Kind) { md5 = kind.usesMD5 ? MD5() : nil }

    func update(_ bytes: UnsafeRawBufferPointer) {
        sha256.update(bytes)
        md5?.update(bytes)
    }

    func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    func reset() {
        sha256.reset()
        md5?.reset()
    }

    func finalize() -> [UInt8] { sha256.finalize() }
    func finalizeHex() -> String { sha256.finalizeHex() }

    /// Both hashes, once the body is complete; the digest must not be fed afterwards.
    func hashes() -> ArchiveHashes { ArchiveHashes(sha256: sha256.finalizeHex(), md5: md5?.finalizeHex()) }

    /// The hashes of the file at `path` (one already at its destination).
    static func ofFile(_ path: String, kind: ArchiveChecksum.Kind) throws -> ArchiveHashes {
        let digest = ArchiveDigest(for: kind)
        try digest.update(file: path)
        return digest.hashes()
    }
}

/// An archive's hashes, lowercase hex.
struct ArchiveHashes {
    let sha256: String
    let md5: String?

    /// The hash a checksum of `kind` is compared with; nil for size and none.
    func compared(_ kind: ArchiveChecksum.Kind) -> String? {
        switch kind {
        case .sha256: return sha256
        case .md5, .etagMD5: return md5
        case .size, .none: return nil
        }
    }
}

extension ArchiveChecksum.Kind {
    /// Where the expected hash came from, for messages.
    func origin(sidecar: Bool) -> String {
        sidecar ? "CHECKSUM" : self == .etagMD5 ? "ETag" : "listed hash"
    }
}
