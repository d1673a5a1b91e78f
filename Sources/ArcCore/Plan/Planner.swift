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

        var urlHash = FNV1a(), destHash = FNV1a()
        urlHash.add(url)
        destHash.add(dest)
        // The task's id continues the URL's hash: the same archive version to the same place.
        var id = urlHash
        id.add(UInt8(ascii: "\n"))
        id.add(dest)
        id.add(UInt8(ascii: "\n"))
        id.add(etag ?? "")
        id.add(UInt8(ascii: "\n"))
        if let size { id.add(size) }
        if let earlier = planned.updateValue(urlHash.value, forKey: destHash.value) {
            if earlier == urlHash.value {
                duplicates += 1
                return nil
            }
            planned[destHash.value] = earlier
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
        reasonCounts[reason.index] += 1

        builder.begin()
        builder.copyFields(of: archive, except: Planner.taskFields)
        builder.string("task_id", id.hex)
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

}

/// 64-bit FNV-1a: task ids and the dest/URL identities arc-plan keeps. An identifier, not
/// a security boundary, at a twentieth of SHA-256's cost on this per-record path.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let prime: UInt64 = 0x0000_0100_0000_01b3

    mutating func add(_ byte: UInt8) { value = (value ^ UInt64(byte)) &* FNV1a.prime }

    mutating func add(_ text: String) {
        var text = text
        text.withUTF8 { for byte in $0 { add(byte) } }
    }

    /// A decimal number's digits, as `String(n)` would spell them.
    mutating func add(_ number: Int64) {
        var digits: [UInt8] = []
        var n = number.magnitude
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(n % 10))
            n /= 10
        } while n > 0
        if number < 0 { add(UInt8(ascii: "-")) }
        for d in digits.reversed() { add(d) }
    }

    /// The 16 hex digits of the value.
    var hex: String { Hex.encode(withUnsafeBytes(of: value.bigEndian) { Array($0) }) }
}
