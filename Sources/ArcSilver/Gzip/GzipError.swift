import ArcCore

/// Why a gzip file (Bybit's `.csv.gz`) could not be read to its end, naming the file (its
/// path or S3 key). Its codes are the zip reader's where the fault is the same (a cut
/// file, corrupt deflate data, a CRC-32 or size that does not match), so a bad archive
/// gives the same finding whichever container it came in.
public struct GzipError: ArcError {
    public enum Kind: Sendable, Equatable {
        /// No gzip signature at the start: an HTML error page, a CSV, an empty object.
        case notGzip
        /// The file ended early: in a header, inside the deflate data, in the trailer.
        case truncated
        /// zlib refused the deflate data.
        case corruptStream
        /// The inflated bytes' CRC-32 is not the trailer's.
        case crcMismatch
        /// The inflated size (mod 2^32) is not the trailer's ISIZE.
        case sizeMismatch
        /// A compression method other than deflate (8).
        case unsupported
        /// Header flags no gzip writer sets, a header CRC that does not match, or bytes
        /// after the data that are not another gzip member.
        case corruptArchive
    }

    public let kind: Kind
    public let archive: String
    public let message: String

    public init(_ kind: Kind, archive: String, _ message: String) {
        self.kind = kind
        self.archive = archive
        self.message = message
    }

    public var code: FailureCode {
        switch kind {
        case .notGzip: return .notGzip
        case .truncated: return .zipTruncated
        case .corruptStream: return .corruptStream
        case .crcMismatch: return .crcMismatch
        case .sizeMismatch: return .sizeMismatch
        case .unsupported: return .zipUnsupported
        case .corruptArchive: return .corruptArchive
        }
    }

    /// Bad input data, as a ZipError's.
    public var exitStatus: ExitStatus { .usage }

    public var description: String { "\(archive): \(message)" }
}

extension FailureCode {
    public static let notGzip = FailureCode("not_gzip")
}
