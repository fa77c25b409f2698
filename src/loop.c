/* loop.c: the non-blocking request loop (see loop.h). Each transfer gets its
 * own handle with its client's options; the multi handle's connection cache
 * keeps connections alive between them. Nothing here calls into Lua while
 * libcurl is on the C stack. */
#include "loop.h"
#include "client.h"
#include "defaults.h"
#include "errors.h"
#include "http.h"
#include "request.h"

#include <stdlib.h>
#include <string.h>

typedef struct transfer {
  iothub_http http;
  iothub_request req;        /* header list and request id; its strings are not kept */
  char *body;                /* owned copy: libcurl reads it during the transfer */
  lua_Integer id;
  struct transfer *next;
} transfer;

typedef struct iothub_loop {
  CURLM *multi;
  transfer *active;
  lua_Integer last_id;
  int running;
  int closed;
} iothub_loop;

static void transfer_free(iothub_loop *lp, transfer *t) {
  if (lp->multi && t->http.curl) curl_multi_remove_handle(lp->multi, t->http.curl);
  iothub_http_close(&t->http);
  curl_slist_free_all(t->req.header_list);
  free(t->body);
  free(t);
}

/* One idempotent close behind close and __gc: abandons transfers in flight. */
static void loop_release(iothub_loop *lp) {
  if (lp->closed) return;
  lp->closed = 1;
  while (lp->active) {
    transfer *t = lp->active;
    lp->active = t->next;
    transfer_free(lp, t);
  }
  if (lp->multi) curl_multi_cleanup(lp->multi);
  lp->multi = NULL;
  lp->running = 0;
}

static iothub_loop *check_loop(lua_State *L) {
  iothub_loop *lp = luaL_checkudata(L, 1, IOTHUB_LOOP_MT);
  if (lp->closed) luaL_error(L, "iothub: the loop is closed");
  return lp;
}

/* core.loop([max_connections]): at most that many connections per host
 * (default 4), so a burst of requests costs a few TLS handshakes in one
 * poll, not one per request, and then reuses them. */
int iothub_loop_new(lua_State *L) {
  lua_Integer max_connections = luaL_optinteger(L, 1, IOTHUB_LOOP_CONNECTIONS);
  iothub_loop *lp;
  luaL_argcheck(L, max_connections >= 1 && max_connections <= IOTHUB_MAX_CONCURRENCY, 1, "max_connections must be 1..256");
  lp = lua_newuserdata(L, sizeof *lp);
  memset(lp, 0, sizeof *lp);
  lp->closed = 1;
  luaL_getmetatable(L, IOTHUB_LOOP_MT);
  lua_setmetatable(L, -2);
  if (iothub_http_global_init() != 0 || (lp->multi = curl_multi_init()) == NULL)
    return luaL_error(L, "iothub: cannot create a libcurl multi handle");
  curl_multi_setopt(lp->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)max_connections);
  curl_multi_setopt(lp->multi, CURLMOPT_MAXCONNECTS, (long)max_connections * 4);
  lp->closed = 0;
  return 1;
}

/* loop:start(client, method, target [, headers [, body]]) -> id | nil, err */
static int loop_start(lua_State *L) {
  iothub_loop *lp = check_loop(L);
  iothub_client *c = iothub_client_at(L, 2);
  iothub_buffer url = {0};
  const char *msg = NULL;
  iothub_request req;
  transfer *t;
  lua_settop(L, 6);
  iothub_request_read(L, 3, 4, 5, 6, &req);   /* may raise: nothing allocated yet */
  t = calloc(1, sizeof *t);
  if (t == NULL) return luaL_error(L, "iothub: out of memory");
  t->req = req;
  if (t->req.body) {
    t->body = malloc(t->req.body_len + 1);
    if (t->body == NULL) { free(t); return luaL_error(L, "iothub: out of memory"); }
    memcpy(t->body, t->req.body, t->req.body_len);
  }
  if (iothub_client_begin(L, c, &t->req, &url, &t->http, &msg) != 0) {
    iothub_buffer_free(&url, 0);
    free(t->body);
    free(t);
    lua_pushnil(L);
    iothub_error_push(L, "transport", msg);
    return 2;
  }
  iothub_http_setup(&t->http, t->req.method, url.data, t->req.header_list, t->body, t->req.body_len);
  iothub_buffer_free(&url, 0);                /* libcurl copied it */
  t->req.method = t->req.target = t->req.body = NULL;
  t->id = ++lp->last_id;
  curl_easy_setopt(t->http.curl, CURLOPT_PRIVATE, (void *)t);
  if (curl_multi_add_handle(lp->multi, t->http.curl) != CURLM_OK) {
    transfer_free(lp, t);
    lua_pushnil(L);
    iothub_error_push(L, "transport", "cannot add the request to the loop");
    return 2;
  }
  t->next = lp->active;
  lp->active = t;
  lp->running++;
  lua_pushinteger(L, t->id);
  return 1;
}

static void unlink_transfer(iothub_loop *lp, transfer *t) {
  transfer **p = &lp->active;
  while (*p && *p != t) p = &(*p)->next;
  if (*p) *p = t->next;
}

/* Moves every finished transfer into the results list at `results`. */
static int collect(lua_State *L, iothub_loop *lp, int results, int n) {
  CURLMsg *msg;
  int queued;
  while ((msg = curl_multi_info_read(lp->multi, &queued)) != NULL) {
    transfer *t = NULL;
    int entry, nret;
    if (msg->msg != CURLMSG_DONE) continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
    if (t == NULL) continue;
    curl_multi_remove_handle(lp->multi, t->http.curl);
    lua_createtable(L, 0, 4);
    entry = lua_gettop(L);
    lua_pushinteger(L, t->id);
    lua_setfield(L, entry, "id");
    nret = iothub_transfer_push(L, &t->http, msg->data.result, &t->req);
    if (nret == 3) {                           /* value, headers, status */
      lua_setfield(L, entry, "status");
      lua_setfield(L, entry, "headers");
      lua_setfield(L, entry, "value");
    } else {                                   /* nil, err */
      lua_setfield(L, entry, "err");
      lua_pop(L, 1);
    }
    lua_rawseti(L, results, ++n);
    unlink_transfer(lp, t);
    lp->running--;
    transfer_free(lp, t);
  }
  return n;
}

/* loop:poll([timeout]) -> finished, running. finished is a list of
 * { id =, value =, headers =, status = } or { id =, err = }. Waits at most
 * timeout seconds (default 0: never) for something to finish. */
static int loop_poll(lua_State *L) {
  iothub_loop *lp = check_loop(L);
  double timeout = luaL_optnumber(L, 2, 0);
  int results, n = 0, still = 0;
  luaL_argcheck(L, timeout >= 0, 2, "timeout must not be negative");
  lua_settop(L, 2);
  lua_newtable(L);
  results = lua_gettop(L);
  curl_multi_perform(lp->multi, &still);
  n = collect(L, lp, results, n);
  if (n == 0 && timeout > 0) {
    /* Waits for activity or the timeout; with no transfer it just sleeps.
     * At most 1e6 s at a time: the int milliseconds must not overflow. */
    if (timeout > 1e6) timeout = 1e6;
    curl_multi_poll(lp->multi, NULL, 0, (int)(timeout * 1000 + 0.5), NULL);
    curl_multi_perform(lp->multi, &still);
    n = collect(L, lp, results, n);
  }
  lua_pushinteger(L, lp->running);
  return 2;
}

static int loop_running(lua_State *L) {
  iothub_loop *lp = luaL_checkudata(L, 1, IOTHUB_LOOP_MT);
  lua_pushinteger(L, lp->closed ? 0 : lp->running);
  return 1;
}

static int loop_close(lua_State *L) {
  loop_release(luaL_checkudata(L, 1, IOTHUB_LOOP_MT));
  return 0;
}

void iothub_loop_init(lua_State *L) {
  static const luaL_Reg methods[] = {
    { "start", loop_start }, { "poll", loop_poll }, { "running", loop_running },
    { "close", loop_close }, { NULL, NULL },
  };
  if (luaL_newmetatable(L, IOTHUB_LOOP_MT)) {
    lua_newtable(L);
    iothub_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, loop_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, loop_close);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1);
}
