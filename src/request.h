/* request.h: one HTTP request of the core, as every transport builds it: read
 * and checked from Lua values, its header list (auth, Accept, request id,
 * content type, extras), its URL, and the Lua results of its response. None
 * of this does I/O. */
#ifndef IOTHUB_REQUEST_H
#define IOTHUB_REQUEST_H

#include "buffer.h"
#include "compat.h"
#include "http.h"

/* Internal to the module: only luaopen_iothub_core is exported. */
#pragma GCC visibility push(hidden)

/* One request: method, target ("/path?query", already encoded), an extra
 * headers table (stack index, 0 for none) and a body. Strings are owned by
 * the Lua values they were read from. */
typedef struct iothub_request {
  const char *method;
  const char *target;
  const char *body;
  size_t body_len;
  int headers;
  int max_depth;                /* of the response's JSON (0: default) */
  int once;                     /* a create: sent at most once (http.h) */
  char request_id[37];
  iothub_buffer header_lines;   /* "Name: value\r\n" each; holds the SAS: wiped when freed */
} iothub_request;

/* Reads a request from the given stack slots and checks it. Raises on
 * programmer errors: CR, LF or NUL where they would split the request,
 * header names with ':', non-string header names or values. */
void iothub_request_read(lua_State *L, int method, int target, int headers, int body,
                         iothub_request *r);

/* Builds r->header_lines with r->request_id (set by the caller); auth_line ("Authorization:
 * ...") may be NULL. Never raises; -1 when memory runs out. */
int iothub_request_headers(lua_State *L, iothub_request *r, const char *auth_line);

/* Frees r's header lines, wiping them (they hold the Authorization). */
void iothub_request_free(iothub_request *r);

/* The transport's view of r, sent to url. */
void iothub_request_http(const iothub_request *r, const char *url, iothub_http_request *out);

/* endpoint .. target into url (the caller frees it); 0 on success. */
int iothub_request_url(const char *endpoint, const iothub_request *r, iothub_buffer *url);

/* Pushes `value, headers, status` (2xx) or `nil, err` for a response and
 * returns how many; headers is the absolute index of the header table and
 * max_depth the JSON nesting limit (0: the default). */
int iothub_response_push(lua_State *L, long status, int headers, const char *body, size_t len,
                         const char *request_id, int max_depth);

/* The same for a finished transfer on h (transport errors included);
 * leaves only the results on the stack. */
int iothub_transfer_push(lua_State *L, const iothub_http *h, const iothub_request *r);

#pragma GCC visibility pop

#endif
