/* util.h: clocks, sleeping and random request ids, shared by the core and
 * exposed to Lua (so wait loops need no extra rock on any Lua). */
#ifndef IOTHUB_UTIL_H
#define IOTHUB_UTIL_H

/* Internal to the module: only luaopen_iothub_core is exported. */
#pragma GCC visibility push(hidden)

#include <stdint.h>

/* 16 random bytes. */
void iothub_uuid_bytes(unsigned char b[16]);
/* A random (version 4) UUID, lowercase, into out[37]. */
void iothub_uuid(char out[37]);

/* Request ids: unique, not secret. A random seed drawn once and a counter
 * mixed into it give UUID-shaped ids at a fraction of a random UUID's cost. */
typedef struct iothub_idgen {
  unsigned char seed[16];
  uint64_t counter;
} iothub_idgen;
void iothub_idgen_init(iothub_idgen *g);
void iothub_idgen_next(iothub_idgen *g, char out[37]);
/* Wall-clock seconds since the epoch, with fractions. */
double iothub_now(void);
/* Seconds from an arbitrary start, never going back. */
double iothub_monotonic(void);
/* Sleeps for the given seconds (interrupted sleeps resume). */
void iothub_sleep(double seconds);

#pragma GCC visibility pop

#endif
