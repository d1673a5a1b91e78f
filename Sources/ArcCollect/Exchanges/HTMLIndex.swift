import ArcCore

/// One link of a directory index page: a sub-folder (`name` ends in `/`) or a file, with
/// its size when the page shows one in bytes.
public struct HTMLIndexEntry: Sendable, Equatable {
    public var name: String
    public var size: Int64?
    public var isFolder: Bool { name.hasSuffix("/") }

    public init(name: String, size: Int64?) {
        self.name = name
        self.size = size
    }
}

public struct HTMLIndexError: ArcError {
    public let message: String
    public var code: FailureCode { .badListing }
    public var exitStatus: ExitStatus { .unavailable }
    public var description: String { "unexpected index page: \(message)" }
}

/// Reads the links of a CDN's HTML directory index (nginx autoindex, Apache, S3 browsers,
/// Bybit's own pages) with a small byte scanner, no HTML parser: only `<a href="...">`
/// matters, and whatever follows the link up to the next one (where autoindex pages put
/// the date and the size in bytes). Tolerant by design: broken tags, any quoting, upper
/// case, stray bytes; links out of the folder (parents, sorting queries, other hosts,
/// absolute paths elsewhere) are left out.
public enum HTMLIndex {
    /// The entries of a page, in page order without repeats. `pagePath` (like
    /// `/trading/BTCUSDT/`) lets absolute links into the folder count. Throws when the page
    /// has no link at all: an index always has one (its parent's), so it is not an index.
    public static func parse(_ body: [UInt8], pagePath: String? = nil) throws -> [HTMLIndexEntry] {
        var entries: [HTMLIndexEntry] = []
        var seen = Set<String>()
        var anchors = 0
        var i = 0
        let n = body.count
        while let open = find(body, from: i, tag: "a") {
            anchors += 1
            let (href, tagEnd) = hrefAttribute(body, from: open + 2)
            // The text after the link, up to the next link: the name, a date, the size.
            let next = find(body, from: tagEnd, tag: "a") ?? n
            i = max(next, open + 2)
            guard let href, let name = entryName(href, pagePath: pagePath), seen.insert(name).inserted else { continue }
            let trailing = closingAnchorEnd(body, from: tagEnd, before: next)
            entries.append(HTMLIndexEntry(name: name, size: name.hasSuffix("/") ? nil : size(in: body[trailing..<next])))
        }
        guard anchors > 0 else {
            let first = String(decoding: body.prefix(80), as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "empty body"
            throw HTMLIndexError(message: "no links on the page (\(first))")
        }
        return entries
    }

    // MARK: scanning

    private static func lower(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b + 32 : b }
    private static func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 10 || b == 13 || b == 12 }

    /// The index of the `<` of the next `<TAG` followed by a space or `>`.
    private static func find(_ b: [UInt8], from start: Int, tag: String) -> Int? {
        let t = Array(tag.utf8)
        var i = start
        while i < b.count {
            if b[i] == UInt8(ascii: "<"), i + 1 + t.count < b.count {
                var match = true
                for k in 0..<t.count where lower(b[i + 1 + k]) != t[k] { match = false; break }
                if match {
                    let after = b[i + 1 + t.count]
                    if isSpace(after) || after == UInt8(ascii: ">") { return i }
                }
            }
            i += 1
        }
        return nil
    }

    /// The `href` value of the tag starting at `start`, and where the tag ends.
    private static func hrefAttribute(_ b: [UInt8], from start: Int) -> (String?, Int) {
        var i = start
        var href: String?
        while i < b.count && b[i] != UInt8(ascii: ">") {
            // An attribute name.
            while i < b.count && isSpace(b[i]) { i += 1 }
            let nameStart = i
            while i < b.count && !isSpace(b[i]) && b[i] != UInt8(ascii: "=") && b[i] != UInt8(ascii: ">") { i += 1 }
            let name = b[nameStart..<i].map(lower)
            while i < b.count && isSpace(b[i]) { i += 1 }
            guard i < b.count, b[i] == UInt8(ascii: "=") else {
                if i == nameStart && i < b.count && b[i] != UInt8(ascii: ">") { i += 1 } // a stray byte
                continue
            }
            i += 1
            while i < b.count && isSpace(b[i]) { i += 1 }
            var value: ArraySlice<UInt8>
            if i < b.count && (b[i] == UInt8(ascii: "\"") || b[i] == UInt8(ascii: "'")) {
                let quote = b[i]
                let valueStart = i + 1
                i = valueStart
                while i < b.count && b[i] != quote { i += 1 }
                value = b[valueStart..<min(i, b.count)]
                if i < b.count { i += 1 }
            } else {
                let valueStart = i
                while i < b.count && !isSpace(b[i]) && b[i] != UInt8(ascii: ">") { i += 1 }
                value = b[valueStart..<i]
            }
            if name == Array("href".utf8) && href == nil { href = String(decoding: value, as: UTF8.self) }
        }
        return (href, min(i + 1, b.count))
    }

    /// Past the `</a>` closing the link, if it comes before `limit`; else `from`.
    private static func closingAnchorEnd(_ b: [UInt8], from: Int, before limit: Int) -> Int {
        var i = from
        while i + 3 < limit {
            if b[i] == UInt8(ascii: "<") && b[i + 1] == UInt8(ascii: "/") && lower(b[i + 2]) == UInt8(ascii: "a")
                && (b[i + 3] == UInt8(ascii: ">") || isSpace(b[i + 3])) {
                var j = i + 3
                while j < limit && b[j] != UInt8(ascii: ">") { j += 1 }
                return min(j + 1, limit)
            }
            i += 1
        }
        return from
    }

    /// A size in bytes: the last run of digits standing alone (outside tags) in the text
    /// after a link. `1.2M` or `3 KB` is no exact size, and none is taken from it.
    static func size(in text: ArraySlice<UInt8>) -> Int64? {
        var tokens: [ArraySlice<UInt8>] = []
        var i = text.startIndex
        var inTag = false
        var tokenStart: Int?
        func close(_ end: Int) {
            if let s = tokenStart, s < end { tokens.append(text[s..<end]) }
            tokenStart = nil
        }
        while i < text.endIndex {
            let c = text[i]
            if c == UInt8(ascii: "<") { close(i); inTag = true }
            else if c == UInt8(ascii: ">") { inTag = false; tokenStart = nil }
            else if !inTag {
                if isSpace(c) { close(i) } else if tokenStart == nil { tokenStart = i }
            }
            i += 1
        }
        if !inTag { close(text.endIndex) }
        guard let last = tokens.last, last.count <= 18, last.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int64(String(decoding: last, as: UTF8.self))
    }

    /// The folder-relative name a link points to, or nil for links out of the folder.
    static func entryName(_ rawHref: String, pagePath: String?) -> String? {
        var href = Substring(rawHref)
        if let cut = href.firstIndex(where: { $0 == "?" || $0 == "#" }) { href = href[..<cut] }
        if href.hasPrefix("/") {
            guard let pagePath, pagePath.hasPrefix("/"), href.hasPrefix(pagePath) else { return nil }
            href = href.dropFirst(pagePath.count)
        }
        if href.hasPrefix("./") { href = href.dropFirst(2) }
        let decoded = URLEncoding.decode(String(href))
        guard !decoded.isEmpty, !decoded.hasPrefix("."), !decoded.contains(":"),
              !decoded.utf8.contains(where: { $0 < 32 }) else { return nil }
        // One level: `NAME` or `NAME/`.
        let inner = decoded.hasSuffix("/") ? decoded.dropLast() : Substring(decoded)
        guard !inner.isEmpty, !inner.contains("/") else { return nil }
        return decoded
    }
}
