import ArcCore

/// A market as users name it (`rawValue`) and as the tree's folders do (`path`).
public protocol ArchiveMarket: RawRepresentable, CaseIterable, Hashable, Sendable where RawValue == String {
    /// The folder under `data/`: `futures/um`.
    var path: String { get }
}

public enum ArchivePeriod: String, CaseIterable, Sendable {
    case daily, monthly
}

/// What the file beside each zip (`KEY.CHECKSUM`, `HASH  NAME`) holds.
public enum SidecarKind: String, Sendable {
    case sha256, md5
}

/// An archive tree shaped like Binance's:
/// `data/{market path}/{period}/{type}/{SYMBOL}/[{interval}/]{SYMBOL}-{INTERVAL|TYPE}-{date}.zip`,
/// with a CHECKSUM sidecar beside every zip. Binance's and KuCoin's archives are both laid
/// out this way; what differs between them is this description, and the walk over the
/// listing (`TreeLister`) and the command around it (`TreeDiscovery`) are shared.
public protocol DatedArchiveTree: Sendable {
    associatedtype Market: ArchiveMarket
    /// The records' `source`.
    static var source: String { get }
    /// The periods a market publishes a type in; nil when it does not publish the type.
    /// Used to check what users ask for and to skip folders that cannot exist, never to
    /// decide what is there (the listing says that).
    static func periods(_ market: Market, _ type: String) -> [ArchivePeriod]?
    /// Kline-like types have an interval folder and `SYMBOL-INTERVAL-DATE.zip` names.
    static func isKlineLike(_ type: String) -> Bool
    /// What the CHECKSUM sidecars hold.
    static var sidecar: SidecarKind { get }
}
