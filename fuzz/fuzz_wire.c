/* fuzz_wire.c: the core's own HTTP/1.1 response reader (src/wire.c), with
 * no socket. wire.c is included here so that its static state machine is
 * reachable (the Makefile links the rest of the core without it). Bytes are
 * handed over the way iothub_wire_step hands over what curl_easy_recv
 * returned: appended to w->in, parse(), finish() once the response is done,
 * else compact(); on_close() when the stream ends first. No curl handle
 * exists: disconnect() only cleans up a handle that is there. The loop
 * mirrors the receiving half of iothub_wire_step: keep the two in step.
 *
 * Input: byte 0 flags, byte 1 the arrivals, then the rest R.
 *
 *   flags bit 0      HEAD instead of GET
 *   flags bits 1-2   max_response_size: 16 MiB, 1024, 64 or 5 bytes
 *   flags bit 3      raw: R's first head, then the rest of R repeated, to
 *                    300 KiB (head, line, header and body limits)
 *   flags bit 4      framed: a 1xx response first
 *   flags bit 5      framed: junk after the response
 *   flags bit 6      framed: bare LF line endings
 *   flags bit 7      framed: chunk-size spellings, extensions, trailers
 *   arrivals bits 0-2  largest arrival: 16384 (all at once), 1, 2, 3, 7,
 *                      64, 1000, 4096 bytes; bits 3-7 seed the sizes
 *
 * Raw: R is what the server sends, then it closes. Invariants: the request
 * ends (finished or failed); while it runs, the reader holds at most a
 * head's or a line's worth of unparsed bytes, and none mid-body, and reads
 * nothing past the bytes received (ASan, with w->in's slack poisoned); on
 * success the status is 200..999 (below 100 is not a status: libcurl
 * rejects it; 600..999 libcurl accepts, and so does the reader), the body
 * is within max_response_size, empty for HEAD, 204 and 304, as long as a
 * Content-Length without Transfer-Encoding says, and ends at the close when
 * nothing frames it; bytes left past the response, or a body ended by the
 * close, leave the connection unused after; a failure has no status and
 * one of the reader's error codes. When R is not repeated and at most
 * LINE_LIMIT bytes (so no limit depends on how bytes arrive), the outcome
 * all at once equals the outcome in the arrivals byte 1 chose.
 *
 * Framed (differential): R is a body, framed four ways by the flags and a
 * generator seeded from bytes 0 and 1: Content-Length, chunked (chunk
 * sizes from the generator), until the close (HTTP/1.0 or 1.1), and a 204.
 * The reader must hand back exactly R (nothing for HEAD or 204), the head
 * and trailers exactly as sent, take exactly the response's bytes and no
 * more, keep the connection exactly when HTTP says so and nothing followed
 * the response, and fail with CURLE_WRITE_ERROR exactly when R is larger
 * than max_response_size. */
#include "fuzz_lua.h"
#include "../src/wire.c"

#include <sanitizer/asan_interface.h>

#ifndef FUZZ_WIRE_STATUS_MIN        /* a build that explores past a known */
#define FUZZ_WIRE_STATUS_MIN 200    /* finding may lower it */
#endif
#define FUZZ_WIRE_STATUS_MAX 999

#define MAX_ARRIVAL 16384           /* iothub_wire_step's receive buffer */
#define CYCLE_TOTAL (300 * 1024)    /* past HEAD_LIMIT and one arrival more */

static const size_t body_limits[4] = { 16 * 1024 * 1024, 1024, 64, 5 };
static const size_t arrival_max[8] = { MAX_ARRIVAL, 1, 2, 3, 7, 64, 1000, 4096 };

typedef struct gen { uint32_t s; } gen;

static void gen_seed(gen *g, uint32_t seed) {
  g->s = seed * 2654435761u + 0x9e3779b9u;
  if (g->s == 0) g->s = 1;
}

static uint32_t gen_next(gen *g) {       /* xorshift32 */
  uint32_t x = g->s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return g->s = x;
}

typedef struct arrivals { gen g; size_t max; } arrivals;

static void arrivals_init(arrivals *a, unsigned char b, uint32_t salt) {
  a->max = arrival_max[b & 7];
  gen_seed(&a->g, ((uint32_t)(b >> 3) << 16) ^ salt);
}

static size_t arrivals_next(arrivals *a, size_t left) {
  size_t n = a->max == MAX_ARRIVAL ? MAX_ARRIVAL : 1 + gen_next(&a->g) % a->max;
  return n < left ? n : left;
}

/* w->in keeps a NUL after its bytes and room to grow, so ASan alone would
 * not see the reader look a few bytes past what arrived: while it parses,
 * everything past w->in.len is poisoned. */
static void guard(struct iothub_wire *w) {
  if (w->in.data) ASAN_POISON_MEMORY_REGION(w->in.data + w->in.len, w->in.cap - w->in.len);
}

static void unguard(struct iothub_wire *w) {
  if (w->in.data) ASAN_UNPOISON_MEMORY_REGION(w->in.data, w->in.cap);
}

/* One request's reader, set up as iothub_wire_start and begin_send leave it
 * once the request has gone out. */
typedef struct reader {
  iothub_http h;
  struct iothub_wire *w;
  CURLcode rc;
  int at_close;                 /* ended by on_close, not while bytes came */
  size_t fed;                   /* bytes handed to the reader */
  size_t left;                  /* of those, not taken as the response's */
} reader;

static void reader_open(reader *r, int head, size_t limit) {
  memset(r, 0, sizeof *r);
  r->h.body.limit = limit;
  r->h.headers.limit = 256 * 1024;           /* as iothub_http_open */
  r->h.timeout_ms = 10000;
  r->w = wire_of(&r->h);
  FUZZ_CHECK(r->w != NULL, "wire state allocated");
  r->w->head_request = head;
  begin_send(r->w);
  r->w->state = S_HEAD;                      /* the request went out */
}

static void reader_free(reader *r) {
  unguard(r->w);
  iothub_wire_free(&r->h);
  iothub_buffer_free(&r->h.body, 0);
  iothub_buffer_free(&r->h.headers, 0);
}

/* After compact(): what the reader holds unparsed is bounded by its state. */
static void check_step(const reader *r) {
  const struct iothub_wire *w = r->w;
  size_t held = w->in.len;
  FUZZ_CHECK(w->in_off == 0, "compact moved the unparsed bytes to the front");
  FUZZ_CHECK(w->scan <= w->in.len, "the head search resumes inside the buffer");
  FUZZ_CHECK(w->received == r->fed, "every byte counted as received");
  FUZZ_CHECK(!r->h.body.limit || r->h.body.len <= r->h.body.limit, "body within max_response_size");
  switch (w->state) {
    case S_HEAD:
      FUZZ_CHECK(held <= HEAD_LIMIT, "at most HEAD_LIMIT bytes of an unfinished head");
      break;
    case S_CHUNK_SIZE:
    case S_TRAILERS:
      FUZZ_CHECK(held <= LINE_LIMIT, "at most LINE_LIMIT bytes of an unfinished line");
      break;
    case S_CHUNK_END:
      FUZZ_CHECK(held == 0 || (held == 1 && w->in.data[0] == '\r'), "at most the CR of a chunk's CRLF");
      break;
    case S_LENGTH:
    case S_CHUNK_DATA:
    case S_UNTIL_CLOSE:
      FUZZ_CHECK(held == 0, "body bytes are taken as they come");
      FUZZ_CHECK(w->state == S_UNTIL_CLOSE || w->remaining > 0, "a body part still to read");
      break;
    default:
      FUZZ_CHECK(0, "a reading state while the request runs");
  }
}

/* What the server sends: pre once, then s repeated, total bytes in all
 * (s not empty when total > pre_len). */
typedef struct stream {
  const char *pre, *s;
  size_t pre_len, len, total;
} stream;

static stream stream_of(const char *s, size_t len) {
  stream st;
  st.pre = NULL;
  st.pre_len = 0;
  st.s = s;
  st.len = st.total = len;
  return st;
}

static void stream_copy(const stream *st, size_t at, char *buf, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t pos = at + i, k;
    const char *from;
    if (pos < st->pre_len) {
      from = st->pre + pos;
      k = st->pre_len - pos;
    } else {
      size_t off = (pos - st->pre_len) % st->len;
      from = st->s + off;
      k = st->len - off;
    }
    if (k > n - i) k = n - i;
    memcpy(buf + i, from, k);
    i += k;
  }
}

/* Hands the reader the stream in the arrivals a gives, then the close if
 * the request has not ended. */
static void reader_run(reader *r, const stream *st, arrivals *a) {
  iothub_http *h = &r->h;
  struct iothub_wire *w = r->w;
  char buf[MAX_ARRIVAL];
  int ended = 0;
  while (r->fed < st->total) {
    size_t n = arrivals_next(a, st->total - r->fed);
    stream_copy(st, r->fed, buf, n);
    r->fed += n;
    w->received += n;
    unguard(w);
    if (iothub_buffer_append(&w->in, buf, n) != 0) {
      fail(h, w, CURLE_OUT_OF_MEMORY, NULL, &r->rc);
      ended = 1;
      break;
    }
    guard(w);
    if (parse(h, w, &r->rc) != 0) {
      FUZZ_CHECK(w->state == S_IDLE && r->rc != CURLE_OK, "parse failed the request");
      ended = 1;
      break;
    }
    FUZZ_CHECK(w->state != S_IDLE, "parse only ends a request by failing it");
    if (w->state == S_DONE) {
      FUZZ_CHECK(finish(w, &r->rc) == IOTHUB_WIRE_DONE, "finish ends the request");
      ended = 1;
      break;
    }
    unguard(w);
    compact(w);
    guard(w);
    check_step(r);
  }
  if (!ended) {
    FUZZ_CHECK(on_close(h, w, &r->rc) == IOTHUB_WIRE_DONE, "on_close ends the request");
    r->at_close = 1;
  }
  FUZZ_CHECK(w->in_off <= w->in.len, "parsed no further than received");
  r->left = w->in.len - w->in_off;
}

static int same_bytes(const char *a, size_t an, const char *b, size_t bn) {
  return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* What every ended request satisfies. */
static void check_outcome(const reader *r) {
  const iothub_http *h = &r->h;
  const struct iothub_wire *w = r->w;
  long status = iothub_wire_status(h);
  FUZZ_CHECK(w->state == S_IDLE, "the request ended");
  FUZZ_CHECK(w->curl == NULL && w->origin == NULL, "no connection appeared");
  if (r->rc == CURLE_OK) {
    FUZZ_CHECK(status >= FUZZ_WIRE_STATUS_MIN && status <= FUZZ_WIRE_STATUS_MAX,
               "a finished request has a final status");
    FUZZ_CHECK(!h->body.limit || h->body.len <= h->body.limit, "body within max_response_size");
    FUZZ_CHECK(h->headers.len >= 13 && memcmp(h->headers.data, "HTTP/1.", 7) == 0,
               "the final head is kept");
    FUZZ_CHECK((h->headers.data[9] - '0') * 100 + (h->headers.data[10] - '0') * 10 +
               (h->headers.data[11] - '0') == status, "the status is the kept head's");
    if (w->head_request || status == 204 || status == 304)
      FUZZ_CHECK(h->body.len == 0, "no body for HEAD, 204 and 304");
    if (r->left) FUZZ_CHECK(!w->keep_alive, "bytes past the response: the connection is not reused");
    if (r->at_close) FUZZ_CHECK(!w->keep_alive, "a body ended by the close: nothing to reuse");
  } else {
    FUZZ_CHECK(status == 0, "a failed request has no status");
    FUZZ_CHECK(r->rc == CURLE_WEIRD_SERVER_REPLY || r->rc == CURLE_WRITE_ERROR ||
               r->rc == CURLE_GOT_NOTHING || r->rc == CURLE_RECV_ERROR || r->rc == CURLE_PARTIAL_FILE,
               "one of the reader's error codes");
  }
}

/* The kept head's framing, read independently of read_head: the value of
 * Content-Length (if a valid one came) and whether Transfer-Encoding did. */
static void head_framing(const iothub_buffer *hd, int *has_length, size_t *length, int *has_te) {
  const char *line = memchr(hd->data, '\n', hd->len), *end = hd->data + hd->len;
  *has_length = *has_te = 0;
  *length = 0;
  if (line == NULL) return;
  for (line++; line < end; ) {
    const char *eol = memchr(line, '\n', (size_t)(end - line));
    const char *le = eol ? eol : end, *colon, *v, *ve;
    if (le > line && le[-1] == '\r') le--;
    if (le == line) break;                        /* the head's end; trailers follow */
    colon = memchr(line, ':', (size_t)(le - line));
    if (colon) {
      size_t n = (size_t)(colon - line);
      for (v = colon + 1; v < le && (*v == ' ' || *v == '\t'); v++) {}
      for (ve = le; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--) {}
      if (n == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
        size_t x = 0;
        int ok = v < ve;
        for (; v < ve && ok; v++) {
          ok = *v >= '0' && *v <= '9' && x <= (SIZE_MAX - 9) / 10;
          x = x * 10 + (size_t)(*v - '0');
        }
        if (ok) { *has_length = 1; *length = x; }
      } else if (n == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
        *has_te = 1;
      }
    }
    line = eol ? eol + 1 : end;
  }
}

/* Where the first head in s[0..len) ends (after its empty line), or 0. */
static size_t first_head_end(const char *s, size_t len) {
  size_t i;
  for (i = 0; i + 1 < len; i++) {
    if (s[i] != '\n') continue;
    if (s[i + 1] == '\n') return i + 2;
    if (s[i + 1] == '\r' && i + 2 < len && s[i + 2] == '\n') return i + 3;
  }
  return 0;
}

static void raw(const unsigned char *flags, const char *s, size_t len) {
  int head = flags[0] & 1, cycle = (flags[0] >> 3) & 1;
  size_t limit = body_limits[(flags[0] >> 1) & 3];
  stream st = stream_of(s, len);
  reader r, once;
  arrivals a;
  arrivals_init(&a, flags[1], 0);
  if (cycle && len > 0) {
    /* The first head once, what follows it repeated: an endless head,
     * body, run of chunks or of trailers, or a chunk-size line. */
    size_t e = first_head_end(s, len);
    if (e > 0 && e < len) {
      st.pre = s;
      st.pre_len = e;
      st.s = s + e;
      st.len = len - e;
    }
    st.total = CYCLE_TOTAL;
    if (a.max < 1000) a.max = 1000;          /* 300 KiB a byte at a time is slow */
  }
  reader_open(&r, head, limit);
  reader_run(&r, &st, &a);
  if (getenv("FUZZ_WIRE_TRACE"))
    fprintf(stderr, "raw: rc %d status %ld body %zu head %zu fed %zu left %zu%s keep_alive %d\n", (int)r.rc,
            r.w->status, r.h.body.len, r.h.headers.len, r.fed, r.left, r.at_close ? " at close," : "",
            r.w->keep_alive);
  check_outcome(&r);
  if (r.rc == CURLE_OK) {
    long status = r.w->status;
    int has_length, has_te;
    size_t length;
    head_framing(&r.h.headers, &has_length, &length, &has_te);
    if (!head && status != 204 && status != 304 && !has_te) {
      if (has_length) FUZZ_CHECK(r.h.body.len == length, "the body is as long as Content-Length says");
      else FUZZ_CHECK(r.at_close, "a body nothing frames ends at the close");
    }
  }
  if (!cycle && len <= LINE_LIMIT && arrival_max[flags[1] & 7] != MAX_ARRIVAL) {
    arrivals all;
    arrivals_init(&all, 0, 0);
    reader_open(&once, head, limit);
    reader_run(&once, &st, &all);
    check_outcome(&once);
    FUZZ_CHECK(once.rc == r.rc, "the outcome does not depend on the arrivals");
    FUZZ_CHECK(once.w->status == r.w->status, "the status does not depend on the arrivals");
    if (r.rc == CURLE_OK) {                  /* what a failure leaves is not used */
      FUZZ_CHECK(same_bytes(once.h.body.data, once.h.body.len, r.h.body.data, r.h.body.len),
                 "the body does not depend on the arrivals");
      FUZZ_CHECK(same_bytes(once.h.headers.data, once.h.headers.len, r.h.headers.data, r.h.headers.len),
                 "the head does not depend on the arrivals");
    }
    reader_free(&once);
  }
  reader_free(&r);
}

/* ---- framed: the input as a body, in well-formed responses ---- */

enum { F_LENGTH, F_CHUNKED, F_CLOSE, F_NO_CONTENT, F_COUNT };
enum { C_NONE, C_CLOSE, C_KEEP_ALIVE };

static void put(iothub_buffer *b, const void *p, size_t n) {
  FUZZ_CHECK(iothub_buffer_append(b, p, n) == 0, "building the response");
}

static void put_str(iothub_buffer *b, const char *s) {
  put(b, s, strlen(s));
}

static const char *pick(gen *g, const char *const *choices, size_t n) {
  return choices[gen_next(g) % n];
}

/* A header line "Name:<ws>value<ws>" with the name spelled as chosen. */
static void put_header(iothub_buffer *b, gen *g, const char *const *names, size_t n_names,
                       const char *value, const char *eol) {
  static const char *const ws[] = { " ", "", "\t", "  \t" };
  static const char *const trail[] = { "", "", " ", "\t " };
  put_str(b, pick(g, names, n_names));
  put_str(b, ":");
  put_str(b, pick(g, ws, 4));
  put_str(b, value);
  put_str(b, pick(g, trail, 4));
  put_str(b, eol);
}

static void put_chunk_line(iothub_buffer *b, gen *g, size_t size, int fancy, const char *eol) {
  static const char *const exts[] = { ";ext", ";name=value", " ; q=\"a;b\"", ";x;y=1", "\t;z" };
  char digits[32];
  size_t zeros = fancy ? gen_next(g) % 24 : 0;
  while (zeros-- > 0) put_str(b, "0");
  if (fancy && (gen_next(g) & 1)) snprintf(digits, sizeof digits, "%zX", size);
  else snprintf(digits, sizeof digits, "%zx", size);
  put_str(b, digits);
  if (fancy && (gen_next(g) % 3) == 0) put_str(b, pick(g, exts, 5));
  put_str(b, eol);
}

static void framed(const unsigned char *flags, const unsigned char *body, size_t len, int framing) {
  static const char *const length_names[] = { "Content-Length", "content-length", "CONTENT-LENGTH" };
  static const char *const te_names[] = { "Transfer-Encoding", "transfer-encoding" };
  static const char *const te_values[] = { "chunked", "Chunked", "CHUNKED" };
  static const char *const conn_names[] = { "Connection", "connection" };
  static const char *const junks[] = { "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "\r\n", "0\r\n\r\n", "x" };
  static const long codes[] = { 200, 201, 202, 400, 404, 412, 429, 500, 503 };
  static const size_t chunk_max[] = { 1, 2, 3, 7, 16, 300, 4096, 65536 };
  int head = flags[0] & 1, informational = (flags[0] >> 4) & 1, junk = (flags[0] >> 5) & 1;
  int fancy = (flags[0] >> 7) & 1;
  const char *eol = (flags[0] >> 6) & 1 ? "\n" : "\r\n";
  size_t limit = body_limits[(flags[0] >> 1) & 3];
  iothub_buffer msg = { NULL, 0, 0, 0 }, want = { NULL, 0, 0, 0 };
  size_t head_at, response_len, taken;
  int minor, conn, keep, too_large, body_sent;
  long status;
  char line[96];
  gen g;
  reader r;
  arrivals a;
  stream st;

  gen_seed(&g, ((uint32_t)flags[0] << 8 | flags[1]) ^ ((uint32_t)framing << 24) ^ (uint32_t)len);
  minor = framing == F_CLOSE ? (int)(gen_next(&g) & 1) : (gen_next(&g) % 4) != 0;
  conn = (int)(gen_next(&g) % 3);
  status = framing == F_NO_CONTENT ? 204 : codes[gen_next(&g) % (sizeof codes / sizeof codes[0])];

  if (informational) {                             /* skipped, kept nowhere */
    if (gen_next(&g) & 1) {
      put_str(&msg, "HTTP/1.1 100 Continue");
      put_str(&msg, eol);
    } else {
      put_str(&msg, "HTTP/1.1 103 Early Hints");
      put_str(&msg, eol);
      put_str(&msg, "Link: </a.css>; rel=preload");
      put_str(&msg, eol);
    }
    put_str(&msg, eol);
  }
  head_at = msg.len;
  snprintf(line, sizeof line, "HTTP/1.%d %ld%s%s", minor, status, gen_next(&g) & 1 ? " Reason Phrase" : "", eol);
  put_str(&msg, line);
  if (gen_next(&g) & 1) {
    put_str(&msg, "Content-Type: application/json; charset=utf-8");
    put_str(&msg, eol);
  }
  snprintf(line, sizeof line, "%zu", len);
  switch (framing) {
    case F_LENGTH:
      put_header(&msg, &g, length_names, 3, line, eol);
      if (gen_next(&g) % 4 == 0) put_header(&msg, &g, length_names, 3, line, eol);   /* the same again */
      break;
    case F_CHUNKED:
      if (gen_next(&g) % 4 == 0) put_header(&msg, &g, length_names, 3, "999", eol); /* chunked wins */
      put_header(&msg, &g, te_names, 2, pick(&g, te_values, 3), eol);
      break;
    case F_NO_CONTENT:
      if (gen_next(&g) & 1) put_header(&msg, &g, length_names, 3, line, eol);
      break;
    default:
      break;
  }
  if (conn != C_NONE) put_header(&msg, &g, conn_names, 2, conn == C_CLOSE ? "close" : "keep-alive", eol);
  put_str(&msg, eol);
  put(&want, msg.data + head_at, msg.len - head_at);

  body_sent = !head && framing != F_NO_CONTENT;
  if (body_sent && framing == F_CHUNKED) {
    size_t pos = 0, cmax = chunk_max[gen_next(&g) % (sizeof chunk_max / sizeof chunk_max[0])];
    while (pos < len) {
      size_t n = 1 + gen_next(&g) % cmax;
      if (n > len - pos) n = len - pos;
      put_chunk_line(&msg, &g, n, fancy, eol);
      put(&msg, body + pos, n);
      put_str(&msg, eol);
      pos += n;
    }
    put_chunk_line(&msg, &g, 0, fancy, eol);
    if (fancy) {                                   /* trailers join the headers */
      size_t at = msg.len;
      put_str(&msg, "X-Trailer: 1");
      put_str(&msg, eol);
      if (gen_next(&g) & 1) {
        put_str(&msg, "Checksum:\tabc");
        put_str(&msg, eol);
      }
      put(&want, msg.data + at, msg.len - at);
    }
    put_str(&msg, eol);
  } else if (body_sent) {
    put(&msg, body, len);
  }
  response_len = msg.len;
  if (junk && !(body_sent && framing == F_CLOSE)) put_str(&msg, pick(&g, junks, 4));

  arrivals_init(&a, flags[1], (uint32_t)framing + 1);
  reader_open(&r, head, limit);
  st = stream_of(msg.data, msg.len);
  reader_run(&r, &st, &a);
  check_outcome(&r);

  too_large = body_sent && len > limit;
  if (too_large) {
    FUZZ_CHECK(r.rc == CURLE_WRITE_ERROR, "a body past max_response_size fails the request");
  } else {
    FUZZ_CHECK(r.rc == CURLE_OK, "a well-formed response is read");
    FUZZ_CHECK(r.w->status == status, "its status");
    if (body_sent) FUZZ_CHECK(same_bytes(r.h.body.data, r.h.body.len, (const char *)body, len),
                              "the body decodes to the bytes sent");
    else FUZZ_CHECK(r.h.body.len == 0, "no body");
    FUZZ_CHECK(same_bytes(r.h.headers.data, r.h.headers.len, want.data, want.len),
               "the head and trailers as sent, no 1xx");
    taken = r.fed - r.left;
    FUZZ_CHECK(taken == response_len, "the reader takes exactly the response's bytes");
    keep = body_sent && framing == F_CLOSE ? 0 : minor >= 1 ? conn != C_CLOSE : conn == C_KEEP_ALIVE;
    FUZZ_CHECK(r.w->keep_alive == (keep && r.left == 0), "the connection is reused exactly when it can be");
  }
  reader_free(&r);
  iothub_buffer_free(&msg, 0);
  iothub_buffer_free(&want, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  unsigned char flags[2] = { 0, 0 };
  const char *rest = (const char *)data;
  int framing;
  if (size >= 2) {
    flags[0] = data[0];
    flags[1] = data[1];
    rest += 2;
    size -= 2;
  } else {
    size = 0;
  }
  raw(flags, rest, size);
  for (framing = 0; framing < F_COUNT; framing++) framed(flags, (const unsigned char *)rest, size, framing);
  return 0;
}
