/// A failure of a PostgreSQL state database: it could not be reached, refused the
/// credentials, lost the connection, or rejected a statement (with the SQLSTATE the server
/// sent). Every kind but a malformed URL is exit 3, as a SQLite `StoreError` is: the state
/// could not be used, the input was fine.
public struct PostgresError: ArcError {
    public enum Kind: Sendable, Equatable {
        /// The URL is not a connection URI libpq can read: exit 2, nothing tried.
        case badURL
        /// No connection: refused, unreachable, timed out, or the credentials rejected.
        case connect
        /// The connection broke during a statement: whether it took effect is unknown.
        case connectionLost
        /// The server rejected the statement; the connection is still usable.
        case statement
    }

    public let kind: Kind
    /// The database's URL with its password masked.
    public let target: String
    /// The five-character SQLSTATE (`23505` unique violation...) of a rejected statement.
    public let sqlState: String?
    /// One line, credentials masked.
    public let message: String

    public init(_ kind: Kind, target: String, sqlState: String? = nil, message: String) {
        self.kind = kind
        self.target = target
        self.sqlState = sqlState
        self.message = Secrets.redact(PostgresError.oneLine(message))
    }

    public var code: FailureCode {
        switch kind {
        case .badURL: return .usage
        case .connect: return .unavailable
        case .connectionLost: return .connectionLost
        case .statement:
            switch sqlState {
            case SQLState.serializationFailure, SQLState.deadlockDetected, SQLState.lockNotAvailable: return .storeBusy
            case SQLState.diskFull: return .diskFull
            default: return .storeError
            }
        }
    }

    public var exitStatus: ExitStatus { kind == .badURL ? .usage : .unavailable }

    public var description: String {
        "state database \(target): \(message)" + (sqlState.map { " (SQLSTATE \($0))" } ?? "")
    }

    /// The SQLSTATEs the state code reacts to (PostgreSQL's appendix A).
    public enum SQLState {
        public static let uniqueViolation = "23505"
        public static let serializationFailure = "40001"
        public static let deadlockDetected = "40P01"
        public static let lockNotAvailable = "55P03"
        public static let diskFull = "53100"
        public static let undefinedTable = "42P01"
    }

    /// libpq's messages span lines ("...failed: Connection refused\n\tIs the server
    /// running...?\n") and pad after "FATAL:": one line, single spaces.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\t" || $0 == " " }).joined(separator: " ")
    }
}
