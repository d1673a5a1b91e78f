import ArcCore

/// Why a zip archive could not be read to its end record (see ContainerError).
public typealias ZipError = ContainerError<ZipFormat>

public enum ZipFormat: ContainerFormat {
    public enum Kind: ContainerFaultKind {
        /// No zip signature at the start: an HTML error page, a CSV, an empty object.
        case notZip
        /// The source ended early: in a header, inside the entry's data, before the end record.
        case truncated
        /// zlib refused the deflate data.
        case corruptStream
        /// The inflated bytes' CRC-32 is not the one recorded (local header, data
        /// descriptor or central directory).
        case crcMismatch
        /// A recorded size (compressed or inflated) is not what the data had.
        case sizeMismatch
        /// Encryption, or a method other than stored (0) and deflate (8).
        case unsupported
        /// An archive with no entry at all.
        case noEntry
        /// The records around the data do not fit together: the central directory names
        /// another file than the local header, lists an entry never seen, the end record
        /// counts differently, or bytes stand where a record should start.
        case corruptArchive

        public var code: FailureCode {
            switch self {
            case .notZip: return .notZip
            case .truncated: return .zipTruncated
            case .corruptStream: return .corruptStream
            case .crcMismatch: return .crcMismatch
            case .sizeMismatch: return .sizeMismatch
            case .unsupported: return .zipUnsupported
            case .noEntry: return .noEntry
            case .corruptArchive: return .corruptArchive
            }
        }
    }
}

extension FailureCode {
    // Zip archives (size_mismatch is the core's). Names carry "zip" where the raw value is
    // generic, so other silver parts can declare their own without a clash.
    public static let notZip = FailureCode("not_zip")
    public static let zipTruncated = FailureCode("truncated")
    public static let corruptStream = FailureCode("corrupt_stream")
    public static let crcMismatch = FailureCode("crc_mismatch")
    public static let zipUnsupported = FailureCode("unsupported")
    public static let noEntry = FailureCode("no_entry")
    public static let corruptArchive = FailureCode("corrupt_archive")
}
