/// KuCoin's archive spells symbols otherwise than its trading API does (SOURCES.md):
/// spot pairs lose their dash (`BTC-USDT` is `BTCUSDT`; order books keep it), and futures
/// on bitcoin say `BTC` where the API says `XBT` (`XBTUSDTM` is `BTCUSDTM`). Users know
/// the API's names, so `--symbol` takes both and lists the archive's.
public enum KuCoinSymbols {
    /// What `--list symbols` says on each symbol.
    public static let note = "symbols as KuCoin's archive names them, not its trading API: spot pairs without the dash (BTCUSDT for BTC-USDT; order books keep it), futures BTC for XBT (BTCUSDTM for XBTUSDTM)"

    /// The archive's spellings of a symbol or glob given as the API spells it, besides
    /// itself (which still names book folders, and any folder already spelled so); empty
    /// when the archive spells it the same.
    public static func archiveSpellings(of symbol: String) -> [String] {
        var out: [String] = []
        func add(_ s: String) { if s != symbol && !out.contains(s) { out.append(s) } }
        // A dash inside a glob's bracket expression (`[A-C]*`) is a range: it stays.
        var inBrackets = false
        let dashless = symbol.filter { c in
            if c == "[" { inBrackets = true } else if c == "]" { inBrackets = false }
            return c != "-" || inBrackets
        }
        add(dashless)
        if dashless.hasPrefix("XBT") { add("BTC" + dashless.dropFirst(3)) }
        return out
    }
}
