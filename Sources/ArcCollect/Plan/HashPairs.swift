/// A map from one hash to another, for millions of entries without the strings: open
/// addressing over one flat array of pairs (one cache miss a lookup). Keys are already
/// well-mixed hashes, so they index the table directly; 0 marks a free slot, so a key of
/// 0 is stored as 1.
struct HashPairs {
    private var slots: [(key: UInt64, value: UInt64)]
    private(set) var count = 0

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: (0, 0), count: size)
    }

    /// Stores `value` for `key` unless `key` is there; returns the value already stored.
    mutating func insertIfAbsent(_ key: UInt64, _ value: UInt64) -> UInt64? {
        if (count + 1) * 2 > slots.count { grow() }
        let key = key == 0 ? 1 : key
        let mask = slots.count - 1
        return slots.withUnsafeMutableBufferPointer { table in
            var slot = Int(truncatingIfNeeded: key) & mask
            while table[slot].key != 0 {
                if table[slot].key == key { return table[slot].value }
                slot = (slot + 1) & mask
            }
            table[slot] = (key, value)
            count += 1
            return nil
        }
    }

    private mutating func grow() {
        var bigger = HashPairs(capacity: slots.count)
        for pair in slots where pair.key != 0 { _ = bigger.insertIfAbsent(pair.key, pair.value) }
        self = bigger
    }
}
