import ArcCore

/// A Parquet file that could not be written for a reason of the writer's own (a batch that
/// does not fit the schema, a codec that failed, a call out of order). A failing sink's
/// own error passes through unchanged instead.
public struct ParquetError: ArcError, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The batch or schema does not match what the writer was given.
        case schema
        /// zstd or zlib refused to compress a page.
        case compression
        /// write or finish after finish.
        case finished
    }

    public let kind: Kind
    /// The column concerned, when there is one.
    public let column: String?
    public let message: String

    public init(_ kind: Kind, column: String? = nil, _ message: String) {
        self.kind = kind
        self.column = column
        self.message = message
    }

    public var code: FailureCode {
        switch kind {
        case .schema: return .parquetSchema
        case .compression: return .parquetCompression
        case .finished: return .parquetFinished
        }
    }
    public var exitStatus: ExitStatus { kind == .schema ? .usage : .unavailable }
    public var description: String {
        if let column { return "parquet column \"\(column)\": \(message)" }
        return "parquet: \(message)"
    }
}

extension FailureCode {
    public static let parquetSchema = FailureCode("parquet_schema")
    public static let parquetCompression = FailureCode("parquet_compression")
    public static let parquetFinished = FailureCode("parquet_finished")
}
