// libcrypto is loaded when a tool first hashes or signs, not when it starts: relocating
// its 5 MB and running its initialisers cost 0.75 ms of every start-up, `--version`
// included (see CCurl's shim). Swift calls the arc_* functions below, each a libcrypto
// function found with dlsym on its first call; the module links no libcrypto.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/opensslv.h>
#include <openssl/sha.h>
#include <openssl/md5.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#if OPENSSL_VERSION_MAJOR != 3
#error "the soname below is OpenSSL 3's: these headers are of another"
#endif

// The library these headers describe, once per process; one that cannot be loaded stops
// the tool (exit 3).
static inline void *arc_crypto_symbol(const char *name) {
    static void *library;
    void *l = __atomic_load_n(&library, __ATOMIC_ACQUIRE);
    if (!l) {
        l = dlopen("libcrypto.so.3", RTLD_LAZY | RTLD_LOCAL);
        if (!l) { fprintf(stderr, "cannot load libcrypto: %s\n", dlerror()); exit(3); }
        __atomic_store_n(&library, l, __ATOMIC_RELEASE);
    }
    void *f = dlsym(l, name);
    if (!f) { fprintf(stderr, "libcrypto has no %s: %s\n", name, dlerror()); exit(3); }
    return f;
}

// The function `name` of libcrypto, looked up once per call site's module.
#define ARC_CRYPTO(name) ({ \
    static __typeof__(&name) cached; \
    __typeof__(&name) f = __atomic_load_n(&cached, __ATOMIC_ACQUIRE); \
    if (!f) { f = (__typeof__(&name))arc_crypto_symbol(#name); __atomic_store_n(&cached, f, __ATOMIC_RELEASE); } \
    f; })

static inline const EVP_MD *arc_EVP_sha256(void) { return ARC_CRYPTO(EVP_sha256)(); }
static inline const EVP_MD *arc_EVP_md5(void) { return ARC_CRYPTO(EVP_md5)(); }
static inline EVP_MD_CTX *arc_EVP_MD_CTX_new(void) { return ARC_CRYPTO(EVP_MD_CTX_new)(); }
static inline void arc_EVP_MD_CTX_free(EVP_MD_CTX *c) { ARC_CRYPTO(EVP_MD_CTX_free)(c); }
static inline int arc_EVP_DigestInit_ex(EVP_MD_CTX *c, const EVP_MD *type, ENGINE *impl) {
    return ARC_CRYPTO(EVP_DigestInit_ex)(c, type, impl);
}
static inline int arc_EVP_DigestUpdate(EVP_MD_CTX *c, const void *d, size_t n) { return ARC_CRYPTO(EVP_DigestUpdate)(c, d, n); }
static inline int arc_EVP_DigestFinal_ex(EVP_MD_CTX *c, unsigned char *md, unsigned int *s) {
    return ARC_CRYPTO(EVP_DigestFinal_ex)(c, md, s);
}
static inline unsigned char *arc_HMAC(const EVP_MD *md, const void *key, int keyLength, const unsigned char *data,
                                      size_t count, unsigned char *out, unsigned int *outLength) {
    return ARC_CRYPTO(HMAC)(md, key, keyLength, data, count, out, outLength);
}
