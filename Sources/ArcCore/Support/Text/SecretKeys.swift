/// Which key names carry secrets: the one list behind JSON members, `key=value` and
/// `key: value` text, and URL query parameters.
///
/// A key is split into words at `_`, `-`, `.`, spaces and camelCase humps
/// (`AWSAccessKeyId` is aws access key id, `X-Amz-Security-Token` is x amz security token)
/// and compared without case. It is a secret when
/// - a word holds `password`, `passwd` or `passphrase`, or is `pwd`, `secret`, `secrets`
///   or ends in `secret` (`db_password`, `userPassword`, `client_secret`, `secret_string`):
///   these words mean little else, so any position counts;
/// - or its last words are one of `endings` (`token`, `api_key`, `session_id`, `auth`...;
///   a one-word ending may end the last word, as in `csrftoken`): these words also name
///   ordinary fields when something follows them, so only the end counts: `access_token`
///   and `session` are secrets, `tokens_used`, `token_count`, `max_tokens` and
///   `session_count` are not.
/// `authorization`, `cookie` and `set-cookie` (as the last word) are credentials whose
/// values hold spaces (`Basic dXNl...`, `a=1; b=2`); they are masked as [token].
/// In a URL's query (after `?` or `&`) `key`, `sig` and `signature` as the last word
/// count too: `?key=AIza...`, `&sig=...`.
///
/// In the core because two readers share it: `telem-log redact` (any log's keys) and
/// `Secrets.redact` (query parameters in what the tools themselves write).
public enum SecretKeys {
    /// What a key says about its value.
    public enum Kind: Sendable {
        case none, secret, authorization
    }

    static let anywhere = ["password", "passwd", "passphrase"]
    static let anywhereWords = ["pwd", "secret", "secrets"]
    static let endings: [[String]] = [
        ["token"], ["apikey"], ["api", "key"], ["access", "key"], ["accesskey"], ["secret", "key"],
        ["private", "key"], ["privatekey"], ["signing", "key"], ["encryption", "key"], ["master", "key"],
        ["session", "key"], ["access", "key", "id"], ["accesskeyid"], ["session"], ["session", "id"],
        ["sessionid"], ["phpsessid"], ["auth"], ["credential"], ["credentials"], ["signature"],
    ]
    static let queryEndings: [[String]] = [["key"], ["sig"]]
    static let credentialEndings = ["authorization", "cookie"]

    private static let anywhereBytes = anywhere.map { Array($0.utf8) }
    private static let anywhereWordBytes = anywhereWords.map { Array($0.utf8) }
    private static let endingBytes = endings.map { $0.map { Array($0.utf8) } }
    private static let queryEndingBytes = queryEndings.map { $0.map { Array($0.utf8) } }
    private static let credentialEndingBytes = credentialEndings.map { Array($0.utf8) }
    private static let secretWord = Array("secret".utf8)

    public static func classify(_ key: some Collection<UInt8>, inQuery: Bool = false) -> Kind {
        let w = words(key)
        guard let last = w.last else { return .none }
        if credentialEndingBytes.contains(where: { last.hasSuffix($0) }) { return .authorization }
        for word in w {
            if anywhereBytes.contains(where: { word.contains($0) }) || anywhereWordBytes.contains(word)
                || word.hasSuffix(secretWord) {
                return .secret
            }
        }
        // A one-word ending may end a longer word: `csrftoken`, `xapikey`, `jsessionid`.
        if endingBytes.contains(where: { $0.count == 1 ? last.hasSuffix($0[0]) : w.hasSuffix($0) }) { return .secret }
        if inQuery && queryEndingBytes.contains(where: { w.hasSuffix($0) }) { return .secret }
        return .none
    }

    /// Lowercased words: split at anything but letters and digits, and at camelCase humps
    /// (a lower letter or digit before an upper one; an upper one before upper-then-lower).
    public static func words(_ key: some Collection<UInt8>) -> [[UInt8]] {
        let k = Array(key)
        var out: [[UInt8]] = []
        var word: [UInt8] = []
        for (n, c) in k.enumerated() {
            guard isAlnum(c) else {
                if !word.isEmpty { out.append(word); word = [] }
                continue
            }
            let isUpper = c >= 65 && c <= 90
            if isUpper && !word.isEmpty {
                let prevUpper = k[n - 1] >= 65 && k[n - 1] <= 90
                let nextLower = n + 1 < k.count && k[n + 1] >= 97 && k[n + 1] <= 122
                if !prevUpper || nextLower {
                    out.append(word)
                    word = []
                }
            }
            word.append(isUpper ? c + 32 : c)
        }
        if !word.isEmpty { out.append(word) }
        return out
    }

    private static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
    }
}

private extension Array where Element == UInt8 {
    func hasSuffix(_ s: [UInt8]) -> Bool { count >= s.count && self[(count - s.count)...].elementsEqual(s) }
    func contains(_ s: [UInt8]) -> Bool {
        guard count >= s.count else { return false }
        for at in 0...(count - s.count) where self[at..<(at + s.count)].elementsEqual(s) { return true }
        return false
    }
}

private extension Array where Element == [UInt8] {
    func hasSuffix(_ s: [[UInt8]]) -> Bool { count >= s.count && self[(count - s.count)...].elementsEqual(s) }
}
