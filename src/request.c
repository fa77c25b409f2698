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
}

static int add_header(iothub_request *r, const char *line) {
  struct curl_slist *next = curl_slist_append(r->header_list, line);
  if (next == NULL) return -1;
  r->header_list = next;
  return 0;
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

int iothub_request_headers(lua_State *L, iothub_request *r, const char *auth_line) {
  char line[64];
  int rc = 0;
  iothub_buffer extra = {0};
  snprintf(line, sizeof line, "x-ms-client-request-id: %s", r->request_id);
  if ((auth_line && add_header(r, auth_line)) || add_header(r, "Accept: application/json") ||
      add_header(r, line) || add_header(r, "Expect:") ||
      (r->body && !has_header(L, r->headers, "content-type") &&
       add_header(r, "Content-Type: application/json; charset=utf-8")))
    rc = -1;
  if (rc == 0 && r->headers) {
    lua_pushnil(L);
    while (lua_next(L, r->headers)) {
      size_t kn, vn;
      const char *k = lua_tolstring(L, -2, &kn), *v = lua_tolstring(L, -1, &vn);
      iothub_buffer_reset(&extra);
      if (rc == 0 && (iothub_buffer_append(&extra, k, kn) || iothub_buffer_append(&extra, ": ", 2) ||
                      iothub_buffer_append(&extra, v, vn) || add_header(r, extra.data)))
        rc = -1;
      lua_pop(L, 1);
    }
  }
  iothub_buffer_free(&extra, 0);
  if (rc != 0) {
    curl_slist_free_all(r->header_list);
    r->header_list = NULL;
  }
  return rc;
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

int iothub_transfer_push(lua_State *L, iothub_http *h, CURLcode rc, const iothub_request *r) {
  long status = iothub_http_finish(h);
  int nret;
  if (rc != CURLE_OK) {
    lua_pushnil(L);
    iothub_http_push_error(L, h, rc);
    iothub_error_set_str(L, lua_gettop(L), "request_id", r->request_id, strlen(r->request_id));
    return 2;
  }
  iothub_http_push_headers(L, h);
  nret = iothub_response_push(L, status, lua_gettop(L), h->body.data, h->body.len, r->request_id,
                              r->max_depth);
  lua_remove(L, -(nret + 1));             /* the header table under the results */
  return nret;
}

