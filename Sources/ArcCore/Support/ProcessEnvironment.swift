import Glibc

/// The whole process environment as a dictionary, for the AWS credentials chain and
/// endpoint lookups (one variable: `FileSystem.environment`).
public enum ProcessEnvironment {
    public static var all: [String: String] {
        var result: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") {
                result[String(s[..<eq])] = String(s[s.index(after: eq)...])
            }
            p += 1
        }
        return result
    }

    /// This machine's name (gethostname), "localhost" when it has none: for logs, metrics,
    /// queue workers and the names of temporary files.
    public static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(nulTerminated: buffer)
        return name.isEmpty ? "localhost" : name
    }()
}
