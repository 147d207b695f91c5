#ifndef JWTGRANT_CSQLITE_SHIM_H
#define JWTGRANT_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
