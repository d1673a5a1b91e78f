import Glibc

/// Dictionary of 8-byte values (a DOUBLE's bit pattern: -0.0, 0.0 and each NaN stay
/// distinct, so values come back bit for bit). Open addressing with linear probing over
/// raw memory: Swift's Dictionary costs several times more per lookup on this hot path.
final class UInt64Dictionary {
    private(set) var values: UnsafeMutablePointer<UInt64>
    private(set) var count = 0
    private var valueCapacity: Int
    /// Entry index + 1 per slot; 0 is an empty slot. Kept at most half full.
    private var slots: UnsafeMutablePointer<UInt32>
    private var shift: UInt64
    private var slotCount: Int

    init() {
        valueCapacity = 1024
        values = .allocate(capacity: valueCapacity)
        slotCount = 2048
        shift = 64 - 11
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
    }

    deinit {
        values.deallocate()
        slots.deallocate()
    }

    /// PLAIN size of the dictionary page.
    var plainSize: Int { count * 8 }

    /// The entry for `key`, added when new.
    @inline(__always)
    func index(of key: UInt64) -> UInt32 {
        let slots = self.slots
        let mask = slotCount - 1
        var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            if values[Int(entry) - 1] == key { return entry - 1 }
            slot = (slot + 1) & mask
        }
        return insert(key, at: slot)
    }

    private func insert(_ key: UInt64, at slot: Int) -> UInt32 {
        if count == valueCapacity {
            let grown = UnsafeMutablePointer<UInt64>.allocate(capacity: valueCapacity * 2)
            grown.moveInitialize(from: values, count: count)
            values.deallocate()
            values = grown
            valueCapacity *= 2
        }
        values[count] = key
        count += 1
        slots[slot] = UInt32(count)
        if count * 2 > slotCount { rehash(slotCount * 2) }
        return UInt32(count - 1)
    }

    private func rehash(_ newCount: Int) {
        slots.deallocate()
        slotCount = newCount
        shift = UInt64(64 - newCount.trailingZeroBitCount)
        slots = .allocate(capacity: newCount)
        slots.initialize(repeating: 0, count: newCount)
        let mask = newCount - 1
        for i in 0..<count {
            var slot = Int(truncatingIfNeeded: (values[i] &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = UInt32(i + 1)
        }
    }

    /// Empties the dictionary; `releasing` also gives its memory back (a chunk that
    /// dropped it will not need it again).
    func removeAll(releasing: Bool = false) {
        count = 0
        if releasing && valueCapacity > 1024 {
            values.deallocate()
            valueCapacity = 1024
            values = .allocate(capacity: valueCapacity)
        }
        if slotCount > 2048 {
            slots.deallocate()
            slotCount = 2048
            shift = 64 - 11
            slots = .allocate(capacity: slotCount)
        }
        slots.initialize(repeating: 0, count: slotCount)
    }
}

/// Dictionary of byte strings, entries back to back in one buffer.
final class ByteStringDictionary {
    let bytes = ByteBuffer(capacity: 1 << 14)
    /// Entry i is bytes[ends[i-1] ..< ends[i]].
    private(set) var ends: [Int] = []
    private var hashes: [UInt64] = []
    private var slots: [UInt32] = Array(repeating: 0, count: 1024)
    private var shift: UInt64 = 64 - 10

    var count: Int { ends.count }

    /// PLAIN size of the dictionary page: a 4-byte length before each entry.
    var plainSize: Int { bytes.count + 4 * ends.count }

    func entry(_ i: Int) -> UnsafeRawBufferPointer {
        let start = i == 0 ? 0 : ends[i - 1]
        return UnsafeRawBufferPointer(start: bytes.base + start, count: ends[i] - start)
    }

    func index(of value: UnsafeRawBufferPointer) -> UInt32 {
        let hash = ByteStringDictionary.hash(value)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash >> shift)
        while true {
            let e = slots[slot]
            if e == 0 { break }
            let i = Int(e) - 1
            if hashes[i] == hash && bytesEqual(entry(i), value) { return e - 1 }
            slot = (slot + 1) & mask
        }
        bytes.append(value)
        ends.append(bytes.count)
        hashes.append(hash)
        slots[slot] = UInt32(ends.count)
        if ends.count * 2 > slots.count { rehash() }
        return UInt32(ends.count - 1)
    }

    private func rehash() {
        let newCount = slots.count * 2
        slots = Array(repeating: 0, count: newCount)
        shift = UInt64(64 - newCount.trailingZeroBitCount)
        let mask = newCount - 1
        for i in 0..<hashes.count {
            var slot = Int(truncatingIfNeeded: hashes[i] >> shift)
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = UInt32(i + 1)
        }
    }

    func removeAll(releasing: Bool = false) {
        bytes.removeAll(keepingCapacity: releasing ? 1 << 14 : 1 << 20)
        ends.removeAll(keepingCapacity: !releasing)
        hashes.removeAll(keepingCapacity: !releasing)
        slots = Array(repeating: 0, count: 1024)
        shift = 64 - 10
    }

    /// A multiply-mix over 8-byte words: short ASCII strings, no adversary.
    static func hash(_ value: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(value.count)
        var i = 0
        let n = value.count
        while i + 8 <= n {
            h = (h ^ value.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var k = 0
        while i < n {
            tail |= UInt64(value[i]) << (8 * UInt64(k))
            i += 1
            k += 1
        }
        h = (h ^ tail) &* 0x9E37_79B9_7F4A_7C15
        return h ^ (h >> 32)
    }
}

@inline(__always)
func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
}

/// Unsigned byte-wise order, shorter first on a tie: the order of BYTE_ARRAY statistics.
@inline(__always)
func bytesLess(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    let n = min(a.count, b.count)
    if n > 0 {
        let c = memcmp(a.baseAddress!, b.baseAddress!, n)
        if c != 0 { return c < 0 }
    }
    return a.count < b.count
}
