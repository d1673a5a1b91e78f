import Glibc
import CByteScan

/// Literals searched for in a whole buffer, together in one pass, 16 bytes at a time, the
/// way ripgrep's memchr crate does it ("packed pair"): for each needle two of its rarer
/// bytes are compared at once at their offsets, and only where both are found is the
/// whole needle compared. memchr on a first byte alone stops too often: in log lines `"`
/// or `l` is in every few bytes (on the bench's file: 0.39 s a GiB for `level"`, 0.95 s
/// for `"error"` on `"`; 0.25 s here, 0.16 s to read the GiB at all). A needle holding a
/// byte that is rare in logs (a backslash) is found with glibc's memchr, which uses AVX2
/// (0.01 s a GiB; this code is built for plain SSE2), on its own.
final class ByteNeedles {
    /// The needles, and per needle the offsets of the two bytes compared first.
    let needles: [[UInt8]]
    private let probes: UnsafeMutablePointer<Probe>
    private let count: Int
    /// The furthest offset a probe reads past a start.
    private let reach: Int
    /// One needle with a rare byte at this offset: memchr for it.
    private let rareAt: Int?
    /// Several needles that all hold one byte that is not common in logs (`v` in `level"`,
    /// `lvl"`, `severity"`): that byte is searched alone, one compare a block in place of
    /// two per needle, and each needle tried at each place it holds the byte. The byte,
    /// each (needle, offset of the byte in it) flat (no array of arrays per hit), and the
    /// furthest such offset; no places when the needles share no such byte.
    private let sharedByte: UInt8
    private let sharedPlaces: UnsafeMutablePointer<(Int, Int)>
    private let sharedPlaceCount: Int
    private let maxShared: Int
    /// One or two needles are searched 32 bytes a step where the CPU has AVX2.
    private let wide: Bool
    /// The shared byte is searched 32 bytes a step where the CPU has AVX2.
    private let wideShared = ByteScan.avx2
    /// With AVX2 and a value filter on every needle (the level keys): per shared-byte
    /// place, the needle's bytes after it and its filter, for CByteScan's
    /// arc_shared_next_avx2, which passes over the places whose key is refused without
    /// coming back here (one stop a line, each key, was 0.1 s a GiB of --level error).
    private let kernelSuffixes: UnsafeMutablePointer<UnsafePointer<UInt8>?>
    private let kernelLengths: UnsafeMutablePointer<Int>
    private let kernelStarts: UnsafeMutablePointer<UnsafePointer<UInt8>?>
    private let kernel: Bool

    struct Probe {
        let needle: UnsafeMutablePointer<UInt8>
        let length: Int
        let first: Int, second: Int
        let firstByte: SIMD16<UInt8>, secondByte: SIMD16<UInt8>
        /// For a level key: per byte (folded by `valueStart`), whether a string value
        /// starting with it can rank high enough; nil for a needle whose hits all count.
        let valueStarts: UnsafeMutablePointer<Bool>?
    }

    /// `valueStarts`, per needle (a level key with its closing quote), or none: a hit
    /// followed at once by `:"` and a byte not in its set is no hit (see `refused`), in
    /// the search by a shared byte (the level keys share `v`). Elsewhere such hits are
    /// still found, and turned down by the caller's check: a shortcut, not a meaning (in
    /// `needle(at:)`, the AVX2 pair loop of --grep was 15 ms a GiB slower with it). Under
    /// `--level error` every line holds a level key; this way the search does not stop at
    /// each (0.34 s a GiB), only at the keys whose value may rank high enough.
    init(_ needles: [[UInt8]], valueStarts: [Set<UInt8>?]? = nil) {
        precondition(!needles.isEmpty && !needles.contains { $0.isEmpty }, "an empty needle is found everywhere")
        self.needles = needles
        count = needles.count
        probes = .allocate(capacity: needles.count)
        var reach = 0
        for (k, bytes) in needles.enumerated() {
            let byRarity = bytes.indices.sorted { ByteNeedles.rank(bytes[$0]) < ByteNeedles.rank(bytes[$1]) }
            let a = byRarity[0]
            // The second: the rarest byte that differs from the first (a pair of equal bytes
            // says less), else any other offset.
            let b = byRarity.dropFirst().first { bytes[$0] != bytes[a] } ?? byRarity.dropFirst().first ?? a
            let stored = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count)
            stored.initialize(from: bytes, count: bytes.count)
            let first = min(a, b), second = max(a, b)
            var table: UnsafeMutablePointer<Bool>? = nil
            if let starts = valueStarts?[k] {
                table = .allocate(capacity: 256)
                table!.initialize(repeating: false, count: 256)
                for c in starts { table![Int(c)] = true }
            }
            (probes + k).initialize(to: Probe(needle: stored, length: bytes.count, first: first, second: second,
                                              firstByte: SIMD16(repeating: bytes[first]),
                                              secondByte: SIMD16(repeating: bytes[second]), valueStarts: table))
            reach = max(reach, second)
        }
        self.reach = reach
        wide = ByteScan.avx2 && needles.count <= 2
        let shared = ByteNeedles.sharedByte(needles)
        maxShared = shared.map { $0.offsets.joined().max() ?? 0 } ?? 0
        let places = (shared?.offsets ?? []).enumerated().flatMap { k, os in os.map { (k, $0) } }
        sharedPlaces = .allocate(capacity: max(places.count, 1))
        sharedPlaces.initialize(from: places, count: places.count)
        sharedPlaceCount = places.count
        sharedByte = shared?.byte ?? 0
        let filtered = valueStarts.map { v in v.count == needles.count && v.allSatisfy { $0 != nil } } ?? false
        kernel = wideShared && filtered && !places.isEmpty
        kernelSuffixes = .allocate(capacity: max(places.count, 1))
        kernelLengths = .allocate(capacity: max(places.count, 1))
        kernelStarts = .allocate(capacity: max(places.count, 1))
        for (i, (k, o)) in places.enumerated() {
            let q = self.probes[k]
            (kernelSuffixes + i).initialize(to: UnsafePointer(q.needle + o + 1))
            (kernelLengths + i).initialize(to: q.length - o - 1)
            (kernelStarts + i).initialize(to: q.valueStarts.map { UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self) })
        }
        let rare = needles.count == 1 ? needles[0].indices.min { ByteNeedles.rank(needles[0][$0]) < ByteNeedles.rank(needles[0][$1]) } : nil
        rareAt = rare.flatMap { ByteNeedles.rank(needles[0][$0]) <= ByteNeedles.rareRank ? $0 : nil }
    }

    deinit {
        for k in 0..<count {
            probes[k].needle.deallocate()
            probes[k].valueStarts?.deallocate()
        }
        probes.deinitialize(count: count)
        probes.deallocate()
        sharedPlaces.deallocate()
        kernelSuffixes.deallocate()
        kernelLengths.deallocate()
        kernelStarts.deallocate()
    }

    static let rareRank = 10

    /// The rarest byte every needle holds, with where each holds it; nil for one needle,
    /// or when the only shared bytes are common ones (a hit every few bytes).
    static func sharedByte(_ needles: [[UInt8]]) -> (byte: UInt8, offsets: [[Int]])? {
        guard needles.count >= 2 else { return nil }
        let candidates = Set(needles[0]).filter { b in needles.allSatisfy { $0.contains(b) } && rank(b) <= 140 }
        guard let byte = candidates.min(by: { (rank($0), $0) < (rank($1), $1) }) else { return nil }
        return (byte, needles.map { n in n.indices.filter { n[$0] == byte } })
    }

    /// How common a byte is in log lines, roughly (lower is rarer): JSON's punctuation and
    /// lower-case letters and digits (times, ids, hex) are everywhere; upper case and most
    /// punctuation are not; a backslash is only in an escape.
    static func rank(_ c: UInt8) -> Int {
        switch c {
        case UInt8(ascii: "\\"): return rareRank
        case UInt8(ascii: "\""), UInt8(ascii: ":"), UInt8(ascii: ","): return 250
        case 0x30...0x39: return 200
        case UInt8(ascii: "e"), UInt8(ascii: "t"), UInt8(ascii: "a"), UInt8(ascii: "o"), UInt8(ascii: "i"),
             UInt8(ascii: "n"), UInt8(ascii: "s"), UInt8(ascii: "r"), UInt8(ascii: "d"), UInt8(ascii: "c"),
             UInt8(ascii: "l"), UInt8(ascii: "f"), UInt8(ascii: "b"): return 180
        case 0x61...0x7A: return 140
        case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: "_"),
             UInt8(ascii: "{"), UInt8(ascii: "}"): return 120
        case 0x41...0x5A: return 60
        default: return 30
        }
    }

    /// The first start at or after `from` of any needle in `hay[..<end]`, and which.
    func find(in hay: UnsafePointer<UInt8>, from: Int, end: Int) -> (at: Int, needle: Int)? {
        if let rareAt { return findRare(hay, from: from, end: end, at: rareAt).map { ($0, 0) } }
        if sharedPlaceCount > 0 { return findShared(hay, from: from, end: end, sharedByte) }
        // One loop per number of needles, with their probes in registers: a switch on the
        // count inside it was taken on every block.
        switch count {
        case 1:
            let a = probes[0]
            return findBlocks(hay, from: from, end: end) { raw, p in probe(raw, p, a) }
        case 2:
            let a = probes[0], b = probes[1]
            return findBlocks(hay, from: from, end: end) { raw, p in probe(raw, p, a) .| probe(raw, p, b) }
        default:
            return findBlocks(hay, from: from, end: end) { raw, p in
                var all = probe(raw, p, probes[0])
                for k in 1..<count { all = all .| probe(raw, p, probes[k]) }
                return all
            }
        }
    }

    /// `find` over blocks of 16 starts, `hits` giving a block's candidate starts; with AVX2,
    /// blocks of 32 first (CByteScan), as far as they fit.
    @inline(__always) private func findBlocks(_ hay: UnsafePointer<UInt8>, from: Int, end: Int,
                                              _ hits: (UnsafeRawPointer, Int) -> SIMDMask<SIMD16<Int8>>) -> (at: Int, needle: Int)? {
        let raw = UnsafeRawPointer(hay)
        var p = from
        #if arch(x86_64)
        if wide {
            let a = probes[0], b = probes[count - 1]
            var bits: UInt32 = 0
            while true {
                p = arc_pair_scan_avx2(hay, p, end, reach, a.first, a.second, a.needle[a.first], a.needle[a.second],
                                       count == 2 ? 1 : 0, b.first, b.second, b.needle[b.first], b.needle[b.second], &bits)
                if bits == 0 { break }
                while bits != 0 {
                    let at = p &+ bits.trailingZeroBitCount
                    bits &= bits &- 1
                    if let k = needle(at: at, hay, end: end) { return (at, k) }
                }
                p &+= 32
            }
        }
        #endif
        // Offsets within a buffer: the sums cannot overflow (wrapping arithmetic spares the
        // checks in the loop). Every load stays inside the buffer: up to `last16` (`last64`)
        // a block (four) can start.
        let last16 = end &- reach &- 16, last64 = end &- reach &- 64
        while p <= last16 {
            // Four blocks without a hit passed over with one test: most blocks have none.
            if p <= last64 && ByteNeedles.hitBits(hits(raw, p) .| hits(raw, p &+ 16) .| hits(raw, p &+ 32)
                                                   .| hits(raw, p &+ 48)) == 0 {
                p &+= 64
                continue
            }
            var bits = ByteNeedles.hitBits(hits(raw, p))
            while bits != 0 {
                let at = p &+ bits.trailingZeroBitCount
                bits &= bits &- 1
                if let k = needle(at: at, hay, end: end) { return (at, k) }
            }
            p &+= 16
        }
        while p < end {
            if let k = needle(at: p, hay, end: end) { return (p, k) }
            p += 1
        }
        return nil
    }

    @inline(__always) private func probe(_ raw: UnsafeRawPointer, _ p: Int, _ q: Probe) -> SIMDMask<SIMD16<Int8>> {
        let x = raw.loadUnaligned(fromByteOffset: p &+ q.first, as: SIMD16<UInt8>.self)
        let y = raw.loadUnaligned(fromByteOffset: p &+ q.second, as: SIMD16<UInt8>.self)
        return (x .== q.firstByte) .& (y .== q.secondByte)
    }

    /// The needle that starts at `at`, if any.
    @inline(__always) private func needle(at: Int, _ hay: UnsafePointer<UInt8>, end: Int) -> Int? {
        for k in 0..<count {
            let q = probes[k]
            if at + q.length <= end && hay[at + q.first] == q.needle[q.first] && memcmp(hay + at, q.needle, q.length) == 0 {
                return k
            }
        }
        return nil
    }

    /// `find` by the byte all needles share, each needle tried at each of its places of
    /// it. Every place of a needle's first such byte is tried, so the byte places come in
    /// the order of the starts; still, after a first match the search goes on as far as a
    /// needle could start before it (cheap, and no proof to rely on), and the earliest
    /// start, then the lowest needle, is the answer, as `find`'s other paths give.
    private func findShared(_ hay: UnsafePointer<UInt8>, from: Int, end: Int, _ byte: UInt8) -> (at: Int, needle: Int)? {
        let raw = UnsafeRawPointer(hay)
        let wanted = SIMD16<UInt8>(repeating: byte)
        var best: (at: Int, needle: Int)? = nil
        // Places of the byte past this cannot start a needle before `best`.
        var limit = end
        let places = sharedPlaces, placeCount = sharedPlaceCount, probes = probes
        @inline(__always) func tryAt(_ j: Int) {
            for i in 0..<placeCount {
                let (k, o) = places[i]
                let q = probes[k]
                let start = j &- o
                guard start >= from, start &+ q.length <= end else { continue }
                if let b = best, start > b.at || (start == b.at && k >= b.needle) { continue }
                // Its first byte, then the rest: most places of the byte are no needle.
                guard hay[start] == q.needle[0] else { continue }
                var same = true
                for m in 1..<max(q.length, 1) where hay[start + m] != q.needle[m] { same = false; break }
                if same && !ByteNeedles.refused(q, after: start + q.length, hay, end: end) {
                    best = (start, k)
                    limit = min(limit, start + maxShared + 1)
                }
            }
        }
        var p = from
        #if arch(x86_64)
        if kernel {
            while p < limit {
                let stop = min(limit, end)
                let j = arc_shared_next_avx2(hay, p, stop, end, byte, placeCount, kernelSuffixes, kernelLengths, kernelStarts)
                if j >= stop { break }
                tryAt(j)
                p = j + 1
            }
            return best
        }
        // 32 bytes a step where the CPU has AVX2 (the shared byte as a pair with itself):
        // under --level error, the 16-byte loop below was most of the time.
        if wideShared {
            var bits: UInt32 = 0
            while p < limit {
                p = arc_pair_scan_avx2(hay, p, end, 0, 0, 0, byte, byte, 0, 0, 0, 0, 0, &bits)
                if bits == 0 { break }
                while bits != 0 {
                    let j = p &+ bits.trailingZeroBitCount
                    bits &= bits &- 1
                    if j >= limit { break }
                    tryAt(j)
                }
                p &+= 32
            }
        }
        #endif
        while p + 16 <= end && p < limit {
            let x = raw.loadUnaligned(fromByteOffset: p, as: SIMD16<UInt8>.self)
            var bits = ByteNeedles.hitBits(x .== wanted)
            while bits != 0 {
                let j = p + bits.trailingZeroBitCount
                bits &= bits - 1
                if j >= limit { break }
                tryAt(j)
            }
            p += 16
        }
        while p < end && p < limit {
            if hay[p] == byte { tryAt(p) }
            p += 1
        }
        return best
    }

    private func findRare(_ hay: UnsafePointer<UInt8>, from: Int, end: Int, at offset: Int) -> Int? {
        let q = probes[0]
        let byte = Int32(q.needle[offset])
        var i = from + offset
        while i < end {
            guard let hit = memchr(hay + i, byte, end - i) else { return nil }
            let h = hay.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            let start = h - offset
            if start + q.length <= end && memcmp(hay + start, q.needle, q.length) == 0 { return start }
            i = h + 1
        }
        return nil
    }

    /// Whether a hit of `q` ending at `i` is followed at once by `:"` and a first byte of
    /// the string value that its `valueStarts` turns down (ASCII upper case folded to lower,
    /// NUL to space, by or-ing 0x20; other bytes that fold onto a set member are only
    /// more hits). Not when the buffer ends first: the line is not all here yet.
    @inline(__always) static func refused(_ q: Probe, after i: Int, _ hay: UnsafePointer<UInt8>, end: Int) -> Bool {
        guard let starts = q.valueStarts, i + 2 < end else { return false }
        return hay[i] == UInt8(ascii: ":") && hay[i + 1] == UInt8(ascii: "\"") && !starts[Int(hay[i + 2] | 0x20)]
    }

    /// The lanes of a block that hit, one bit each; 0 at once for a block without a hit,
    /// the common case (two 64-bit halves or-ed: Swift's any() on an or of masks became a
    /// chain of shuffles here, not one pmovmskb).
    @inline(__always) static func hitBits(_ m: SIMDMask<SIMD16<Int8>>) -> UInt32 {
        let halves = unsafeBitCast(m, to: SIMD2<UInt64>.self)
        return halves[0] | halves[1] == 0 ? 0 : bitmask(m)
    }

    /// One bit per lane (Swift has no movemask): each lane's bit weighed, the halves summed.
    @inline(__always) static func bitmask(_ m: SIMDMask<SIMD16<Int8>>) -> UInt32 {
        let weights = SIMD16<UInt8>(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128)
        let w = unsafeBitCast(m, to: SIMD16<UInt8>.self) & weights
        return UInt32(w.lowHalf.wrappedSum()) | UInt32(w.highHalf.wrappedSum()) << 8
    }
}

enum ByteScan {
    /// Whether this CPU runs CByteScan's AVX2 loops.
    static let avx2 = arc_has_avx2() != 0

    /// How many newlines `bytes[from..<end]` holds: the lines a prefilter passed over still
    /// count, so a line too long to keep is named by its right number.
    static func newlines(in bytes: UnsafePointer<UInt8>, from: Int, end: Int) -> Int {
        #if arch(x86_64)
        if avx2 { return end > from ? arc_count_newlines_avx2(bytes + from, end - from) : 0 }
        #endif
        let raw = UnsafeRawPointer(bytes)
        let nl = SIMD16<UInt8>(repeating: 0x0A)
        var total = 0
        var p = from
        while p + 16 <= end {
            // Lanes count down from 0 (a match is all ones, -1); 255 blocks at most before
            // a lane could wrap. Four blocks a step while they fit (the loop's own cost
            // was most of it: 6% of --tool s3x, which passes over four lines in five).
            var lanes = SIMD16<UInt8>(repeating: 0)
            var blocks = 0
            while blocks <= 255 - 4 && p + 64 <= end {
                let a = raw.loadUnaligned(fromByteOffset: p, as: SIMD16<UInt8>.self)
                let b = raw.loadUnaligned(fromByteOffset: p + 16, as: SIMD16<UInt8>.self)
                let c = raw.loadUnaligned(fromByteOffset: p + 32, as: SIMD16<UInt8>.self)
                let d = raw.loadUnaligned(fromByteOffset: p + 48, as: SIMD16<UInt8>.self)
                lanes &-= unsafeBitCast(a .== nl, to: SIMD16<UInt8>.self) &+ unsafeBitCast(b .== nl, to: SIMD16<UInt8>.self)
                lanes &-= unsafeBitCast(c .== nl, to: SIMD16<UInt8>.self) &+ unsafeBitCast(d .== nl, to: SIMD16<UInt8>.self)
                p += 64
                blocks += 4
            }
            while blocks < 255 && p + 16 <= end {
                let x = raw.loadUnaligned(fromByteOffset: p, as: SIMD16<UInt8>.self)
                lanes &-= unsafeBitCast(x .== nl, to: SIMD16<UInt8>.self)
                p += 16
                blocks += 1
            }
            let wide = SIMD16<UInt16>(truncatingIfNeeded: lanes)
            total += Int(wide.wrappedSum())
        }
        while p < end {
            if bytes[p] == 0x0A { total += 1 }
            p += 1
        }
        return total
    }

    /// The offset of the last newline in `bytes[from..<end]`: back to the start of one
    /// line, 16 bytes at a time (Swift's Glibc has no memrchr; a byte loop here was 9% of
    /// `--where symbol=ETHUSDT`, whose hit is some 190 bytes into its line).
    static func lastNewline(in bytes: UnsafePointer<UInt8>, from: Int, end: Int) -> Int? {
        let raw = UnsafeRawPointer(bytes)
        let nl = SIMD16<UInt8>(repeating: 0x0A)
        var blockEnd = end
        while blockEnd - 16 >= from {
            let x = raw.loadUnaligned(fromByteOffset: blockEnd - 16, as: SIMD16<UInt8>.self)
            let bits = ByteNeedles.hitBits(x .== nl)
            // The highest lane that holds a newline: bit 15 is the block's last byte.
            if bits != 0 { return blockEnd - 16 + (31 - bits.leadingZeroBitCount) }
            blockEnd -= 16
        }
        var i = blockEnd - 1
        while i >= from {
            if bytes[i] == 0x0A { return i }
            i -= 1
        }
        return nil
    }

    /// The offset of the first newline in `bytes[from..<end]`.
    static func firstNewline(in bytes: UnsafePointer<UInt8>, from: Int, end: Int) -> Int? {
        guard end > from, let hit = memchr(bytes + from, 0x0A, end - from) else { return nil }
        return bytes.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }
}
