/* request.c: building requests and pushing responses (see request.h). */
#include "request.h"
#include "errors.h"
#include "json.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int has_bad_chars(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') return 1;
  return 0;
}

void iothub_request_read(lua_State *L, int method, int target, int headers, int body,
                         iothub_request *r) {
  size_t n;
  const char *m;
  memset(r, 0, sizeof *r);
  m = r->method = luaL_checkstring(L, method);
  for (; *m; m++)
    if (*m < 'A' || *m > 'Z') luaL_error(L, "iothub: bad HTTP method '%s'", r->method);
  r->target = luaL_checklstring(L, target, &n);
  if (r->target[0] != '/' || has_bad_chars(r->target, n) || strchr(r->target, ' '))
    luaL_error(L, "iothub: request target must start with '/' and hold no space, CR, LF or NUL");
  if (!lua_isnoneornil(L, headers)) {
    luaL_checktype(L, headers, LUA_TTABLE);
    r->headers = headers;
    lua_pushnil(L);
    while (lua_next(L, headers)) {
      size_t kn, vn;
      const char *k, *v;
      if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "iothub: header names and values must be strings");
      k = lua_tolstring(L, -2, &kn);
      v = lua_tolstring(L, -1, &vn);
      if (kn == 0 || has_bad_chars(k, kn) || has_bad_chars(v, vn) || memchr(k, ':', kn))
        luaL_error(L, "iothub: header '%s' holds CR, LF, NUL or ':'", k);
      lua_pop(L, 1);
    }
  }
  if (!lua_isnoneornil(L, body)) r->body = luaL_checklstring(L, body, &r->body_len);
  /* A create without an id in its target is not idempotent: a second copy
   * would make a second job. Reads, cancels and PUTs to an id may repeat. */
  r->once = strcmp(r->method, "POST") == 0 && strncmp(r->target, "/jobs/create", 12) == 0 &&
            (r->target[12] == '\0' || r->target[12] == '?');
}

static int add_line(iothub_request *r, const char *line) {
  return iothub_buffer_append_str(&r->header_lines, line) ||
         iothub_buffer_append(&r->header_lines, "\r\n", 2);
}

/* Whether the extra headers table (stack index, 0 for none) names header
 * `lower` in any letter case. */
static int has_header(lua_State *L, int headers, const char *lower) {
  int found = 0;
  if (headers == 0) return 0;
  lua_pushnil(L);
  while (!found && lua_next(L, headers)) {
    found = strcasecmp(lua_tostring(L, -2), lower) == 0;
    lua_pop(L, 1);
  }
  if (found) lua_pop(L, 1);                 /* the key lua_next left */
  return found;
}

/* "Expect:" with no value tells libcurl not to send "Expect: 100-continue"
 * and wait for an answer before a body: worth it only for a body of 1 MiB
 * or more (libcurl's own threshold), where a final answer such as 413 then
 * comes before the body is sent. */
int iothub_request_headers(lua_State *L, iothub_request *r, const char *auth_line) {
  char line[64];
  int rc = 0;
  iothub_buffer *b = &r->header_lines;
  b->secret = 1;                            /* it holds the Authorization */
  snprintf(line, sizeof line, "x-ms-client-request-id: %s", r->request_id);
  iothub_buffer_reset(b);
  if ((auth_line && add_line(r, auth_line)) || add_line(r, "Accept: application/json") ||
      add_line(r, line) || (r->body && r->body_len < 1024 * 1024 && add_line(r, "Expect:")) ||
      (r->body && !has_header(L, r->headers, "content-type") &&
       add_line(r, "Content-Type: application/json; charset=utf-8")))
    rc = -1;
  if (rc == 0 && r->headers) {
    lua_pushnil(L);
    while (lua_next(L, r->headers)) {
      size_t kn, vn;
      const char *k = lua_tolstring(L, -2, &kn), *v = lua_tolstring(L, -1, &vn);
      if (rc == 0 && (iothub_buffer_append(b, k, kn) || iothub_buffer_append(b, ": ", 2) ||
                      iothub_buffer_append(b, v, vn) || iothub_buffer_append(b, "\r\n", 2)))
        rc = -1;
      lua_pop(L, 1);
    }
  }
  if (rc != 0) iothub_request_free(r);
  return rc;
}

void iothub_request_free(iothub_request *r) {
  iothub_buffer_free(&r->header_lines, 1);
}

void iothub_request_http(const iothub_request *r, const char *url, iothub_http_request *out) {
  out->method = r->method;
  out->url = url;
  out->header_lines = r->header_lines.data ? r->header_lines.data : "";
  out->header_len = r->header_lines.len;
  out->body = r->body;
  out->body_len = r->body_len;
  out->once = r->once;
}

int iothub_request_url(const char *endpoint, const iothub_request *r, iothub_buffer *url) {
  return iothub_buffer_append_str(url, endpoint) || iothub_buffer_append_str(url, r->target);
}

int iothub_response_push(lua_State *L, long status, int headers, const char *body, size_t len,
                         const char *request_id, int max_depth) {
  if (status >= 200 && status < 300) {
    if (len == 0) lua_pushboolean(L, 1);
    else if (!iothub_json_decode(L, body, len, IOTHUB_JSON_SCHEMA, max_depth)) {
      const char *why = lua_tostring(L, -1);
      iothub_error_push(L, "decode", NULL);
      if (why && strstr(why, "too many nested"))
        lua_pushfstring(L, "response JSON nests deeper than max_json_depth (%d)",
                        max_depth > 0 ? max_depth : IOTHUB_JSON_DEFAULT_DEPTH);
      else
        lua_pushfstring(L, "response is not valid JSON: %s", why ? why : "?");
      lua_setfield(L, -2, "message");
      lua_pushinteger(L, status);
      lua_setfield(L, -2, "status");
      lua_remove(L, -2);
      goto failed;
    }
    lua_pushvalue(L, headers);
    lua_pushinteger(L, status);
    return 3;
  }
  iothub_error_from_response(L, status, headers, body, len);
failed:
  if (request_id) iothub_error_set_str(L, lua_gettop(L), "request_id", request_id, strlen(request_id));
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

int iothub_transfer_push(lua_State *L, const iothub_http *h, const iothub_request *r) {
  const char *body;
  size_t len;
  int nret;
  if (iothub_http_failed(h)) {
    lua_pushnil(L);
    iothub_http_push_error(L, h);
    iothub_error_set_str(L, lua_gettop(L), "request_id", r->request_id, strlen(r->request_id));
    return 2;
  }
  body = iothub_http_body(h, &len);
  iothub_http_push_headers(L, h);
  nret = iothub_response_push(L, iothub_http_status(h), lua_gettop(L), body, len, r->request_id,
                              r->max_depth);
  lua_remove(L, -(nret + 1));             /* the header table under the results */
  return nret;
}
