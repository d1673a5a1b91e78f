#include <zlib.h>

// inflateInit2 is a macro Swift cannot import: it passes the library's version and the
// stream's size so zlib can check them.
static inline int arc_inflate_init2(z_stream *s, int windowBits) {
    return inflateInit2(s, windowBits);
}
