import CChecksum
import Glibc
import CZlib

/// The CRCs S3 keeps for an object when asked to (`x-amz-checksum-ALGORITHM`), and which
/// arc can compute for much less than MD5: CRC-32C with the CPU's CRC32 instruction (over
/// 5 GB/s), CRC-32 with zlib's. A store that keeps one checks it on upload (a part whose
/// bytes differ is refused with BadDigest) and gives it back on GET and HEAD with
/// `x-amz-checksum-mode: ENABLED`, so verifying with it costs a few percent of MD5.
public enum ChecksumAlgorithm: String, Sendable, CaseIterable {
    case crc32c, crc32

    /// `x-amz-checksum-crc32c`: the request and response header carrying the value.
    public var header: String { "x-amz-checksum-" + rawValue }
    /// `CRC32C`: the name in x-amz-checksum-algorithm and x-amz-sdk-checksum-algorithm.
    public var s3Name: String { rawValue.uppercased() }
    /// `ChecksumCRC32C`: the element in CompleteMultipartUpload's request and answer.
    public var element: String { "Checksum" + s3Name }

    var polynomial: UInt32 { self == .crc32c ? 0x82F6_3B78 : 0xEDB8_8320 }

    public init?(s3Name: String) { self.init(rawValue: s3Name.lowercased()) }
}

/// A CRC value of some bytes, and how many: enough to combine it with the CRC of the bytes
/// that follow, so ranges hashed apart give the CRC of the whole object.
public struct CRCValue: Sendable, Equatable {
    public let algorithm: ChecksumAlgorithm
    public let value: UInt32
    public let length: Int64

    public init(_ algorithm: ChecksumAlgorithm, value: UInt32 = 0, length: Int64 = 0) {
        self.algorithm = algorithm
        self.value = value
        self.length = length
    }

    /// The CRC of these bytes followed by `next`'s.
    public func followed(by next: CRCValue) -> CRCValue {
        precondition(next.algorithm == algorithm)
        guard length > 0 else { return next }
        return CRCValue(algorithm, value: arc_crc_combine(value, next.value, UInt64(next.length), algorithm.polynomial),
                        length: length + next.length)
    }

    /// The CRC of `parts` one after another (of no bytes when there are none).
    public static func combined(_ algorithm: ChecksumAlgorithm, _ parts: [CRCValue]) -> CRCValue {
        parts.reduce(CRCValue(algorithm)) { $0.followed(by: $1) }
    }

    /// Big-endian bytes: what S3 base64-encodes, and what a COMPOSITE checksum hashes.
    public var bytes: [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }

    /// As S3 writes it: base64 of the big-endian bytes.
    public var base64: String { Base64.encode(bytes) }

    /// The CRC of `bytes`.
    public static func of(_ algorithm: ChecksumAlgorithm, _ bytes: UnsafeRawBufferPointer) -> CRCValue {
        CRCValue(algorithm, value: update(algorithm, 0, bytes), length: Int64(bytes.count))
    }

    public static func of(_ algorithm: ChecksumAlgorithm, _ bytes: [UInt8]) -> CRCValue {
        bytes.withUnsafeBytes { of(algorithm, $0) }
    }

    /// A COMPOSITE multipart checksum: the CRC of the parts' CRCs (their bytes, in order),
    /// written `BASE64-N`.
    public static func composite(_ parts: [CRCValue]) -> String {
        guard let algorithm = parts.first?.algorithm else { return "" }
        return of(algorithm, parts.flatMap(\.bytes)).base64 + "-\(parts.count)"
    }

    static func update(_ algorithm: ChecksumAlgorithm, _ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        switch algorithm {
        case .crc32c: return arc_crc32c(crc, base, bytes.count)
        case .crc32: return UInt32(crc32_z(UInt(crc), base.assumingMemoryBound(to: Bytef.self), bytes.count))
        }
    }
}

/// A CRC fed as bytes arrive (a download's ranges, a stream), like the EVP digests.
public final class CRCDigest: StreamingDigest, @unchecked Sendable { // fed by one thread at a time, as EVPDigest
    public let algorithm: ChecksumAlgorithm
    private var crc: UInt32 = 0
    private var length: Int64 = 0

    public init(_ algorithm: ChecksumAlgorithm) { self.algorithm = algorithm }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        crc = CRCValue.update(algorithm, crc, bytes)
        length += Int64(bytes.count)
    }

    public func reset() {
        crc = 0
        length = 0
    }

    public var value: CRCValue { CRCValue(algorithm, value: crc, length: length) }
    public func finalize() -> [UInt8] { value.bytes }
    public func finalizeHex() -> String { Hex.encode(value.bytes) }
}

/// The checksum a store keeps for an object (`x-amz-checksum-crc32c: VALUE` on HEAD or GET
/// with checksum mode): of the whole object (FULL_OBJECT, and every single-part object),
/// or COMPOSITE, `VALUE-N`, the CRC of its N parts' CRCs.
public struct StoredChecksum: Sendable, Equatable {
    public var algorithm: ChecksumAlgorithm
    /// The base64 value, without the `-N` of a composite one.
    public var value: String
    /// N for a COMPOSITE checksum of N parts; nil for one of the whole object.
    public var parts: Int?

    public init(algorithm: ChecksumAlgorithm, value: String, parts: Int? = nil) {
        self.algorithm = algorithm
        self.value = value
        self.parts = parts
    }

    /// From a header's or element's text: `BASE64` or `BASE64-N`.
    public init?(algorithm: ChecksumAlgorithm, text: String) {
        let pieces = text.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = pieces.first, !first.isEmpty, pieces.count <= 2 else { return nil }
        self.algorithm = algorithm
        value = String(first)
        if pieces.count == 2 {
            guard let n = Int(pieces[1]), n > 0 else { return nil }
            parts = n
        }
    }

    /// What the store would keep for an object made of parts with these CRCs, in its
    /// kind: their combined CRC (FULL_OBJECT), or the CRC of their CRCs (COMPOSITE, `-N`).
    /// Equal to `text` when the bytes are the ones the store vouches for.
    public func text(ofParts parts: [CRCValue]) -> String {
        self.parts == nil ? CRCValue.combined(algorithm, parts).base64 : CRCValue.composite(parts)
    }

    /// As S3 writes it, and as the result records name it: `crc32c:BASE64[-N]`.
    public var text: String { value + (parts.map { "-\($0)" } ?? "") }
    public var description: String { "\(algorithm.rawValue):\(text)" }
}

extension ResponseHeaders {
    /// Takes `x-amz-checksum-*` headers; true when `name` was one.
    mutating func takeChecksum(name: String, value: String) -> Bool {
        guard name.hasPrefix("x-amz-checksum-") else { return false }
        let suffix = name.dropFirst("x-amz-checksum-".count)
        if suffix == "algorithm" {
            checksumAlgorithm = ChecksumAlgorithm(s3Name: value)
        } else if let algorithm = ChecksumAlgorithm(rawValue: String(suffix)) {
            checksum = StoredChecksum(algorithm: algorithm, text: value)
        }
        return true
    }
}

extension CRCValue {
    /// The CRC of `length` bytes of `file` from `offset`: computed before a part is sent,
    /// since its header goes ahead of its body. The page cache serves the second read, and
    /// CRC-32C costs little; MD5 cost several times both.
    public static func of(_ algorithm: ChecksumAlgorithm, file: SharedFile, offset: Int64, length: Int64) throws -> CRCValue {
        let digest = CRCDigest(algorithm)
        try FileRangeBody(file: file, offset: offset, length: length, hashing: false).readThrough(digest.update)
        return digest.value
    }
}
