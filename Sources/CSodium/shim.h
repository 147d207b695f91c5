#ifndef JWTGRANT_CSODIUM_SHIM_H
#define JWTGRANT_CSODIUM_SHIM_H
#include <sodium.h>
#endif
