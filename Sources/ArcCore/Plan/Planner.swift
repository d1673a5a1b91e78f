/// Why a task is planned.
public enum PlanReason: String, Sendable {
    /// Not held at its destination.
    case new
    /// Held, but the source now lists a different ETag or size: republished upstream.
    case changed
    /// The last attempt failed.
    case retry
    /// Held and unchanged, planned anyway (--force).
    case forced
}

/// Decides, archive by archive, whether it must be fetched, against the ledger.
public final class Planner {
    private let destRoot: String
    private let layout: Layout
    private let ledger: Ledger?
    private let force: Bool
    private var builder = RecordBuilder()

    public private(set) var counts: [PlanReason: Int] = [:]
    public private(set) var held = 0
    /// Archives listed more than once (the same URL to the same dest), planned once.
    public private(set) var duplicates = 0
    /// Every dest planned in this run, hashed, with the hash of its URL: two archives must
    /// not be given one path (a --layout missing a placeholder), and an archive listed
    /// twice is planned once. 16 bytes an archive, not the strings.
    private var planned: [UInt64: UInt64] = [:]

    /// Fields a task adds to its archive (any with these names in the input are replaced).
    public static let taskFields = ["task_id", "dest", "reason"]

    public init(destRoot: String, layout: Layout, ledger: Ledger?, force: Bool) {
        self.destRoot = destRoot
        self.layout = layout
        self.ledger = ledger
        self.force = force
    }

    /// The task record for `archive` (with its newline), or nil when it is already held.
    /// Throws `FieldError` for a record that cannot be planned.
    public func plan(_ archive: Record) throws -> [UInt8]? {
        let url = try archive.requiredString("url")
        let dest = destRoot + "/" + (try layout.path(for: archive))
        let size = try archive.int("size")
        if let size, size < 0 { throw FieldError(field: "size", problem: "negative size \(size)") }
        let etag = try archive.string("etag")

        let urlHash = Planner.fnv1a([url]), destHash = Planner.fnv1a([dest])
        if let earlier = planned.updateValue(urlHash, forKey: destHash) {
            if earlier == urlHash {
                duplicates += 1
                return nil
            }
            planned[destHash] = earlier
            throw FieldError(field: "dest", problem: "\(dest) is already the dest of another archive: "
                             + "the layout must tell archives apart (add {file} or {key})")
        }

        let reason: PlanReason
        if let entry = try ledger?.entry(dest: dest) {
            if entry.status != "ok" {
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
        counts[reason, default: 0] += 1

        builder.begin()
        builder.copyFields(of: archive, except: Planner.taskFields)
        builder.string("task_id", taskID(url: url, dest: dest, etag: etag, size: size))
        builder.string("dest", dest)
        builder.string("reason", reason.rawValue)
        builder.end()
        return builder.bytes
    }

    /// Both known and not equal (an unknown value on either side is no evidence of change).
    private func differs<T: Equatable>(_ held: T?, _ listed: T?) -> Bool {
        guard let held, let listed else { return false }
        return held != listed
    }

    /// Stable across runs for the same work: the same archive version to the same place.
    /// An identifier, not a security boundary: 64-bit FNV-1a, a twentieth of SHA-256's
    /// cost on this per-record path.
    func taskID(url: String, dest: String, etag: String?, size: Int64?) -> String {
        let hash = Planner.fnv1a([url, dest, etag ?? "", size.map(String.init) ?? ""])
        return Hex.encode(withUnsafeBytes(of: hash.bigEndian) { Array($0) })
    }

    /// 64-bit FNV-1a of the parts joined by newlines.
    static func fnv1a(_ parts: [String]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for (n, part) in parts.enumerated() {
            if n > 0 { hash = (hash ^ UInt64(UInt8(ascii: "\n"))) &* Planner.fnvPrime }
            var part = part
            part.withUTF8 { bytes in
                for byte in bytes { hash = (hash ^ UInt64(byte)) &* Planner.fnvPrime }
            }
        }
        return hash
    }

    private static let fnvPrime: UInt64 = 0x0000_0100_0000_01b3
}
