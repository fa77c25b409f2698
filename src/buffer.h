/* buffer.h: a growable byte buffer with a hard size limit, used for response
 * bodies and headers (filled from libcurl callbacks, so it never touches Lua)
 * and for secrets (tokens, header lines with the Authorization), which are
 * wiped from every block they occupied. */
#ifndef IOTHUB_BUFFER_H
#define IOTHUB_BUFFER_H

#include <stddef.h>

/* Internal to the module: only luaopen_iothub_core is exported. */
#pragma GCC visibility push(hidden)

typedef struct iothub_buffer {
  char *data;
  size_t len;
  size_t cap;
  size_t limit;   /* appends past this fail; 0 = no limit */
  int secret;     /* set before the first append: growing and freeing wipe */
} iothub_buffer;

/* Appends n bytes and keeps a NUL after them; returns 0 on success,
 * -1 when memory runs out or the limit would be passed. */
int iothub_buffer_append(iothub_buffer *b, const void *p, size_t n);
int iothub_buffer_append_str(iothub_buffer *b, const char *s);
void iothub_buffer_reset(iothub_buffer *b);
/* Frees the storage; wipes it first when it may have held a secret (wipe,
 * or the buffer is marked secret). */
void iothub_buffer_free(iothub_buffer *b, int wipe);

#pragma GCC visibility pop

#endif
