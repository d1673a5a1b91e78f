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
}
