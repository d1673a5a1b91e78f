import Glibc

/// The process environment as a dictionary (read once per call; small).
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

    public static func get(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
