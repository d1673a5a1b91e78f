import ArcCore

/// Why a task is planned.
public enum PlanReason: String, Sendable, CaseIterable {
    /// Not held at its destination.
    case new
    /// Held, but the source now lists a different ETag or size: republished upstream.
    case changed
    /// The last attempt failed.
    case retry
    /// Held and unchanged, planned anyway (--force).
    case forced

    var index: Int {
        switch self {
        case .new: return 0
        case .changed: return 1
        case .retry: return 2
        case .forced: return 3
        }
    }
}

/// Decides, archive by archive, whether it must be fetched, against the ledger.
public final class Planner {
    private let destRoot: String
    private let layout: Layout
    private let ledger: Ledger?
    private let force: Bool
    private var builder = RecordBuilder()

    public var counts: [PlanReason: Int] {
        Dictionary(uniqueKeysWithValues: PlanReason.allCases.compactMap { r in
            reasonCounts[r.index] > 0 ? (r, reasonCounts[r.index]) : nil
        })
    }
    private var reasonCounts = [0, 0, 0, 0]
    public private(set) var held = 0
    /// Archives listed more than once (the same URL to the same dest), planned once.
    public private(set) var duplicates = 0
    /// Every dest planned in this run, hashed, with the hash of its URL: two archives must
    /// not be given one path (a --layout missing a placeholder), and an archive listed
    /// twice is planned once. 16 bytes an archive, not the strings.
    private var planned = HashPairs()
    /// The dest of the task `plan` returned last (a queue's identity for it).
    public var lastDest: String { String(decoding: lastDestBytes, as: UTF8.self) }
    private var lastDestBytes: [UInt8] = []
    /// The dest being planned, as bytes: made, hashed, looked up and written without a String.
    private var destBytes: [UInt8] = []

    /// Fields a task adds to its archive (any with these names in the input are replaced).
    public static let taskFields: RecordBuilder.FieldNames = ["task_id", "dest", "reason"]

    public init(destRoot: String, layout: Layout, ledger: Ledger?, force: Bool) {
        self.destRoot = destRoot
        self.layout = layout
        self.ledger = ledger
        self.force = force
        destBytes.reserveCapacity(256)
        lastDestBytes.reserveCapacity(256)
    }

    /// The task record for `archive` (with its newline), or nil when it is already held.
    /// Throws `FieldError` for a record that cannot be planned.
    /// `dest`: `destination(for: archive)` when the caller made it already.
    public func plan(_ archive: Record, dest known: String? = nil) throws -> [UInt8]? {
        // The hot path of arc-plan: every value is read, hashed and copied as bytes, and a
        // String is made only for what the ledger holds (its etag, to compare).
        var urlHash = StableHash()
        _ = try archive.withStringBytes("url", required: true) { urlHash.add(UnsafeRawBufferPointer($0)) }
        destBytes.removeAll(keepingCapacity: true)
        if let known {
            destBytes.append(contentsOf: known.utf8)
        } else {
            destBytes.append(contentsOf: destRoot.utf8)
            destBytes.append(UInt8(ascii: "/"))
            try layout.appendPath(for: archive, to: &destBytes)
        }
        let size = try archive.int("size")
        if let size, size < 0 { throw FieldError(field: "size", problem: "negative size \(size)") }

        var destHash = StableHash()
        var id = urlHash
        destBytes.withUnsafeBytes { d in
            destHash.add(d)
            // The task's id continues the URL's hash: the same archive version to the same place.
            id.add(d)
        }
        if try archive.withStringBytes("etag", { id.add(UnsafeRawBufferPointer($0)) }) == nil { id.add("") }
        id.add(size ?? -1)
        if let earlier = planned.insertIfAbsent(destHash.value, urlHash.value) {
            if earlier == urlHash.value {
                duplicates += 1
                return nil
            }
            throw FieldError(field: "dest", problem: "\(String(decoding: destBytes, as: UTF8.self)) is already the dest "
                             + "of another archive: the layout must tell archives apart (add {file} or {key})")
        }

        let reason: PlanReason
        if let entry = try ledger.flatMap({ ledger in try destBytes.withUnsafeBufferPointer { try ledger.entry(destUTF8: $0) } }) {
            let etag = try archive.string("etag")
            if entry.status != "ok" {
                // An archive empty upstream (empty_archive) is not fetched again until it is
                // republished: a daily run must not fail on it forever.
                if entry.errorCode == FailureCode.emptyArchive.rawValue, !force, entry.size != nil, entry.size == size,
                   entry.etag == etag {
                    held += 1
                    return nil
                }
                reason = .retry
            } else if differs(entry.etag, etag) || differs(entry.size, size) {
                reason = .changed
            } else if force {
                reason = .forced
            } else {
                held += 1
                return nil
            }
        } else {
            reason = .new
        }
        reasonCounts[reason.index] += 1

        lastDestBytes.removeAll(keepingCapacity: true)
        lastDestBytes.append(contentsOf: destBytes)
        builder.begin()
        builder.copyFields(of: archive, except: Planner.taskFields)
        builder.hex("task_id", id.value)
        destBytes.withUnsafeBufferPointer { builder.string("dest", utf8: $0) }
        builder.string("reason", reason.rawValue)
        builder.end()
        return builder.bytes
    }

    /// Where `archive` goes (what the ledger is asked about).
    public func destination(for archive: Record) throws -> String {
        destRoot + "/" + (try layout.path(for: archive))
    }

    /// Both known and not equal (an unknown value on either side is no evidence of change).
    private func differs<T: Equatable>(_ held: T?, _ listed: T?) -> Bool {
        guard let held, let listed else { return false }
        return held != listed
    }

}
