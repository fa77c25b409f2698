/* http.h: the blocking HTTP transport, one reusable libcurl easy handle per
 * client so that connections and TLS sessions are kept alive. libcurl
 * callbacks only append into C buffers; nothing here calls into Lua while
 * libcurl is on the C stack. */
#ifndef IOTHUB_HTTP_H
#define IOTHUB_HTTP_H

#include <curl/curl.h>
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

struct iothub_wire;

typedef struct iothub_http {
  CURL *curl;               /* the template; runs requests itself only on the libcurl path */
  iothub_buffer body;
  iothub_buffer headers;    /* raw header lines of the last response */
  char errbuf[CURL_ERROR_SIZE];
  unsigned long connections;/* new connections opened, over the handle's life */
  long timeout_ms;
  char *user_agent;         /* owned copy */
  int direct;               /* requests go over the wire path (wire.h) */
  int last_direct;          /* the last request did */
  struct iothub_wire *wire; /* its connection and state, made on first use */
} iothub_http;

/* curl_global_init, once per process (safe if the host did it already). */
int iothub_http_global_init(void);

/* 0 on success; on failure a static message in *msg. */
int iothub_http_open(iothub_http *h, const iothub_http_opts *o, const char **msg);
void iothub_http_close(iothub_http *h);

/* A second handle with h's options and its own buffers (for a pool that
 * runs requests concurrently through a multi handle). 0 on success. */
int iothub_http_clone(iothub_http *dst, const iothub_http *src);

/* Sets up one request on the handle, without running it. */
void iothub_http_setup(iothub_http *h, const char *method, const char *url,
                       struct curl_slist *headers, const char *body, size_t body_len);

/* After a transfer: its HTTP status; forgets the request's pointers. */
long iothub_http_finish(iothub_http *h);

/* Whether a request to url goes over the wire path (no proxy configured,
 * IOTHUB_CURL_HTTP not set, an http or https URL). */
int iothub_http_direct(const iothub_http *h, const char *url);

/* Runs one request; the response lands in h->body and h->headers. */
CURLcode iothub_http_perform(iothub_http *h, const char *method, const char *url,
                             struct curl_slist *headers, const char *body,
                             size_t body_len, long *status);

/* Pushes the last response's headers as a table, names lowercased. */
void iothub_http_push_headers(lua_State *L, const iothub_http *h);

/* Pushes the error table for a failed transfer (kind transport or timeout). */
void iothub_http_push_error(lua_State *L, const iothub_http *h, CURLcode rc);

#pragma GCC visibility pop

#endif
