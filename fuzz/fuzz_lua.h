/* fuzz_lua.h: what the libFuzzer harnesses share. One Lua 5.4 state per
 * process with the standard libraries and iothub.core (linked in) loaded
 * the way a Lua program loads it, with require; a check that aborts (so
 * libFuzzer keeps the input) when an invariant does not hold; and a
 * protected call that treats any Lua error as a bug, since the entries
 * fuzzed here promise to return errors, never to raise them. */
#ifndef IOTHUB_FUZZ_LUA_H
#define IOTHUB_FUZZ_LUA_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int luaopen_iothub_core(lua_State *L);

#define FUZZ_CHECK(cond, what) \
  do { if (!(cond)) fuzz_fail(__FILE__, __LINE__, what); } while (0)

static inline void fuzz_fail(const char *file, int line, const char *what) {
  fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
  abort();
}

/* The process's state, made on first use, with `core` as a global. */
static inline lua_State *fuzz_state(void) {
  static lua_State *L;
  if (L) return L;
  L = luaL_newstate();
  FUZZ_CHECK(L != NULL, "luaL_newstate");
  luaL_openlibs(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_iothub_core);
  lua_setfield(L, -2, "iothub.core");
  lua_pop(L, 1);
  if (luaL_dostring(L, "core = require('iothub.core')") != LUA_OK) {
    fprintf(stderr, "loading iothub.core: %s\n", lua_tostring(L, -1));
    abort();
  }
  return L;
}

/* Calls the function under nargs arguments on top of the stack with
 * LUA_MULTRET; returns the number of results. A raised error is a bug. */
static inline int fuzz_pcall(lua_State *L, int nargs, const char *what) {
  int base = lua_gettop(L) - nargs - 1;
  if (lua_pcall(L, nargs, LUA_MULTRET, 0) != LUA_OK) {
    fprintf(stderr, "%s raised: %s\n", what,
            lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1));
    fuzz_fail(__FILE__, __LINE__, "no Lua error escapes");
  }
  return lua_gettop(L) - base;
}

/* Pushes core[name]. */
static inline void fuzz_core_fn(lua_State *L, const char *name) {
  lua_getglobal(L, "core");
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  FUZZ_CHECK(lua_isfunction(L, -1), name);
}

/* Pushes the process's client that never connects (client:decode does
 * no I/O), made on first use. */
static inline void fuzz_push_client(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, "fuzz.client");
  if (!lua_isnil(L, -1)) return;
  lua_pop(L, 1);
  fuzz_core_fn(L, "client");
  lua_pushnil(L);
  lua_newtable(L);
  lua_pushliteral(L, "https://fuzz.invalid");
  lua_setfield(L, -2, "endpoint");
  FUZZ_CHECK(fuzz_pcall(L, 2, "core.client") == 1 && lua_isuserdata(L, -1), "a client");
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, "fuzz.client");
}

/* Whether the string at idx contains needle[0..n). */
static inline int fuzz_contains(lua_State *L, int idx, const char *needle, size_t n) {
  size_t len, i;
  const char *s;
  if (lua_type(L, idx) != LUA_TSTRING || n == 0) return 0;
  s = lua_tolstring(L, idx, &len);
  for (i = 0; i + n <= len; i++)
    if (memcmp(s + i, needle, n) == 0) return 1;
  return 0;
}

/* Ends an input: the stack back where it was, garbage collected so the
 * allocations of one input are freed within it (libFuzzer's leak check
 * compares mallocs and frees per input). */
static inline void fuzz_end(lua_State *L, int top) {
  FUZZ_CHECK(lua_gettop(L) >= top, "stack not below where it started");
  lua_settop(L, top);
  lua_gc(L, LUA_GCCOLLECT, 0);
}

#endif
