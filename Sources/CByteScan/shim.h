// telem-log's prefilter loops with AVX2 where the CPU has it (checked at run time): the
// Swift code is built for plain SSE2, 16 bytes a step; these take 32. Header-only, static
// inline, compiled into the module that imports them (as CChecksum). GCC vector types and
// the compiler's builtins, not <immintrin.h>'s wrappers, which Swift's importer emits as
// calls to functions that do not exist.
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
typedef uint8_t arc_v32u8 __attribute__((vector_size(32)));
typedef char arc_v32i8 __attribute__((vector_size(32)));
// A vector literal, not a loop that stores each lane (which stayed a loop, every call).
#define ARC_SPLAT8(b) b, b, b, b, b, b, b, b
#define ARC_SPLAT32(b) (arc_v32u8){ARC_SPLAT8(b), ARC_SPLAT8(b), ARC_SPLAT8(b), ARC_SPLAT8(b)}

/// The start `p` (from `from`, in steps of 32, while `p + reach + 32 <= end`) of the first
/// block of 32 starts where needle 1's byte `a1` is at offset `f1` and `b1` at `s1`, or,
/// with `two`, needle 2's `a2` at `f2` and `b2` at `s2`; its starts that hit in `*bits`
/// (bit k: start p + k). Returns the first block start not searched when there is no hit.
__attribute__((target("avx2")))
static inline long arc_pair_scan_avx2(const uint8_t *hay, long from, long end, long reach,
                                      long f1, long s1, uint8_t a1, uint8_t b1,
                                      int two, long f2, long s2, uint8_t a2, uint8_t b2, uint32_t *bits) {
    arc_v32u8 va1 = ARC_SPLAT32(a1), vb1 = ARC_SPLAT32(b1), va2 = ARC_SPLAT32(a2), vb2 = ARC_SPLAT32(b2);
    long p = from;
    while (p + reach + 32 <= end) {
        arc_v32u8 x, y;
        memcpy(&x, hay + p + f1, 32);
        memcpy(&y, hay + p + s1, 32);
        arc_v32u8 m = (arc_v32u8)((x == va1) & (y == vb1));
        if (two) {
            memcpy(&x, hay + p + f2, 32);
            memcpy(&y, hay + p + s2, 32);
            m |= (arc_v32u8)((x == va2) & (y == vb2));
        }
        uint32_t mask = (uint32_t)__builtin_ia32_pmovmskb256((arc_v32i8)m);
        if (mask) { *bits = mask; return p; }
        p += 32;
    }
    *bits = 0;
    return p;
}

/// The first place `j` in `[from, stop)` of `byte` that may start a hit of ByteNeedles'
/// needles that share it, or `stop`. A place is passed over only when, for every needle
/// place k (the needle's bytes after its shared byte: `suffix[k]`, `len[k]` bytes), the
/// bytes after `j` are not that suffix, or they are and are followed by `:"` and a byte
/// that, or-ed with 0x20, `starts[k]` (256 entries; NULL: none) holds 0 for: a level key
/// whose string value ranks too low (ByteNeedles.refused). Reads stay before `end`.
__attribute__((target("avx2")))
static inline long arc_shared_next_avx2(const uint8_t *hay, long from, long stop, long end, uint8_t byte,
                                        long places, const uint8_t *const *suffix, const long *len,
                                        const uint8_t *const *starts) {
    arc_v32u8 want = ARC_SPLAT32(byte);
    long p = from;
    for (;;) {
        uint64_t mask;
        if (p + 64 <= end) {
            // 64 bytes a step: the byte is in one block of 64 in three here.
            arc_v32u8 x, y;
            memcpy(&x, hay + p, 32);
            memcpy(&y, hay + p + 32, 32);
            mask = (uint32_t)__builtin_ia32_pmovmskb256((arc_v32i8)(x == want))
                | (uint64_t)(uint32_t)__builtin_ia32_pmovmskb256((arc_v32i8)(y == want)) << 32;
        } else {
            if (p >= stop) return stop;
            mask = 0;
            for (long i = 0; i < 64 && p + i < end; i++) mask |= (uint64_t)(hay[p + i] == byte) << i;
        }
        while (mask) {
            long j = p + __builtin_ctzll(mask);
            mask &= mask - 1;
            if (j >= stop) return stop;
            for (long k = 0; k < places; k++) {
                long i = j + 1 + len[k];
                if (i > end) continue;
                // By hand: the suffixes are a few bytes, and a call to memcmp a place was
                // as slow as the search.
                const uint8_t *s = suffix[k], *h = hay + j + 1;
                long m = 0;
                while (m < len[k] && h[m] == s[m]) m++;
                if (m < len[k]) continue;
                if (starts[k] && i + 2 < end && hay[i] == ':' && hay[i + 1] == '"' && !starts[k][hay[i + 2] | 0x20]) continue;
                return j;
            }
        }
        p += 64;
        if (p >= stop) return stop;
    }
}

/// How many newlines `p[0..<n]` holds.
__attribute__((target("avx2,popcnt")))
static inline long arc_count_newlines_avx2(const uint8_t *p, long n) {
    arc_v32u8 nl = ARC_SPLAT32('\n');
    long total = 0, i = 0;
    for (; i + 64 <= n; i += 64) {
        arc_v32u8 x, y;
        memcpy(&x, p + i, 32);
        memcpy(&y, p + i + 32, 32);
        uint64_t lo = (uint32_t)__builtin_ia32_pmovmskb256((arc_v32i8)(x == nl));
        uint64_t hi = (uint32_t)__builtin_ia32_pmovmskb256((arc_v32i8)(y == nl));
        total += __builtin_popcountll(lo | hi << 32);
    }
    for (; i < n; i++) total += p[i] == '\n';
    return total;
}
#endif

/// Whether the AVX2 loops above may run here.
static inline int arc_has_avx2(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
#else
    return 0;
#endif
}
