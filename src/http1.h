/* http1.h: a sans-I/O HTTP/1.1 codec for transports that own their sockets
 * (nginx cosockets). It formats a request's bytes and reads a response fed
 * in whatever pieces arrive, with strict framing: an HTTP/1.0 or 1.1 status
 * line, a status >= 100, interim 1xx answers skipped but bounded, exactly
 * one decimal Content-Length or chunked (hex sizes, CRLF after every chunk,
 * bounded size lines and trailers), header line, header block and body
 * limits, and the keep-alive decision. No libcurl, no Lua, no sockets: the
 * fuzzer links src/http1.c alone. The reader started as src/wire.c's (a
 * copy, so the fixes its fuzzing found carry over). */
#ifndef IOTHUB_HTTP1_H
#define IOTHUB_HTTP1_H

#include <stddef.h>
#include "defaults.h"

/* Internal to the module: only luaopen_iothub_core is exported. */
#pragma GCC visibility push(hidden)

#define IOTHUB_H1_HEAD_LIMIT IOTHUB_MAX_HEADER_BYTES  /* status line and headers, as the libcurl path */
#define IOTHUB_H1_LINE_LIMIT (100 * 1024)   /* one header line, as libcurl's CURL_MAX_HTTP_HEADER */
#define IOTHUB_H1_CHUNK_LINE_LIMIT 4096     /* a chunk-size or trailer line */
#define IOTHUB_H1_MAX_INTERIM 8             /* 1xx answers before the final one */

/* What feed and eof return. */
enum { IOTHUB_H1_ERROR = -1, IOTHUB_H1_MORE = 0, IOTHUB_H1_DONE = 1 };

/* Why a request could not be formatted or a response was refused. */
enum iothub_h1_error {
  IOTHUB_H1_OK = 0,
  IOTHUB_H1_E_INVALID,        /* request: CR, LF, NUL (or SP where it splits) in a part */
  IOTHUB_H1_E_NOMEM,
  IOTHUB_H1_E_PROTOCOL,       /* response: not HTTP/1.x as the rules say */
  IOTHUB_H1_E_HEAD_TOO_LARGE, /* a header line or the header block over its limit */
  IOTHUB_H1_E_BODY_TOO_LARGE, /* the body over max_body */
  IOTHUB_H1_E_EMPTY,          /* the connection closed before any byte */
  IOTHUB_H1_E_CLOSED          /* the connection closed mid-response */
};

/* A growable byte string; the codec's own, so it needs no other file. */
typedef struct iothub_h1_bytes {
  char *data;
  size_t len, cap;
} iothub_h1_bytes;

/* Frees b's storage, wiping it first (a request holds the signature). */
void iothub_h1_bytes_free(iothub_h1_bytes *b);

/* Request bytes: begin (request line and Host), any header lines, then end
 * (Content-Length when with_length, the blank line and the body). Each
 * returns IOTHUB_H1_OK, IOTHUB_H1_E_INVALID (out is then unchanged past
 * what was valid; start again) or IOTHUB_H1_E_NOMEM. The method must be a
 * token; target and host must not hold CR, LF, NUL, SP or other controls;
 * a header name must be a token and its value must not hold CR, LF or NUL. */
int iothub_h1_request_begin(iothub_h1_bytes *out, const char *method, size_t method_len,
                            const char *target, size_t target_len, const char *host, size_t host_len);
int iothub_h1_request_header(iothub_h1_bytes *out, const char *name, size_t name_len,
                             const char *value, size_t value_len);
int iothub_h1_request_end(iothub_h1_bytes *out, const char *body, size_t body_len, int with_length);

/* The response reader. Set max_body (0: no limit) and head_request before
 * iothub_h1_reader_init's caller feeds it; everything else is its own. */
typedef struct iothub_h1_reader {
  size_t max_body;
  int head_request;           /* a HEAD request: no body follows the head */
  /* read only, after DONE */
  int status;                 /* the final status (100..999) */
  int keep_alive;             /* the connection may carry another request */
  iothub_h1_bytes head;       /* the final head as sent, then any trailer lines */
  iothub_h1_bytes body;
  size_t received;            /* bytes fed so far */
  size_t length;              /* after DONE: how many of them the response took */
  enum iothub_h1_error error; /* after ERROR: why, and message says it in words */
  char message[96];
  /* private */
  int state, minor, interim, chunked_keep;
  iothub_h1_bytes in;         /* fed bytes not parsed yet */
  size_t in_off, scan;        /* parsed up to; the current head line starts at */
  size_t remaining;           /* of the Content-Length or the chunk */
  size_t trailer_bytes;
} iothub_h1_reader;

/* Ready to read the answer to a request (HEAD when head_request). */
void iothub_h1_reader_init(iothub_h1_reader *r, size_t max_body, int head_request);
void iothub_h1_reader_free(iothub_h1_reader *r);

/* Hands over the next n bytes that arrived. IOTHUB_H1_MORE: the response
 * goes on; IOTHUB_H1_DONE: it is complete (bytes fed past its end, now or
 * later, only clear keep_alive); IOTHUB_H1_ERROR: refused, see error. */
int iothub_h1_feed(iothub_h1_reader *r, const char *p, size_t n);

/* The connection closed: DONE when that ends the response (a body framed
 * by the close, or one already complete), else ERROR. */
int iothub_h1_eof(iothub_h1_reader *r);

/* Walks the header lines of r->head (status line skipped, trailers
 * included): 1 with the next name and value (whitespace trimmed), 0 at the
 * end. *pos starts at 0. */
int iothub_h1_next_header(const iothub_h1_reader *r, size_t *pos, const char **name, size_t *name_len,
                          const char **value, size_t *value_len);

#pragma GCC visibility pop

#endif
