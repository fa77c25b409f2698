/* client.c: the client userdata. Requests are built and responses decoded by
 * functions that do no I/O (client:prepare, client:decode), so non-blocking
 * transports reuse them; client:request runs them on one kept-alive libcurl
 * handle, client:request_many on the core's scheduler (loop.h) until its
 * batch is done. */
#include "client.h"
#include "buffer.h"
#include "connstr.h"
#include "defaults.h"
#include "errors.h"
#include "http.h"
#include "json.h"
#include "loop.h"
#include "request.h"
#include "sas.h"
#include "util.h"

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
  iothub_http *http;            /* made on first use: blocking calls, and the
                                 * template of every other handle */
  iothub_http_opts http_opts;   /* its strings are owned copies */
  iothub_sched batch;           /* request_many's, made on first use */
  int has_batch;
  iothub_http **idle;           /* handles of finished batch transfers, for the next */
  int idle_n, idle_cap;
  unsigned long connections;    /* opened by finished transfers */
  iothub_idgen ids;             /* request ids */
  int json_depth;               /* max_json_depth */
  unsigned long signatures;
  unsigned long requests;
};

/* One idempotent close behind close, __gc and __close. */
static void client_release(iothub_client *c) {
  if (c->closed) return;
  c->closed = 1;
  if (c->has_batch) iothub_sched_free(&c->batch);
  c->has_batch = 0;
  while (c->idle_n > 0) iothub_http_free(c->idle[--c->idle_n]);
  free(c->idle);
  c->idle = NULL;
  iothub_http_free(c->http);
  c->http = NULL;
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

/* Makes the libcurl handle on first use; 0 or -1 with a message. */
static int ensure_http(iothub_client *c, const char **msg) {
  if (c->http) return 0;
  c->http = iothub_http_new(&c->http_opts, msg);
  return c->http ? 0 : -1;
}

/* The cached Authorization header line, re-signed only when the token is
 * within a fifth of its lifetime (at most 5 minutes) of expiring. */
static int ensure_auth(iothub_client *c) {
  long long now = (long long)time(NULL);
  long long margin = c->sas_ttl / 5 < 300 ? c->sas_ttl / 5 : 300;
  iothub_buffer token = {0};
  token.secret = 1;
  c->auth.secret = 1;
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

/* The request's header lines (with this client's SAS, if it signs) and URL. */
static int build_request(lua_State *L, iothub_client *c, iothub_request *r, iothub_buffer *url) {
  if (ensure_auth(c) != 0) return -1;
  r->max_depth = c->json_depth;
  iothub_idgen_next(&c->ids, r->request_id);
  if (iothub_request_headers(L, r, c->auth.len ? c->auth.data : NULL) != 0) return -1;
  if (url && iothub_request_url(c->endpoint, r, url) != 0) {
    iothub_request_free(r);
    return -1;
  }
  return 0;
}

/* Prepares t->http for t->req sent to url. */
static int prepare(iothub_xfer *t, const char *url) {
  iothub_http_request hr;
  iothub_request_http(&t->req, url, &hr);
  return iothub_http_prepare(t->http, &hr);
}

int iothub_client_begin(lua_State *L, iothub_client *c, iothub_xfer *t, const char **msg) {
  iothub_buffer url = {0};
  int rc = -1;
  *msg = "out of memory";
  if (ensure_http(c, msg) != 0) return -1;
  if (build_request(L, c, &t->req, &url) == 0 && (t->http = iothub_http_dup(c->http)) != NULL &&
      prepare(t, url.data) == 0) {
    rc = 0;
    c->requests++;
  }
  iothub_buffer_free(&url, 0);               /* libcurl copied it */
  return rc;
}

/* client:request(method, target [, headers [, body]]) */
static int client_request(lua_State *L) {
  iothub_client *c = check_open(L);
  iothub_xfer t;
  iothub_buffer url = {0};
  const char *msg = NULL;
  int rc;
  memset(&t, 0, sizeof t);
  iothub_request_read(L, 2, 3, 4, 5, &t.req);
  lua_settop(L, 5);
  if (ensure_http(c, &msg) != 0) {
    lua_pushnil(L);
    iothub_error_push(L, "transport", msg);
    return 2;
  }
  t.http = c->http;
  rc = build_request(L, c, &t.req, &url);
  if (rc == 0) rc = prepare(&t, url.data);
  iothub_buffer_free(&url, 0);
  if (rc != 0) {
    iothub_request_free(&t.req);
    return luaL_error(L, "iothub: out of memory");
  }
  c->requests++;
  iothub_http_perform(c->http);
  iothub_request_free(&t.req);
  c->connections += iothub_http_take_connections(c->http);
  return iothub_transfer_push(L, c->http, &t.req);
}

/* A handle for a batch transfer: a finished one's, or a new copy. */
static iothub_http *take_handle(iothub_client *c) {
  if (c->idle_n > 0) return c->idle[--c->idle_n];
  return iothub_http_dup(c->http);
}

/* Keeps a finished transfer's handle for the next one (at most `keep`). */
static void give_handle(iothub_client *c, iothub_http *h, int keep) {
  if (c->idle_n < keep && c->idle_n < c->idle_cap) { c->idle[c->idle_n++] = h; return; }
  iothub_http_free(h);
}

/* Builds request `idx` of the list at stack index 2 (its extra headers
 * re-read from the list) into its header lines and url. */
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

/* Starts request `idx` of the batch; -1 when memory runs out. */
static int start_listed(lua_State *L, iothub_client *c, const iothub_request *r, int idx) {
  iothub_buffer url = {0};
  iothub_xfer *t = calloc(1, sizeof *t);
  int rc = -1;
  if (t == NULL) return -1;
  t->req = *r;
  t->tag = idx;
  if (build_listed(L, c, &t->req, idx, &url) == 0 && (t->http = take_handle(c)) != NULL &&
      prepare(t, url.data) == 0 && iothub_sched_start(&c->batch, t) == 0)
    rc = 0;
  iothub_buffer_free(&url, 0);
  if (rc != 0) iothub_xfer_free(t);
  else c->requests++;
  return rc;
}

/* client:request_many(requests [, concurrency]) -> values, errors
 * requests is a list of { method, target [, headers [, body]] }; at most
 * `concurrency` run at once, on as many connections at most, kept for the
 * next batch. values[i] holds what request i returned, or errors[i] its
 * error. The core's scheduler runs until the batch is done. */
static int client_request_many(lua_State *L) {
  iothub_client *c = check_open(L);
  int n, i, conc, next = 0, done = 0, values, errors;
  iothub_request *reqs;
  const char *msg;
  luaL_checktype(L, 2, LUA_TTABLE);
  conc = (int)luaL_optinteger(L, 3, IOTHUB_CONCURRENCY);
  luaL_argcheck(L, conc >= 1 && conc <= IOTHUB_MAX_CONCURRENCY, 3, "concurrency must be 1..256");
  lua_settop(L, 3);
  n = (int)iothub_rawlen(L, 2);
  /* Scratch memory as userdata, so a raise below leaks nothing. */
  reqs = lua_newuserdata(L, (size_t)(n ? n : 1) * sizeof *reqs);
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
  if (n == 0) return 2;
  if (conc > n) conc = n;
  if (ensure_http(c, &msg) != 0) return luaL_error(L, "iothub: %s", msg);
  if (!c->has_batch) {
    if (iothub_sched_init(&c->batch, conc) != 0) return luaL_error(L, "iothub: cannot create a libcurl multi handle");
    c->has_batch = 1;
  }
  if (c->idle_cap < conc) {
    iothub_http **grown = realloc(c->idle, (size_t)conc * sizeof *grown);
    if (grown == NULL) return luaL_error(L, "iothub: out of memory");
    c->idle = grown;
    c->idle_cap = conc;
  }
  /* What a batch cut short by a raise left running is dropped, never
   * delivered to this one. */
  iothub_sched_discard_all(&c->batch);
  iothub_sched_limit(&c->batch, conc);
  while (done < n) {
    iothub_xfer *t;
    int got = 0;
    while (next < n && c->batch.running < conc) {
      if (start_listed(L, c, &reqs[next], next) != 0) {
        iothub_sched_discard_all(&c->batch);
        return luaL_error(L, "iothub: out of memory");
      }
      next++;
    }
    iothub_sched_step(&c->batch, 0);
    while ((t = iothub_sched_next(&c->batch)) != NULL) {
      int nret;
      c->connections += iothub_http_take_connections(t->http);
      nret = iothub_transfer_push(L, t->http, &t->req);
      if (nret == 3) {
        lua_pop(L, 2);
        lua_rawseti(L, values, t->tag + 1);
      } else {
        lua_rawseti(L, errors, t->tag + 1);
        lua_pop(L, 1);
      }
      t = iothub_sched_take(&c->batch);
      give_handle(c, t->http, conc);
      t->http = NULL;
      iothub_xfer_free(t);
      done++;
      got++;
    }
    if (got == 0 && done < n) iothub_sched_step(&c->batch, 1000);
  }
  return 2;
}

/* client:prepare(method, target [, headers [, body]]) -> { method=, url=,
 * headers = { name = value }, body=, request_id= }: the request, signed,
 * without I/O. */
static int client_prepare(lua_State *L) {
  iothub_client *c = check_open(L);
  iothub_request r;
  const char *p, *end;
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
  for (p = r.header_lines.data, end = p + r.header_lines.len; p && p < end;) {
    const char *eol = strstr(p, "\r\n");
    const char *colon = memchr(p, ':', (size_t)(eol - p));
    const char *v = colon + 1;
    while (v < eol && *v == ' ') v++;
    if (v < eol) {                          /* "Expect:" only tells libcurl */
      lua_pushlstring(L, p, (size_t)(colon - p));
      lua_pushlstring(L, v, (size_t)(eol - v));
      lua_rawset(L, -3);
    }
    p = eol + 2;
  }
  lua_setfield(L, -2, "headers");
  iothub_request_free(&r);
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

static int client_stats(lua_State *L) {
  iothub_client *c = luaL_checkudata(L, 1, IOTHUB_CLIENT_MT);
  /* Integers on 5.3+ (lua_pushinteger is a float only on 5.1/5.2). */
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)c->signatures);
  lua_setfield(L, -2, "signatures");
  lua_pushinteger(L, (lua_Integer)c->requests);
  lua_setfield(L, -2, "requests");
  lua_pushinteger(L, (lua_Integer)c->connections);
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
