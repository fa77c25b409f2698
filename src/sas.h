/* sas.h: shared access signatures for the IoT Hub service API
 * (wire-protocol.md section 2), and the encoding helpers they need. */
#ifndef IOTHUB_SAS_H
#define IOTHUB_SAS_H

#include <stddef.h>
#include "buffer.h"

/* Internal to the module: only luaopen_iothub_core is exported. */
#pragma GCC visibility push(hidden)

/* Strict base64 decode (standard alphabet, padding required, no spaces).
 * Returns a malloc'd buffer and its length in *out_len, or NULL when the
 * input is not base64. */
unsigned char *iothub_base64_decode(const char *s, size_t len, size_t *out_len);

/* Appends the base64 encoding of p[0..n) to b; 0 on success. */
int iothub_base64_append(iothub_buffer *b, const unsigned char *p, size_t n);

/* Appends s[0..n) percent-encoded (RFC 3986: unreserved kept) to b. */
int iothub_percent_append(iothub_buffer *b, const char *s, size_t n);

/* base64(HMAC-SHA256(key, msg)) appended to b; 0 on success. */
int iothub_hmac_sha256_b64(iothub_buffer *b, const unsigned char *key, size_t key_len,
                           const char *msg, size_t msg_len);

/* Builds "SharedAccessSignature sr=..&sig=..&se=..&skn=.." into b (reset
 * first). The resource is signed as given (not lowercased), like the Node,
 * Python and .NET SDKs. Intermediate buffers are wiped. 0 on success. */
int iothub_sas_token(iothub_buffer *b, const unsigned char *key, size_t key_len,
                     const char *resource, long long expiry, const char *policy);

#pragma GCC visibility pop

#endif
