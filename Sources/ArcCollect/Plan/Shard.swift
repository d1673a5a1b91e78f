import ArcCore

/// `arc-plan --shard K/N`: one of N machines plans only the archives whose identity hashes
/// into shard K, so N machines split one listing exactly with nothing shared between them
/// (no queue, no common database). Shards are numbered from 0, as Slurm arrays
/// (`--array=0-7`) and Kubernetes Indexed Jobs (`JOB_COMPLETION_INDEX`) number them.
public struct Shard: Equatable, Sendable, CustomStringConvertible {
    /// This shard, 0 ..< count.
    public let index: Int
    /// How many shards the work is split into.
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw UsageError("--shard \(index)/\(count): N must be at least 1") }
        guard (0..<count).contains(index) else {
            throw UsageError("--shard \(index)/\(count): K must be from 0 to \(count - 1) (shards are numbered from 0)")
        }
        self.index = index
        self.count = count
    }

    public var description: String { "\(index)/\(count)" }

    /// `K/N`, or `auto` to take both from the job engine's environment.
    public init(parsing text: String, environment: [String: String]) throws {
        if text == "auto" {
            self = try Shard.fromEngine(environment)
            return
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Shard.number(parts[0]), let n = Shard.number(parts[1]) else {
            throw UsageError("--shard \(text): expected K/N (shard K of N, from 0, e.g. 0/8) or auto")
        }
        try self.init(index: k, count: n)
    }

    // MARK: Which archives belong here

    /// The shard an identity falls into: the same on every machine and every day. The
    /// 64-bit hash is scaled onto 0 ..< count (the high word of hash × count), which keeps
    /// the shards even without the bias of a modulo.
    public static func of(identity: String, count: Int) -> Int {
        var h = StableHash()
        h.add(identity)
        return Int(h.value.multipliedFullWidth(by: UInt64(count)).high)
    }

    /// What an archive is, wherever it is stored: its source's `key`, else its `url`.
    /// Not the task id, which depends on --dest and the layout; not the input's order.
    public static func identity(of archive: Record) throws -> String {
        if let key = try archive.string("key"), !key.isEmpty { return key }
        return try archive.requiredString("url")
    }

    public func contains(identity: String) -> Bool { Shard.of(identity: identity, count: count) == index }

    /// Throws `FieldError` for a record with neither a key nor a url.
    public func contains(_ archive: Record) throws -> Bool { contains(identity: try Shard.identity(of: archive)) }

    // MARK: --shard auto

    /// The variables `--shard auto` reads, for help and error messages.
    static let kubernetesIndex = "JOB_COMPLETION_INDEX"
    static let shardCount = "ARC_SHARD_COUNT"
    static let slurmID = "SLURM_ARRAY_TASK_ID"
    static let slurmCount = "SLURM_ARRAY_TASK_COUNT"
    static let slurmMin = "SLURM_ARRAY_TASK_MIN"
    static let slurmMax = "SLURM_ARRAY_TASK_MAX"
    static let slurmStep = "SLURM_ARRAY_TASK_STEP"

    /// Kubernetes' Indexed Job gives the index but not the completions count, so the Job
    /// spec passes that as ARC_SHARD_COUNT. A Slurm array gives both; an array that does
    /// not start at 0 (`--array=1-8`) or steps (`--array=0-14:2`) is renumbered from 0.
    static func fromEngine(_ env: [String: String]) throws -> Shard {
        if let index = env[kubernetesIndex], !index.isEmpty {
            let k = try variable(kubernetesIndex, index)
            guard let countText = env[shardCount], !countText.isEmpty else {
                throw UsageError("--shard auto: \(kubernetesIndex) is set but \(shardCount) is not "
                                 + "(set it to the Job's .spec.completions)")
            }
            return try engineShard(k, try variable(shardCount, countText), from: "\(kubernetesIndex)=\(index) \(shardCount)=\(countText)")
        }
        if let id = env[slurmID], !id.isEmpty {
            guard let countText = env[slurmCount], !countText.isEmpty else {
                throw UsageError("--shard auto: \(slurmID) is set but \(slurmCount) is not")
            }
            let n = try variable(slurmCount, countText)
            let min = try env[slurmMin].flatMap { $0.isEmpty ? nil : try variable(slurmMin, $0) } ?? 0
            let step = try env[slurmStep].flatMap { $0.isEmpty ? nil : try variable(slurmStep, $0) } ?? 1
            let raw = try variable(slurmID, id)
            let source = "\(slurmID)=\(id) \(slurmCount)=\(countText) \(slurmMin)=\(min) \(slurmStep)=\(step)"
            guard step >= 1, raw >= min, (raw - min) % step == 0 else {
                throw UsageError("--shard auto: \(source) is not a task of the array")
            }
            // An array given as a list (--array=1,4,9) has IDs that cannot be renumbered
            // from its count: refuse it rather than leave shards unplanned.
            if let max = try env[slurmMax].flatMap({ $0.isEmpty ? nil : try variable(slurmMax, $0) }),
               max < min || (max - min) / step + 1 != n {
                throw UsageError("--shard auto: the Slurm array (\(slurmMin)=\(min) \(slurmMax)=\(max) "
                                 + "\(slurmCount)=\(n)) is not a range such as --array=0-\(Swift.max(n - 1, 0))")
            }
            return try engineShard((raw - min) / step, n, from: source)
        }
        throw UsageError("--shard auto: set \(slurmID) and \(slurmCount) (a Slurm array job), or "
                         + "\(kubernetesIndex) and \(shardCount) (a Kubernetes Indexed Job), or give --shard K/N")
    }

    private static func engineShard(_ k: Int, _ n: Int, from source: String) throws -> Shard {
        guard n >= 1, k < n else {
            throw UsageError("--shard auto: \(source) gives shard \(k) of \(n): expected 0 <= K < N")
        }
        return try Shard(index: k, count: n)
    }

    private static func variable(_ name: String, _ text: String) throws -> Int {
        guard let v = number(Substring(text)) else {
            throw UsageError("--shard auto: \(name)=\(text) is not a non-negative integer")
        }
        return v
    }

    /// Decimal digits only: no sign, no spaces, nothing Int's parser would also accept.
    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }
}
