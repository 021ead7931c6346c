#ifndef CSQLITE3_SHIM_H
#define CSQLITE3_SHIM_H
#include <sqlite3.h>

/// sqlite3_config is variadic, so Swift cannot call it directly. Turning memory statistics off
/// removes a global mutex from every allocation SQLite makes; it must run before the library is
/// first used (it returns SQLITE_MISUSE afterwards, which is harmless).
static inline int oemsync_sqlite3_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
#endif
