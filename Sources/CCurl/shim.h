// libcurl is loaded when a tool first makes a transfer, not when it starts: with the ~30
// libraries it pulls in (nghttp2, ssh2, rtmp, ldap, gssapi, krb5, gnutls, ...), loading
// and relocating it was half of every tool's start-up (`--version` took 9 ms of CPU, an
// empty C program linked with -lcurl 4.9 ms). Swift calls the arc_curl_* functions below,
// each a libcurl function found with dlsym on its first call; the module links no libcurl,
// so a tool that never transfers never loads it.
//
// curl_easy_setopt and friends are variadic, which Swift cannot call: the typed
// arc_easy_setopt_* wrappers give Swift one entry point per argument type.
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

// The library once per process (dlopen counts references, so every module's copy of
// this function gets the same handle); a process that cannot load it stops as a tool
// stops when a required file cannot be reached (exit 3).
static inline void *arc_curl_symbol(const char *name) {
    static void *library;
    void *l = __atomic_load_n(&library, __ATOMIC_ACQUIRE);
    if (!l) {
        l = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_LOCAL);
        if (!l) { fprintf(stderr, "cannot load libcurl: %s\n", dlerror()); exit(3); }
        __atomic_store_n(&library, l, __ATOMIC_RELEASE);
    }
    void *f = dlsym(l, name);
    if (!f) { fprintf(stderr, "libcurl has no %s: %s\n", name, dlerror()); exit(3); }
    return f;
}

// The function `name` of libcurl, looked up once per call site's module.
#define ARC_CURL(name) ({ \
    static __typeof__(&name) cached; \
    __typeof__(&name) f = __atomic_load_n(&cached, __ATOMIC_ACQUIRE); \
    if (!f) { f = (__typeof__(&name))arc_curl_symbol(#name); __atomic_store_n(&cached, f, __ATOMIC_RELEASE); } \
    f; })

static inline CURLcode arc_curl_global_init(long flags) { return ARC_CURL(curl_global_init)(flags); }
static inline char *arc_curl_version(void) { return ARC_CURL(curl_version)(); }

static inline CURL *arc_curl_easy_init(void) { return ARC_CURL(curl_easy_init)(); }
static inline void arc_curl_easy_cleanup(CURL *h) { ARC_CURL(curl_easy_cleanup)(h); }
static inline void arc_curl_easy_reset(CURL *h) { ARC_CURL(curl_easy_reset)(h); }
static inline CURLcode arc_curl_easy_perform(CURL *h) { return ARC_CURL(curl_easy_perform)(h); }
static inline CURLcode arc_curl_easy_pause(CURL *h, int bitmask) { return ARC_CURL(curl_easy_pause)(h, bitmask); }
static inline const char *arc_curl_easy_strerror(CURLcode c) { return ARC_CURL(curl_easy_strerror)(c); }
static inline const struct curl_easyoption *arc_curl_easy_option_by_id(CURLoption id) {
    return ARC_CURL(curl_easy_option_by_id)(id);
}

static inline struct curl_slist *arc_curl_slist_append(struct curl_slist *l, const char *s) {
    return ARC_CURL(curl_slist_append)(l, s);
}
static inline void arc_curl_slist_free_all(struct curl_slist *l) { ARC_CURL(curl_slist_free_all)(l); }

static inline CURLM *arc_curl_multi_init(void) { return ARC_CURL(curl_multi_init)(); }
static inline CURLMcode arc_curl_multi_cleanup(CURLM *m) { return ARC_CURL(curl_multi_cleanup)(m); }
static inline CURLMcode arc_curl_multi_add_handle(CURLM *m, CURL *h) { return ARC_CURL(curl_multi_add_handle)(m, h); }
static inline CURLMcode arc_curl_multi_remove_handle(CURLM *m, CURL *h) { return ARC_CURL(curl_multi_remove_handle)(m, h); }
static inline CURLMcode arc_curl_multi_perform(CURLM *m, int *running) { return ARC_CURL(curl_multi_perform)(m, running); }
static inline CURLMcode arc_curl_multi_poll(CURLM *m, struct curl_waitfd *fds, unsigned int n, int ms, int *numfds) {
    return ARC_CURL(curl_multi_poll)(m, fds, n, ms, numfds);
}
static inline CURLMcode arc_curl_multi_wakeup(CURLM *m) { return ARC_CURL(curl_multi_wakeup)(m); }
static inline CURLMcode arc_curl_multi_timeout(CURLM *m, long *ms) { return ARC_CURL(curl_multi_timeout)(m, ms); }
static inline CURLMsg *arc_curl_multi_info_read(CURLM *m, int *left) { return ARC_CURL(curl_multi_info_read)(m, left); }
static inline const char *arc_curl_multi_strerror(CURLMcode c) { return ARC_CURL(curl_multi_strerror)(c); }

typedef size_t (*arc_curl_data_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef int (*arc_curl_xferinfo_cb)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                    curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode arc_easy_setopt_long(CURL *h, CURLoption o, long v) { return ARC_CURL(curl_easy_setopt)(h, o, v); }
static inline CURLcode arc_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return ARC_CURL(curl_easy_setopt)(h, o, v); }
static inline CURLcode arc_easy_setopt_ptr(CURL *h, CURLoption o, void *v) { return ARC_CURL(curl_easy_setopt)(h, o, v); }
static inline CURLcode arc_easy_setopt_str(CURL *h, CURLoption o, const char *v) { return ARC_CURL(curl_easy_setopt)(h, o, v); }
static inline CURLcode arc_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return ARC_CURL(curl_easy_setopt)(h, o, v); }
static inline CURLcode arc_easy_setopt_data_cb(CURL *h, CURLoption o, arc_curl_data_cb v) { return ARC_CURL(curl_easy_setopt)(h, o, v); }
static inline CURLcode arc_easy_setopt_xferinfo_cb(CURL *h, arc_curl_xferinfo_cb v) { return ARC_CURL(curl_easy_setopt)(h, CURLOPT_XFERINFOFUNCTION, v); }

static inline CURLcode arc_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return ARC_CURL(curl_easy_getinfo)(h, i, v); }
static inline CURLcode arc_easy_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return ARC_CURL(curl_easy_getinfo)(h, i, v); }
static inline CURLcode arc_easy_getinfo_ptr(CURL *h, CURLINFO i, void **v) { return ARC_CURL(curl_easy_getinfo)(h, i, v); }

static inline CURLMcode arc_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return ARC_CURL(curl_multi_setopt)(m, o, v); }

// CURLMsg keeps its result in a union; reading it from Swift is awkward.
static inline CURLcode arc_msg_result(CURLMsg *m) { return m->data.result; }
