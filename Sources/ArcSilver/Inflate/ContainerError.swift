import ArcCore

/// Why a container of deflate data (a zip archive, a gzip file) could not be read to its
/// end, naming the file (its path or S3 key); the message says where in it things went
/// wrong. One shape for both readers: `ZipError` and `GzipError` are this type with their
/// own `Kind`s, whose codes agree where the fault is the same (a cut file, corrupt
/// deflate data, a CRC-32 or size that does not match), so a bad archive gives the same
/// finding whichever container it came in.
public struct ContainerError<Format: ContainerFormat>: ArcError {
    public typealias Kind = Format.Kind

    public let kind: Kind
    /// The file's path or key.
    public let archive: String
    public let message: String

    public init(_ kind: Kind, archive: String, _ message: String) {
        self.kind = kind
        self.archive = archive
        self.message = message
    }

    public var code: FailureCode { kind.code }

    /// Bad input data, as an InputError's.
    public var exitStatus: ExitStatus { .usage }

    public var description: String { "\(archive): \(message)" }
}

/// A container format's faults: an enum of kinds, each with its failure code.
public protocol ContainerFormat: Sendable {
    associatedtype Kind: ContainerFaultKind
}

public protocol ContainerFaultKind: Sendable, Equatable {
    var code: FailureCode { get }
}
