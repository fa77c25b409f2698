/* core.c: the iothub.core module entry. Registers the client type, the error
 * type and the I/O-free helpers (signing, JSON decoding, percent-encoding,
 * UUIDs, clocks) that the Lua wrapper and other transports build on. */
#include "client.h"
#include "connstr.h"
#include "defaults.h"
#include "errors.h"
#include "http.h"
#include "http1_lua.h"
#include "json.h"
#include "loop.h"
#include "sas.h"
#include "util.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

/* core.sas_token(key_base64, resource, expiry, policy) -> token */
static int core_sas_token(lua_State *L) {
  size_t klen, key_len;
  const char *key_b64 = luaL_checklstring(L, 1, &klen);
  const char *resource = luaL_checkstring(L, 2);
  lua_Number se = luaL_checknumber(L, 3);
  const char *policy = luaL_checkstring(L, 4);
  unsigned char *key;
  iothub_buffer token = {0};
  long long expiry;
  token.secret = 1;
  int rc;
  /* Converting a double beyond long long's range is undefined behaviour. */
  luaL_argcheck(L, se > -1e15 && se < 1e15, 3, "expiry out of range");
  expiry = (long long)se;
  key = iothub_base64_decode(key_b64, klen, &key_len);
  if (key == NULL) return luaL_argerror(L, 1, "key is not valid base64");
  rc = iothub_sas_token(&token, key, key_len, resource, expiry, policy);
  OPENSSL_cleanse(key, key_len);
  free(key);
  if (rc != 0) return luaL_error(L, "iothub: out of memory");
  lua_pushlstring(L, token.data, token.len);
  iothub_buffer_free(&token, 1);
  return 1;
}

/* core.hmac_sha256(key_base64, message) -> base64 signature */
static int core_hmac_sha256(lua_State *L) {
  size_t klen, mlen, key_len;
  const char *key_b64 = luaL_checklstring(L, 1, &klen);
  const char *msg = luaL_checklstring(L, 2, &mlen);
  unsigned char *key = iothub_base64_decode(key_b64, klen, &key_len);
  iothub_buffer sig = {0};
  int rc;
  sig.secret = 1;
  if (key == NULL) return luaL_argerror(L, 1, "key is not valid base64");
  rc = iothub_hmac_sha256_b64(&sig, key, key_len, msg, mlen);
  OPENSSL_cleanse(key, key_len);
  free(key);
  if (rc != 0) return luaL_error(L, "iothub: out of memory");
  lua_pushlstring(L, sig.data, sig.len);
  iothub_buffer_free(&sig, 1);
  return 1;
}

/* core.percent_encode(s) -> s with everything but RFC 3986 unreserved escaped */
static int core_percent_encode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  iothub_buffer b = {0};
  if (iothub_percent_append(&b, s, n) != 0) return luaL_error(L, "iothub: out of memory");
  lua_pushlstring(L, b.data ? b.data : "", b.len);
  iothub_buffer_free(&b, 0);
  return 1;
}

/* core.decode_json(text [, "schema"|"raw" [, max_depth]]) -> value | nil, err */
static int core_decode_json(lua_State *L) {
  static const char *const modes[] = { "raw", "schema", NULL };
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  int mode = luaL_checkoption(L, 2, "schema", modes);
  lua_Integer depth = luaL_optinteger(L, 3, IOTHUB_JSON_DEFAULT_DEPTH);
  luaL_argcheck(L, depth >= 1 && depth <= IOTHUB_JSON_MAX_DEPTH, 3, "must be 1..1000");
  lua_settop(L, 3);
  if (iothub_json_decode(L, s, n, mode, (int)depth)) return 1;
  iothub_error_push(L, "decode", lua_tostring(L, -1));
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

/* core.error(kind, message [, fields]) -> an error table */
static int core_error(lua_State *L) {
  const char *kind = luaL_checkstring(L, 1);
  const char *message = luaL_optstring(L, 2, NULL);
  iothub_error_push(L, kind, message);
  if (lua_istable(L, 3)) {
    lua_pushnil(L);
    while (lua_next(L, 3)) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, -4);
    }
  }
  return 1;
}

/* core.error_from_response(status, headers, body) -> an error table */
static int core_error_from_response(lua_State *L) {
  size_t n;
  long status = (long)luaL_checkinteger(L, 1);
  const char *body;
  luaL_checktype(L, 2, LUA_TTABLE);
  body = luaL_optlstring(L, 3, "", &n);
  iothub_error_from_response(L, status, 2, body, n);
  return 1;
}

static int core_is_error(lua_State *L) {
  int is = 0;
  if (lua_getmetatable(L, 1)) {
    luaL_getmetatable(L, IOTHUB_ERROR_MT);
    is = lua_rawequal(L, -1, -2);
  }
  lua_pushboolean(L, is);
  return 1;
}

static int core_uuid(lua_State *L) {
  char id[37];
  iothub_uuid(id);
  lua_pushstring(L, id);
  return 1;
}

/* core.utf8_valid(s) -> true | false, position of the first bad byte */
static int core_utf8_valid(lua_State *L) {
  size_t n, bad;
  const char *s = luaL_checklstring(L, 1, &n);
  bad = iothub_utf8_check((const unsigned char *)s, n);
  lua_pushboolean(L, bad == n);
  if (bad == n) return 1;
  lua_pushinteger(L, (lua_Integer)bad + 1);
  return 2;
}

/* core.authority_check(s) -> nil | what is wrong with s as host[:port]
 * (the HostName rule of connection strings, for clients given a host). */
static int core_authority_check(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  const char *why = strlen(s) == n ? iothub_authority_check(s, n) : "has a NUL byte";
  if (why == NULL) lua_pushnil(L);
  else lua_pushstring(L, why);
  return 1;
}

static int core_now(lua_State *L) { lua_pushnumber(L, iothub_now()); return 1; }
static int core_monotonic(lua_State *L) { lua_pushnumber(L, iothub_monotonic()); return 1; }

static int core_sleep(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  luaL_argcheck(L, s >= 0, 1, "must not be negative");
  iothub_sleep(s);
  return 0;
}

/* core.limits: defaults.h as a table, for the Lua side. */
static void push_limits(lua_State *L) {
  static const struct { const char *name; double value; } numbers[] = {
    { "timeout", IOTHUB_TIMEOUT }, { "connect_timeout", IOTHUB_CONNECT_TIMEOUT },
    { "handler_timeout", IOTHUB_HANDLER_TIMEOUT }, { "handler_deadline", IOTHUB_HANDLER_DEADLINE },
    { "max_response_size", IOTHUB_MAX_RESPONSE_SIZE }, { "min_response_size", IOTHUB_MIN_RESPONSE_SIZE },
    { "max_header_bytes", IOTHUB_MAX_HEADER_BYTES }, { "sas_ttl", IOTHUB_SAS_TTL },
    { "max_json_depth", IOTHUB_JSON_DEFAULT_DEPTH }, { "json_depth_limit", IOTHUB_JSON_MAX_DEPTH },
    { "concurrency", IOTHUB_CONCURRENCY }, { "max_concurrency", IOTHUB_MAX_CONCURRENCY },
    { "loop_connections", IOTHUB_LOOP_CONNECTIONS },
  };
  size_t i;
  lua_createtable(L, 0, (int)(sizeof numbers / sizeof numbers[0]) + 1);
  for (i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
    lua_pushinteger(L, (lua_Integer)numbers[i].value);
    lua_setfield(L, -2, numbers[i].name);
  }
  lua_pushliteral(L, IOTHUB_USER_AGENT);
  lua_setfield(L, -2, "user_agent");
}

/* The only exported symbol. */
__attribute__((visibility("default"))) int luaopen_iothub_core(lua_State *L);
int luaopen_iothub_core(lua_State *L) {
  static const luaL_Reg functions[] = {
    { "client", iothub_client_new }, { "sas_token", core_sas_token },
    { "hmac_sha256", core_hmac_sha256 }, { "percent_encode", core_percent_encode },
    { "decode_json", core_decode_json }, { "error", core_error },
    { "error_from_response", core_error_from_response }, { "is_error", core_is_error },
    { "uuid", core_uuid }, { "now", core_now }, { "monotonic", core_monotonic },
    { "sleep", core_sleep }, { "utf8_valid", core_utf8_valid }, { "loop", iothub_loop_new },
    { "http1_request", iothub_http1_request }, { "http1_reader", iothub_http1_reader_new },
    { "authority_check", core_authority_check }, { NULL, NULL },
  };
  if (iothub_http_global_init() != 0) return luaL_error(L, "iothub: curl_global_init failed");
  iothub_json_init(L);
  iothub_errors_init(L);
  iothub_client_init(L);
  iothub_loop_init(L);
  iothub_http1_init(L);
  lua_newtable(L);
  iothub_setfuncs(L, functions, 0);
  lua_pushlightuserdata(L, NULL);          /* the same value as cjson.null */
  lua_setfield(L, -2, "null");
  lua_pushliteral(L, IOTHUB_VERSION);
  lua_setfield(L, -2, "version");
  push_limits(L);
  lua_setfield(L, -2, "limits");
  lua_pushstring(L, iothub_http_version());
  lua_setfield(L, -2, "curl_version");
  return 1;
}
