/* errors.h: the error tables of the API contract (kind, status, code,
 * error_code, message, request_id, tracking_id, retry_after, retryable) and
 * the parser that reads them out of HTTP error responses. */
#ifndef IOTHUB_ERRORS_H
#define IOTHUB_ERRORS_H

#include <stddef.h>
#include "compat.h"

/* Internal to the module: only luaopen_iothub_core is exported. */
#pragma GCC visibility push(hidden)

#define IOTHUB_ERROR_MT "iothub.error"

/* Creates the shared error metatable (idempotent). */
void iothub_errors_init(lua_State *L);

/* Pushes a new error table of the given kind and message. */
void iothub_error_push(lua_State *L, const char *kind, const char *message);

/* Sets err[field] = s when it is not set yet (err is an absolute index). */
void iothub_error_set_str(lua_State *L, int err, const char *field, const char *s, size_t n);

/* Pushes the error for an HTTP response with a non-2xx status: code and
 * messages from the iothub-errorcode header and from any of the known body
 * shapes (service shapes 1-4, ARM ErrorDetails, {"error":{...}}, AAD), the
 * request and tracking ids, retry_after from the retry headers, retryable.
 * headers is the absolute index of the response header table. */
void iothub_error_from_response(lua_State *L, long status, int headers,
                                const char *body, size_t len);

/* Whether an HTTP status or a numeric IoT Hub error code is transient. */
int iothub_error_transient(long status, long long error_code);

#pragma GCC visibility pop

#endif
