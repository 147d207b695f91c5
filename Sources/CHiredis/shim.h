#ifndef JWTGRANT_CHIREDIS_SHIM_H
#define JWTGRANT_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
