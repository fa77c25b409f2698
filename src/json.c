/* json.c: JSON decoding rules (see json.h). */
#include "json.h"

#include <math.h>
#include <string.h>

#define DECODE_KEY "iothub.core.json_decode"       /* the default depth's */
#define DECODERS_KEY "iothub.core.json_decoders"   /* other depths: depth -> decode */
#define NEW_KEY "iothub.core.json_new"             /* cjson.safe.new */

/* pcall'ed: pushes the decode function of a new private instance of
 * cjson.safe limited to depth (integer at 1). */
static int new_decoder(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, NEW_KEY);
  lua_call(L, 0, 1);
  lua_getfield(L, -1, "decode_max_depth");
  lua_pushvalue(L, 1);
  lua_call(L, 1, 0);
  lua_getfield(L, -1, "decode");
  return 1;
}

void iothub_json_init(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, DECODE_KEY);
  if (lua_isfunction(L, -1)) { lua_pop(L, 1); return; }
  lua_pop(L, 1);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "cjson.safe");
  lua_call(L, 1, 1);                          /* cjson.safe */
  lua_getfield(L, -1, "new");
  lua_setfield(L, LUA_REGISTRYINDEX, NEW_KEY);
  lua_pop(L, 1);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, DECODERS_KEY);
  lua_pushcfunction(L, new_decoder);
  lua_pushinteger(L, IOTHUB_JSON_DEFAULT_DEPTH);
  lua_call(L, 1, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, DECODE_KEY);
}

/* Pushes the decode function for max_depth, making it on first use; 0, or
 * -1 with a message pushed instead. */
static int push_decoder(lua_State *L, int max_depth) {
  if (max_depth <= 0 || max_depth == IOTHUB_JSON_DEFAULT_DEPTH) {
    lua_getfield(L, LUA_REGISTRYINDEX, DECODE_KEY);
    return 0;
  }
  lua_getfield(L, LUA_REGISTRYINDEX, DECODERS_KEY);
  lua_rawgeti(L, -1, max_depth);
  if (!lua_isfunction(L, -1)) {
    lua_pop(L, 1);
    lua_pushcfunction(L, new_decoder);
    lua_pushinteger(L, max_depth);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) { lua_remove(L, -2); return -1; }
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, max_depth);
  }
  lua_remove(L, -2);
  return 0;
}

static int is_freeform_key(const char *k, size_t n) {
  switch (n) {
    case 4: return memcmp(k, "tags", 4) == 0;
    case 7: return memcmp(k, "payload", 7) == 0 || memcmp(k, "desired", 7) == 0;
    case 8: return memcmp(k, "reported", 8) == 0;
    default: return 0;
  }
}

void iothub_json_fixup(lua_State *L, int idx, int freeform) {
  int t = lua_gettop(L) + 1;
  lua_pushvalue(L, idx);                      /* t */
  luaL_checkstack(L, 4, "JSON too deep");
  lua_pushnil(L);
  while (lua_next(L, t)) {                    /* t k v */
    int type = lua_type(L, -1);
    if (type == LUA_TTABLE) {
      int child_free = freeform;
      if (!child_free && lua_type(L, -2) == LUA_TSTRING) {
        size_t n;
        const char *k = lua_tolstring(L, -2, &n);
        child_free = is_freeform_key(k, n);
      }
      iothub_json_fixup(L, lua_gettop(L), child_free);
    } else if (type == LUA_TLIGHTUSERDATA && !freeform &&
               lua_touserdata(L, -1) == NULL && lua_type(L, -2) == LUA_TSTRING) {
      /* A schema field that is null: absent, like every other unset field.
       * Clearing a field during traversal is allowed by lua_next. */
      lua_pushvalue(L, -2);
      lua_pushnil(L);
      lua_rawset(L, t);
    }
#if LUA_VERSION_NUM >= 503
    else if (type == LUA_TNUMBER && !lua_isinteger(L, -1)) {
      lua_Number n = lua_tonumber(L, -1);
      /* Exactly representable integers only (|n| <= 2^53). */
      if (n == floor(n) && fabs(n) <= 9007199254740992.0) {
        lua_pushvalue(L, -2);
        lua_pushinteger(L, (lua_Integer)n);
        lua_rawset(L, t);
      }
    }
#endif
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

int iothub_json_decode(lua_State *L, const char *buf, size_t len, int mode, int max_depth) {
  if (push_decoder(L, max_depth) != 0) return 0;
  lua_pushlstring(L, buf, len);
  if (lua_pcall(L, 1, 2, 0) != LUA_OK) return 0;   /* message on the stack */
  if (lua_isnil(L, -2)) {                          /* cjson.safe: nil, msg */
    lua_remove(L, -2);
    if (!lua_isstring(L, -1)) { lua_pop(L, 1); lua_pushliteral(L, "invalid JSON"); }
    return 0;
  }
  lua_pop(L, 1);
  if (lua_istable(L, -1)) {
    if (mode == IOTHUB_JSON_SCHEMA) iothub_json_fixup(L, lua_gettop(L), 0);
#if LUA_VERSION_NUM >= 503
    else iothub_json_fixup(L, lua_gettop(L), 1);
#endif
  }
#if LUA_VERSION_NUM >= 503
  else if (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1)) {
    lua_Number n = lua_tonumber(L, -1);
    if (n == floor(n) && fabs(n) <= 9007199254740992.0) {
      lua_pop(L, 1);
      lua_pushinteger(L, (lua_Integer)n);
    }
  }
#endif
  return 1;
}
