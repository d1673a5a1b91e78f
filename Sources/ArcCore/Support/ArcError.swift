import Glibc

/// Every error a tool reports has a stable machine-readable `code` (snake_case, used in
/// result records and logs), a one-line human message, and the exit status it implies.
public protocol ArcError: Error, CustomStringConvertible {
    var code: FailureCode { get }
    var exitStatus: ExitStatus { get }
}

/// Wrong flags or arguments: exit 2, nothing done.
public struct UsageError: ArcError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var code: FailureCode { .usage }
    public var exitStatus: ExitStatus { .usage }
    public var description: String { message }
}

/// Invalid input data, named by file, line and field where known: exit 2.
public struct InputError: ArcError {
    public let file: String
    public let line: Int
    public let field: String?
    public let message: String

    public init(file: String, line: Int, field: String? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }
    public var code: FailureCode { field == nil ? .badRecord : .badField }
    public var exitStatus: ExitStatus { .usage }
    public var description: String {
        let place = line > 0 ? "\(file):\(line)" : file
        if let field { return "\(place): field \"\(field)\": \(message)" }
        return "\(place): \(message)"
    }
}

/// A file, directory or service the tool needs could not be used: exit 3.
public struct UnavailableError: ArcError {
    public let what: String
    public let message: String
    public init(_ what: String, _ message: String) {
        self.what = what
        self.message = message
    }
    public var code: FailureCode { .unavailable }
    public var exitStatus: ExitStatus { .unavailable }
    public var description: String { "\(what): \(message)" }
}

/// An operating-system call failed; `errno` decides the wording.
public struct SystemError: ArcError {
    public let operation: String
    public let path: String
    public let errno: Int32
    public init(_ operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }
    public var code: FailureCode {
        switch errno {
        case ENOSPC, EDQUOT: return .diskFull
        case EACCES, EPERM, EROFS: return .permissionDenied
        case ENOENT: return .notFound
        default: return .ioError
        }
    }
    public var exitStatus: ExitStatus { .unavailable }
    public var description: String { "\(path): \(operation): \(String(cString: strerror(errno)))" }
}
