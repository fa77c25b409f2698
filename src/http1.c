/* http1.c: the sans-I/O HTTP/1.1 codec (see http1.h). The reader is a state
 * machine over whatever bytes arrive: status line and headers (interim 1xx
 * answers skipped), then a body framed by Content-Length, by chunks, or by
 * the connection's close. It began as a copy of src/wire.c's reader, so the
 * fixes its fuzzing found carry over, and is stricter where RFC 9112 lets a
 * client refuse what libcurl lets through (Content-Length "0x10", "1e1",
 * "16.5" or two different lengths, a chunk size with junk after it, header
 * lines without a colon, folded lines, bare CRs). Memory stays bounded:
 * unparsed bytes never exceed a head's or a line's limit plus one step. */
#include "http1.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEP 16384        /* bytes appended to the unparsed buffer at a time */

enum state {
  S_HEAD, S_LENGTH, S_CHUNK_SIZE, S_CHUNK_DATA, S_CHUNK_END, S_TRAILERS, S_UNTIL_CLOSE, S_DONE, S_FAILED
};

/* Wipes n bytes in a way the compiler may not drop. */
static void wipe(void *p, size_t n) {
  volatile unsigned char *v = p;
  while (n--) *v++ = 0;
}

void iothub_h1_bytes_free(iothub_h1_bytes *b) {
  if (b->data) {
    wipe(b->data, b->cap);
    free(b->data);
  }
  b->data = NULL;
  b->len = b->cap = 0;
}

/* Appends n bytes (keeping a NUL after them). Growing copies to a new block
 * and wipes the old one, since realloc would give it back unwiped. */
static int append(iothub_h1_bytes *b, const void *p, size_t n) {
  if (n > SIZE_MAX - b->len - 1) return -1;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    char *data;
    while (cap < b->len + n + 1) cap = cap > SIZE_MAX / 2 ? b->len + n + 1 : cap * 2;
    if ((data = malloc(cap)) == NULL) return -1;
    if (b->data) {
      memcpy(data, b->data, b->len);
      wipe(b->data, b->cap);
      free(b->data);
    }
    b->data = data;
    b->cap = cap;
  }
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

/* -- request ---------------------------------------------------------------- */

static int is_tchar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int is_token(const char *s, size_t n) {
  size_t i;
  if (n == 0) return 0;
  for (i = 0; i < n; i++) if (!is_tchar((unsigned char)s[i])) return 0;
  return 1;
}

/* Target and host: visible characters only, so neither can split the
 * request line or start a header. */
static int is_visible(const char *s, size_t n) {
  size_t i;
  if (n == 0) return 0;
  for (i = 0; i < n; i++) if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] == 0x7f) return 0;
  return 1;
}

static int is_field_value(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') return 0;
  return 1;
}

#define PUT(out, s, n) do { if (append((out), (s), (n)) != 0) return IOTHUB_H1_E_NOMEM; } while (0)
#define PUTS(out, s) PUT(out, s, sizeof(s) - 1)

int iothub_h1_request_begin(iothub_h1_bytes *out, const char *method, size_t method_len,
                            const char *target, size_t target_len, const char *host, size_t host_len) {
  if (!is_token(method, method_len) || !is_visible(target, target_len) || !is_visible(host, host_len))
    return IOTHUB_H1_E_INVALID;
  PUT(out, method, method_len);
  PUTS(out, " ");
  PUT(out, target, target_len);
  PUTS(out, " HTTP/1.1\r\nHost: ");
  PUT(out, host, host_len);
  PUTS(out, "\r\n");
  return IOTHUB_H1_OK;
}

int iothub_h1_request_header(iothub_h1_bytes *out, const char *name, size_t name_len,
                             const char *value, size_t value_len) {
  if (!is_token(name, name_len) || !is_field_value(value, value_len)) return IOTHUB_H1_E_INVALID;
  PUT(out, name, name_len);
  PUTS(out, ": ");
  PUT(out, value, value_len);
  PUTS(out, "\r\n");
  return IOTHUB_H1_OK;
}

int iothub_h1_request_end(iothub_h1_bytes *out, const char *body, size_t body_len, int with_length) {
  if (with_length) {
    char length[48];
    int n = snprintf(length, sizeof length, "Content-Length: %lu\r\n", (unsigned long)body_len);
    PUT(out, length, (size_t)n);
  }
  PUTS(out, "\r\n");
  if (body_len) PUT(out, body, body_len);
  return IOTHUB_H1_OK;
}

/* -- response --------------------------------------------------------------- */

void iothub_h1_reader_init(iothub_h1_reader *r, size_t max_body, int head_request) {
  memset(r, 0, sizeof *r);
  r->max_body = max_body;
  r->head_request = head_request;
  r->keep_alive = 1;
  r->state = S_HEAD;
}

void iothub_h1_reader_free(iothub_h1_reader *r) {
  iothub_h1_bytes_free(&r->in);
  iothub_h1_bytes_free(&r->head);
  iothub_h1_bytes_free(&r->body);
}

static int fail(iothub_h1_reader *r, enum iothub_h1_error e, const char *msg) {
  r->state = S_FAILED;
  r->error = e;
  r->status = 0;
  r->keep_alive = 0;
  snprintf(r->message, sizeof r->message, "%s", msg);
  return IOTHUB_H1_ERROR;
}

/* A limit's failure, the limit in the message. */
static int fail_limit(iothub_h1_reader *r, const char *what, size_t limit) {
  char msg[96];
  snprintf(msg, sizeof msg, "%s (%lu bytes)", what, (unsigned long)limit);
  return fail(r, IOTHUB_H1_E_HEAD_TOO_LARGE, msg);
}

static int too_large_body(iothub_h1_reader *r) {
  return fail(r, IOTHUB_H1_E_BODY_TOO_LARGE, "response body larger than max_response_size");
}

/* ASCII case-insensitive comparison of n bytes (no locale). */
static int ieq(const char *a, const char *b, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
    if (x >= 'A' && x <= 'Z') x = (unsigned char)(x + 32);
    if (y >= 'A' && y <= 'Z') y = (unsigned char)(y + 32);
    if (x != y) return 0;
  }
  return 1;
}

static int has_token(const char *v, size_t n, const char *token) {
  size_t tn = strlen(token);
  while (n > 0) {
    const char *comma = memchr(v, ',', n);
    size_t len = comma ? (size_t)(comma - v) : n;
    const char *s = v, *e = v + len;
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
    if ((size_t)(e - s) == tn && ieq(s, token, tn)) return 1;
    if (comma == NULL) break;
    n -= len + 1;
    v = comma + 1;
  }
  return 0;
}

/* A decimal Content-Length, digits only; -1 when it is not one. */
static int parse_length(const char *v, size_t n, size_t *out) {
  size_t x = 0, i;
  if (n == 0) return -1;
  for (i = 0; i < n; i++) {
    if (v[i] < '0' || v[i] > '9' || x > (SIZE_MAX - 9) / 10) return -1;
    x = x * 10 + (size_t)(v[i] - '0');
  }
  *out = x;
  return 0;
}

/* Splits the header line p[0..n) (line ending removed) into a token name
 * and a value without the whitespace around it; -1 when it is not a
 * header line (no colon, a bad name, a folded continuation). */
static int split_header(const char *p, size_t n, const char **name, size_t *name_len,
                        const char **value, size_t *value_len) {
  const char *colon = memchr(p, ':', n), *v, *ve, *end = p + n;
  if (colon == NULL || !is_token(p, (size_t)(colon - p))) return -1;
  for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++) {}
  for (ve = end; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--) {}
  *name = p;
  *name_len = (size_t)(colon - p);
  *value = v;
  *value_len = (size_t)(ve - v);
  return 0;
}

/* The length of the line at p[0..n) without its LF or CRLF (the LF is at
 * p[n]); -1 when a CR stands anywhere else in it. */
static int line_length(const char *p, size_t n, size_t *len) {
  if (n > 0 && p[n - 1] == '\r') n--;
  if (memchr(p, '\r', n) != NULL) return -1;
  *len = n;
  return 0;
}

/* The status line and headers p[0..len) (the blank line excluded, every
 * line already checked for its length and CRs): decides the body's framing. */
static int read_head(iothub_h1_reader *r, const char *p, size_t len) {
  const char *end = p + len, *line;
  size_t length = 0;
  int have_length = 0, chunked = 0, status;
  if (len < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
      p[9] < '0' || p[9] > '9' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9' ||
      (len > 12 && p[12] != ' ' && p[12] != '\r' && p[12] != '\n'))
    return fail(r, IOTHUB_H1_E_PROTOCOL, "invalid HTTP status line");
  status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
  if (status < 100) return fail(r, IOTHUB_H1_E_PROTOCOL, "Unsupported response code in HTTP response");
  if (status == 101) return fail(r, IOTHUB_H1_E_PROTOCOL, "unexpected 101 Switching Protocols");
  if (status < 200) {                          /* interim: the real head follows */
    if (++r->interim > IOTHUB_H1_MAX_INTERIM)
      return fail(r, IOTHUB_H1_E_PROTOCOL, "too many interim 1xx responses");
    return IOTHUB_H1_MORE;
  }
  r->minor = p[7] - '0';
  r->keep_alive = r->minor >= 1;
  for (line = (const char *)memchr(p, '\n', len); line && ++line < end; line = memchr(line, '\n', (size_t)(end - line))) {
    const char *eol = memchr(line, '\n', (size_t)(end - line)), *name, *v;
    size_t n = (size_t)((eol ? eol : end) - line), nn, vn;
    if (n > 0 && line[n - 1] == '\r') n--;
    if (split_header(line, n, &name, &nn, &v, &vn) != 0)
      return fail(r, IOTHUB_H1_E_PROTOCOL, "invalid header line in the response");
    if (nn == 14 && ieq(name, "content-length", 14)) {
      size_t x;
      if (parse_length(v, vn, &x) != 0 || (have_length && x != length))
        return fail(r, IOTHUB_H1_E_PROTOCOL, "invalid Content-Length in the response");
      length = x;
      have_length = 1;
    } else if (nn == 17 && ieq(name, "transfer-encoding", 17)) {
      /* Only "chunked", once: the client asks for no other coding. */
      if (chunked || vn != 7 || !ieq(v, "chunked", 7))
        return fail(r, IOTHUB_H1_E_PROTOCOL, "unsupported Transfer-Encoding in the response");
      chunked = 1;
    } else if (nn == 10 && ieq(name, "connection", 10)) {
      if (has_token(v, vn, "close")) r->keep_alive = 0;
      else if (r->minor == 0 && has_token(v, vn, "keep-alive")) r->keep_alive = 1;
    }
    if (eol == NULL) break;
  }
  /* Both framings at once is how responses get split (RFC 9112, 6.3). */
  if (chunked && have_length)
    return fail(r, IOTHUB_H1_E_PROTOCOL, "both Content-Length and Transfer-Encoding in the response");
  iothub_h1_bytes_free(&r->head);
  if (append(&r->head, p, len) != 0) return fail(r, IOTHUB_H1_E_NOMEM, "out of memory");
  r->status = status;
  if (r->head_request || status == 204 || status == 304) {
    r->state = S_DONE;
  } else if (chunked) {
    if (r->minor == 0) r->keep_alive = 0;       /* chunked in HTTP/1.0 is faulty framing */
    r->state = S_CHUNK_SIZE;
  } else if (have_length) {
    if (r->max_body && length > r->max_body) return too_large_body(r);
    r->remaining = length;
    r->state = length ? S_LENGTH : S_DONE;
  } else {
    r->state = S_UNTIL_CLOSE;
    r->keep_alive = 0;
  }
  return IOTHUB_H1_MORE;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* The head's next line from r->scan: 1 at the blank line that ends it, 0
 * when it needs more bytes, -1 after an error. Each verdict looks at a
 * window of the stream fixed by the bytes before it (the line up to
 * LINE_LIMIT + 2 bytes, the head up to HEAD_LIMIT), never at how much
 * happened to arrive, so the outcome is the same however bytes are split. */
static int scan_head(iothub_h1_reader *r) {
  for (;;) {
    size_t used = r->scan - r->in_off, avail = r->in.len - r->scan, window = IOTHUB_H1_LINE_LIMIT + 2, n;
    const char *start = r->in.data + r->scan, *nl;
    int by_block = 0;
    if (used + window > IOTHUB_H1_HEAD_LIMIT) {
      window = IOTHUB_H1_HEAD_LIMIT - used;
      by_block = 1;
    }
    nl = memchr(start, '\n', avail < window ? avail : window);
    if (nl == NULL) {
      if (avail < window) return 0;
      if (by_block) return fail_limit(r, "response header block larger than the limit", IOTHUB_H1_HEAD_LIMIT), -1;
      return fail_limit(r, "response header line longer than the limit", IOTHUB_H1_LINE_LIMIT), -1;
    }
    if (line_length(start, (size_t)(nl - start), &n) != 0)
      return fail(r, IOTHUB_H1_E_PROTOCOL, "bare CR in the response head"), -1;
    if (n > IOTHUB_H1_LINE_LIMIT)
      return fail_limit(r, "response header line longer than the limit", IOTHUB_H1_LINE_LIMIT), -1;
    r->scan += (size_t)(nl + 1 - start);
    if (n == 0) {
      if (used == 0) return fail(r, IOTHUB_H1_E_PROTOCOL, "invalid HTTP status line"), -1;
      return 1;
    }
    if (used > 0 && (start[0] == ' ' || start[0] == '\t'))
      return fail(r, IOTHUB_H1_E_PROTOCOL, "folded header line in the response"), -1;
  }
}

/* Takes n body bytes; -1 after an error. */
static int take_body(iothub_h1_reader *r, const char *p, size_t n) {
  if (r->max_body && (n > r->max_body || r->body.len > r->max_body - n)) return too_large_body(r), -1;
  if (append(&r->body, p, n) != 0) return fail(r, IOTHUB_H1_E_NOMEM, "out of memory"), -1;
  return 0;
}

/* Parses what r->in holds: IOTHUB_H1_MORE when it needs more bytes,
 * IOTHUB_H1_DONE, or IOTHUB_H1_ERROR. */
static int parse(iothub_h1_reader *r) {
  for (;;) {
    const char *p = r->in.data + r->in_off, *nl;
    size_t avail = r->in.len - r->in_off, n;
    switch (r->state) {
      case S_HEAD: {
        int found = scan_head(r);
        if (found <= 0) return found < 0 ? IOTHUB_H1_ERROR : IOTHUB_H1_MORE;
        n = r->scan - r->in_off;                   /* the head and its blank line */
        nl = r->in.data + r->scan - 1;
        nl -= nl > p && nl[-1] == '\r' ? 1 : 0;    /* the blank line's start */
        if (read_head(r, p, (size_t)(nl - p)) == IOTHUB_H1_ERROR) return IOTHUB_H1_ERROR;
        r->in_off += n;
        r->scan = r->in_off;
        break;
      }
      case S_LENGTH:
      case S_CHUNK_DATA:
        n = avail < r->remaining ? avail : r->remaining;
        if (n == 0) return IOTHUB_H1_MORE;
        if (take_body(r, p, n) != 0) return IOTHUB_H1_ERROR;
        r->in_off += n;
        r->remaining -= n;
        if (r->remaining == 0) r->state = r->state == S_LENGTH ? S_DONE : S_CHUNK_END;
        break;
      case S_UNTIL_CLOSE:
        if (avail && take_body(r, p, avail) != 0) return IOTHUB_H1_ERROR;
        r->in_off += avail;
        return IOTHUB_H1_MORE;
      case S_CHUNK_SIZE: {
        size_t size = 0, digits = 0, len;
        const char *q, *e;
        nl = memchr(p, '\n', avail < IOTHUB_H1_CHUNK_LINE_LIMIT + 1 ? avail : IOTHUB_H1_CHUNK_LINE_LIMIT + 1);
        if (nl == NULL) {
          if (avail > IOTHUB_H1_CHUNK_LINE_LIMIT) return fail(r, IOTHUB_H1_E_PROTOCOL, "chunk size line too long");
          return IOTHUB_H1_MORE;
        }
        if (line_length(p, (size_t)(nl - p), &len) != 0)
          return fail(r, IOTHUB_H1_E_PROTOCOL, "invalid chunk size in the response");
        for (q = p, e = p + len; q < e && hex_value(*q) >= 0; q++, digits++) {
          if (size > (SIZE_MAX >> 4)) break;
          size = size * 16 + (size_t)hex_value(*q);
        }
        while (q < e && (*q == ' ' || *q == '\t')) q++;
        /* After the digits: the line's end or an extension (";name=value"). */
        if (digits == 0 || (q < e && *q != ';'))
          return fail(r, IOTHUB_H1_E_PROTOCOL, "invalid chunk size in the response");
        r->in_off += (size_t)(nl + 1 - p);
        if (size == 0) {
          r->state = S_TRAILERS;
        } else {
          if (r->max_body && (size > r->max_body || r->body.len > r->max_body - size)) return too_large_body(r);
          r->remaining = size;
          r->state = S_CHUNK_DATA;
        }
        break;
      }
      case S_CHUNK_END:
        if (avail == 0 || (p[0] == '\r' && avail < 2)) return IOTHUB_H1_MORE;
        if (p[0] == '\n') r->in_off += 1;
        else if (p[0] == '\r' && p[1] == '\n') r->in_off += 2;
        else return fail(r, IOTHUB_H1_E_PROTOCOL, "chunk not followed by CRLF");
        r->state = S_CHUNK_SIZE;
        break;
      case S_TRAILERS: {
        const char *name, *v;
        size_t len, nn, vn;
        nl = memchr(p, '\n', avail < IOTHUB_H1_CHUNK_LINE_LIMIT + 1 ? avail : IOTHUB_H1_CHUNK_LINE_LIMIT + 1);
        if (nl == NULL) {
          if (avail > IOTHUB_H1_CHUNK_LINE_LIMIT) return fail(r, IOTHUB_H1_E_PROTOCOL, "trailer line too long");
          return IOTHUB_H1_MORE;
        }
        n = (size_t)(nl + 1 - p);
        if (line_length(p, (size_t)(nl - p), &len) != 0 ||
            (len > 0 && split_header(p, len, &name, &nn, &v, &vn) != 0))
          return fail(r, IOTHUB_H1_E_PROTOCOL, "invalid trailer line in the response");
        r->in_off += n;
        if (len == 0) {
          r->state = S_DONE;
          break;
        }
        /* Trailers join the headers, as libcurl hands them over. */
        if (r->head.len + len + 2 > IOTHUB_H1_HEAD_LIMIT)
          return fail_limit(r, "response header block larger than the limit", IOTHUB_H1_HEAD_LIMIT);
        if (append(&r->head, p, len) != 0 || append(&r->head, "\r\n", 2) != 0)
          return fail(r, IOTHUB_H1_E_NOMEM, "out of memory");
        break;
      }
      case S_DONE:
        return IOTHUB_H1_DONE;
      default:
        return IOTHUB_H1_ERROR;
    }
  }
}

/* Moves the unparsed bytes to the front of r->in. */
static void compact(iothub_h1_reader *r) {
  size_t left = r->in.len - r->in_off;
  if (r->in_off == 0) return;
  if (left) memmove(r->in.data, r->in.data + r->in_off, left);
  r->in.len = left;
  r->in.data[left] = '\0';
  r->scan = r->scan > r->in_off ? r->scan - r->in_off : 0;
  r->in_off = 0;
}

int iothub_h1_feed(iothub_h1_reader *r, const char *p, size_t n) {
  if (r->state == S_FAILED) return IOTHUB_H1_ERROR;
  r->received += n;
  for (;;) {
    size_t k;
    int rc;
    if (r->state == S_DONE) {
      size_t past = n + (r->in.len - r->in_off);
      if (r->length == 0) r->length = r->received - past;
      if (past > 0) r->keep_alive = 0;                         /* bytes past the response */
      r->in_off = r->in.len;
      return IOTHUB_H1_DONE;
    }
    if (n == 0) return IOTHUB_H1_MORE;
    /* Body bytes with nothing pending go straight to the body. */
    if (r->in_off == r->in.len && (r->state == S_LENGTH || r->state == S_CHUNK_DATA || r->state == S_UNTIL_CLOSE)) {
      k = r->state == S_UNTIL_CLOSE || n < r->remaining ? n : r->remaining;
      if (take_body(r, p, k) != 0) return IOTHUB_H1_ERROR;
      p += k;
      n -= k;
      if (r->state != S_UNTIL_CLOSE && (r->remaining -= k) == 0)
        r->state = r->state == S_LENGTH ? S_DONE : S_CHUNK_END;
      continue;
    }
    k = n < STEP ? n : STEP;
    if (append(&r->in, p, k) != 0) return fail(r, IOTHUB_H1_E_NOMEM, "out of memory");
    p += k;
    n -= k;
    rc = parse(r);
    if (rc == IOTHUB_H1_ERROR) return rc;
    if (rc == IOTHUB_H1_MORE) compact(r);
  }
}

int iothub_h1_eof(iothub_h1_reader *r) {
  char msg[96];
  switch (r->state) {
    case S_FAILED:
      return IOTHUB_H1_ERROR;
    case S_UNTIL_CLOSE:
      r->length = r->received;
      /* fall through */
    case S_DONE:
      r->state = S_DONE;
      r->keep_alive = 0;
      return IOTHUB_H1_DONE;
    case S_HEAD:
      if (r->received == 0) return fail(r, IOTHUB_H1_E_EMPTY, "Empty reply from server");
      return fail(r, IOTHUB_H1_E_CLOSED, "connection closed before the response headers ended");
    case S_LENGTH:
      snprintf(msg, sizeof msg, "transfer closed with %lu bytes remaining to read", (unsigned long)r->remaining);
      return fail(r, IOTHUB_H1_E_CLOSED, msg);
    default:
      return fail(r, IOTHUB_H1_E_CLOSED, "transfer closed with outstanding read data remaining");
  }
}

int iothub_h1_next_header(const iothub_h1_reader *r, size_t *pos, const char **name, size_t *name_len,
                          const char **value, size_t *value_len) {
  const char *base = r->head.data, *end = base + r->head.len;
  if (base == NULL) return 0;
  if (*pos == 0) {                                  /* past the status line */
    const char *nl = memchr(base, '\n', r->head.len);
    *pos = nl ? (size_t)(nl + 1 - base) : r->head.len;
  }
  while (*pos < r->head.len) {
    const char *line = base + *pos, *nl = memchr(line, '\n', (size_t)(end - line));
    size_t n = (size_t)((nl ? nl : end) - line);
    *pos = nl ? (size_t)(nl + 1 - base) : r->head.len;
    if (n > 0 && line[n - 1] == '\r') n--;
    if (split_header(line, n, name, name_len, value, value_len) == 0) return 1;
  }
  return 0;
}
