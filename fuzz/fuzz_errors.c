/* fuzz_errors.c: the error-body parser (src/errors.c): the error table built
 * from an HTTP status, the response headers and the body, directly
 * (iothub_error_from_response) and through client:decode, the entry every
 * transport hands a response to.
 *
 * An input reads like a response, so seeds stay legible:
 *
 *   429                              status (3 digits and a newline; else 400)
 *   retry-after-ms: 1500             header lines, up to an empty line;
 *   iothub-errorcode: ...            names lowercased as the transport does
 *
 *   {"Message":"ErrorCode:..."}      the body: everything after, any bytes
 *
 * Invariants: no Lua error escapes and the parser pushes exactly one value;
 * it is an error table (core.is_error) of kind "auth" for 401 and "http"
 * otherwise, with that status, a non-empty message, retryable a boolean,
 * every string field at most 1024 bytes, error_code an integer when set,
 * retry_after a finite number >= 0 when set; tostring() of it works.
 * client:decode returns nil and an error with the same fields. */
#include "fuzz_lua.h"
#include "errors.h"

#include <ctype.h>
#include <math.h>

static const char *const string_fields[] = {
  "kind", "code", "message", "request_id", "tracking_id", "details", NULL
};

/* Splits the input: status, a header table pushed, and the body. */
static long read_response(lua_State *L, const char *s, size_t len, const char **body,
                          size_t *body_len) {
  const char *p = s, *end = s + len;
  long status = 400;
  if (len >= 4 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
      isdigit((unsigned char)s[2]) && s[3] == '\n') {
    status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    p += 4;
  }
  lua_newtable(L);
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p)), *line_end, *colon, *v, *ve;
    line_end = eol ? eol : end;
    if (line_end == p) { p++; break; }            /* the empty line */
    colon = memchr(p, ':', (size_t)(line_end - p));
    if (colon && colon > p && colon - p < 128) {  /* as iothub_http_push_headers */
      char name[128];
      size_t i, n = (size_t)(colon - p);
      for (i = 0; i < n; i++) name[i] = (char)tolower((unsigned char)p[i]);
      for (v = colon + 1; v < line_end && (*v == ' ' || *v == '\t'); v++) {}
      for (ve = line_end; ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'); ve--) {}
      lua_pushlstring(L, name, n);
      lua_pushlstring(L, v, (size_t)(ve - v));
      lua_rawset(L, -3);
    }
    p = eol ? eol + 1 : end;
  }
  *body = p;
  *body_len = (size_t)(end - p);
  return status;
}

/* pcall'ed: from_response(status, headers, body) with the stack checked. */
static int from_response(lua_State *L) {
  size_t len;
  long status = (long)lua_tointeger(L, 1);
  const char *body = lua_tolstring(L, 3, &len);
  int top = lua_gettop(L);
  iothub_error_from_response(L, status, 2, body, len);
  FUZZ_CHECK(lua_gettop(L) == top + 1, "the parser pushes exactly one value");
  return 1;
}

static void check_error(lua_State *L, int err, long status) {
  int i, n;
  FUZZ_CHECK(lua_istable(L, err), "an error table");
  fuzz_core_fn(L, "is_error");
  lua_pushvalue(L, err);
  FUZZ_CHECK(fuzz_pcall(L, 1, "core.is_error") == 1 && lua_toboolean(L, -1), "core.is_error");
  lua_pop(L, 1);
  for (i = 0; string_fields[i]; i++) {
    lua_getfield(L, err, string_fields[i]);
    FUZZ_CHECK(lua_isnil(L, -1) || (lua_type(L, -1) == LUA_TSTRING &&
               lua_rawlen(L, -1) > 0 && lua_rawlen(L, -1) <= 1024), string_fields[i]);
    lua_pop(L, 1);
  }
  lua_getfield(L, err, "kind");
  FUZZ_CHECK(strcmp(lua_tostring(L, -1), status == 401 ? "auth" : "http") == 0, "kind");
  lua_getfield(L, err, "message");
  FUZZ_CHECK(lua_type(L, -1) == LUA_TSTRING, "a message");
  lua_getfield(L, err, "status");
  FUZZ_CHECK(lua_isinteger(L, -1) && lua_tointeger(L, -1) == status, "status");
  lua_getfield(L, err, "retryable");
  FUZZ_CHECK(lua_type(L, -1) == LUA_TBOOLEAN, "retryable");
  lua_getfield(L, err, "error_code");
  FUZZ_CHECK(lua_isnil(L, -1) || lua_isinteger(L, -1), "error_code");
  lua_getfield(L, err, "retry_after");
  FUZZ_CHECK(lua_isnil(L, -1) || (lua_type(L, -1) == LUA_TNUMBER && isfinite(lua_tonumber(L, -1)) &&
             lua_tonumber(L, -1) >= 0), "retry_after");
  lua_pop(L, 6);
  lua_getglobal(L, "tostring");
  lua_pushvalue(L, err);
  n = fuzz_pcall(L, 1, "tostring(err)");
  FUZZ_CHECK(n == 1 && lua_type(L, -1) == LUA_TSTRING, "tostring(err)");
  lua_pop(L, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = fuzz_state();
  int top = lua_gettop(L), headers, n, c;
  const char *body;
  size_t body_len;
  long status = read_response(L, (const char *)data, size, &body, &body_len);
  headers = lua_gettop(L);

  lua_pushcfunction(L, from_response);
  lua_pushinteger(L, status);
  lua_pushvalue(L, headers);
  lua_pushlstring(L, body, body_len);
  FUZZ_CHECK(fuzz_pcall(L, 3, "iothub_error_from_response") == 1, "one result");
  check_error(L, lua_gettop(L), status);
  lua_settop(L, headers);

  /* Statuses outside 2xx only: a 2xx goes to the JSON decoder instead. */
  if (status < 200 || status >= 300) {
    fuzz_push_client(L);
    c = lua_gettop(L);
    lua_getfield(L, c, "decode");
    lua_pushvalue(L, c);
    lua_pushinteger(L, status);
    lua_pushvalue(L, headers);
    lua_pushlstring(L, body, body_len);
    lua_pushliteral(L, "00000000-0000-4000-8000-000000000000");
    n = fuzz_pcall(L, 5, "client:decode");
    FUZZ_CHECK(n == 2 && lua_isnil(L, -2), "nil, err for an error status");
    check_error(L, lua_gettop(L), status);
  }
  fuzz_end(L, top);
  return 0;
}
