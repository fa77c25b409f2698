/* client.c: the client userdata. Requests are built and responses decoded by
 * functions that do no I/O (client:prepare, client:decode), so non-blocking
 * transports reuse them; client:request runs them around one libcurl call. */
#include "client.h"
#include "buffer.h"
#include "connstr.h"
#include "defaults.h"
#include "errors.h"
#include "http.h"
#include "json.h"
#include "request.h"
#include "sas.h"
#include "util.h"
#include "wire.h"

#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct iothub_client {
  int closed;
  iothub_connstr cs;
  char *endpoint;               /* base URL, no trailing slash */
  long long sas_ttl;
  long long sas_expiry;         /* of the cached token; 0 = none yet */
  iothub_buffer auth;           /* "Authorization: SharedAccessSignature ..." */
  iothub_http http;             /* opened on the first blocking request */
  iothub_http_opts http_opts;   /* its strings are owned copies */
  CURLM *multi;                 /* for request_many, made on first use */
  iothub_http **pool;           /* its handles, each with its own buffers */
  int pool_size, pool_cap;
  iothub_idgen ids;             /* request ids */
  int json_depth;               /* max_json_depth */
  unsigned long signatures;
  unsigned long requests;
};

/* One idempotent close behind close, __gc and __close. */
static void client_release(iothub_client *c) {
  if (c->closed) return;
  c->closed = 1;
  while (c->pool_size > 0) {
    iothub_http *h = c->pool[--c->pool_size];
    if (c->multi) curl_multi_remove_handle(c->multi, h->curl);
    iothub_http_close(h);
    free(h);
  }
  free(c->pool);
  c->pool = NULL;
  if (c->multi) curl_multi_cleanup(c->multi);
  c->multi = NULL;
  iothub_http_close(&c->http);
  free((char *)c->http_opts.ca_file);
  free((char *)c->http_opts.user_agent);
  memset(&c->http_opts, 0, sizeof c->http_opts);
  iothub_connstr_free(&c->cs);
  iothub_buffer_free(&c->auth, 1);
  free(c->endpoint);
  c->endpoint = NULL;
}

iothub_client *iothub_client_at(lua_State *L, int idx) {
  iothub_client *c = luaL_checkudata(L, idx, IOTHUB_CLIENT_MT);
  if (c->closed) luaL_error(L, "iothub: the client is closed");
  return c;
}

static iothub_client *check_open(lua_State *L) {
  return iothub_client_at(L, 1);
}

static const char *opt_string(lua_State *L, int opts, const char *name, const char *def) {
  const char *s = def;
  lua_getfield(L, opts, name);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "iothub: option '%s' must be a string", name);
    s = lua_tostring(L, -1);
  }
  lua_pop(L, 1);        /* s stays valid: opts still references it */
  return s;
}

static double opt_number(lua_State *L, int opts, const char *name, double def, double min) {
  double v = def;
  lua_getfield(L, opts, name);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TNUMBER) luaL_error(L, "iothub: option '%s' must be a number", name);
    v = lua_tonumber(L, -1);
    if (!(v >= min)) luaL_error(L, "iothub: option '%s' must be >= %f", name, min);
    /* Callers convert to integers, undefined for inf or 1e300: 1e9 (s, bytes)
     * is beyond any use and fits them all. */
    if (v > 1e9) v = 1e9;
  }
  lua_pop(L, 1);
  return v;
}

static char *dup_trimmed_url(const char *s) {
  size_t n = strlen(s);
  char *p;
  while (n > 0 && s[n - 1] == '/') n--;
  p = malloc(n + 1);
  if (p) { memcpy(p, s, n); p[n] = '\0'; }
  return p;
}

/* What is wrong with an endpoint URL ("scheme://host[:port][/path]"), or
 * NULL. Checked once here, so nothing in it can change a request line or
 * its target on any transport; the message never quotes the URL (it may
 * hold a password). */
static const char *endpoint_error(const char *s, int allow_http) {
  const char *auth, *path;
  if (strncmp(s, "https://", 8) == 0) auth = s + 8;
  else if (allow_http && strncmp(s, "http://", 7) == 0) auth = s + 7;
  else return allow_http ? "endpoint must be an http:// or https:// URL"
                         : "endpoint must be an https:// URL (http:// only with allow_http)";
  path = auth + strcspn(auth, "/");
  if (iothub_authority_check(auth, (size_t)(path - auth)) != NULL)
    return "endpoint must be scheme://host[:port] with an optional path: a host name, IPv4 or [IPv6] "
           "address, a port 1..65535, and no user, '?', '#', spaces or control characters";
  for (; *path; path++)
    if (!(strchr("-._~!$&'()*+,;=:@/%", *path) || (*path >= 'a' && *path <= 'z') ||
          (*path >= 'A' && *path <= 'Z') || (*path >= '0' && *path <= '9')))
      return "endpoint's path may hold only URL path characters (no '?', '#', spaces or control characters)";
  return NULL;
}

/* core.client(connection_string | nil, opts): with a connection string the
 * client signs every request with a cached SAS; without one it adds no
 * Authorization (bearer tokens and token endpoints pass their own) and
 * needs opts.endpoint. */
int iothub_client_new(lua_State *L) {
  size_t len = 0;
  const char *conn = lua_isnoneornil(L, 1) ? NULL : luaL_checklstring(L, 1, &len);
  const char *err, *endpoint;
  iothub_http_opts ho;
  iothub_client *c;
  int opts, allow_http;
  lua_settop(L, 2);
  if (lua_isnil(L, 2)) { lua_newtable(L); lua_replace(L, 2); }
  luaL_checktype(L, 2, LUA_TTABLE);
  opts = 2;
  c = lua_newuserdata(L, sizeof *c);
  memset(c, 0, sizeof *c);
  c->closed = 1;                          /* nothing to release yet */
  luaL_getmetatable(L, IOTHUB_CLIENT_MT);
  lua_setmetatable(L, -2);
  /* Options first: they may raise, and nothing is acquired yet. */
  endpoint = opt_string(L, opts, "endpoint", NULL);
  ho.ca_file = opt_string(L, opts, "ca_file", NULL);
  lua_getfield(L, opts, "verify");
  ho.verify = lua_isnil(L, -1) || lua_toboolean(L, -1);
  lua_pop(L, 1);
  ho.timeout_ms = (long)(opt_number(L, opts, "timeout", IOTHUB_TIMEOUT, 0.001) * 1000);
  ho.connect_timeout_ms = (long)(opt_number(L, opts, "connect_timeout", IOTHUB_CONNECT_TIMEOUT, 0.001) * 1000);
  ho.user_agent = opt_string(L, opts, "user_agent", IOTHUB_USER_AGENT);
  ho.max_response_size = (size_t)opt_number(L, opts, "max_response_size", IOTHUB_MAX_RESPONSE_SIZE,
                                                  IOTHUB_MIN_RESPONSE_SIZE);
  c->sas_ttl = (long long)opt_number(L, opts, "sas_ttl", IOTHUB_SAS_TTL, 1);
  c->json_depth = (int)opt_number(L, opts, "max_json_depth", IOTHUB_JSON_DEFAULT_DEPTH, 1);
  if (c->json_depth > IOTHUB_JSON_MAX_DEPTH) luaL_error(L, "iothub: max_json_depth must be at most %d", IOTHUB_JSON_MAX_DEPTH);
  lua_getfield(L, opts, "allow_http");
  allow_http = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (conn == NULL && endpoint == NULL) luaL_error(L, "iothub: a client without a connection string needs an endpoint");
  if (endpoint && (err = endpoint_error(endpoint, allow_http)) != NULL) {
    lua_pushnil(L);
    iothub_error_push(L, "config", err);
    return 2;
  }
  c->closed = 0;
  iothub_idgen_init(&c->ids);
  err = conn ? iothub_connstr_parse(&c->cs, conn, len) : NULL;
  if (err != NULL) {
    client_release(c);
    lua_pushnil(L);
    iothub_error_push(L, "config", err);
    return 2;
  }
  if (endpoint) c->endpoint = dup_trimmed_url(endpoint);
  else {
    c->endpoint = malloc(strlen(c->cs.host_name) + 9);
    if (c->endpoint) sprintf(c->endpoint, "https://%s", c->cs.host_name);
  }
  /* libcurl is not touched until a blocking request needs it, so transports
   * that only use prepare/decode (nginx cosockets) never call it. */
  c->http_opts = ho;
  c->http_opts.ca_file = ho.ca_file ? strdup(ho.ca_file) : NULL;
  c->http_opts.user_agent = strdup(ho.user_agent);
  if (c->endpoint == NULL || c->http_opts.user_agent == NULL || (ho.ca_file && c->http_opts.ca_file == NULL)) {
    client_release(c);
    return luaL_error(L, "iothub: out of memory");
  }
  return 1;
}

/* Opens the libcurl handle on first use; 0 or -1 with a message. */
static int ensure_http(iothub_client *c, const char **msg) {
  if (c->http.curl) return 0;
  return iothub_http_open(&c->http, &c->http_opts, msg);
}

/* The cached Authorization header line, re-signed only when the token is
 * within a fifth of its lifetime (at most 5 minutes) of expiring. */
static int ensure_auth(iothub_client *c) {
  long long now = (long long)time(NULL);
  long long margin = c->sas_ttl / 5 < 300 ? c->sas_ttl / 5 : 300;
  iothub_buffer token = {0};
  if (c->cs.key == NULL && c->cs.signature == NULL) return 0;   /* no SAS: caller's auth */
  if (c->auth.len && (c->cs.signature || now + margin < c->sas_expiry)) return 0;
  iothub_buffer_reset(&c->auth);
  if (c->cs.signature) {
    return iothub_buffer_append_str(&c->auth, "Authorization: ") ||
           iothub_buffer_append_str(&c->auth, c->cs.signature);
  }
  c->sas_expiry = now + c->sas_ttl;
  if (iothub_sas_token(&token, c->cs.key, c->cs.key_len, c->cs.host_name,
                       c->sas_expiry, c->cs.key_name) != 0)
    return -1;
  c->signatures++;
  if (iothub_buffer_append_str(&c->auth, "Authorization: ") != 0 ||
      iothub_buffer_append(&c->auth, token.data, token.len) != 0) {
    iothub_buffer_free(&token, 1);
    return -1;
  }
  iothub_buffer_free(&token, 1);
  return 0;
}

/* The request's headers (with this client's SAS, if it signs) and URL. */
static int build_request(lua_State *L, iothub_client *c, iothub_request *r, iothub_buffer *url) {
  if (ensure_auth(c) != 0) return -1;
  r->max_depth = c->json_depth;
  iothub_idgen_next(&c->ids, r->request_id);
  if (iothub_request_headers(L, r, c->auth.len ? c->auth.data : NULL) != 0) return -1;
  if (url && iothub_request_url(c->endpoint, r, url) != 0) {
    curl_slist_free_all(r->header_list);
    r->header_list = NULL;
    return -1;
  }
  return 0;
}


int iothub_client_begin(lua_State *L, iothub_client *c, iothub_request *r,
                        iothub_buffer *url, iothub_http *h, const char **msg) {
  *msg = "out of memory";
  if (ensure_http(c, msg) != 0) return -1;
  if (build_request(L, c, r, url) != 0) return -1;
  if (iothub_http_clone(h, &c->http) != 0) {
    curl_slist_free_all(r->header_list);
    r->header_list = NULL;
    return -1;
  }
  return 0;
}

/* client:request(method, target [, headers [, body]]) */
static int client_request(lua_State *L) {
  iothub_client *c = check_open(L);
  iothub_request r;
  iothub_buffer url = {0};
  long status = 0;
  CURLcode rc;
  const char *msg = NULL;
  iothub_request_read(L, 2, 3, 4, 5, &r);
  lua_settop(L, 5);
  if (ensure_http(c, &msg) != 0) {
    lua_pushnil(L);
    iothub_error_push(L, "transport", msg);
    return 2;
  }
  if (build_request(L, c, &r, &url) != 0) {
    curl_slist_free_all(r.header_list);
    iothub_buffer_free(&url, 0);
    return luaL_error(L, "iothub: out of memory");
  }
  c->requests++;
  rc = iothub_http_perform(&c->http, r.method, url.data, r.header_list, r.body, r.body_len, &status);
  curl_slist_free_all(r.header_list);
  iothub_buffer_free(&url, 0);
  if (rc != CURLE_OK) {
    lua_pushnil(L);
    iothub_http_push_error(L, &c->http, rc);
    iothub_error_set_str(L, lua_gettop(L), "request_id", r.request_id, strlen(r.request_id));
    return 2;
  }
  iothub_http_push_headers(L, &c->http);
  return iothub_response_push(L, status, lua_gettop(L), c->http.body.data, c->http.body.len, r.request_id,
                              c->json_depth);
}

/* The pool of handles for concurrent requests, grown to `size`. */
static int ensure_pool(iothub_client *c, int size) {
  const char *msg;
  if (ensure_http(c, &msg) != 0) return -1;
  if (c->multi == NULL && (c->multi = curl_multi_init()) == NULL) return -1;
  if (size > c->pool_cap) {
    iothub_http **grown = realloc(c->pool, (size_t)size * sizeof *grown);
    if (grown == NULL) return -1;
    c->pool = grown;
    c->pool_cap = size;
  }
  while (c->pool_size < size) {
    iothub_http *h = calloc(1, sizeof *h);
    if (h == NULL || iothub_http_clone(h, &c->http) != 0) { free(h); return -1; }
    c->pool[c->pool_size++] = h;
  }
  /* At most `size` connections at once, but keep every pooled handle's
   * connection cached, so a later, smaller batch does not close them. */
  curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)size);
  curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->pool_size);
  return 0;
}

/* Stores what finish() left on the stack into values[i] or errors[i]. */
static void store_result(lua_State *L, int nret, int values, int errors, lua_Integer i) {
  if (nret == 3) {
    lua_pop(L, 2);
    lua_rawseti(L, values, (int)i);
  } else {
    lua_rawseti(L, errors, (int)i);
    lua_pop(L, 1);
  }
}

/* Builds request `idx` of the list at stack index 2 (its extra headers
 * re-read from the list) into its header list and url. */
static int build_listed(lua_State *L, iothub_client *c, iothub_request *r, int idx, iothub_buffer *url) {
  int top = lua_gettop(L), rc;
  lua_rawgeti(L, 2, idx + 1);
  lua_rawgeti(L, -1, 3);
  r->headers = lua_istable(L, -1) ? lua_gettop(L) : 0;
  rc = build_request(L, c, r, url);
  lua_settop(L, top);
  r->headers = 0;
  return rc;
}

/* Stores a finished request's results in values[idx+1] or errors[idx+1]. */
static void store_transfer(lua_State *L, iothub_http *h, CURLcode rc, iothub_request *r,
                           int values, int errors, int idx) {
  store_result(L, iothub_transfer_push(L, h, rc, r), values, errors, idx + 1);
  curl_slist_free_all(r->header_list);
  r->header_list = NULL;
}

/* request_many over the wire path: each pooled handle keeps its own
 * connection, and one poll() waits on all of them. */
static int many_direct(lua_State *L, iothub_client *c, iothub_request *reqs, int n, int conc,
                       int *slot_req, int values, int errors) {
  struct pollfd *fds = lua_newuserdata(L, (size_t)conc * sizeof *fds);
  struct pollfd *waits = lua_newuserdata(L, (size_t)conc * sizeof *waits);  /* per handle */
  int *fd_slot = lua_newuserdata(L, (size_t)conc * sizeof *fd_slot);
  char *ready = lua_newuserdata(L, (size_t)conc);
  int next = 0, done = 0, i;
  memset(ready, 0, (size_t)conc);
  iothub_wire_connect_all(c->pool, conc, c->endpoint);
  while (done < n) {
    int nfds = 0, wait_ms = -1, finished = 0;
    for (i = 0; i < conc && next < n; i++) {   /* a request for each free handle */
      iothub_buffer url = {0};
      CURLcode rc;
      if (slot_req[i] >= 0) continue;
      if (build_listed(L, c, &reqs[next], next, &url) != 0) {
        iothub_buffer_free(&url, 0);
        return -1;
      }
      c->requests++;
      rc = iothub_wire_start(c->pool[i], reqs[next].method, url.data, reqs[next].header_list,
                             reqs[next].body, reqs[next].body_len);
      iothub_buffer_free(&url, 0);
      if (rc != CURLE_OK) {                     /* could not connect: done, handle free */
        store_transfer(L, c->pool[i], rc, &reqs[next], values, errors, next);
        next++;
        done++;
        i--;
        continue;
      }
      slot_req[i] = next++;
      ready[i] = 1;
    }
    for (i = 0; i < conc; i++) {               /* advance what can move */
      int left;
      if (slot_req[i] < 0) continue;
      if (ready[i]) {
        CURLcode rc;
        curl_socket_t fd;
        int want = iothub_wire_step(c->pool[i], &rc, &fd);
        ready[i] = 0;
        if (want == IOTHUB_WIRE_DONE) {
          store_transfer(L, c->pool[i], rc, &reqs[slot_req[i]], values, errors, slot_req[i]);
          slot_req[i] = -1;
          done++;
          finished = 1;
          continue;
        }
        waits[i].fd = fd;
        waits[i].events = want == IOTHUB_WIRE_READ ? POLLIN : POLLOUT;
      }
      fds[nfds] = waits[i];
      fds[nfds].revents = 0;
      fd_slot[nfds++] = i;
      left = iothub_wire_ms_left(c->pool[i]);
      if (wait_ms < 0 || left < wait_ms) wait_ms = left;
    }
    if (finished || nfds == 0) continue;        /* start the next ones first */
    if (poll(fds, (nfds_t)nfds, wait_ms) <= 0) {
      for (i = 0; i < nfds; i++) ready[fd_slot[i]] = 1;   /* deadlines, EINTR */
    } else {
      for (i = 0; i < nfds; i++)
        if (fds[i].revents) ready[fd_slot[i]] = 1;
    }
  }
  return 0;
}

/* client:request_many(requests [, concurrency]) -> values, errors
 * requests is a list of { method, target [, headers [, body]] }; at most
 * `concurrency` run at once over a shared connection cache. values[i] holds
 * what request i returned, or errors[i] its error. */
static int client_request_many(lua_State *L) {
  iothub_client *c = check_open(L);
  int n, i, conc, next = 0, active = 0, done = 0, values, errors, failed = 0;
  iothub_request *reqs;
  int *slot_req;
  luaL_checktype(L, 2, LUA_TTABLE);
  conc = (int)luaL_optinteger(L, 3, IOTHUB_CONCURRENCY);
  luaL_argcheck(L, conc >= 1 && conc <= IOTHUB_MAX_CONCURRENCY, 3, "concurrency must be 1..256");
  lua_settop(L, 3);
  n = (int)iothub_rawlen(L, 2);
  /* Scratch memory as userdata, so a raise below leaks nothing. */
  reqs = lua_newuserdata(L, (size_t)(n ? n : 1) * sizeof *reqs);
  slot_req = lua_newuserdata(L, (size_t)conc * sizeof *slot_req);
  for (i = 0; i < n; i++) {                   /* check everything first */
    int top = lua_gettop(L);
    lua_rawgeti(L, 2, i + 1);
    luaL_argcheck(L, lua_istable(L, -1), 2, "each request must be a table");
    lua_rawgeti(L, top + 1, 1);
    lua_rawgeti(L, top + 1, 2);
    lua_rawgeti(L, top + 1, 3);
    lua_rawgeti(L, top + 1, 4);
    iothub_request_read(L, top + 2, top + 3, top + 4, top + 5, &reqs[i]);
    reqs[i].headers = 0;                      /* re-pushed when building */
    lua_settop(L, top);
  }
  lua_newtable(L);
  values = lua_gettop(L);
  lua_newtable(L);
  errors = values + 1;
  if (n > 0 && ensure_pool(c, conc < n ? conc : n) != 0) return luaL_error(L, "iothub: out of memory");
  for (i = 0; i < conc; i++) slot_req[i] = -1;
  if (n > 0 && iothub_http_direct(&c->http, c->endpoint)) {
    if (conc > n) conc = n;
    if (many_direct(L, c, reqs, n, conc, slot_req, values, errors) == 0) {
      lua_settop(L, errors);
      return 2;
    }
    for (i = 0; i < n; i++) curl_slist_free_all(reqs[i].header_list);
    return luaL_error(L, "iothub: out of memory");
  }
  while (done < n && !failed) {
    int running = 0, queued;
    CURLMsg *msg;
    for (i = 0; i < c->pool_size && i < conc && next < n; i++) {
      iothub_request *r;
      iothub_buffer url = {0};
      if (slot_req[i] >= 0) continue;
      r = &reqs[next];
      if (build_listed(L, c, r, next, &url) != 0) {
        iothub_buffer_free(&url, 0);
        failed = 1;
        break;
      }
      iothub_http_setup(c->pool[i], r->method, url.data, r->header_list, r->body, r->body_len);
      iothub_buffer_free(&url, 0);            /* libcurl copied the URL */
      curl_easy_setopt(c->pool[i]->curl, CURLOPT_PRIVATE, (void *)(intptr_t)i);
      curl_multi_add_handle(c->multi, c->pool[i]->curl);
      c->requests++;
      slot_req[i] = next++;
      active++;
    }
    if (failed) break;
    curl_multi_perform(c->multi, &running);
    while ((msg = curl_multi_info_read(c->multi, &queued)) != NULL) {
      char *priv = NULL;
      int slot;
      if (msg->msg != CURLMSG_DONE) continue;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
      slot = (int)(intptr_t)priv;
      curl_multi_remove_handle(c->multi, msg->easy_handle);
      store_transfer(L, c->pool[slot], msg->data.result, &reqs[slot_req[slot]], values, errors, slot_req[slot]);
      slot_req[slot] = -1;
      active--;
      done++;
    }
    if (done < n && active > 0) curl_multi_poll(c->multi, NULL, 0, 1000, NULL);
  }
  if (failed) {                               /* out of memory: undo and raise */
    for (i = 0; i < conc && i < c->pool_size; i++)
      if (slot_req[i] >= 0) curl_multi_remove_handle(c->multi, c->pool[i]->curl);
    for (i = 0; i < n; i++) curl_slist_free_all(reqs[i].header_list);
    return luaL_error(L, "iothub: out of memory");
  }
  return 2;
}

/* client:prepare(method, target [, headers [, body]]) -> { method=, url=,
 * headers = { name = value }, body=, request_id= }: the request, signed,
 * without I/O. */
static int client_prepare(lua_State *L) {
  iothub_client *c = check_open(L);
  iothub_request r;
  struct curl_slist *h;
  iothub_request_read(L, 2, 3, 4, 5, &r);
  lua_settop(L, 5);
  if (build_request(L, c, &r, NULL) != 0) return luaL_error(L, "iothub: out of memory");
  lua_createtable(L, 0, 5);
  lua_pushstring(L, r.method);
  lua_setfield(L, -2, "method");
  lua_pushfstring(L, "%s%s", c->endpoint, r.target);
  lua_setfield(L, -2, "url");
  lua_pushstring(L, r.request_id);
  lua_setfield(L, -2, "request_id");
  if (r.body) {
    lua_pushlstring(L, r.body, r.body_len);
    lua_setfield(L, -2, "body");
  }
  lua_newtable(L);
  for (h = r.header_list; h; h = h->next) {
    const char *colon = strchr(h->data, ':');
    const char *v = colon + 1;
    while (*v == ' ') v++;
    if (*v == '\0') continue;              /* "Expect:" only tells curl */
    lua_pushlstring(L, h->data, (size_t)(colon - h->data));
    lua_pushstring(L, v);
    lua_rawset(L, -3);
  }
  lua_setfield(L, -2, "headers");
  curl_slist_free_all(r.header_list);
  return 1;
}

/* client:decode(status, headers, body [, request_id]): what client:request
 * returns, for a response that arrived through another transport. */
static int client_decode(lua_State *L) {
  size_t len;
  long status;
  const char *body, *request_id;
  iothub_client *c = check_open(L);
  status = (long)luaL_checkinteger(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  body = luaL_optlstring(L, 4, "", &len);
  request_id = luaL_optstring(L, 5, NULL);
  return iothub_response_push(L, status, 3, body, len, request_id, c->json_depth);
}

static unsigned long total_connections(const iothub_client *c) {
  unsigned long n = c->http.connections;
  int i;
  for (i = 0; i < c->pool_size; i++) n += c->pool[i]->connections;
  return n;
}

static int client_stats(lua_State *L) {
  iothub_client *c = luaL_checkudata(L, 1, IOTHUB_CLIENT_MT);
  lua_createtable(L, 0, 3);
  lua_pushnumber(L, (lua_Number)c->signatures);
  lua_setfield(L, -2, "signatures");
  lua_pushnumber(L, (lua_Number)c->requests);
  lua_setfield(L, -2, "requests");
  lua_pushnumber(L, (lua_Number)total_connections(c));
  lua_setfield(L, -2, "connections");
  return 1;
}

/* client:renew_auth() -> true when the client signs with a key: its cached
 * token is dropped and the next request signs a new one (after a 401, in
 * case the token expired on the service's clock). false for a ready
 * SharedAccessSignature or a client without one. */
static int client_renew_auth(lua_State *L) {
  iothub_client *c = check_open(L);
  int renewable = c->cs.key != NULL;
  if (renewable) {
    iothub_buffer_reset(&c->auth);
    c->sas_expiry = 0;
  }
  lua_pushboolean(L, renewable);
  return 1;
}

static int client_host(lua_State *L) {
  iothub_client *c = check_open(L);
  lua_pushstring(L, c->cs.host_name);
  lua_pushstring(L, c->endpoint);
  return 2;
}

static int client_close(lua_State *L) {
  client_release(luaL_checkudata(L, 1, IOTHUB_CLIENT_MT));
  return 0;
}

static int client_is_closed(lua_State *L) {
  iothub_client *c = luaL_checkudata(L, 1, IOTHUB_CLIENT_MT);
  lua_pushboolean(L, c->closed);
  return 1;
}

static int client_tostring(lua_State *L) {
  iothub_client *c = luaL_checkudata(L, 1, IOTHUB_CLIENT_MT);
  if (c->closed) lua_pushliteral(L, "iothub.client (closed)");
  else lua_pushfstring(L, "iothub.client (%s)", c->cs.host_name ? c->cs.host_name : c->endpoint);
  return 1;
}

void iothub_client_init(lua_State *L) {
  static const luaL_Reg methods[] = {
    { "request", client_request }, { "request_many", client_request_many },
    { "prepare", client_prepare },
    { "decode", client_decode }, { "stats", client_stats },
    { "host", client_host }, { "close", client_close },
    { "is_closed", client_is_closed }, { "renew_auth", client_renew_auth }, { NULL, NULL },
  };
  if (luaL_newmetatable(L, IOTHUB_CLIENT_MT)) {
    lua_newtable(L);
    iothub_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, client_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, client_close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, client_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
}
