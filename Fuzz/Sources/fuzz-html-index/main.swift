// A CDN's HTML directory index page (Bybit's fallback listing) through HTMLIndex.parse.
// Properties: no crash; every entry is one level (`NAME` or `NAME/`), never a parent, a
// query or another host; folders carry no size; a size is never negative; the same page
// parses the same way twice.
import FuzzSupport
@testable import ArcCollect

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTMLIndex(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let body = fuzzBytes(data, size)
    for pagePath in [nil, "/trading/BTCUSDT/"] {
        guard let entries = try? HTMLIndex.parse(body, pagePath: pagePath) else { continue }
        for e in entries {
            let inner = e.isFolder ? e.name.dropLast() : Substring(e.name)
            fuzzCheck(!inner.isEmpty && !inner.contains("/"), "entry \(e.name) is not one level")
            fuzzCheck(!e.name.hasPrefix(".") && !e.name.contains(":"), "entry \(e.name) leaves the folder")
            fuzzCheck(!e.isFolder || e.size == nil, "folder \(e.name) with a size")
            fuzzCheck((e.size ?? 0) >= 0, "negative size for \(e.name)")
        }
        fuzzCheck(Set(entries.map { $0.name }).count == entries.count, "repeated entries")
        fuzzCheck((try? HTMLIndex.parse(body, pagePath: pagePath)) == entries, "a second parse differs")
    }
    return 0
}
