/* fuzz_http1.c: the sans-I/O HTTP/1.1 codec (src/http1.c) alone: no Lua,
 * no libcurl, no socket. src/http1.c is included so that the reader's
 * private state is visible to the checks; the Makefile compiles nothing
 * else. Adapted from fuzz_wire.c (the reader began as wire.c's).
 *
 * Input: byte 0 flags, byte 1 the arrivals, then the rest R.
 *
 *   flags bit 0      HEAD instead of GET
 *   flags bits 1-2   max_body: 16 MiB, 1024, 64 or 5 bytes
 *   flags bit 3      raw: R's first head, then the rest of R repeated, to
 *                    300 KiB (head, line, header and body limits)
 *   flags bit 4      framed: a 1xx response first
 *   flags bit 5      framed: junk after the response
 *   flags bit 6      framed: bare LF line endings
 *   flags bit 7      framed: chunk-size spellings, extensions, trailers
 *   arrivals bits 0-2  largest arrival: all at once, 1, 2, 3, 7, 64, 1000,
 *                      4096 bytes; bits 3-7 seed the sizes
 *
 * Raw: R is what the server sends, then it closes. Every byte is fed (past
 * the response's end too, as a socket would deliver it), then eof unless
 * the response was complete. Invariants: the reader ends (DONE or ERROR);
 * between feeds it holds at most a head's or a line's worth of unparsed
 * bytes, none mid-body, the body within max_body; on success the status is
 * 200..999, the body empty for HEAD, 204 and 304, as long as the
 * Content-Length says, ended by the close when nothing frames it, and the
 * connection kept only with no byte past the response; a failure has no
 * status, an error and a message. The outcome (result, error, status,
 * head, body, keep_alive, length) is the same fed all at once and in the
 * arrivals byte 1 chose, whatever the input's length.
 *
 * Framed (differential): R is a body, framed by Content-Length, by chunks
 * (sizes from a generator seeded by bytes 0 and 1), until the close
 * (HTTP/1.0 or 1.1) and as a 204. The reader must hand back exactly R, the
 * head and trailers as sent, take exactly the response's bytes, keep the
 * connection exactly when HTTP says so and nothing followed, fail with
 * BODY_TOO_LARGE exactly when R is over max_body, and refuse a chunked
 * head that also has a Content-Length.
 *
 * Request: R as a header value and as a target is accepted exactly when it
 * holds no byte that could end the line, and then shows up once, intact. */
#include "../src/http1.c"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond, what) \
  do { if (!(cond)) fuzz_fail(__FILE__, __LINE__, what); } while (0)

static void fuzz_fail(const char *file, int line, const char *what) {
  fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
  abort();
}

#define ALL_AT_ONCE ((size_t)1 << 30)
#define CYCLE_TOTAL (300 * 1024)    /* past the head limit and one step more */

static const size_t body_limits[4] = { 16 * 1024 * 1024, 1024, 64, 5 };
static const size_t arrival_max[8] = { ALL_AT_ONCE, 1, 2, 3, 7, 64, 1000, 4096 };

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
  size_t n = a->max == ALL_AT_ONCE ? left : 1 + gen_next(&a->g) % a->max;
  return n < left ? n : left;
}

/* What the server sends: pre once, then s repeated, total bytes in all. */
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

typedef struct run {
  iothub_h1_reader r;
  int rc;                       /* the last feed's or eof's */
  int at_close;                 /* eof ended it */
  size_t fed;
} run;

/* Between feeds: what the reader holds unparsed is bounded by its state. */
static void check_step(const run *x) {
  const iothub_h1_reader *r = &x->r;
  size_t held = r->in.len - r->in_off;
  FUZZ_CHECK(r->received == x->fed, "every byte counted as received");
  FUZZ_CHECK(r->scan >= r->in_off && r->scan <= r->in.len, "the head search resumes inside the buffer");
  FUZZ_CHECK(!r->max_body || r->body.len <= r->max_body, "body within max_body");
  switch (r->state) {
    case S_HEAD:
      FUZZ_CHECK(held <= IOTHUB_H1_HEAD_LIMIT, "at most a head's bytes of an unfinished head");
      break;
    case S_CHUNK_SIZE:
    case S_TRAILERS:
      FUZZ_CHECK(held <= IOTHUB_H1_CHUNK_LINE_LIMIT, "at most a line's bytes of an unfinished line");
      break;
    case S_CHUNK_END:
      FUZZ_CHECK(held == 0 || (held == 1 && r->in.data[r->in_off] == '\r'), "at most the CR of a chunk's CRLF");
      break;
    case S_LENGTH:
    case S_CHUNK_DATA:
    case S_UNTIL_CLOSE:
      FUZZ_CHECK(held == 0, "body bytes are taken as they come");
      FUZZ_CHECK(r->state == S_UNTIL_CLOSE || r->remaining > 0, "a body part still to read");
      break;
    default:
      FUZZ_CHECK(0, "a reading state while the response goes on");
  }
}

/* Feeds the whole stream in the arrivals a gives (on past the response's
 * end, as a socket would), then the close unless it already ended. */
static void run_stream(run *x, const stream *st, arrivals *a, int head, size_t limit) {
  char *buf = malloc(st->total ? st->total : 1);
  memset(x, 0, sizeof *x);
  iothub_h1_reader_init(&x->r, limit, head);
  FUZZ_CHECK(buf != NULL, "allocating");
  x->rc = IOTHUB_H1_MORE;
  while (x->fed < st->total && x->rc != IOTHUB_H1_ERROR) {
    size_t n = arrivals_next(a, st->total - x->fed);
    stream_copy(st, x->fed, buf, n);
    x->fed += n;
    x->rc = iothub_h1_feed(&x->r, buf, n);
    if (x->rc == IOTHUB_H1_MORE) check_step(x);
  }
  if (x->rc == IOTHUB_H1_MORE) {
    x->rc = iothub_h1_eof(&x->r);
    x->at_close = 1;
    FUZZ_CHECK(x->rc != IOTHUB_H1_MORE, "eof ends the response");
  }
  free(buf);
}

static int same_bytes(const char *a, size_t an, const char *b, size_t bn) {
  return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* What every ended response satisfies. */
static void check_outcome(const run *x) {
  const iothub_h1_reader *r = &x->r;
  if (x->rc == IOTHUB_H1_DONE) {
    FUZZ_CHECK(r->status >= 200 && r->status <= 999, "a complete response has a final status");
    FUZZ_CHECK(r->error == IOTHUB_H1_OK, "no error");
    FUZZ_CHECK(!r->max_body || r->body.len <= r->max_body, "body within max_body");
    FUZZ_CHECK(r->head.len >= 12 && memcmp(r->head.data, "HTTP/1.", 7) == 0, "the final head is kept");
    FUZZ_CHECK((r->head.data[9] - '0') * 100 + (r->head.data[10] - '0') * 10 + (r->head.data[11] - '0') == r->status,
               "the status is the kept head's");
    if (r->head_request || r->status == 204 || r->status == 304) FUZZ_CHECK(r->body.len == 0, "no body for HEAD, 204, 304");
    FUZZ_CHECK(r->length > 0 && r->length <= x->fed, "the response took some of the bytes");
    if (r->length < x->fed) FUZZ_CHECK(!r->keep_alive, "bytes past the response: the connection is not reused");
    if (x->at_close) FUZZ_CHECK(!r->keep_alive, "a body ended by the close: nothing to reuse");
  } else {
    FUZZ_CHECK(x->rc == IOTHUB_H1_ERROR, "DONE or ERROR");
    FUZZ_CHECK(r->status == 0 && !r->keep_alive, "a refused response has no status, no reuse");
    FUZZ_CHECK(r->error >= IOTHUB_H1_E_PROTOCOL && r->error <= IOTHUB_H1_E_CLOSED, "one of the reader's errors");
    FUZZ_CHECK(r->message[0] != '\0', "a message");
    if (r->error == IOTHUB_H1_E_EMPTY) FUZZ_CHECK(x->fed == 0, "an empty reply is one without a byte");
  }
}

/* The kept head's framing, read independently: a valid Content-Length
 * and whether Transfer-Encoding came. */
static void head_framing(const iothub_h1_bytes *hd, int *has_length, size_t *length, int *has_te) {
  const char *line = memchr(hd->data, '\n', hd->len), *end = hd->data + hd->len;
  *has_length = *has_te = 0;
  *length = 0;
  if (line == NULL) return;
  for (line++; line < end; ) {
    const char *eol = memchr(line, '\n', (size_t)(end - line));
    const char *le = eol ? eol : end, *colon, *v, *ve;
    if (le > line && le[-1] == '\r') le--;
    colon = memchr(line, ':', (size_t)(le - line));
    if (colon) {
      size_t n = (size_t)(colon - line);
      for (v = colon + 1; v < le && (*v == ' ' || *v == '\t'); v++) {}
      for (ve = le; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--) {}
      if (n == 14 && ieq(line, "Content-Length", 14)) {
        size_t x = 0;
        int ok = v < ve;
        for (; v < ve && ok; v++) {
          ok = *v >= '0' && *v <= '9' && x <= (SIZE_MAX - 9) / 10;
          x = x * 10 + (size_t)(*v - '0');
        }
        if (ok) { *has_length = 1; *length = x; }
      } else if (n == 17 && ieq(line, "Transfer-Encoding", 17)) {
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
  run x, once;
  arrivals a, all;
  arrivals_init(&a, flags[1], 0);
  if (cycle && len > 0) {
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
  run_stream(&x, &st, &a, head, limit);
  if (getenv("FUZZ_HTTP1_TRACE"))
    fprintf(stderr, "raw: rc %d error %d (%s) status %d body %zu head %zu fed %zu length %zu%s keep_alive %d\n",
            x.rc, (int)x.r.error, x.r.message, x.r.status, x.r.body.len, x.r.head.len, x.fed, x.r.length,
            x.at_close ? " at close," : "", x.r.keep_alive);
  check_outcome(&x);
  if (x.rc == IOTHUB_H1_DONE) {
    int has_length, has_te;
    size_t length;
    head_framing(&x.r.head, &has_length, &length, &has_te);
    if (!head && x.r.status != 204 && x.r.status != 304 && !has_te) {
      if (has_length) FUZZ_CHECK(x.r.body.len == length, "the body is as long as Content-Length says");
      else FUZZ_CHECK(x.at_close, "a body nothing frames ends at the close");
    }
  }
  if (a.max != ALL_AT_ONCE) {
    arrivals_init(&all, 0, 0);
    run_stream(&once, &st, &all, head, limit);
    check_outcome(&once);
    FUZZ_CHECK(once.rc == x.rc, "the outcome does not depend on the arrivals");
    FUZZ_CHECK(once.r.error == x.r.error, "the error does not depend on the arrivals");
    FUZZ_CHECK(strcmp(once.r.message, x.r.message) == 0, "the message does not depend on the arrivals");
    FUZZ_CHECK(once.r.status == x.r.status, "the status does not depend on the arrivals");
    if (x.rc == IOTHUB_H1_DONE) {
      FUZZ_CHECK(same_bytes(once.r.body.data, once.r.body.len, x.r.body.data, x.r.body.len),
                 "the body does not depend on the arrivals");
      FUZZ_CHECK(same_bytes(once.r.head.data, once.r.head.len, x.r.head.data, x.r.head.len),
                 "the head does not depend on the arrivals");
      FUZZ_CHECK(once.r.keep_alive == x.r.keep_alive, "keep-alive does not depend on the arrivals");
      FUZZ_CHECK(once.r.length == x.r.length, "the response's length does not depend on the arrivals");
    }
    iothub_h1_reader_free(&once.r);
  }
  iothub_h1_reader_free(&x.r);
}

/* ---- framed: the input as a body, in well-formed responses ---- */

enum { F_LENGTH, F_CHUNKED, F_CLOSE, F_NO_CONTENT, F_COUNT };
enum { C_NONE, C_CLOSE, C_KEEP_ALIVE };

static void put(iothub_h1_bytes *b, const void *p, size_t n) {
  FUZZ_CHECK(append(b, p, n) == 0, "building the response");
}

static void put_str(iothub_h1_bytes *b, const char *s) {
  put(b, s, strlen(s));
}

static const char *pick(gen *g, const char *const *choices, size_t n) {
  return choices[gen_next(g) % n];
}

/* A header line "Name:<ws>value<ws>" with the name spelled as chosen. */
static void put_header(iothub_h1_bytes *b, gen *g, const char *const *names, size_t n_names,
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

static void put_chunk_line(iothub_h1_bytes *b, gen *g, size_t size, int fancy, const char *eol) {
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
  static const int codes[] = { 200, 201, 202, 400, 404, 412, 429, 500, 503 };
  static const size_t chunk_max[] = { 1, 2, 3, 7, 16, 300, 4096, 65536 };
  int head = flags[0] & 1, informational = (flags[0] >> 4) & 1, junk = (flags[0] >> 5) & 1;
  int fancy = (flags[0] >> 7) & 1;
  const char *eol = (flags[0] >> 6) & 1 ? "\n" : "\r\n";
  size_t limit = body_limits[(flags[0] >> 1) & 3];
  iothub_h1_bytes msg = { NULL, 0, 0 }, want = { NULL, 0, 0 };
  size_t head_at, response_len;
  int minor, conn, keep, body_sent, both = 0, status;
  char line[96];
  gen g;
  run x;
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
  snprintf(line, sizeof line, "HTTP/1.%d %d%s%s", minor, status, gen_next(&g) & 1 ? " Reason Phrase" : "", eol);
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
      if (gen_next(&g) % 4 == 0) {                 /* both framings: refused */
        put_header(&msg, &g, length_names, 3, "999", eol);
        both = 1;
      }
      put_header(&msg, &g, te_names, 2, pick(&g, te_values, 3), eol);
      break;
    case F_NO_CONTENT:
      if (gen_next(&g) & 1) put_header(&msg, &g, length_names, 3, line, eol);
      break;
    default:
      break;
  }
  if (conn != C_NONE) put_header(&msg, &g, conn_names, 2, conn == C_CLOSE ? "close" : "keep-alive", eol);
  put(&want, msg.data + head_at, msg.len - head_at);   /* the head without its blank line */
  put_str(&msg, eol);

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
    if (fancy) {                                   /* trailers join the headers, as CRLF lines */
      put_str(&msg, "X-Trailer: 1");
      put_str(&msg, eol);
      put_str(&want, "X-Trailer: 1\r\n");
      if (gen_next(&g) & 1) {
        put_str(&msg, "Checksum:\tabc");
        put_str(&msg, eol);
        put_str(&want, "Checksum:\tabc\r\n");
      }
    }
    put_str(&msg, eol);
  } else if (body_sent) {
    put(&msg, body, len);
  }
  response_len = msg.len;
  if (junk && !(body_sent && framing == F_CLOSE)) put_str(&msg, pick(&g, junks, 4));

  arrivals_init(&a, flags[1], (uint32_t)framing + 1);
  st = stream_of(msg.data, msg.len);
  run_stream(&x, &st, &a, head, limit);
  check_outcome(&x);

  if (both) {
    FUZZ_CHECK(x.rc == IOTHUB_H1_ERROR && x.r.error == IOTHUB_H1_E_PROTOCOL, "chunked with a length is refused");
  } else if (body_sent && len > limit) {
    FUZZ_CHECK(x.rc == IOTHUB_H1_ERROR && x.r.error == IOTHUB_H1_E_BODY_TOO_LARGE,
               "a body past max_body is refused as too large");
  } else {
    FUZZ_CHECK(x.rc == IOTHUB_H1_DONE, "a well-formed response is read");
    FUZZ_CHECK(x.r.status == status, "its status");
    if (body_sent) FUZZ_CHECK(same_bytes(x.r.body.data, x.r.body.len, (const char *)body, len),
                              "the body decodes to the bytes sent");
    else FUZZ_CHECK(x.r.body.len == 0, "no body");
    FUZZ_CHECK(same_bytes(x.r.head.data, x.r.head.len, want.data, want.len), "the head and trailers as sent, no 1xx");
    FUZZ_CHECK(x.r.length == response_len, "the reader takes exactly the response's bytes");
    keep = body_sent && framing == F_CLOSE ? 0
         : minor >= 1 ? conn != C_CLOSE
         : conn == C_KEEP_ALIVE && !(body_sent && framing == F_CHUNKED);
    FUZZ_CHECK(x.r.keep_alive == (keep && msg.len == response_len), "the connection is reused exactly when it can be");
  }
  iothub_h1_reader_free(&x.r);
  iothub_h1_bytes_free(&msg);
  iothub_h1_bytes_free(&want);
}

/* ---- request: the input as a header value and as a target ---- */

static int count(const char *s, size_t n, const char *what, size_t wn) {
  size_t i;
  int c = 0;
  for (i = 0; i + wn <= n; i++) if (memcmp(s + i, what, wn) == 0) c++;
  return c;
}

static void request(const char *s, size_t len) {
  iothub_h1_bytes out = { NULL, 0, 0 };
  int clean = memchr(s, '\r', len) == NULL && memchr(s, '\n', len) == NULL && memchr(s, '\0', len) == NULL;
  int visible = len > 0, rc;
  size_t i;
  for (i = 0; i < len; i++) if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] == 0x7f) visible = 0;
  rc = iothub_h1_request_begin(&out, "GET", 3, "/", 1, "h", 1);
  FUZZ_CHECK(rc == IOTHUB_H1_OK, "a plain request line");
  rc = iothub_h1_request_header(&out, "X-Value", 7, s, len);
  FUZZ_CHECK((rc == IOTHUB_H1_OK) == clean, "a header value is taken exactly when it holds no CR, LF, NUL");
  if (rc == IOTHUB_H1_OK) {
    FUZZ_CHECK(iothub_h1_request_end(&out, NULL, 0, 0) == IOTHUB_H1_OK, "the request ends");
    FUZZ_CHECK(count(out.data, out.len, "\r\n", 2) == 4, "request line, Host, the header, the blank line");
    FUZZ_CHECK(count(out.data, out.len, "\n", 1) == 4, "no other line break");
  }
  iothub_h1_bytes_free(&out);
  rc = iothub_h1_request_begin(&out, "GET", 3, s, len, "h", 1);
  FUZZ_CHECK((rc == IOTHUB_H1_OK) == visible, "a target is taken exactly when it is visible characters");
  if (rc == IOTHUB_H1_OK)
    FUZZ_CHECK(out.len == len + 24 && memcmp(out.data + 4, s, len) == 0, "the target as given, once");
  iothub_h1_bytes_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
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
  request(rest, size);
  return 0;
}
