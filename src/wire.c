/* wire.c: HTTP/1.1 over a libcurl CONNECT_ONLY connection (see wire.h).
 * The response reader is a small state machine fed by whatever bytes arrive:
 * status line and headers (interim 1xx responses skipped), then a body
 * framed by Content-Length, by chunks, or by the connection's close. Error
 * codes are libcurl's, so errors look the same whichever path ran. */
#include "wire.h"
#include "util.h"
#include "defaults.h"

#include <ctype.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HEAD_LIMIT IOTHUB_MAX_HEADER_BYTES  /* as the libcurl path's header buffer */
#define LINE_LIMIT 4096             /* a chunk-size line */

enum wire_state {
  S_IDLE, S_SEND, S_HEAD, S_LENGTH, S_CHUNK_SIZE, S_CHUNK_DATA, S_CHUNK_END,
  S_TRAILERS, S_UNTIL_CLOSE, S_DONE
};

struct iothub_wire {
  CURL *curl;                 /* CONNECT_ONLY handle that owns the connection */
  curl_socket_t fd;
  char *origin;               /* "https://host:port" it is connected to */
  int used;                   /* a response has come back on the connection */
  int reused;                 /* this request went on a connection used before */
  CURLcode pending;           /* a failed parallel connect, for the next start */
  int resent;                 /* already resent once after a stale connection */
  int keep_alive;             /* the response allows another request after it */
  int head_request;
  enum wire_state state;
  long status;
  double deadline;            /* monotonic seconds */
  iothub_buffer out;          /* the request; wiped, as it holds the SAS */
  size_t out_off;
  iothub_buffer in;           /* received bytes not parsed yet */
  size_t in_off;
  size_t scan;                /* where the search for the head's end resumes */
  size_t received;            /* bytes of this response so far */
  size_t remaining;           /* of the Content-Length or the chunk */
};

static const char *after_scheme(const char *url) {
  if (strncmp(url, "https://", 8) == 0) return url + 8;
  if (strncmp(url, "http://", 7) == 0) return url + 7;
  return NULL;
}

int iothub_wire_supports(const char *url) {
  const char *a = after_scheme(url);
  size_t n;
  if (a == NULL) return 0;
  n = strcspn(a, "/?#");
  return n > 0 && memchr(a, '@', n) == NULL;
}

static void disconnect(struct iothub_wire *w) {
  if (w->curl) curl_easy_cleanup(w->curl);
  w->curl = NULL;
  w->fd = CURL_SOCKET_BAD;
  free(w->origin);
  w->origin = NULL;
}

void iothub_wire_free(iothub_http *h) {
  struct iothub_wire *w = h->wire;
  if (w == NULL) return;
  disconnect(w);
  iothub_buffer_free(&w->out, 1);
  iothub_buffer_free(&w->in, 0);
  free(w);
  h->wire = NULL;
}

long iothub_wire_status(const iothub_http *h) {
  return h->wire ? h->wire->status : 0;
}

/* A new connection to the origin, the first origin_len bytes of url; a
 * duplicate of h's handle, so every TLS and timeout option carries over. */
static CURLcode connect_to(iothub_http *h, struct iothub_wire *w, const char *url, size_t origin_len) {
  CURLcode rc;
  curl_socket_t fd = CURL_SOCKET_BAD;
  char *origin = malloc(origin_len + 2);
  if (origin == NULL) return CURLE_OUT_OF_MEMORY;
  memcpy(origin, url, origin_len);          /* url may be w->origin itself */
  origin[origin_len] = '/';
  origin[origin_len + 1] = '\0';
  disconnect(w);
  w->curl = curl_easy_duphandle(h->curl);
  if (w->curl == NULL) { free(origin); return CURLE_OUT_OF_MEMORY; }
  curl_easy_setopt(w->curl, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(w->curl, CURLOPT_URL, origin);
  curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, NULL);
  rc = curl_easy_perform(w->curl);
  if (rc == CURLE_OK) rc = curl_easy_getinfo(w->curl, CURLINFO_ACTIVESOCKET, &fd);
  if (rc == CURLE_OK && fd == CURL_SOCKET_BAD) rc = CURLE_COULDNT_CONNECT;
  if (rc != CURLE_OK) {
    free(origin);
    disconnect(w);
    return rc;
  }
  origin[origin_len] = '\0';
  w->origin = origin;
  w->fd = fd;
  w->used = 0;
  h->connections++;
  return CURLE_OK;
}

/* An idle kept-alive connection has nothing to say: anything readable is
 * the server's close (or junk), so it is not worth sending on. */
static int idle_connection_dead(curl_socket_t fd) {
  struct pollfd p;
  p.fd = fd;
  p.events = POLLIN;
  p.revents = 0;
  return poll(&p, 1, 0) != 0;
}

/* The request's bytes: request line, Host, User-Agent, the header list
 * (a "Name:" line without a value only told libcurl to drop a header of
 * its own), Content-Length for methods with a body, and the body. */
static int format_request(const iothub_http *h, iothub_buffer *out, const char *method,
                          const char *authority, size_t authority_len, const char *target,
                          const struct curl_slist *headers, const char *body, size_t body_len) {
  char length[48];
  int with_body = strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
  const struct curl_slist *l;
  iothub_buffer_reset(out);
  if (iothub_buffer_append_str(out, method) || iothub_buffer_append(out, " ", 1) ||
      (target[0] != '/' && iothub_buffer_append(out, "/", 1)) ||
      iothub_buffer_append_str(out, target) ||
      iothub_buffer_append_str(out, " HTTP/1.1\r\nHost: ") ||
      iothub_buffer_append(out, authority, authority_len) || iothub_buffer_append(out, "\r\n", 2))
    return -1;
  if (h->user_agent && h->user_agent[0] &&
      (iothub_buffer_append_str(out, "User-Agent: ") || iothub_buffer_append_str(out, h->user_agent) ||
       iothub_buffer_append(out, "\r\n", 2)))
    return -1;
  for (l = headers; l; l = l->next) {
    const char *colon = strchr(l->data, ':'), *v;
    if (colon == NULL) continue;
    for (v = colon + 1; *v == ' '; v++) {}
    if (*v == '\0') continue;
    if (iothub_buffer_append_str(out, l->data) || iothub_buffer_append(out, "\r\n", 2)) return -1;
  }
  if (with_body) snprintf(length, sizeof length, "Content-Length: %lu\r\n\r\n", (unsigned long)body_len);
  else strcpy(length, "\r\n");
  if (iothub_buffer_append_str(out, length)) return -1;
  return with_body && body_len ? iothub_buffer_append(out, body, body_len) : 0;
}

static void begin_send(struct iothub_wire *w) {
  w->out_off = 0;
  iothub_buffer_reset(&w->in);
  w->in_off = w->scan = w->received = w->remaining = 0;
  w->status = 0;
  w->keep_alive = 1;
  w->state = S_SEND;
}

static struct iothub_wire *wire_of(iothub_http *h) {
  if (h->wire == NULL && (h->wire = calloc(1, sizeof *h->wire)) != NULL) h->wire->fd = CURL_SOCKET_BAD;
  return h->wire;
}

/* Length of url's origin ("scheme://authority"); url passed
 * iothub_wire_supports. */
static size_t origin_length(const char *url) {
  const char *authority = after_scheme(url);
  return (size_t)(authority - url) + strcspn(authority, "/?#");
}

/* Whether w holds a connection worth sending the next request to url on.
 * Only a used one is checked for the server's close: a fresh TLS 1.3
 * connection may still have session tickets to read. */
static int keep_connection(struct iothub_wire *w, const char *url, size_t origin_len) {
  return w->curl && strlen(w->origin) == origin_len && memcmp(w->origin, url, origin_len) == 0 &&
         !(w->used && idle_connection_dead(w->fd));
}

CURLcode iothub_wire_start(iothub_http *h, const char *method, const char *url,
                           const struct curl_slist *headers, const char *body, size_t body_len) {
  struct iothub_wire *w = wire_of(h);
  const char *authority, *target;
  size_t origin_len;
  h->last_direct = 1;
  iothub_buffer_reset(&h->body);
  iothub_buffer_reset(&h->headers);
  if (w == NULL) return CURLE_OUT_OF_MEMORY;
  w->status = 0;
  w->state = S_IDLE;
  if (w->pending != CURLE_OK) {                /* h->errbuf still says why */
    CURLcode rc = w->pending;
    w->pending = CURLE_OK;
    return rc;
  }
  h->errbuf[0] = '\0';
  if (!iothub_wire_supports(url)) return CURLE_UNSUPPORTED_PROTOCOL;
  origin_len = origin_length(url);
  authority = after_scheme(url);
  target = url + origin_len;
  if (format_request(h, &w->out, method, authority, (size_t)(target - authority),
                     target[0] ? target : "/", headers, body, body_len) != 0)
    return CURLE_OUT_OF_MEMORY;
  w->head_request = strcmp(method, "HEAD") == 0;
  w->resent = 0;
  w->deadline = iothub_monotonic() + (double)h->timeout_ms / 1000.0;
  if (!keep_connection(w, url, origin_len)) disconnect(w);
  w->reused = w->curl != NULL && w->used;
  if (w->curl == NULL) {
    CURLcode rc = connect_to(h, w, url, origin_len);
    if (rc != CURLE_OK) return rc;
  }
  begin_send(w);
  return CURLE_OK;
}

typedef struct connect_job {
  iothub_http *h;
  const char *url;
  size_t origin_len;
  pthread_t thread;
  int started;
} connect_job;

static void *connect_thread(void *arg) {
  connect_job *j = arg;
  j->h->wire->pending = connect_to(j->h, j->h->wire, j->url, j->origin_len);
  return NULL;
}

void iothub_wire_connect_all(iothub_http **hs, int n, const char *url) {
  connect_job *jobs;
  size_t origin_len;
  int i, count = 0;
  if (n < 2 || !iothub_wire_supports(url) || (jobs = calloc((size_t)n, sizeof *jobs)) == NULL) return;
  origin_len = origin_length(url);
  for (i = 0; i < n; i++) {
    struct iothub_wire *w = wire_of(hs[i]);
    if (w == NULL || w->pending != CURLE_OK || keep_connection(w, url, origin_len)) continue;
    disconnect(w);
    jobs[count].h = hs[i];
    jobs[count].url = url;
    jobs[count].origin_len = origin_len;
    count++;
  }
  /* One connect in this thread, the others each in their own. libcurl
   * allows a handle on any thread, one at a time; no Lua is touched. */
  for (i = 1; i < count; i++)
    jobs[i].started = pthread_create(&jobs[i].thread, NULL, connect_thread, &jobs[i]) == 0;
  if (count > 0) connect_thread(&jobs[0]);
  for (i = 1; i < count; i++) {
    if (jobs[i].started) pthread_join(jobs[i].thread, NULL);
    else connect_thread(&jobs[i]);
  }
  free(jobs);
}

int iothub_wire_ms_left(const iothub_http *h) {
  double left = h->wire ? h->wire->deadline - iothub_monotonic() : 0;
  if (!(left > 0)) return 0;
  if (left > 1e6) left = 1e6;
  return (int)(left * 1000.0) + 1;           /* never wake just before it */
}

/* Ends the request with an error: the connection's state is unknown. */
static int fail(iothub_http *h, struct iothub_wire *w, CURLcode code, const char *msg, CURLcode *rc) {
  if (msg) snprintf(h->errbuf, CURL_ERROR_SIZE, "%s", msg);
  disconnect(w);
  w->state = S_IDLE;
  w->status = 0;
  *rc = code;
  return IOTHUB_WIRE_DONE;
}

static int finish(struct iothub_wire *w, CURLcode *rc) {
  w->used = 1;
  if (w->in_off < w->in.len) w->keep_alive = 0;   /* bytes past the response */
  if (!w->keep_alive) disconnect(w);
  w->state = S_IDLE;
  *rc = CURLE_OK;
  return IOTHUB_WIRE_DONE;
}

/* A kept-alive connection may have been closed by the server just as the
 * request went out; like libcurl, send it once more on a new connection if
 * not a byte of the answer came back. 0 when resent. */
static int resend(iothub_http *h, struct iothub_wire *w) {
  if (!w->reused || w->resent || w->received > 0 || w->origin == NULL) return -1;
  if (connect_to(h, w, w->origin, strlen(w->origin)) != CURLE_OK) return -1;
  w->resent = 1;
  w->reused = 0;
  begin_send(w);
  return 0;
}

static int wait_for(iothub_http *h, struct iothub_wire *w, int what, CURLcode *rc) {
  if (iothub_monotonic() >= w->deadline) {
    char msg[CURL_ERROR_SIZE];
    snprintf(msg, sizeof msg, "Operation timed out after %ld milliseconds with %lu bytes received",
             h->timeout_ms, (unsigned long)w->received);
    return fail(h, w, CURLE_OPERATION_TIMEDOUT, msg, rc);
  }
  return what;
}

static int has_token(const char *v, size_t n, const char *token) {
  size_t tn = strlen(token);
  while (n > 0) {
    const char *comma = memchr(v, ',', n);
    size_t len = comma ? (size_t)(comma - v) : n;
    const char *s = v, *e = v + len;
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
    if ((size_t)(e - s) == tn && strncasecmp(s, token, tn) == 0) return 1;
    if (comma == NULL) break;
    n -= len + 1;
    v = comma + 1;
  }
  return 0;
}

/* Parses a decimal Content-Length; -1 when it is not one. */
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

/* The head ends at the first empty line (CRLF or bare LF). */
static const char *head_end(struct iothub_wire *w) {
  const char *base = w->in.data, *end = base + w->in.len;
  const char *q = base + (w->scan > w->in_off ? w->scan : w->in_off);
  while (q < end && (q = memchr(q, '\n', (size_t)(end - q))) != NULL) {
    if (end - q < 2) break;
    if (q[1] == '\n') return q + 2;
    if (q[1] == '\r') {
      if (end - q < 3) break;
      if (q[2] == '\n') return q + 3;
    }
    q++;
  }
  w->scan = q ? (size_t)(q - base) : w->in.len;
  return NULL;
}

/* The status line and headers p[0..len): decides the body's framing. */
static int read_head(iothub_http *h, struct iothub_wire *w, const char *p, size_t len, CURLcode *rc) {
  const char *end = p + len, *line;
  size_t length = 0;
  int minor, have_length = 0, chunked = 0;
  long status;
  if (len < 13 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
      !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) || !isdigit((unsigned char)p[11]) ||
      (p[12] != ' ' && p[12] != '\r' && p[12] != '\n'))
    return fail(h, w, CURLE_WEIRD_SERVER_REPLY, "invalid HTTP status line", rc), -1;
  minor = p[7] - '0';
  status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
  if (status < 100)                             /* as libcurl: 0 means "no status" */
    return fail(h, w, CURLE_WEIRD_SERVER_REPLY, "Unsupported response code in HTTP response", rc), -1;
  if (status >= 100 && status < 200) {
    if (status == 101) return fail(h, w, CURLE_WEIRD_SERVER_REPLY, "unexpected 101 Switching Protocols", rc), -1;
    return 0;                                   /* interim: the real head follows */
  }
  iothub_buffer_reset(&h->headers);
  if (iothub_buffer_append(&h->headers, p, len) != 0)
    return fail(h, w, CURLE_WRITE_ERROR, NULL, rc), -1;
  w->status = status;
  w->keep_alive = minor >= 1;
  for (line = (const char *)memchr(p, '\n', len) + 1; line < end; ) {
    const char *eol = memchr(line, '\n', (size_t)(end - line));
    const char *le = eol ? eol : end, *colon, *v, *ve;
    size_t n;
    if (le > line && le[-1] == '\r') le--;
    colon = memchr(line, ':', (size_t)(le - line));
    if (colon) {
      n = (size_t)(colon - line);
      for (v = colon + 1; v < le && (*v == ' ' || *v == '\t'); v++) {}
      for (ve = le; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--) {}
      if (n == 14 && strncasecmp(line, "content-length", 14) == 0) {
        size_t x;
        if (parse_length(v, (size_t)(ve - v), &x) != 0 || (have_length && x != length))
          return fail(h, w, CURLE_WEIRD_SERVER_REPLY, "invalid Content-Length in the response", rc), -1;
        length = x;
        have_length = 1;
      } else if (n == 17 && strncasecmp(line, "transfer-encoding", 17) == 0) {
        chunked = has_token(v, (size_t)(ve - v), "chunked");
      } else if (n == 10 && strncasecmp(line, "connection", 10) == 0) {
        if (has_token(v, (size_t)(ve - v), "close")) w->keep_alive = 0;
        else if (minor == 0 && has_token(v, (size_t)(ve - v), "keep-alive")) w->keep_alive = 1;
      }
    }
    line = eol ? eol + 1 : end;
  }
  if (w->head_request || status == 204 || status == 304) {
    w->state = S_DONE;
  } else if (chunked) {
    w->state = S_CHUNK_SIZE;
  } else if (have_length) {
    if (h->body.limit && length > h->body.limit) return fail(h, w, CURLE_WRITE_ERROR, NULL, rc), -1;
    w->remaining = length;
    w->state = length ? S_LENGTH : S_DONE;
  } else {
    w->state = S_UNTIL_CLOSE;
    w->keep_alive = 0;
  }
  return 0;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Parses what w->in holds; 0 when it needs more bytes (or is done), -1
 * after an error (the request already failed). */
static int parse(iothub_http *h, struct iothub_wire *w, CURLcode *rc) {
  for (;;) {
    const char *p = w->in.data + w->in_off, *nl;
    size_t avail = w->in.len - w->in_off, n;
    switch (w->state) {
      case S_HEAD: {
        const char *end = head_end(w);
        if (end == NULL) {
          if (avail > HEAD_LIMIT) return fail(h, w, CURLE_WRITE_ERROR, NULL, rc), -1;
          return 0;
        }
        if (read_head(h, w, p, (size_t)(end - p), rc) != 0) return -1;
        w->in_off += (size_t)(end - p);
        break;
      }
      case S_LENGTH:
      case S_CHUNK_DATA:
        n = avail < w->remaining ? avail : w->remaining;
        if (n == 0) return 0;
        if (iothub_buffer_append(&h->body, p, n) != 0) return fail(h, w, CURLE_WRITE_ERROR, NULL, rc), -1;
        w->in_off += n;
        w->remaining -= n;
        if (w->remaining == 0) w->state = w->state == S_LENGTH ? S_DONE : S_CHUNK_END;
        break;
      case S_UNTIL_CLOSE:
        if (avail && iothub_buffer_append(&h->body, p, avail) != 0)
          return fail(h, w, CURLE_WRITE_ERROR, NULL, rc), -1;
        w->in_off += avail;
        return 0;
      case S_CHUNK_SIZE: {
        size_t size = 0, digits = 0;
        const char *q;
        nl = memchr(p, '\n', avail < LINE_LIMIT + 1 ? avail : LINE_LIMIT + 1);
        if (nl == NULL) {
          if (avail > LINE_LIMIT) return fail(h, w, CURLE_WEIRD_SERVER_REPLY, "chunk size line too long", rc), -1;
          return 0;
        }
        for (q = p; q < nl && hex_value(*q) >= 0; q++, digits++) {
          if (size > (SIZE_MAX >> 4)) break;
          size = size * 16 + (size_t)hex_value(*q);
        }
        if (digits == 0 || (q < nl && hex_value(*q) >= 0))
          return fail(h, w, CURLE_WEIRD_SERVER_REPLY, "invalid chunk size in the response", rc), -1;
        w->in_off += (size_t)(nl + 1 - p);
        if (size == 0) {
          w->state = S_TRAILERS;
        } else {
          if (h->body.limit && (size > h->body.limit || h->body.len > h->body.limit - size))
            return fail(h, w, CURLE_WRITE_ERROR, NULL, rc), -1;
          w->remaining = size;
          w->state = S_CHUNK_DATA;
        }
        break;
      }
      case S_CHUNK_END:
        if (avail == 0 || (p[0] == '\r' && avail < 2)) return 0;
        if (p[0] == '\n') w->in_off += 1;
        else if (p[0] == '\r' && p[1] == '\n') w->in_off += 2;
        else return fail(h, w, CURLE_WEIRD_SERVER_REPLY, "chunk not followed by CRLF", rc), -1;
        w->state = S_CHUNK_SIZE;
        break;
      case S_TRAILERS:
        nl = memchr(p, '\n', avail < LINE_LIMIT + 1 ? avail : LINE_LIMIT + 1);
        if (nl == NULL) {
          if (avail > LINE_LIMIT) return fail(h, w, CURLE_WEIRD_SERVER_REPLY, "trailer line too long", rc), -1;
          return 0;
        }
        n = (size_t)(nl + 1 - p);
        if (n == 1 || (n == 2 && p[0] == '\r')) w->state = S_DONE;
        else if (iothub_buffer_append(&h->headers, p, n) != 0)   /* as libcurl hands trailers over */
          return fail(h, w, CURLE_WRITE_ERROR, NULL, rc), -1;
        w->in_off += n;
        break;
      default:
        return 0;
    }
  }
}

/* Moves the unparsed bytes to the front of w->in. */
static void compact(struct iothub_wire *w) {
  size_t left = w->in.len - w->in_off;
  if (w->in_off == 0) return;
  if (left) memmove(w->in.data, w->in.data + w->in_off, left);
  w->in.len = left;
  w->in.data[left] = '\0';
  w->scan = w->scan > w->in_off ? w->scan - w->in_off : 0;
  w->in_off = 0;
}

static int on_close(iothub_http *h, struct iothub_wire *w, CURLcode *rc) {
  char msg[CURL_ERROR_SIZE];
  switch (w->state) {
    case S_UNTIL_CLOSE:
      w->keep_alive = 0;
      return finish(w, rc);
    case S_SEND:
    case S_HEAD:
      if (w->received == 0) return fail(h, w, CURLE_GOT_NOTHING, "Empty reply from server", rc);
      return fail(h, w, CURLE_RECV_ERROR, "connection closed before the response headers ended", rc);
    case S_LENGTH:
      snprintf(msg, sizeof msg, "transfer closed with %lu bytes remaining to read",
               (unsigned long)w->remaining);
      return fail(h, w, CURLE_PARTIAL_FILE, msg, rc);
    default:
      return fail(h, w, CURLE_PARTIAL_FILE, "transfer closed with outstanding read data remaining", rc);
  }
}

int iothub_wire_step(iothub_http *h, CURLcode *rc, curl_socket_t *fd) {
  struct iothub_wire *w = h->wire;
  char buf[16384];
  for (;;) {
    size_t n = 0;
    CURLcode r;
    *fd = w->fd;
    if (w->state == S_SEND) {
      r = curl_easy_send(w->curl, w->out.data + w->out_off, w->out.len - w->out_off, &n);
      if (r == CURLE_AGAIN) return wait_for(h, w, IOTHUB_WIRE_WRITE, rc);
      if (r != CURLE_OK) {
        if (resend(h, w) == 0) continue;
        return fail(h, w, r, NULL, rc);
      }
      w->out_off += n;
      if (w->out_off == w->out.len) w->state = S_HEAD;
      continue;
    }
    r = curl_easy_recv(w->curl, buf, sizeof buf, &n);
    if (r == CURLE_AGAIN) return wait_for(h, w, IOTHUB_WIRE_READ, rc);
    if (r != CURLE_OK || n == 0) {
      if (resend(h, w) == 0) continue;
      return r != CURLE_OK ? fail(h, w, r, NULL, rc) : on_close(h, w, rc);
    }
    w->received += n;
    if (iothub_buffer_append(&w->in, buf, n) != 0) return fail(h, w, CURLE_OUT_OF_MEMORY, NULL, rc);
    if (parse(h, w, rc) != 0) return IOTHUB_WIRE_DONE;
    if (w->state == S_DONE) return finish(w, rc);
    compact(w);
  }
}

CURLcode iothub_wire_perform(iothub_http *h, const char *method, const char *url,
                             const struct curl_slist *headers, const char *body,
                             size_t body_len, long *status) {
  CURLcode rc = iothub_wire_start(h, method, url, headers, body, body_len);
  curl_socket_t fd;
  int want;
  *status = 0;
  if (rc != CURLE_OK) return rc;
  while ((want = iothub_wire_step(h, &rc, &fd)) != IOTHUB_WIRE_DONE) {
    struct pollfd p;
    p.fd = fd;
    p.events = want == IOTHUB_WIRE_READ ? POLLIN : POLLOUT;
    p.revents = 0;
    poll(&p, 1, iothub_wire_ms_left(h));     /* EINTR or a timeout: step decides */
  }
  if (rc == CURLE_OK) *status = iothub_wire_status(h);
  return rc;
}
