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

    /// The record's `checksum.kind` for such a sidecar.
    public var kind: ArchiveChecksum.Kind { self == .sha256 ? .sha256 : .md5 }
}

/// Where a type's files are, below its symbol folders.
public enum IntervalFolders: Sendable {
    /// Always in interval folders: with --interval, those are listed straight away.
    case always
    /// Right in the symbol folder: the listing can start at --since.
    case never
    /// Not known (a type the table does not describe, or one no real file has settled):
    /// the symbol folder is listed whole, interval folders and files alike.
    case unknown
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
    /// Whether a type's symbol folders hold interval folders (kline-like types, named
    /// `SYMBOL-INTERVAL-DATE.zip`) or the files themselves.
    static func intervalFolders(_ type: String) -> IntervalFolders
    /// Folders under a period that hold types rather than symbols (KuCoin's `depth/`,
    /// whose types are `depth/orderbooklv50`, ...).
    static var typeGroups: Set<String> { get }
    /// What the CHECKSUM sidecars hold.
    static var sidecar: SidecarKind { get }
}

extension DatedArchiveTree {
    public static var typeGroups: Set<String> { [] }
}
