/* fuzz_json.c: JSON text to Lua tables (src/json.c), the way responses are
 * decoded: iothub_json_decode in schema and raw mode at the default depth and
 * at depth 4, then client:decode(200, headers, body), the entry every
 * transport hands a 2xx body to.
 *
 * Invariants: the decoder never raises and pushes exactly one value (the
 * result, or a message string); schema and raw mode accept the same texts;
 * a text accepted at depth 4 is accepted at the default depth and nests at
 * most 4 deep; in the result, no integral float with |n| <= 2^53 is left (Lua
 * 5.3+ integers) and, in schema mode, no schema field (a string key outside
 * tags, payload, desired and reported) holds null; client:decode returns
 * value, headers, 200 exactly when the schema decode succeeds, and nil and a
 * "decode" error otherwise. */
#include "fuzz_lua.h"
#include "json.h"

#include <math.h>

#define SMALL_DEPTH 4

static int is_freeform_key(lua_State *L, int idx) {
  size_t n;
  const char *k;
  if (lua_type(L, idx) != LUA_TSTRING) return 0;
  k = lua_tolstring(L, idx, &n);
  return (n == 4 && memcmp(k, "tags", 4) == 0) || (n == 7 && memcmp(k, "payload", 7) == 0) ||
         (n == 7 && memcmp(k, "desired", 7) == 0) || (n == 8 && memcmp(k, "reported", 8) == 0);
}

static void check_number(lua_State *L, int idx) {
#if LUA_VERSION_NUM >= 503
  if (!lua_isinteger(L, idx)) {
    lua_Number n = lua_tonumber(L, idx);
    FUZZ_CHECK(!(n == floor(n) && fabs(n) <= 9007199254740992.0), "an integral float left");
  }
#else
  (void)L; (void)idx;
#endif
}

/* Walks the value at idx; returns its nesting depth (0 for a scalar). */
static int walk(lua_State *L, int idx, int schema, int freeform, int level) {
  int deepest = 0, t;
  if (lua_type(L, idx) == LUA_TNUMBER) check_number(L, idx);
  if (!lua_istable(L, idx)) return 0;
  FUZZ_CHECK(level < 2000, "nesting bounded");
  luaL_checkstack(L, 4, "walk");
  t = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int d;
    if (schema && !freeform && lua_type(L, -2) == LUA_TSTRING)
      FUZZ_CHECK(!(lua_type(L, -1) == LUA_TLIGHTUSERDATA && lua_touserdata(L, -1) == NULL),
                 "a schema field holds null");
    if (lua_type(L, -2) == LUA_TNUMBER) check_number(L, -2);
    d = walk(L, lua_gettop(L), schema, freeform || is_freeform_key(L, -2), level + 1);
    if (d > deepest) deepest = d;
    lua_pop(L, 1);
  }
  return deepest + 1;
}

/* pcall'ed: decode(text, mode, depth) -> ok, value-or-message, with the
 * stack effect checked. */
static int decode(lua_State *L) {
  size_t len;
  const char *s = lua_tolstring(L, 1, &len);
  int mode = (int)lua_tointeger(L, 2), depth = (int)lua_tointeger(L, 3), ok;
  int top = lua_gettop(L);
  ok = iothub_json_decode(L, s, len, mode, depth);
  FUZZ_CHECK(ok == 0 || ok == 1, "decode returns 0 or 1");
  FUZZ_CHECK(lua_gettop(L) == top + 1, "decode pushes exactly one value");
  if (!ok) FUZZ_CHECK(lua_type(L, -1) == LUA_TSTRING, "a failed decode pushes a message");
  lua_pushboolean(L, ok);
  lua_insert(L, -2);
  return 2;
}

/* Decodes and checks; leaves the value (or message) on the stack, returns ok. */
static int run_decode(lua_State *L, const char *s, size_t len, int mode, int depth) {
  int ok;
  lua_pushcfunction(L, decode);
  lua_pushlstring(L, s, len);
  lua_pushinteger(L, mode);
  lua_pushinteger(L, depth);
  FUZZ_CHECK(fuzz_pcall(L, 3, "iothub_json_decode") == 2, "two results");
  ok = lua_toboolean(L, -2);
  lua_remove(L, -2);
  if (ok) {
    int d = walk(L, lua_gettop(L), mode == IOTHUB_JSON_SCHEMA, 0, 0);
    FUZZ_CHECK(d <= (depth ? depth : IOTHUB_JSON_DEFAULT_DEPTH), "nesting within max_depth");
  }
  return ok;
}

static void check_client_decode(lua_State *L, const char *s, size_t len, int schema_ok) {
  int n, c;
  fuzz_push_client(L);
  c = lua_gettop(L);
  lua_getfield(L, c, "decode");
  lua_pushvalue(L, c);
  lua_pushinteger(L, 200);
  lua_newtable(L);
  lua_pushlstring(L, s, len);
  n = fuzz_pcall(L, 4, "client:decode");
  if (len == 0) {
    FUZZ_CHECK(n == 3 && lua_toboolean(L, -3), "an empty 2xx body is true");
  } else if (schema_ok) {
    FUZZ_CHECK(n == 3 && lua_istable(L, -2) && lua_tointeger(L, -1) == 200,
               "value, headers, status for what decodes");
    walk(L, lua_gettop(L) - 2, 1, 0, 0);
  } else {
    FUZZ_CHECK(n == 2 && lua_isnil(L, -2) && lua_istable(L, -1), "nil, err otherwise");
    lua_getfield(L, -1, "kind");
    FUZZ_CHECK(lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "decode") == 0,
               "a decode error");
    lua_getfield(L, -2, "message");
    FUZZ_CHECK(lua_type(L, -1) == LUA_TSTRING, "with a message");
  }
  lua_settop(L, c - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = fuzz_state();
  int top = lua_gettop(L);
  const char *s = (const char *)data;
  int schema = run_decode(L, s, size, IOTHUB_JSON_SCHEMA, 0);
  int raw = run_decode(L, s, size, IOTHUB_JSON_RAW, 0);
  int small = run_decode(L, s, size, IOTHUB_JSON_SCHEMA, SMALL_DEPTH);
  FUZZ_CHECK(schema == raw, "schema and raw mode accept the same texts");
  FUZZ_CHECK(!small || schema, "what decodes at depth 4 decodes at the default depth");
  lua_settop(L, top);
  check_client_decode(L, s, size, schema);
  fuzz_end(L, top);
  return 0;
}
