/* http1_lua.c: core.http1_request and core.http1_reader, the codec of
 * src/http1.c for Lua code that does its own I/O (nginx cosockets). Lua
 * owns the socket and the clock; this file owns every byte of HTTP.
 *
 *   core.http1_request(method, target, host, headers [, body])
 *     -> the request's bytes | nil, err (kind "config": a CR, LF or NUL, or
 *     a space where it would split the request line, in a part; the message
 *     names the part, never its value). headers: { name = value }; Host,
 *     Content-Length, Transfer-Encoding and Connection in it are left out,
 *     as the codec frames the request itself (Content-Length when there is
 *     a body or the method is not GET or HEAD).
 *
 *   core.http1_reader{ max_response_size = n (0: no limit; default
 *     core.limits.max_response_size), head = bool }
 *     -> a reader for one response:
 *     reader:feed(bytes) -> true (the response is complete), false (more
 *       bytes needed) | nil, err. Bytes fed past the response's end only
 *       make keep_alive false.
 *     reader:eof() -> true (the close ended the response) | nil, err
 *     reader:response() -> status, headers (lowercase names, the last of
 *       two wins, trailers included), body, keep_alive; raises before the
 *       response is complete.
 *     reader:received() -> bytes fed so far
 *     reader:close() frees its buffers (also __gc and __close).
 *   err: kind "transport"; code "ResponseTooLarge" (the header block or a
 *   line, or the body over max_response_size; the message says which),
 *   "ConnectionLost" (closed before the end; retryable) or "TransportError"
 *   (framing the rules refuse). */
#include "http1_lua.h"
#include "errors.h"
#include "http1.h"

#include <string.h>

typedef struct reader_ud {
  iothub_h1_reader r;
  int open;
} reader_ud;

static int push_failure(lua_State *L, const char *kind, const char *code, const char *message, int retryable) {
  lua_pushnil(L);
  iothub_error_push(L, kind, message);
  lua_pushstring(L, code);
  lua_setfield(L, -2, "code");
  lua_pushboolean(L, retryable);
  lua_setfield(L, -2, "retryable");
  return 2;
}

/* Headers the codec writes itself. */
static int framed_by_codec(const char *name, size_t n) {
  static const char *const names[] = { "host", "content-length", "transfer-encoding", "connection" };
  size_t i, j;
  for (i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strlen(names[i]) != n) continue;
    for (j = 0; j < n; j++) {
      char c = name[j];
      if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
      if (c != names[i][j]) break;
    }
    if (j == n) return 1;
  }
  return 0;
}

int iothub_http1_request(lua_State *L) {
  size_t ml, tl, hl, bl = 0;
  const char *method = luaL_checklstring(L, 1, &ml);
  const char *target = luaL_checklstring(L, 2, &tl);
  const char *host = luaL_checklstring(L, 3, &hl);
  const char *body = luaL_optlstring(L, 5, NULL, &bl), *bad = NULL;
  iothub_h1_bytes out = { NULL, 0, 0 };
  int rc, with_length;
  luaL_checktype(L, 4, LUA_TTABLE);
  lua_settop(L, 5);
  rc = iothub_h1_request_begin(&out, method, ml, target, tl, host, hl);
  if (rc == IOTHUB_H1_E_INVALID) bad = "the method, target or host";
  lua_pushnil(L);
  while (rc == IOTHUB_H1_OK && lua_next(L, 4)) {
    size_t nl, vl;
    const char *name, *value;
    /* lua_tolstring on a number key would confuse lua_next: check types. */
    if (lua_type(L, -2) != LUA_TSTRING || (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)) {
      iothub_h1_bytes_free(&out);
      return luaL_argerror(L, 4, "headers must map names to strings");
    }
    name = lua_tolstring(L, -2, &nl);
    value = lua_tolstring(L, -1, &vl);
    if (!framed_by_codec(name, nl)) {
      rc = iothub_h1_request_header(&out, name, nl, value, vl);
      if (rc == IOTHUB_H1_E_INVALID) bad = "a header";
    }
    lua_pop(L, 1);
  }
  if (rc == IOTHUB_H1_OK) {
    with_length = bl > 0 || !((ml == 3 && memcmp(method, "GET", 3) == 0) || (ml == 4 && memcmp(method, "HEAD", 4) == 0));
    rc = iothub_h1_request_end(&out, body, bl, with_length);
  }
  if (rc != IOTHUB_H1_OK) {
    iothub_h1_bytes_free(&out);
    if (rc == IOTHUB_H1_E_NOMEM) return luaL_error(L, "iothub: out of memory");
    lua_settop(L, 0);
    lua_pushfstring(L, "cannot send the request: %s holds a character HTTP does not allow there", bad);
    return push_failure(L, "config", "InvalidRequest", lua_tostring(L, -1), 0);
  }
  lua_pushlstring(L, out.data, out.len);
  iothub_h1_bytes_free(&out);                 /* wiped: it held the signature */
  return 1;
}

static reader_ud *check_reader(lua_State *L) {
  reader_ud *u = luaL_checkudata(L, 1, IOTHUB_HTTP1_READER_MT);
  if (!u->open) luaL_error(L, "iothub: the HTTP/1.1 reader is closed");
  return u;
}

/* nil, err for the reader's error. */
static int push_reader_error(lua_State *L, const iothub_h1_reader *r) {
  switch (r->error) {
    case IOTHUB_H1_E_HEAD_TOO_LARGE:
    case IOTHUB_H1_E_BODY_TOO_LARGE:
      return push_failure(L, "transport", "ResponseTooLarge", r->message, 0);
    case IOTHUB_H1_E_EMPTY:
    case IOTHUB_H1_E_CLOSED:
      return push_failure(L, "transport", "ConnectionLost", r->message, 1);
    case IOTHUB_H1_E_NOMEM:
      return luaL_error(L, "iothub: out of memory");
    default:
      return push_failure(L, "transport", "TransportError", r->message, 0);
  }
}

static int push_result(lua_State *L, const iothub_h1_reader *r, int rc) {
  if (rc == IOTHUB_H1_ERROR) return push_reader_error(L, r);
  lua_pushboolean(L, rc == IOTHUB_H1_DONE);
  return 1;
}

static int reader_feed(lua_State *L) {
  reader_ud *u = check_reader(L);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  return push_result(L, &u->r, iothub_h1_feed(&u->r, s, n));
}

static int reader_eof(lua_State *L) {
  reader_ud *u = check_reader(L);
  return push_result(L, &u->r, iothub_h1_eof(&u->r));
}

static int reader_received(lua_State *L) {
  reader_ud *u = check_reader(L);
  lua_pushnumber(L, (lua_Number)u->r.received);
  return 1;
}

static int reader_response(lua_State *L) {
  reader_ud *u = check_reader(L);
  const iothub_h1_reader *r = &u->r;
  const char *name, *value;
  size_t pos = 0, nl, vl;
  if (r->status == 0) return luaL_error(L, "iothub: the response is not complete");
  lua_pushinteger(L, r->status);
  lua_newtable(L);
  while (iothub_h1_next_header(r, &pos, &name, &nl, &value, &vl)) {
    char lower[128];
    size_t i;
    if (nl >= sizeof lower) continue;          /* as the core: no header we read */
    for (i = 0; i < nl; i++) lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    lua_pushlstring(L, lower, nl);
    lua_pushlstring(L, value, vl);
    lua_rawset(L, -3);
  }
  lua_pushlstring(L, r->body.data ? r->body.data : "", r->body.len);
  lua_pushboolean(L, r->keep_alive);
  return 4;
}

static int reader_close(lua_State *L) {
  reader_ud *u = luaL_checkudata(L, 1, IOTHUB_HTTP1_READER_MT);
  if (u->open) iothub_h1_reader_free(&u->r);
  u->open = 0;
  return 0;
}

int iothub_http1_reader_new(lua_State *L) {
  lua_Number max = IOTHUB_MAX_RESPONSE_SIZE;
  int head = 0;
  reader_ud *u;
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "max_response_size");
    if (!lua_isnil(L, -1)) {
      luaL_argcheck(L, lua_type(L, -1) == LUA_TNUMBER, 1, "max_response_size must be a number");
      max = lua_tonumber(L, -1);
      luaL_argcheck(L, max >= 0 && max <= 9007199254740992.0 && max == (lua_Number)(size_t)max, 1,
                    "max_response_size must be a whole number >= 0");
    }
    lua_getfield(L, 1, "head");
    head = lua_toboolean(L, -1);
    lua_pop(L, 2);
  }
  /* Zeroed and given its metatable before it owns anything. */
  u = lua_newuserdata(L, sizeof *u);
  memset(u, 0, sizeof *u);
  luaL_getmetatable(L, IOTHUB_HTTP1_READER_MT);
  lua_setmetatable(L, -2);
  iothub_h1_reader_init(&u->r, (size_t)max, head);
  u->open = 1;
  return 1;
}

void iothub_http1_init(lua_State *L) {
  static const luaL_Reg methods[] = {
    { "feed", reader_feed }, { "eof", reader_eof }, { "response", reader_response },
    { "received", reader_received }, { "close", reader_close }, { NULL, NULL },
  };
  if (luaL_newmetatable(L, IOTHUB_HTTP1_READER_MT)) {
    lua_newtable(L);
    iothub_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, reader_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, reader_close);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1);
}
