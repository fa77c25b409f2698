/* http.c: the libcurl transport (see http.h). */
#include "http.h"
#include "defaults.h"
#include "errors.h"
#include "wire.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  iothub_http *h = ud;
  return iothub_buffer_append(&h->body, p, size * n) == 0 ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  iothub_http *h = ud;
  size_t len = size * n;
  /* A new status line (after a 100 Continue, say) starts a new header set. */
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) iothub_buffer_reset(&h->headers);
  return iothub_buffer_append(&h->headers, p, len) == 0 ? len : 0;
}

static int env_set(const char *name) {
  const char *v = getenv(name);
  return v != NULL && v[0] != '\0';
}

/* libcurl's own HTTP stays in charge where the wire path would not do what
 * it does: proxies from the environment, or when the user asks for it. */
static int wire_allowed(void) {
  static const char *const proxies[] = { "http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY" };
  size_t i;
  const char *forced = getenv("IOTHUB_CURL_HTTP");
  if (forced && forced[0] && strcmp(forced, "0") != 0) return 0;
  for (i = 0; i < sizeof proxies / sizeof proxies[0]; i++)
    if (env_set(proxies[i])) return 0;
  return 1;
}

int iothub_http_direct(const iothub_http *h, const char *url) {
  return h->direct && iothub_wire_supports(url);
}

int iothub_http_open(iothub_http *h, const iothub_http_opts *o, const char **msg) {
  CURL *c;
  if (iothub_http_global_init() != 0) { *msg = "curl_global_init failed"; return -1; }
  h->user_agent = strdup(o->user_agent ? o->user_agent : "");
  if (h->user_agent == NULL) { *msg = "out of memory"; return -1; }
  h->timeout_ms = o->timeout_ms;
  h->direct = wire_allowed();
  c = h->curl = curl_easy_init();
  if (c == NULL) { *msg = "curl_easy_init failed"; return -1; }
  h->body.limit = o->max_response_size;
  h->headers.limit = IOTHUB_MAX_HEADER_BYTES;
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
  curl_easy_setopt(c, CURLOPT_USERAGENT, o->user_agent);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
  return 0;
}

void iothub_http_close(iothub_http *h) {
  iothub_wire_free(h);
  free(h->user_agent);
  h->user_agent = NULL;
  if (h->curl) curl_easy_cleanup(h->curl);
  h->curl = NULL;
  iothub_buffer_free(&h->body, 0);
  iothub_buffer_free(&h->headers, 0);
}

int iothub_http_clone(iothub_http *dst, const iothub_http *src) {
  memset(dst, 0, sizeof *dst);
  dst->user_agent = strdup(src->user_agent ? src->user_agent : "");
  if (dst->user_agent == NULL) return -1;
  dst->curl = curl_easy_duphandle(src->curl);
  if (dst->curl == NULL) { free(dst->user_agent); dst->user_agent = NULL; return -1; }
  dst->timeout_ms = src->timeout_ms;
  dst->direct = src->direct;
  dst->body.limit = src->body.limit;
  dst->headers.limit = src->headers.limit;
  /* The duplicate still points at src's buffers: point it at its own. */
  curl_easy_setopt(dst->curl, CURLOPT_ERRORBUFFER, dst->errbuf);
  curl_easy_setopt(dst->curl, CURLOPT_WRITEDATA, dst);
  curl_easy_setopt(dst->curl, CURLOPT_HEADERDATA, dst);
  return 0;
}

void iothub_http_setup(iothub_http *h, const char *method, const char *url,
                       struct curl_slist *headers, const char *body, size_t body_len) {
  CURL *c = h->curl;
  h->last_direct = 0;
  iothub_buffer_reset(&h->body);
  iothub_buffer_reset(&h->headers);
  h->errbuf[0] = '\0';
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  if (strcmp(method, "GET") == 0) {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
  } else {
    /* POSTFIELDS gives every other method a body (possibly empty), sent
     * with an exact Content-Length; CUSTOMREQUEST names the method. */
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  }
}

long iothub_http_finish(iothub_http *h) {
  long status = 0, connects = 0;
  if (h->last_direct) return iothub_wire_status(h);   /* it counts its connections */
  curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
  if (curl_easy_getinfo(h->curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
    h->connections += (unsigned long)connects;
  /* Do not keep a pointer to the caller's header list or body. */
  curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
  return status;
}

CURLcode iothub_http_perform(iothub_http *h, const char *method, const char *url,
                             struct curl_slist *headers, const char *body,
                             size_t body_len, long *status) {
  CURLcode rc;
  if (iothub_http_direct(h, url))
    return iothub_wire_perform(h, method, url, headers, body, body_len, status);
  iothub_http_setup(h, method, url, headers, body, body_len);
  rc = curl_easy_perform(h->curl);
  *status = iothub_http_finish(h);
  return rc;
}

void iothub_http_push_headers(lua_State *L, const iothub_http *h) {
  const char *p = h->headers.data, *end = p + h->headers.len;
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

static const char *code_name(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST: return "ResolveFailed";
    case CURLE_COULDNT_CONNECT: return "ConnectFailed";
    case CURLE_OPERATION_TIMEDOUT: return "Timeout";
    case CURLE_PEER_FAILED_VERIFICATION: return "TlsVerifyFailed";
    case CURLE_SSL_CACERT_BADFILE: return "TlsCaFileInvalid";
    case CURLE_SSL_CONNECT_ERROR: return "TlsHandshakeFailed";
    case CURLE_WRITE_ERROR: return "ResponseTooLarge";
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: return "ConnectionLost";
    default: return "TransportError";
  }
}

void iothub_http_push_error(lua_State *L, const iothub_http *h, CURLcode rc) {
  const char *name = code_name(rc);
  const char *msg = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);
  int retryable = rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
                  rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
                  rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE;
  if (rc == CURLE_WRITE_ERROR) msg = "response body larger than max_response_size";
  iothub_error_push(L, rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "transport", msg);
  lua_pushstring(L, name);
  lua_setfield(L, -2, "code");
  lua_pushinteger(L, (lua_Integer)rc);
  lua_setfield(L, -2, "curl_code");
  lua_pushboolean(L, retryable);
  lua_setfield(L, -2, "retryable");
}
