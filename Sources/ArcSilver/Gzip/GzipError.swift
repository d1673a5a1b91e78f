import ArcCore

/// Why a gzip file (Bybit's `.csv.gz`) could not be read to its end (see ContainerError).
public typealias GzipError = ContainerError<GzipFormat>

public enum GzipFormat: ContainerFormat {
    public enum Kind: ContainerFaultKind {
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

        /// The zip reader's code where the fault is the same.
        public var code: FailureCode {
            switch self {
            case .notGzip: return .notGzip
            case .truncated: return .zipTruncated
            case .corruptStream: return .corruptStream
            case .crcMismatch: return .crcMismatch
            case .sizeMismatch: return .sizeMismatch
            case .unsupported: return .zipUnsupported
            case .corruptArchive: return .corruptArchive
            }
        }
    }
}

extension FailureCode {
    public static let notGzip = FailureCode("not_gzip")
}
