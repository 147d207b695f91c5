/* The public header compiles as strict C99 (gcc -std=c99 -Wall -Wextra -Werror -pedantic). */
#include <jwtgrant.h>
int main(void) { return JWTGRANT_VERSION_NUMBER > 0 ? 0 : 1; }
