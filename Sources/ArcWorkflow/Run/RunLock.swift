import ArcCore

/// A run's or a workflow's lock. The flock file (in the runs directory) is what this
/// machine sees and says who holds it; with a state several machines share (PostgreSQL)
/// the holder also takes a session advisory lock of the same name in the database, so
/// that a wf-run on another machine, with other runs directories, sees it as well. Both
/// end with the process that holds them however it ends: the kernel drops the flock and
/// closes the connection, and the server drops the connection's advisory locks. (A
/// machine cut off from the network keeps its advisory locks until the server notices the
/// dead connection: TCP keepalive, or tcp_user_timeout in the URL.)
final class RunLock {
    let file: FileLock
    private let store: RunStore
    private var name: String?

    private init(file: FileLock, store: RunStore, name: String?) {
        self.file = file
        self.store = store
        self.name = name
    }

    deinit { release() }

    /// The name of run `runID`'s lock and of workflow `workflow`'s lock in the database.
    static func runName(_ runID: String) -> String { "run " + runID }
    static func workflowName(_ workflow: String) -> String { "workflow " + workflow }

    /// Takes both, or returns nil at once (holding neither) when another process holds either.
    static func tryAcquire(_ path: String, name: String, _ store: RunStore) throws -> RunLock? {
        guard let file = try FileLock.tryAcquire(path) else { return nil }
        guard store.isShared else { return RunLock(file: file, store: store, name: nil) }
        guard try store.tryAdvisoryLock(name) else {
            file.release()
            return nil
        }
        return RunLock(file: file, store: store, name: name)
    }

    /// True when some process holds the lock, on this machine or (shared state) any other.
    static func isHeld(_ path: String, name: String, _ store: RunStore) throws -> Bool {
        if FileLock.isHeld(path) { return true }
        return store.isShared ? try store.isAdvisoryLocked(name) : false
    }

    /// Who holds it, as the file says (`pid run_id`); nil when it does not say, as when the
    /// holder is on another machine.
    static func owner(_ path: String) -> String? { FileLock.owner(path) }

    func setOwner(_ text: String) { file.setOwner(text) }

    func release() {
        file.release()
        if let name {
            self.name = nil
            try? store.advisoryUnlock(name)
        }
    }
}

/// The advisory locks of a shared (PostgreSQL) state: a session lock keyed by a stable
/// hash of the lock's name, the same key on every machine.
extension RunStore {
    static func advisoryKey(_ name: String) -> Int64 {
        var hash = StableHash()
        hash.add("wf-run " + name)
        return Int64(bitPattern: hash.value)
    }

    /// Takes the session lock `name` unless another session holds it.
    func tryAdvisoryLock(_ name: String) throws -> Bool {
        try db.rows("SELECT pg_try_advisory_lock(?1)", [.integer(Self.advisoryKey(name))]).first?[0] == "t"
    }

    func advisoryUnlock(_ name: String) throws {
        _ = try db.rows("SELECT pg_advisory_unlock(?1)", [.integer(Self.advisoryKey(name))])
    }

    /// Whether any session (this one included) holds the lock `name`: read from pg_locks,
    /// where a bigint key shows as its high half in classid and its low half in objid,
    /// so nothing is taken to find out (trying the lock could turn its owner away).
    func isAdvisoryLocked(_ name: String) throws -> Bool {
        let key = UInt64(bitPattern: Self.advisoryKey(name))
        return try db.rows("""
            SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND classid = ?1 AND objid = ?2
            """, [.integer(Int64(key >> 32)), .integer(Int64(key & 0xFFFF_FFFF))]).first?[0].flatMap { Int($0) } ?? 0 > 0
    }
}
