/* wire.h: HTTP/1.1 written and read by the core itself over a connection that
 * libcurl opened (CURLOPT_CONNECT_ONLY). libcurl still resolves, connects,
 * does TLS and checks certificates; the core skips libcurl's per-request
 * machinery (request formatting through its printf engine, header parsing,
 * the multi state machine), which cost more than half of a call's
 * instructions. Requests advance without blocking, so one thread can drive
 * many connections with poll(). */
#ifndef IOTHUB_WIRE_H
#define IOTHUB_WIRE_H

#include <curl/curl.h>
#include "buffer.h"
#include "http.h"

/* Internal to the module: only luaopen_iothub_core is exported. */
#pragma GCC visibility push(hidden)

/* What a request waits for after iothub_wire_step. */
enum { IOTHUB_WIRE_DONE = 0, IOTHUB_WIRE_READ = 1, IOTHUB_WIRE_WRITE = 2 };

/* Whether a URL can go over the wire path (http or https, no user info). */
int iothub_wire_supports(const char *url);

/* Starts a request on h: formats it, and connects when h has no live
 * connection to the URL's origin (blocking, within the connect timeout).
 * CURLE_OK, or the error of the connect with h->errbuf set. */
CURLcode iothub_wire_start(iothub_http *h, const char *method, const char *url,
                           const struct curl_slist *headers, const char *body, size_t body_len);

/* Connects, in parallel, those of the n handles that have no live
 * connection to url's origin, so that the first round of many requests
 * costs one handshake's time. A failed connect is kept for the handle's
 * next iothub_wire_start to report. */
void iothub_wire_connect_all(iothub_http **hs, int n, const char *url);

/* Advances the request as far as it can without blocking. Returns
 * IOTHUB_WIRE_DONE with the outcome in *rc, or what to wait for on *fd.
 * Checks the request's deadline. */
int iothub_wire_step(iothub_http *h, CURLcode *rc, curl_socket_t *fd);

/* The HTTP status of the last finished request (0 if none). */
long iothub_wire_status(const iothub_http *h);

/* Milliseconds left before the request's deadline (at least 0). */
int iothub_wire_ms_left(const iothub_http *h);

/* Runs one request to the end, waiting with poll(). */
CURLcode iothub_wire_perform(iothub_http *h, const char *method, const char *url,
                             const struct curl_slist *headers, const char *body,
                             size_t body_len, long *status);

/* Closes the connection, if any, and frees the wire state. */
void iothub_wire_free(iothub_http *h);

#pragma GCC visibility pop

#endif
