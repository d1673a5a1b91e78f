#include <libpq-fe.h>

// The PG_DIAG_* field codes are character-literal macros Swift does not import.
static const int arc_pg_diag_sqlstate = PG_DIAG_SQLSTATE;
static const int arc_pg_diag_message_primary = PG_DIAG_MESSAGE_PRIMARY;
static const int arc_pg_diag_message_detail = PG_DIAG_MESSAGE_DETAIL;
