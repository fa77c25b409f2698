/* http.c: the libcurl transport (see http.h). Options are set once when a
 * handle is made; a request changes only what differs from the last one
 * (URL, body, method, header lines), as libcurl's documentation suggests
 * for handle reuse: the handle keeps its connection, TLS session and DNS
 * entries between requests. */
#include "http.h"
#include "defaults.h"
#include "errors.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

enum { TOO_LARGE_NONE, TOO_LARGE_BODY, TOO_LARGE_HEAD };
enum { METHOD_NONE, METHOD_GET, METHOD_OTHER };

struct iothub_http {
  CURL *curl;
  struct curl_slist *headers;   /* built from the request's header lines; may hold a secret */
  iothub_buffer body;
  iothub_buffer head;           /* raw header lines of the last response */
  char errbuf[CURL_ERROR_SIZE];
  CURLcode rc;                  /* of the last transfer */
  int too_large;                /* which of our limits stopped it, if one did */
  long status;
  unsigned long connections;    /* opened, not yet taken */
  int method_kind;              /* what CURLOPT_HTTPGET/CUSTOMREQUEST say now */
  char method[16];
  int once;                     /* FRESH_CONNECT and FORBID_REUSE are set */
  void *owner;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;   /* written once, under pthread_once */

static void global_init(void) {
  /* curl_global_init is reference counted: harmless when the host called it. */
  global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int iothub_http_global_init(void) {
  pthread_once(&global_once, global_init);
  return global_rc == CURLE_OK ? 0 : -1;
}

const char *iothub_http_version(void) { return curl_version(); }

time_t iothub_http_date(const char *s) { return curl_getdate(s, NULL); }

/* Whether appending n bytes to b fails for its limit (not for memory). */
static int over_limit(const iothub_buffer *b, size_t n) {
  return b->limit && (n > b->limit || b->len > b->limit - n);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  iothub_http *h = ud;
  if (over_limit(&h->body, size * n)) { h->too_large = TOO_LARGE_BODY; return 0; }
  return iothub_buffer_append(&h->body, p, size * n) == 0 ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  iothub_http *h = ud;
  size_t len = size * n;
  /* A new status line (after a 100 Continue, say) starts a new header set. */
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) iothub_buffer_reset(&h->head);
  if (over_limit(&h->head, len)) { h->too_large = TOO_LARGE_HEAD; return 0; }
  return iothub_buffer_append(&h->head, p, len) == 0 ? len : 0;
}

/* Points the handle's callbacks and buffers at h (after new or dup). */
static void own(iothub_http *h) {
  CURL *c = h->curl;
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
  curl_easy_setopt(c, CURLOPT_PRIVATE, (void *)h);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
}

iothub_http *iothub_http_new(const iothub_http_opts *o, const char **msg) {
  iothub_http *h;
  CURL *c;
  if (iothub_http_global_init() != 0) { *msg = "curl_global_init failed"; return NULL; }
  h = calloc(1, sizeof *h);
  if (h == NULL) { *msg = "out of memory"; return NULL; }
  c = h->curl = curl_easy_init();
  if (c == NULL) { free(h); *msg = "curl_easy_init failed"; return NULL; }
  h->body.limit = o->max_response_size;
  h->head.limit = IOTHUB_MAX_HEADER_BYTES;
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
#else
  curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTPS | CURLPROTO_HTTP));
#endif
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, o->verify ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, o->verify ? 2L : 0L);
  if (o->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_USERAGENT, o->user_agent ? o->user_agent : "");
  own(h);
  return h;
}

iothub_http *iothub_http_dup(const iothub_http *src) {
  iothub_http *h = calloc(1, sizeof *h);
  if (h == NULL) return NULL;
  h->curl = curl_easy_duphandle(src->curl);
  if (h->curl == NULL) { free(h); return NULL; }
  h->body.limit = src->body.limit;
  h->head.limit = src->head.limit;
  /* Its header list and body must not be src's (they go with src's next
   * request). Clearing POSTFIELDS makes libcurl's method POST, so the
   * first request sets the method whatever it is. */
  h->method_kind = METHOD_NONE;
  h->once = src->once;
  curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
  own(h);
  return h;
}

/* Frees a header list, wiping each line first: one is the Authorization. */
static void free_headers(struct curl_slist *l) {
  struct curl_slist *p;
  for (p = l; p; p = p->next) OPENSSL_cleanse(p->data, strlen(p->data));
  curl_slist_free_all(l);
}

void iothub_http_free(iothub_http *h) {
  if (h == NULL) return;
  curl_easy_cleanup(h->curl);
  free_headers(h->headers);
  iothub_buffer_free(&h->body, 0);
  iothub_buffer_free(&h->head, 0);
  free(h);
}

/* The next line of the lines [*p, end) ("...\r\n"), its length in *n. */
static const char *next_line(const char **p, const char *end, size_t *n) {
  const char *s = *p, *eol;
  if (s >= end) return NULL;
  eol = memchr(s, '\r', (size_t)(end - s));
  if (eol == NULL) eol = end;
  *n = (size_t)(eol - s);
  *p = eol + 2 <= end ? eol + 2 : end;
  return s;
}

/* Makes h's header list say the given lines. The list is built once and
 * then kept: a line of the same length (the request id, a re-signed token)
 * is overwritten in place; only another shape of request builds a new one. */
static int set_headers(iothub_http *h, const char *lines, size_t len) {
  const char *p = lines, *end = lines + len, *s;
  struct curl_slist *l = h->headers, *built = NULL;
  size_t n;
  int same_shape = 1;
  while ((s = next_line(&p, end, &n)) != NULL) {
    if (l == NULL || strlen(l->data) != n) { same_shape = 0; break; }
    l = l->next;
  }
  if (same_shape && l == NULL) {
    for (p = lines, l = h->headers; (s = next_line(&p, end, &n)) != NULL; l = l->next)
      if (memcmp(l->data, s, n) != 0) memcpy(l->data, s, n);
    return 0;
  }
  for (p = lines; (s = next_line(&p, end, &n)) != NULL;) {
    char line[8192], *big = NULL, *text = line;
    struct curl_slist *next;
    if (n >= sizeof line && (text = big = malloc(n + 1)) == NULL) { free_headers(built); return -1; }
    memcpy(text, s, n);
    text[n] = '\0';
    next = curl_slist_append(built, text);   /* copies the line */
    OPENSSL_cleanse(text, n);
    free(big);
    if (next == NULL) { free_headers(built); return -1; }
    built = next;
  }
  free_headers(h->headers);
  h->headers = built;
  curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, built);
  return 0;
}

int iothub_http_prepare(iothub_http *h, const iothub_http_request *r) {
  CURL *c = h->curl;
  iothub_buffer_reset(&h->body);
  iothub_buffer_reset(&h->head);
  h->errbuf[0] = '\0';
  h->rc = CURLE_OK;
  h->too_large = TOO_LARGE_NONE;
  h->status = 0;
  if (set_headers(h, r->header_lines, r->header_len) != 0) return -1;
  if (curl_easy_setopt(c, CURLOPT_URL, r->url) != CURLE_OK) return -1;
  if (strcmp(r->method, "GET") == 0) {
    if (h->method_kind != METHOD_GET) {
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
      h->method_kind = METHOD_GET;
    }
  } else {
    /* POSTFIELDS gives every other method a body (possibly empty), sent
     * with an exact Content-Length; CUSTOMREQUEST names the method. */
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body ? r->body : "");
    if (h->method_kind != METHOD_OTHER || strcmp(h->method, r->method) != 0) {
      if (strlen(r->method) >= sizeof h->method) return -1;
      strcpy(h->method, r->method);
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
      h->method_kind = METHOD_OTHER;
    }
  }
  /* At most once: a fresh connection, closed after it, so neither libcurl
   * (which resends on a reused connection that died) nor anyone resends. */
  if (r->once != h->once) {
    curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, r->once ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, r->once ? 1L : 0L);
    h->once = r->once;
  }
  return 0;
}

/* Records a finished transfer's outcome. */
static void finish(iothub_http *h, CURLcode rc) {
  long connects = 0;
  h->rc = rc;
  h->status = 0;
  if (rc == CURLE_OK) curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &h->status);
  if (curl_easy_getinfo(h->curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
    h->connections += (unsigned long)connects;
}

int iothub_http_perform(iothub_http *h) {
  finish(h, curl_easy_perform(h->curl));
  return h->rc == CURLE_OK ? 0 : -1;
}

long iothub_http_status(const iothub_http *h) { return h->status; }

const char *iothub_http_body(const iothub_http *h, size_t *len) {
  *len = h->body.len;
  return h->body.data ? h->body.data : "";
}

int iothub_http_failed(const iothub_http *h) { return h->rc != CURLE_OK; }

unsigned long iothub_http_take_connections(iothub_http *h) {
  unsigned long n = h->connections;
  h->connections = 0;
  return n;
}

void iothub_http_set_owner(iothub_http *h, void *owner) { h->owner = owner; }
void *iothub_http_owner(const iothub_http *h) { return h->owner; }

void iothub_http_push_headers(lua_State *L, const iothub_http *h) {
  const char *p = h->head.data, *end = p + h->head.len;
  lua_newtable(L);
  if (p == NULL) return;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = eol ? eol : end, *colon, *v, *ve;
    if (line_end > p && line_end[-1] == '\r') line_end--;
    colon = memchr(p, ':', (size_t)(line_end - p));
    if (colon && colon > p && memcmp(p, "HTTP/", 5) != 0) {
      char name[128];
      size_t n = (size_t)(colon - p), i;
      if (n < sizeof name) {                 /* longer names are no header we read */
        for (i = 0; i < n; i++) name[i] = (char)tolower((unsigned char)p[i]);
        lua_pushlstring(L, name, n);
        for (v = colon + 1; v < line_end && (*v == ' ' || *v == '\t'); v++) {}
        for (ve = line_end; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--) {}
        lua_pushlstring(L, v, (size_t)(ve - v));
        lua_rawset(L, -3);
      }
    }
    p = eol ? eol + 1 : end;
  }
}

/* libcurl's codes, translated in one place: code name, whether a retry may
 * help; everything not listed is a TransportError that a retry does not fix. */
static const struct {
  CURLcode rc;
  const char *name;
  int retryable;
} codes[] = {
  { CURLE_COULDNT_RESOLVE_HOST, "ResolveFailed", 0 },
  { CURLE_COULDNT_CONNECT, "ConnectFailed", 1 },
  { CURLE_OPERATION_TIMEDOUT, "Timeout", 1 },
  { CURLE_PEER_FAILED_VERIFICATION, "TlsVerifyFailed", 0 },
  { CURLE_SSL_CACERT_BADFILE, "TlsCaFileInvalid", 0 },
  { CURLE_SSL_CONNECT_ERROR, "TlsHandshakeFailed", 0 },
  { CURLE_SEND_ERROR, "ConnectionLost", 1 },
  { CURLE_RECV_ERROR, "ConnectionLost", 1 },
  { CURLE_GOT_NOTHING, "ConnectionLost", 1 },
  { CURLE_PARTIAL_FILE, "ConnectionLost", 1 },
};

void iothub_http_push_error(lua_State *L, const iothub_http *h) {
  const char *name = "TransportError", *msg;
  int retryable = 0;
  size_t i;
  if (h->too_large != TOO_LARGE_NONE) {
    /* Our own limit stopped the transfer, not a libcurl failure. */
    iothub_error_push(L, "transport", h->too_large == TOO_LARGE_BODY
                      ? "response body larger than max_response_size"
                      : "response header block larger than 256 KiB");
    lua_pushstring(L, h->too_large == TOO_LARGE_BODY ? "ResponseTooLarge" : "HeadersTooLarge");
    lua_setfield(L, -2, "code");
    return;
  }
  for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
    if (codes[i].rc == h->rc) { name = codes[i].name; retryable = codes[i].retryable; break; }
  msg = h->errbuf[0] ? h->errbuf : curl_easy_strerror(h->rc);
  /* libcurl's own limit on one header line (100 KiB): 7.88 reports it as
   * out of memory once the answer has begun, later versions as too large. */
  if ((h->rc == CURLE_OUT_OF_MEMORY && h->head.len > 0)
#if LIBCURL_VERSION_NUM >= 0x080600
      || h->rc == CURLE_TOO_LARGE
#endif
  ) {
    name = "HeadersTooLarge";
    msg = "a response header line is longer than libcurl accepts (100 KiB)";
  }
  iothub_error_push(L, h->rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "transport", msg);
  lua_pushstring(L, name);
  lua_setfield(L, -2, "code");
  lua_pushinteger(L, (lua_Integer)h->rc);
  lua_setfield(L, -2, "curl_code");
  lua_pushboolean(L, retryable);
  lua_setfield(L, -2, "retryable");
}

/* --- the multi interface ------------------------------------------------- */

struct iothub_multi {
  CURLM *multi;
};

iothub_multi *iothub_multi_new(int max_host) {
  iothub_multi *m;
  if (iothub_http_global_init() != 0 || (m = calloc(1, sizeof *m)) == NULL) return NULL;
  if ((m->multi = curl_multi_init()) == NULL) { free(m); return NULL; }
  iothub_multi_limit(m, max_host);
  return m;
}

void iothub_multi_free(iothub_multi *m) {
  if (m == NULL) return;
  curl_multi_cleanup(m->multi);
  free(m);
}

void iothub_multi_limit(iothub_multi *m, int max_host) {
  long cached = (long)max_host * 4;
  curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)max_host);
  /* Keep connections of a wider batch cached for the next one. */
  curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, cached < 16 ? 16L : cached);
}

int iothub_multi_add(iothub_multi *m, iothub_http *h) {
  return curl_multi_add_handle(m->multi, h->curl) == CURLM_OK ? 0 : -1;
}

void iothub_multi_remove(iothub_multi *m, iothub_http *h) {
  /* libcurl closes the connection of a transfer removed before its end. */
  curl_multi_remove_handle(m->multi, h->curl);
}

int iothub_multi_perform(iothub_multi *m) {
  int running = 0;
  curl_multi_perform(m->multi, &running);
  return running;
}

iothub_http *iothub_multi_done(iothub_multi *m) {
  CURLMsg *msg;
  int queued;
  while ((msg = curl_multi_info_read(m->multi, &queued)) != NULL) {
    iothub_http *h = NULL;
    CURL *easy = msg->easy_handle;
    CURLcode rc = msg->data.result;
    if (msg->msg != CURLMSG_DONE) continue;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&h);
    curl_multi_remove_handle(m->multi, easy);    /* msg is gone after this */
    if (h == NULL) continue;
    finish(h, rc);
    return h;
  }
  return NULL;
}

void iothub_multi_wait(iothub_multi *m, int ms) {
  curl_multi_poll(m->multi, NULL, 0, ms, NULL);
}
