/* connstr.h: parsing IoT Hub connection strings
 * ("HostName=...;SharedAccessKeyName=...;SharedAccessKey=..." or one holding a
 * ready "SharedAccessSignature=..."). */
#ifndef IOTHUB_CONNSTR_H
#define IOTHUB_CONNSTR_H

#include <stddef.h>

/* Internal to the module: only luaopen_iothub_core is exported. */
#pragma GCC visibility push(hidden)

typedef struct iothub_connstr {
  char *host_name;
  char *key_name;
  unsigned char *key;      /* decoded key bytes; wiped by iothub_connstr_free */
  size_t key_len;
  char *signature;         /* a ready token, not renewable */
} iothub_connstr;

/* Parses s into cs (zeroed first). Returns NULL on success, or a static
 * message naming what is wrong (never any part of the key). */
const char *iothub_connstr_parse(iothub_connstr *cs, const char *s, size_t len);
void iothub_connstr_free(iothub_connstr *cs);

/* Checks s[0..n) is "host[:port]" (a DNS name, IPv4 or [IPv6] address, port
 * 1..65535) with nothing that could change a request line or target: NULL
 * when it is, else a static phrase saying what is wrong (never s itself,
 * which may hold a password). Shared by HostName and the endpoint option. */
const char *iothub_authority_check(const char *s, size_t n);

#pragma GCC visibility pop

#endif
