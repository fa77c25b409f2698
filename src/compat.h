/* compat.h: the few Lua C API differences between 5.1 (and LuaJIT), 5.2,
 * 5.3 and 5.4 that the core uses, behind iothub_-prefixed names so that no
 * lua_* or luaL_* symbol of our own can clash with a host's. */
#ifndef IOTHUB_COMPAT_H
#define IOTHUB_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM < 502
#define iothub_rawlen(L, i) lua_objlen((L), (i))
#else
#define iothub_rawlen(L, i) lua_rawlen((L), (i))
#endif

#ifndef LUA_OK
#define LUA_OK 0
#endif

/* luaL_setfuncs for every version (5.1 lacks it). */
static inline void iothub_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  luaL_checkstack(L, nup + 1, "too many upvalues");
  for (; l->name != NULL; l++) {
    int i;
    for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}

/* luaL_testudata for every version. */
static inline void *iothub_testudata(lua_State *L, int idx, const char *tname) {
  void *p = lua_touserdata(L, idx);
  if (p == NULL || !lua_getmetatable(L, idx)) return NULL;
  luaL_getmetatable(L, tname);
  if (!lua_rawequal(L, -1, -2)) p = NULL;
  lua_pop(L, 2);
  return p;
}

#endif
