// libpq is loaded when a tool first connects to PostgreSQL, not when it starts: it pulls
// in ~20 libraries (ldap, gssapi, krb5, ssl, ...), and every tool links it for a state
// that is usually a SQLite file (see CCurl's shim for the numbers). Swift calls the
// arc_PQ* functions below, each a libpq function found with dlsym on its first call; the
// module links no libpq.
#include <postgresql/libpq-fe.h> // no pkg-config: its -I/usr/include/postgresql, spelled out
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

// The library once per process; one that cannot be loaded stops the tool (exit 3), as a
// server that cannot be reached does.
static inline void *arc_pq_symbol(const char *name) {
    static void *library;
    void *l = __atomic_load_n(&library, __ATOMIC_ACQUIRE);
    if (!l) {
        l = dlopen("libpq.so.5", RTLD_LAZY | RTLD_LOCAL);
        if (!l) { fprintf(stderr, "cannot load libpq: %s\n", dlerror()); exit(3); }
        __atomic_store_n(&library, l, __ATOMIC_RELEASE);
    }
    void *f = dlsym(l, name);
    if (!f) { fprintf(stderr, "libpq has no %s: %s\n", name, dlerror()); exit(3); }
    return f;
}

// The function `name` of libpq, looked up once per call site's module.
#define ARC_PQ(name) ({ \
    static __typeof__(&name) cached; \
    __typeof__(&name) f = __atomic_load_n(&cached, __ATOMIC_ACQUIRE); \
    if (!f) { f = (__typeof__(&name))arc_pq_symbol(#name); __atomic_store_n(&cached, f, __ATOMIC_RELEASE); } \
    f; })

static inline PGconn *arc_PQconnectdbParams(const char *const *keywords, const char *const *values, int expand) {
    return ARC_PQ(PQconnectdbParams)(keywords, values, expand);
}
static inline void arc_PQfinish(PGconn *c) { ARC_PQ(PQfinish)(c); }
static inline PQconninfoOption *arc_PQconninfoParse(const char *conninfo, char **errmsg) {
    return ARC_PQ(PQconninfoParse)(conninfo, errmsg);
}
static inline void arc_PQconninfoFree(PQconninfoOption *o) { ARC_PQ(PQconninfoFree)(o); }
static inline ConnStatusType arc_PQstatus(const PGconn *c) { return ARC_PQ(PQstatus)(c); }
static inline PGTransactionStatusType arc_PQtransactionStatus(const PGconn *c) { return ARC_PQ(PQtransactionStatus)(c); }
static inline char *arc_PQerrorMessage(const PGconn *c) { return ARC_PQ(PQerrorMessage)(c); }
static inline int arc_PQsocket(const PGconn *c) { return ARC_PQ(PQsocket)(c); }
static inline PQnoticeProcessor arc_PQsetNoticeProcessor(PGconn *c, PQnoticeProcessor p, void *arg) {
    return ARC_PQ(PQsetNoticeProcessor)(c, p, arg);
}
static inline PGresult *arc_PQexec(PGconn *c, const char *query) { return ARC_PQ(PQexec)(c, query); }
static inline PGresult *arc_PQexecParams(PGconn *c, const char *command, int nParams, const Oid *types,
                                         const char *const *values, const int *lengths, const int *formats,
                                         int resultFormat) {
    return ARC_PQ(PQexecParams)(c, command, nParams, types, values, lengths, formats, resultFormat);
}
static inline int arc_PQconsumeInput(PGconn *c) { return ARC_PQ(PQconsumeInput)(c); }
static inline PGnotify *arc_PQnotifies(PGconn *c) { return ARC_PQ(PQnotifies)(c); }
static inline ExecStatusType arc_PQresultStatus(const PGresult *r) { return ARC_PQ(PQresultStatus)(r); }
static inline char *arc_PQresultErrorMessage(const PGresult *r) { return ARC_PQ(PQresultErrorMessage)(r); }
static inline char *arc_PQresultErrorField(const PGresult *r, int code) { return ARC_PQ(PQresultErrorField)(r, code); }
static inline int arc_PQntuples(const PGresult *r) { return ARC_PQ(PQntuples)(r); }
static inline int arc_PQnfields(const PGresult *r) { return ARC_PQ(PQnfields)(r); }
static inline char *arc_PQfname(const PGresult *r, int field) { return ARC_PQ(PQfname)(r, field); }
static inline char *arc_PQcmdTuples(PGresult *r) { return ARC_PQ(PQcmdTuples)(r); }
static inline char *arc_PQgetvalue(const PGresult *r, int row, int field) { return ARC_PQ(PQgetvalue)(r, row, field); }
static inline int arc_PQgetisnull(const PGresult *r, int row, int field) { return ARC_PQ(PQgetisnull)(r, row, field); }
static inline void arc_PQclear(PGresult *r) { ARC_PQ(PQclear)(r); }
static inline void arc_PQfreemem(void *p) { ARC_PQ(PQfreemem)(p); }

// The PG_DIAG_* field codes are character-literal macros Swift does not import.
static const int arc_pg_diag_sqlstate = PG_DIAG_SQLSTATE;
static const int arc_pg_diag_message_primary = PG_DIAG_MESSAGE_PRIMARY;
static const int arc_pg_diag_message_detail = PG_DIAG_MESSAGE_DETAIL;
