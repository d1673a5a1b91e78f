// CRC-32C (Castagnoli) for S3's x-amz-checksum-crc32c, with the CPU's CRC32 instruction
// where it has one (x86-64 SSE4.2: 8 bytes a cycle or so, against MD5's ~600 MB/s), a
// table elsewhere; and the combination of two CRCs of adjacent pieces, so ranges hashed
// apart (in any order, on any thread) give the CRC of the whole. Header-only: the
// functions are static inline, compiled into the Swift module that imports them.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ARC_CRC32C_POLY 0x82F63B78u  /* reflected */
#define ARC_CRC32_POLY 0xEDB88320u   /* reflected: zlib's */

static inline uint32_t arc_crc32c_table_entry(uint32_t i) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ ARC_CRC32C_POLY : c >> 1;
    return c;
}

// The portable fallback: a byte at a time (no SSE4.2, or not x86-64).
static inline uint32_t arc_crc32c_portable(uint32_t crc, const uint8_t *p, size_t n) {
    static uint32_t table[256];
    static int ready;
    if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
        for (uint32_t i = 0; i < 256; i++) table[i] = arc_crc32c_table_entry(i);
        __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
    }
    crc = ~crc;
    while (n--) crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__)
// The compiler's builtins, not <nmmintrin.h>'s wrappers: Swift's importer emits those
// wrappers as calls to functions that do not exist.
__attribute__((target("sse4.2")))
static inline uint32_t arc_crc32c_sse42(uint32_t crc, const uint8_t *p, size_t n) {
    uint64_t c = ~crc;
    while (n && ((uintptr_t)p & 7)) { c = __builtin_ia32_crc32qi((uint32_t)c, *p++); n--; }
    // One stream: ~8 bytes per 3 cycles (the instruction's latency), over 5 GB/s; plenty
    // beside the network and the page cache.
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        n -= 8;
    }
    while (n--) c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    return ~(uint32_t)c;
}
#endif

/// The CRC-32C of `n` bytes following bytes whose CRC-32C was `crc` (0 to start).
static inline uint32_t arc_crc32c(uint32_t crc, const void *data, size_t n) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2")) return arc_crc32c_sse42(crc, (const uint8_t *)data, n);
#endif
    return arc_crc32c_portable(crc, (const uint8_t *)data, n);
}

// a * b modulo the polynomial (reflected bit order), as zlib's multmodp.
static inline uint32_t arc_crc_multmodp(uint32_t a, uint32_t b, uint32_t poly) {
    uint32_t m = 1u << 31, p = 0;
    for (;;) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0) break;
        }
        m >>= 1;
        b = b & 1 ? (b >> 1) ^ poly : b >> 1;
    }
    return p;
}

/// The CRC of A followed by B, from crc(A), crc(B) and B's length: crc(A) shifted past
/// len2 zero bytes (x^(8 len2) mod P, by squaring), then B's CRC added. Both CRC-32
/// (ARC_CRC32_POLY) and CRC-32C (ARC_CRC32C_POLY).
static inline uint32_t arc_crc_combine(uint32_t crc1, uint32_t crc2, uint64_t len2, uint32_t poly) {
    uint32_t x2n = 1u << 30;  // x^1, then x^(2^k) as k grows
    uint32_t p = 1u << 31;    // x^0
    // x^(8 len2) = product of x^(2^k) over the set bits of 8 len2 (len2 << 3).
    for (int k = 0; k < 3; k++) x2n = arc_crc_multmodp(x2n, x2n, poly);
    while (len2) {
        if (len2 & 1) p = arc_crc_multmodp(x2n, p, poly);
        len2 >>= 1;
        x2n = arc_crc_multmodp(x2n, x2n, poly);
    }
    return arc_crc_multmodp(p, crc1, poly) ^ crc2;
}

// Not a checksum: JSONScanner's quote map (Records/JSONScanner.swift, QuoteMap), here
// because this is the C header ArcCore already imports, and Swift has no movemask (its
// multiply-gathered masks cost three times the instructions, by callgrind).
#if defined(__x86_64__)
typedef uint8_t arc_json_v16u8 __attribute__((vector_size(16)));
typedef char arc_json_v16i8 __attribute__((vector_size(16)));
#define ARC_JSON_SPLAT16(b) (arc_json_v16u8){b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b}

static inline uint64_t arc_json_quote_bits16(arc_json_v16u8 x) {
    return (uint64_t)(uint16_t)__builtin_ia32_pmovmskb128((arc_json_v16i8)(x == ARC_JSON_SPLAT16(0x22)));
}

// Bytes below 0x20 or from 0x80 up (those with (byte - 0x20) mod 256 above 0x5F), and backslashes.
static inline arc_json_v16u8 arc_json_unclean16(arc_json_v16u8 x) {
    return (arc_json_v16u8)((arc_json_v16u8)(x - ARC_JSON_SPLAT16(0x20)) > ARC_JSON_SPLAT16(0x5F))
         | (arc_json_v16u8)(x == ARC_JSON_SPLAT16(0x5C));
}
#endif

/// Sets bit k of `words[k / 64]` where `p[k]` is a quote, for k < n (every word up to
/// the n-th byte's is written); returns 1 when no byte is a backslash, below 0x20 or
/// from 0x80 up.
static inline int arc_json_quote_map(const uint8_t *p, long n, uint64_t *words) {
    long i = 0;
    int clean = 1;
    uint64_t word = 0;
#if defined(__x86_64__)
    arc_json_v16u8 dirty = ARC_JSON_SPLAT16(0);
    for (; i + 64 <= n; i += 64) {
        arc_json_v16u8 a, b, c, d;
        memcpy(&a, p + i, 16);
        memcpy(&b, p + i + 16, 16);
        memcpy(&c, p + i + 32, 16);
        memcpy(&d, p + i + 48, 16);
        dirty |= arc_json_unclean16(a) | arc_json_unclean16(b) | arc_json_unclean16(c) | arc_json_unclean16(d);
        words[i >> 6] = arc_json_quote_bits16(a) | arc_json_quote_bits16(b) << 16
                      | arc_json_quote_bits16(c) << 32 | arc_json_quote_bits16(d) << 48;
    }
    for (; i + 16 <= n; i += 16) {
        arc_json_v16u8 x;
        memcpy(&x, p + i, 16);
        dirty |= arc_json_unclean16(x);
        word |= arc_json_quote_bits16(x) << (i & 63);
    }
    if (__builtin_ia32_pmovmskb128((arc_json_v16i8)dirty)) clean = 0;
#endif
    for (; i < n; i++) {
        uint8_t ch = p[i];
        word |= (uint64_t)(ch == '"') << (i & 63);
        if ((uint8_t)(ch - 0x20) > 0x5F || ch == '\\') clean = 0;
        if (((i + 1) & 63) == 0) {
            words[i >> 6] = word;
            word = 0;
        }
    }
    if (n & 63) words[n >> 6] = word;
    return clean;
}
