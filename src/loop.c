/* loop.c: the request scheduler and the non-blocking loop (see loop.h).
 * The multi handle's connection cache keeps connections alive between
 * transfers. Nothing here calls into Lua while libcurl is on the C stack:
 * results are pushed after iothub_multi_done has handed a transfer back. */
#include "loop.h"
#include "client.h"
#include "defaults.h"
#include "errors.h"

#include <stdlib.h>
#include <string.h>

int iothub_sched_init(iothub_sched *s, int max_host) {
  memset(s, 0, sizeof *s);
  s->multi = iothub_multi_new(max_host);
  return s->multi ? 0 : -1;
}

void iothub_sched_limit(iothub_sched *s, int max_host) {
  iothub_multi_limit(s->multi, max_host);
}

void iothub_xfer_free(iothub_xfer *t) {
  if (t == NULL) return;
  iothub_http_free(t->http);
  iothub_request_free(&t->req);
  free(t->body);
  free(t);
}

static void unlink_xfer(iothub_sched *s, iothub_xfer *t) {
  iothub_xfer **p = &s->active;
  while (*p && *p != t) p = &(*p)->next;
  if (*p) {
    *p = t->next;
    s->running--;
  }
  t->next = NULL;
}

int iothub_sched_start(iothub_sched *s, iothub_xfer *t) {
  iothub_http_set_owner(t->http, t);
  if (iothub_multi_add(s->multi, t->http) != 0) return -1;
  t->id = ++s->last_id;
  t->next = s->active;
  s->active = t;
  s->running++;
  return 0;
}

/* Callers step with 0 first and collect what finished; only when nothing
 * did they step with a wait. So a wait comes before the work: a perform
 * before it could finish the last transfers and then wait for nothing. */
void iothub_sched_step(iothub_sched *s, int wait_ms) {
  if (wait_ms > 0) iothub_multi_wait(s->multi, wait_ms);
  iothub_multi_perform(s->multi);
}

iothub_xfer *iothub_sched_next(iothub_sched *s) {
  iothub_http *h;
  iothub_xfer *t;
  iothub_xfer_free(iothub_sched_take(s));
  if ((h = iothub_multi_done(s->multi)) == NULL) return NULL;
  t = iothub_http_owner(h);
  unlink_xfer(s, t);
  s->handing = t;
  return t;
}

iothub_xfer *iothub_sched_take(iothub_sched *s) {
  iothub_xfer *t = s->handing;
  s->handing = NULL;
  return t;
}

void iothub_sched_discard(iothub_sched *s, iothub_xfer *t) {
  iothub_multi_remove(s->multi, t->http);
  unlink_xfer(s, t);
}

void iothub_sched_discard_all(iothub_sched *s) {
  iothub_xfer_free(iothub_sched_take(s));
  while (s->active) {
    iothub_xfer *t = s->active;
    iothub_sched_discard(s, t);
    iothub_xfer_free(t);
  }
}

void iothub_sched_free(iothub_sched *s) {
  iothub_sched_discard_all(s);
  iothub_multi_free(s->multi);
  s->multi = NULL;
}

/* --- the Lua loop ----------------------------------------------------------- */

typedef struct iothub_loop {
  iothub_sched sched;
  int closed;
} iothub_loop;

/* One idempotent close behind close and __gc: abandons transfers in flight. */
static void loop_release(iothub_loop *lp) {
  if (lp->closed) return;
  lp->closed = 1;
  iothub_sched_free(&lp->sched);
}

static iothub_loop *check_loop(lua_State *L) {
  iothub_loop *lp = luaL_checkudata(L, 1, IOTHUB_LOOP_MT);
  if (lp->closed) luaL_error(L, "iothub: the loop is closed");
  return lp;
}

/* core.loop([max_connections]): at most that many connections per host
 * (default 4; loop:limit changes it), so a burst of requests costs a few
 * TLS handshakes, not one per request, and then reuses them. */
int iothub_loop_new(lua_State *L) {
  lua_Integer max_connections = luaL_optinteger(L, 1, IOTHUB_LOOP_CONNECTIONS);
  iothub_loop *lp;
  luaL_argcheck(L, max_connections >= 1 && max_connections <= IOTHUB_MAX_CONCURRENCY, 1, "max_connections must be 1..256");
  lp = lua_newuserdata(L, sizeof *lp);
  memset(lp, 0, sizeof *lp);
  lp->closed = 1;
  luaL_getmetatable(L, IOTHUB_LOOP_MT);
  lua_setmetatable(L, -2);
  if (iothub_sched_init(&lp->sched, (int)max_connections) != 0)
    return luaL_error(L, "iothub: cannot create a libcurl multi handle");
  lp->closed = 0;
  return 1;
}

/* loop:limit(max_connections): the per-host connection limit from now on. */
static int loop_limit(lua_State *L) {
  iothub_loop *lp = check_loop(L);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, n >= 1 && n <= 256, 2, "max_connections must be 1..256");
  iothub_sched_limit(&lp->sched, (int)n);
  return 0;
}

/* loop:start(client, method, target [, headers [, body]]) -> id | nil, err */
static int loop_start(lua_State *L) {
  iothub_loop *lp = check_loop(L);
  iothub_client *c = iothub_client_at(L, 2);
  iothub_request req;
  const char *msg = NULL;
  iothub_xfer *t;
  lua_settop(L, 6);
  iothub_request_read(L, 3, 4, 5, 6, &req);   /* may raise: nothing allocated yet */
  t = calloc(1, sizeof *t);
  if (t == NULL) return luaL_error(L, "iothub: out of memory");
  t->req = req;
  if (req.body) {
    t->body = malloc(req.body_len + 1);
    if (t->body == NULL) { free(t); return luaL_error(L, "iothub: out of memory"); }
    memcpy(t->body, req.body, req.body_len);
    t->req.body = t->body;                    /* libcurl reads it during the transfer */
  }
  if (iothub_client_begin(L, c, t, &msg) != 0) {
    iothub_xfer_free(t);
    lua_pushnil(L);
    iothub_error_push(L, "transport", msg);
    return 2;
  }
  t->req.method = t->req.target = NULL;
  if (iothub_sched_start(&lp->sched, t) != 0) {
    iothub_xfer_free(t);
    lua_pushnil(L);
    iothub_error_push(L, "transport", "cannot add the request to the loop");
    return 2;
  }
  lua_pushinteger(L, t->id);
  return 1;
}

/* loop:cancel(id) -> whether a transfer was dropped: its connection is
 * closed, its result never delivered. */
static int loop_cancel(lua_State *L) {
  iothub_loop *lp = check_loop(L);
  lua_Integer id = luaL_checkinteger(L, 2);
  iothub_xfer *t;
  for (t = lp->sched.active; t; t = t->next)
    if (t->id == id) break;
  if (t) {
    iothub_sched_discard(&lp->sched, t);
    iothub_xfer_free(t);
  }
  lua_pushboolean(L, t != NULL);
  return 1;
}

/* Moves every finished transfer into the results list at `results`. Each
 * stays the scheduler's while its results are pushed (a raise there leaves
 * it to be freed, never delivered again). */
static int collect(lua_State *L, iothub_loop *lp, int results, int n) {
  iothub_xfer *t;
  while ((t = iothub_sched_next(&lp->sched)) != NULL) {
    int entry, nret;
    lua_createtable(L, 0, 4);
    entry = lua_gettop(L);
    lua_pushinteger(L, t->id);
    lua_setfield(L, entry, "id");
    nret = iothub_transfer_push(L, t->http, &t->req);
    if (nret == 3) {                           /* value, headers, status */
      lua_setfield(L, entry, "status");
      lua_setfield(L, entry, "headers");
      lua_setfield(L, entry, "value");
    } else {                                   /* nil, err */
      lua_setfield(L, entry, "err");
      lua_pop(L, 1);
    }
    lua_rawseti(L, results, ++n);
  }
  return n;
}

/* loop:poll([timeout]) -> finished, running. finished is a list of
 * { id =, value =, headers =, status = } or { id =, err = }. Waits at most
 * timeout seconds (default 0: never) for something to finish. */
static int loop_poll(lua_State *L) {
  iothub_loop *lp = check_loop(L);
  double timeout = luaL_optnumber(L, 2, 0);
  int results, n;
  luaL_argcheck(L, timeout >= 0, 2, "timeout must not be negative");
  lua_settop(L, 2);
  lua_newtable(L);
  results = lua_gettop(L);
  iothub_sched_step(&lp->sched, 0);
  n = collect(L, lp, results, 0);
  if (n == 0 && timeout > 0) {
    /* Waits for activity or the timeout; with no transfer it just sleeps.
     * At most 1e6 s at a time: the int milliseconds must not overflow. */
    if (timeout > 1e6) timeout = 1e6;
    iothub_sched_step(&lp->sched, (int)(timeout * 1000 + 0.5));
    collect(L, lp, results, n);
  }
  lua_pushinteger(L, lp->sched.running);
  return 2;
}

static int loop_running(lua_State *L) {
  iothub_loop *lp = luaL_checkudata(L, 1, IOTHUB_LOOP_MT);
  lua_pushinteger(L, lp->closed ? 0 : lp->sched.running);
  return 1;
}

static int loop_close(lua_State *L) {
  loop_release(luaL_checkudata(L, 1, IOTHUB_LOOP_MT));
  return 0;
}

void iothub_loop_init(lua_State *L) {
  static const luaL_Reg methods[] = {
    { "start", loop_start }, { "poll", loop_poll }, { "running", loop_running },
    { "cancel", loop_cancel }, { "limit", loop_limit }, { "close", loop_close }, { NULL, NULL },
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
