#include <zlib.h>

// inflateInit2 is a macro Swift cannot import: it passes the library's version and the
// stream's size so zlib can check them.
static inline int arc_inflate_init2(z_stream *s, int windowBits) {
    return inflateInit2(s, windowBits);
}

// deflateInit2 is a macro too: the Parquet writer's GZIP pages (windowBits 31: a gzip wrapper).
static inline int arc_deflate_init2(z_stream *s, int level, int windowBits) {
    return deflateInit2(s, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
