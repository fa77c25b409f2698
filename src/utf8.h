/* utf8.h: strict UTF-8 validation (RFC 3629: no over-long forms, no
 * surrogates, nothing above U+10FFFF), the same on every Lua version. */
#ifndef IOTHUB_UTF8_H
#define IOTHUB_UTF8_H

#include <stddef.h>

/* Internal to the module: only luaopen_iothub_core is exported. */
#pragma GCC visibility push(hidden)

/* The offset of the first byte that is not part of valid UTF-8, or len when
 * all of s is valid. */
size_t iothub_utf8_check(const unsigned char *s, size_t len);

#pragma GCC visibility pop

#endif
