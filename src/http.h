/* http.h: the libcurl transport, the one file that knows libcurl (http.c).
 * An iothub_http is one easy handle with its options set once, its header
 * list (rebuilt only when the request's header lines change), and the
 * buffers its response lands in; run alone (a blocking call, kept alive
 * with its connection) or in an iothub_multi (get_jobs and the async loop,
 * see loop.h). libcurl callbacks only append into C buffers: nothing here
 * calls into Lua while libcurl is on the C stack. Outside this file a
 * request is plain core types and a failure an error table. */
#ifndef IOTHUB_HTTP_H
#define IOTHUB_HTTP_H

#include <stddef.h>
#include <time.h>
#include "buffer.h"
#include "compat.h"

/* Internal to the module: only luaopen_iothub_core is exported. */
#pragma GCC visibility push(hidden)

typedef struct iothub_http_opts {
  const char *ca_file;      /* NULL: the system CAs */
  int verify;               /* 0 only when the caller said verify = false */
  long timeout_ms;
  long connect_timeout_ms;
  const char *user_agent;
  size_t max_response_size;
} iothub_http_opts;

/* What one request sends: method, full URL, header lines ("Name: value\r\n"
 * each, as request.c builds them; they may hold the Authorization secret),
 * a body (NULL for none) and whether it must go out at most once (on a
 * fresh connection, never resent). The strings are the caller's and must
 * outlive the transfer. */
typedef struct iothub_http_request {
  const char *method;
  const char *url;
  const char *header_lines;
  size_t header_len;
  const char *body;
  size_t body_len;
  int once;
} iothub_http_request;

typedef struct iothub_http iothub_http;
typedef struct iothub_multi iothub_multi;

/* curl_global_init, once per process (safe if the host did it already). */
int iothub_http_global_init(void);
/* libcurl's version text. */
const char *iothub_http_version(void);
/* An HTTP date as epoch seconds, (time_t)-1 when it is none. */
time_t iothub_http_date(const char *s);

/* A handle with the options o (copied); NULL with a static message. */
iothub_http *iothub_http_new(const iothub_http_opts *o, const char **msg);
/* A handle with src's options and its own state; NULL when memory runs out. */
iothub_http *iothub_http_dup(const iothub_http *src);
/* Frees h (and closes its connection when it is not in a multi); its header
 * list and any secret in it are wiped. NULL is fine. */
void iothub_http_free(iothub_http *h);

/* Sets up the next request on h without running it. 0, or -1 when memory
 * runs out (h then holds no request). */
int iothub_http_prepare(iothub_http *h, const iothub_http_request *r);
/* Runs the prepared request to its end (blocking): 0 when a response came
 * (see status/body), -1 when the transfer failed (iothub_http_push_error). */
int iothub_http_perform(iothub_http *h);

/* The last response: its HTTP status and body. */
long iothub_http_status(const iothub_http *h);
const char *iothub_http_body(const iothub_http *h, size_t *len);
/* Whether the last transfer failed (no response to read). */
int iothub_http_failed(const iothub_http *h);
/* New connections h opened since the last call (for client:stats). */
unsigned long iothub_http_take_connections(iothub_http *h);
/* An opaque value kept for the caller (loop.c's transfer). */
void iothub_http_set_owner(iothub_http *h, void *owner);
void *iothub_http_owner(const iothub_http *h);

/* Pushes the last response's headers as a table, names lowercased. */
void iothub_http_push_headers(lua_State *L, const iothub_http *h);
/* Pushes the error table of a failed transfer: kind transport or timeout,
 * code, message, retryable; curl_code when libcurl itself failed. */
void iothub_http_push_error(lua_State *L, const iothub_http *h);

/* A multi handle: at most max_host connections to one host at once. NULL
 * when libcurl cannot make one. */
iothub_multi *iothub_multi_new(int max_host);
void iothub_multi_free(iothub_multi *m);
/* Changes the per-host connection limit (connections past it stay cached
 * for reuse, up to a few per slot). */
void iothub_multi_limit(iothub_multi *m, int max_host);
/* Starts h's prepared request in m; 0, or -1. */
int iothub_multi_add(iothub_multi *m, iothub_http *h);
/* Takes h out of m: a transfer still running is dropped and its connection
 * closed, never reused. */
void iothub_multi_remove(iothub_multi *m, iothub_http *h);
/* Advances every transfer without blocking; returns how many still run. */
int iothub_multi_perform(iothub_multi *m);
/* The next finished transfer (taken out of m, its outcome recorded in it),
 * or NULL. */
iothub_http *iothub_multi_done(iothub_multi *m);
/* Waits up to ms milliseconds for activity on m's transfers. */
void iothub_multi_wait(iothub_multi *m, int ms);

#pragma GCC visibility pop

#endif
