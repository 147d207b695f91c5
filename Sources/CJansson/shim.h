#ifndef JWTGRANT_CJANSSON_SHIM_H
#define JWTGRANT_CJANSSON_SHIM_H
#include <jansson.h>
/* json_decref/json_incref are static inline in jansson.h and import as is. */
#endif
