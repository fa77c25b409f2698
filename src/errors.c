/* errors.c: error tables and error-body parsing (see errors.h). */
#include "errors.h"
#include "http.h"
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct { const char *name; long long code; } known_codes[] = {
  { "DeviceNotFound", 404001 }, { "JobNotFound", 404002 },
  { "IotHubNotFound", 401001 }, { "IotHubUnauthorizedAccess", 401002 },
  { "IotHubSuspended", 403001 }, { "IotHubQuotaExceeded", 403002 },
  { "JobQuotaExceeded", 403003 }, { "ArgumentInvalid", 400004 },
  { "PreconditionFailed", 412001 }, { "GenericTooManyRequests", 429000 },
  { "ThrottlingException", 429001 }, { "ThrottleBacklogLimitExceeded", 429002 },
  { "ThrottlingBacklogTimeout", 429003 }, { "ThrottlingMaxActiveJobCountExceeded", 429004 },
  { "DeviceThrottlingLimitExceeded", 429005 }, { "ServerError", 500001 },
  { "JobCancelled", 500002 }, { "ServiceUnavailable", 503001 },
  { "PartitionNotFound", 503003 },
};
#define N_KNOWN (sizeof known_codes / sizeof known_codes[0])

int iothub_error_transient(long status, long long error_code) {
  if (error_code >= 429000 && error_code <= 429999) return 1;
  if (error_code == 500001 || error_code == 503001) return 1;
  return status == 408 || status == 429 || status == 500 || status == 502 ||
         status == 503 || status == 504;
}

/* One readable line: "iothub: http 404 JobNotFound (404002): text [request_id=..]"
 * Nothing may sit above a luaL_Buffer when it adds (it grows in a box at the
 * top of the stack), so each value read is added with luaL_addvalue, and the
 * message, copied byte by byte, is read before the buffer starts. */
static int error_tostring(lua_State *L) {
  luaL_Buffer b;
  const char *fields[] = { "request_id", "tracking_id" };
  const char *m = NULL;
  size_t i, n = 0;
  lua_settop(L, 1);
  lua_getfield(L, 1, "message");              /* 2: keeps m alive */
  if (lua_isstring(L, 2)) m = lua_tolstring(L, 2, &n);
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "iothub ");
  lua_getfield(L, 1, "kind");
  if (!lua_isstring(L, -1)) { lua_pop(L, 1); lua_pushliteral(L, "unknown"); }
  luaL_addvalue(&b);
  luaL_addstring(&b, " error");
  lua_getfield(L, 1, "status");
  if (lua_isnumber(L, -1)) { lua_pushliteral(L, " "); lua_insert(L, -2); lua_concat(L, 2); luaL_addvalue(&b); }
  else lua_pop(L, 1);
  lua_getfield(L, 1, "code");
  if (lua_isstring(L, -1)) { lua_pushliteral(L, " "); lua_insert(L, -2); lua_concat(L, 2); luaL_addvalue(&b); }
  else lua_pop(L, 1);
  lua_getfield(L, 1, "error_code");
  if (lua_isnumber(L, -1)) {
    lua_pushfstring(L, " (%s)", lua_tostring(L, -1));
    lua_remove(L, -2);
    luaL_addvalue(&b);
  } else lua_pop(L, 1);
  if (m) {
    luaL_addstring(&b, ": ");
    for (i = 0; i < n; i++) luaL_addchar(&b, (m[i] == '\n' || m[i] == '\r') ? ' ' : m[i]);
  }
  for (i = 0; i < 2; i++) {
    lua_getfield(L, 1, fields[i]);
    if (lua_isstring(L, -1)) {
      lua_pushfstring(L, " [%s=%s]", fields[i], lua_tostring(L, -1));
      lua_remove(L, -2);
      luaL_addvalue(&b);
    } else lua_pop(L, 1);
  }
  luaL_pushresult(&b);
  return 1;
}

void iothub_errors_init(lua_State *L) {
  if (luaL_newmetatable(L, IOTHUB_ERROR_MT)) {
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
}

void iothub_error_push(lua_State *L, const char *kind, const char *message) {
  lua_createtable(L, 0, 8);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  if (message) {
    lua_pushstring(L, message);
    lua_setfield(L, -2, "message");
  }
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "retryable");
  luaL_getmetatable(L, IOTHUB_ERROR_MT);
  lua_setmetatable(L, -2);
}

static int has_field(lua_State *L, int t, const char *field) {
  int set;
  lua_getfield(L, t, field);
  set = !lua_isnil(L, -1);
  lua_pop(L, 1);
  return set;
}

void iothub_error_set_str(lua_State *L, int err, const char *field, const char *s, size_t n) {
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\r' || s[n - 1] == '\n')) n--;
  while (n > 0 && (*s == ' ')) { s++; n--; }
  if (n == 0 || has_field(L, err, field)) return;
  lua_pushlstring(L, s, n > 1024 ? 1024 : n);
  lua_setfield(L, err, field);
}

static void set_error_code(lua_State *L, int err, long long code) {
  if (has_field(L, err, "error_code")) return;
  lua_pushnumber(L, (lua_Number)code);
#if LUA_VERSION_NUM >= 503
  lua_pop(L, 1);
  lua_pushinteger(L, (lua_Integer)code);
#endif
  lua_setfield(L, err, "error_code");
}

/* Whether the number at idx converts to a long long: converting a double out
 * of its range (an error code of 1e300 in a body) is undefined behaviour. */
static int is_code(lua_State *L, int idx) {
  lua_Number n;
  if (lua_type(L, idx) != LUA_TNUMBER) return 0;
  n = lua_tonumber(L, idx);
  return n >= -9223372036854775808.0 && n < 9223372036854775808.0;
}

/* A string field of table t, or NULL. */
static const char *str_field(lua_State *L, int t, const char *field, size_t *n) {
  const char *s = NULL;
  /* A raw read: the string is then one t holds, so s stays valid after the
   * pop (an __index could hand out a fresh string nothing keeps alive).
   * Header tables have lowercase names, so no case-folding __index is needed. */
  lua_pushstring(L, field);
  lua_rawget(L, t);
  if (lua_type(L, -1) == LUA_TSTRING) s = lua_tolstring(L, -1, n);
  lua_pop(L, 1);
  return s;
}

/* "Tracking ID:abc-G:0-TimeStamp:12/14/2016 03:15:17" -> "abc-G:0" */
static void set_tracking_from_text(lua_State *L, int err, const char *s, size_t n) {
  const char *p = strstr(s, "Tracking ID:"), *end;
  if (p == NULL || (size_t)(p - s) >= n) return;
  p += 12;
  end = strstr(p, "-TimeStamp:");
  if (end == NULL) end = s + n;
  iothub_error_set_str(L, err, "tracking_id", p, (size_t)(end - p));
}

static void parse_body(lua_State *L, int err, const char *body, size_t len, int depth);

/* "ErrorCode:Name;text" (shapes 1 and 2) or escaped JSON (shape 3). */
static void parse_message(lua_State *L, int err, const char *m, size_t n, int depth) {
  if (n > 0 && m[0] == '{' && depth < 2) {
    parse_body(L, err, m, n, depth + 1);
  } else if (n > 10 && strncmp(m, "ErrorCode:", 10) == 0) {
    const char *semi = memchr(m, ';', n);
    const char *name_end = semi ? semi : m + n;
    iothub_error_set_str(L, err, "code", m + 10, (size_t)(name_end - (m + 10)));
    if (semi) {
      /* Shape 2 nests a whole error body after the text; keep the text. */
      const char *rest = semi + 1, *brace = memchr(rest, '{', (size_t)(m + n - rest));
      iothub_error_set_str(L, err, "message", rest, (size_t)((brace ? brace : m + n) - rest));
      if (brace && depth < 2) parse_body(L, err, brace, (size_t)(m + n - brace), depth + 1);
    }
  } else {
    iothub_error_set_str(L, err, "message", m, n);
  }
}

static void parse_table(lua_State *L, int err, int t, int depth) {
  size_t n;
  const char *s;
  if ((s = str_field(L, t, "Message", &n))) parse_message(L, err, s, n, depth);
  if ((s = str_field(L, t, "ExceptionMessage", &n))) set_tracking_from_text(L, err, s, n);
  /* Shape 4 (flat) and ARM ErrorDetails. */
  lua_getfield(L, t, "errorCode");
  if (is_code(L, -1)) set_error_code(L, err, (long long)lua_tonumber(L, -1));
  lua_pop(L, 1);
  if ((s = str_field(L, t, "trackingId", &n))) iothub_error_set_str(L, err, "tracking_id", s, n);
  if ((s = str_field(L, t, "code", &n))) iothub_error_set_str(L, err, "code", s, n);
  if ((s = str_field(L, t, "message", &n))) parse_message(L, err, s, n, 2);
  if ((s = str_field(L, t, "details", &n))) iothub_error_set_str(L, err, "details", s, n);
  /* AAD: {"error":"invalid_client","error_description":"AADSTS...","error_codes":[...]} */
  if ((s = str_field(L, t, "error_description", &n))) {
    const char *nl = memchr(s, '\r', n);
    iothub_error_set_str(L, err, "message", s, nl ? (size_t)(nl - s) : n);
  }
  lua_getfield(L, t, "error_codes");                  /* AAD: [7000215] */
  if (lua_istable(L, -1)) {
    lua_rawgeti(L, -1, 1);
    if (is_code(L, -1)) set_error_code(L, err, (long long)lua_tonumber(L, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_getfield(L, t, "error");
  if (lua_type(L, -1) == LUA_TSTRING) {
    s = lua_tolstring(L, -1, &n);
    iothub_error_set_str(L, err, "code", s, n);
  } else if (lua_istable(L, -1) && depth < 2) {
    parse_table(L, err, lua_gettop(L), depth + 1);     /* {"error":{...}} */
  }
  lua_pop(L, 1);
}

static void parse_body(lua_State *L, int err, const char *body, size_t len, int depth) {
  if (!iothub_json_decode(L, body, len, IOTHUB_JSON_RAW, 0)) {
    lua_pop(L, 1);
    if (depth == 0) {
      /* Not JSON: the first line of the text, as it came, is still useful. */
      const char *nl = memchr(body, '\n', len);
      iothub_error_set_str(L, err, "message", body, nl ? (size_t)(nl - body) : len);
    }
    return;
  }
  if (lua_istable(L, -1)) parse_table(L, err, lua_gettop(L), depth);
  lua_pop(L, 1);
}

static const char *header(lua_State *L, int headers, const char *name, size_t *n) {
  return headers ? str_field(L, headers, name, n) : NULL;
}

static void set_retry_after(lua_State *L, int err, int headers) {
  size_t n;
  const char *s;
  double seconds = -1;
  if ((s = header(L, headers, "retry-after-ms", &n)) ||
      (s = header(L, headers, "x-ms-retry-after-ms", &n))) {
    char *end;
    double ms = strtod(s, &end);
    if (end != s && ms >= 0 && isfinite(ms)) seconds = ms / 1000.0;   /* not "1e999", "inf" */
  }
  if (seconds < 0 && (s = header(L, headers, "retry-after", &n))) {
    char *end;
    double v = strtod(s, &end);
    if (end != s && *end == '\0' && v >= 0 && isfinite(v)) seconds = v;
    else {
      time_t at = iothub_http_date(s);   /* an HTTP date */
      if (at != (time_t)-1) seconds = difftime(at, time(NULL)) > 0 ? difftime(at, time(NULL)) : 0;
    }
  }
  if (seconds >= 0) {
    lua_pushnumber(L, seconds);
    lua_setfield(L, err, "retry_after");
  }
}

void iothub_error_from_response(lua_State *L, long status, int headers,
                                const char *body, size_t len) {
  int err;
  size_t n, i;
  const char *s;
  long long error_code = 0;
  const char *kind = status == 401 ? "auth" : "http";
  iothub_error_push(L, kind, NULL);
  err = lua_gettop(L);
  lua_pushinteger(L, status);
  lua_setfield(L, err, "status");
  if ((s = header(L, headers, "iothub-errorcode", &n))) iothub_error_set_str(L, err, "code", s, n);
  if ((s = header(L, headers, "x-ms-request-id", &n))) iothub_error_set_str(L, err, "request_id", s, n);
  if (len > 0) parse_body(L, err, body, len, 0);
  /* Name from number and number from name, where the table knows them. */
  lua_getfield(L, err, "error_code");
  if (lua_isnumber(L, -1)) error_code = (long long)lua_tonumber(L, -1);
  lua_pop(L, 1);
  s = str_field(L, err, "code", &n);
  for (i = 0; i < N_KNOWN; i++) {
    if (error_code && known_codes[i].code == error_code && s == NULL) {
      lua_pushstring(L, known_codes[i].name);
      lua_setfield(L, err, "code");
      break;
    }
    if (!error_code && s && strcmp(s, known_codes[i].name) == 0) {
      error_code = known_codes[i].code;
      set_error_code(L, err, error_code);
      break;
    }
  }
  if (!has_field(L, err, "message")) {
    lua_pushfstring(L, "HTTP status %d", (int)status);
    lua_setfield(L, err, "message");
  }
  set_retry_after(L, err, headers);
  lua_pushboolean(L, iothub_error_transient(status, error_code));
  lua_setfield(L, err, "retryable");
}
