/// Shell-style patterns (`*`, `?`, `[abc]`) for symbol filters such as `'*USDT'`.
public struct Glob: Sendable {
    public let pattern: String
    private let chars: [Character]

    public init(_ pattern: String) {
        self.pattern = pattern
        chars = Array(pattern)
    }

    /// True when the pattern has no wildcard: it names exactly one thing.
    public var isLiteral: Bool { !chars.contains { $0 == "*" || $0 == "?" || $0 == "[" } }

    public func matches(_ text: String) -> Bool {
        let t = Array(text)
        var p = 0, s = 0
        var starP = -1, starS = 0
        while s < t.count {
            if p < chars.count {
                switch chars[p] {
                case "*":
                    starP = p
                    starS = s
                    p += 1
                    continue
                case "?":
                    p += 1
                    s += 1
                    continue
                case "[":
                    if let (matched, next) = matchClass(at: p, t[s]) {
                        if matched {
                            p = next
                            s += 1
                            continue
                        }
                    } else if t[s] == "[" {
                        p += 1
                        s += 1
                        continue
                    }
                default:
                    if chars[p] == t[s] {
                        p += 1
                        s += 1
                        continue
                    }
                }
            }
            guard starP >= 0 else { return false }
            p = starP + 1
            starS += 1
            s = starS
        }
        while p < chars.count && chars[p] == "*" { p += 1 }
        return p == chars.count
    }

    /// Matches `c` against the class starting at `start` (`[...]`, `[!...]`, ranges).
    private func matchClass(at start: Int, _ c: Character) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < chars.count && (chars[i] == "!" || chars[i] == "^") {
            negate = true
            i += 1
        }
        var matched = false
        var first = true
        while i < chars.count && (chars[i] != "]" || first) {
            first = false
            if i + 2 < chars.count && chars[i + 1] == "-" && chars[i + 2] != "]" {
                if chars[i] <= c && c <= chars[i + 2] { matched = true }
                i += 3
            } else {
                if chars[i] == c { matched = true }
                i += 1
            }
        }
        guard i < chars.count else { return nil }
        return (matched != negate, i + 1)
    }
}
