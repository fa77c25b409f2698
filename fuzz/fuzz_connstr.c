/* fuzz_connstr.c: the connection-string parser (src/connstr.c), directly and
 * through core.client, which signs a request with what it parsed
 * (client:prepare, no I/O).
 *
 * Invariants: a failed parse leaves nothing allocated; a successful one has
 * a host name that is a plain host[:port], and either a ready signature starting "SharedAccessSignature "
 * or a key name and a non-empty decoded key. No part of the key reaches a
 * message: every input is parsed a second time with each base64 character
 * of every SharedAccessKey value changed to another (so validity, length and
 * padding stay the same), and the two messages, from the parser and from
 * core.client, must be the same. core.client returns a client or nil and a
 * config error, never raises, and the sig= of the Authorization it signs
 * does not hold the key as written. */
#include "fuzz_lua.h"
#include "connstr.h"

#include <strings.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Rotates the base64 characters of every SharedAccessKey value in s (any
 * letter case for the name, as the parser matches it); returns how many
 * bytes changed, and the last value in *key, *key_n (as the parser uses it). */
static size_t rotate_keys(char *s, size_t len, const char **key, size_t *key_n) {
  char *p = s, *end = s + len;
  size_t changed = 0;
  *key = NULL;
  *key_n = 0;
  while (p < end) {
    char *semi = memchr(p, ';', (size_t)(end - p));
    char *seg_end = semi ? semi : end;
    if ((size_t)(seg_end - p) >= 16 && strncasecmp(p, "SharedAccessKey=", 16) == 0) {
      char *v;
      *key = p + 16;
      *key_n = (size_t)(seg_end - *key);
      for (v = p + 16; v < seg_end; v++) {
        const char *at = *v ? strchr(b64, *v) : NULL;
        if (at) { *v = b64[(at - b64 + 1) % 64]; changed++; }
      }
    }
    p = semi ? semi + 1 : end;
  }
  return changed;
}

/* Whether the last successful parse held a ready signature (which client:
 * prepare then sends as it is, whatever it holds). */
static int ready_signature;

static const char *check_parse(const char *s, size_t len) {
  iothub_connstr cs;
  const char *err = iothub_connstr_parse(&cs, s, len);
  if (err) {
    FUZZ_CHECK(cs.host_name == NULL && cs.key_name == NULL && cs.key == NULL &&
               cs.signature == NULL, "a failed parse keeps nothing");
    return err;
  }
  FUZZ_CHECK(cs.host_name && cs.host_name[0], "a parsed string has a host name");
  FUZZ_CHECK(iothub_authority_check(cs.host_name, strlen(cs.host_name)) == NULL,
             "a parsed host name is host[:port], nothing that changes a request line");
  ready_signature = cs.signature != NULL;
  if (cs.signature) {
    FUZZ_CHECK(strncmp(cs.signature, "SharedAccessSignature ", 22) == 0, "signature prefix");
  } else {
    FUZZ_CHECK(cs.key_name && cs.key_name[0], "a key name with the key");
    FUZZ_CHECK(cs.key && cs.key_len > 0, "a decoded key");
  }
  iothub_connstr_free(&cs);
  FUZZ_CHECK(cs.host_name == NULL && cs.key == NULL && cs.key_len == 0, "free clears");
  return NULL;
}

/* core.client(s): pushes its error message, or nil for a client (which it
 * checks by signing a request and closing it). */
static void check_client(lua_State *L, const char *s, size_t len, const char *key, size_t key_n) {
  int n, c;
  fuzz_core_fn(L, "client");
  lua_pushlstring(L, s, len);
  lua_newtable(L);                       /* no endpoint: https://<HostName> */
  n = fuzz_pcall(L, 2, "core.client");
  if (lua_isnil(L, -n)) {
    FUZZ_CHECK(n == 2 && lua_istable(L, -1), "nil, err");
    lua_getfield(L, -1, "kind");
    FUZZ_CHECK(lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "config") == 0,
               "a config error");
    lua_getfield(L, -2, "message");
    FUZZ_CHECK(lua_type(L, -1) == LUA_TSTRING, "a message");
    lua_replace(L, -(n + 2));
    lua_settop(L, lua_gettop(L) - n);
    return;
  }
  FUZZ_CHECK(n == 1 && lua_isuserdata(L, -1), "a client");
  c = lua_gettop(L);
  lua_getfield(L, c, "prepare");          /* signs: HMAC with the decoded key */
  lua_pushvalue(L, c);
  lua_pushliteral(L, "GET");
  lua_pushliteral(L, "/jobs/v2/fuzz?api-version=2020-05-31-preview");
  n = fuzz_pcall(L, 3, "client:prepare");
  FUZZ_CHECK(n == 1 && lua_istable(L, -1), "a prepared request");
  lua_getfield(L, -1, "headers");
  lua_getfield(L, -1, "Authorization");
  FUZZ_CHECK(lua_type(L, -1) == LUA_TSTRING, "a signed request has Authorization");
  if (key_n >= 8 && !ready_signature) {
    const char *auth = lua_tostring(L, -1), *sig = strstr(auth, "&sig=");
    if (sig) {
      const char *sig_end = strchr(sig + 5, '&');
      lua_pushlstring(L, sig, sig_end ? (size_t)(sig_end - sig) : strlen(sig));
      FUZZ_CHECK(!fuzz_contains(L, -1, key, key_n), "the signature holds the key");
    }
  }
  lua_settop(L, c);
  lua_getfield(L, c, "close");
  lua_pushvalue(L, c);
  fuzz_pcall(L, 1, "client:close");
  lua_settop(L, c - 1);
  lua_pushnil(L);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = fuzz_state();
  int top = lua_gettop(L);
  const char *s = (const char *)data, *err1, *err2, *key = NULL;
  size_t key_n = 0;
  char *other = malloc(size ? size : 1);
  FUZZ_CHECK(other != NULL, "malloc");
  if (size) memcpy(other, data, size);
  err1 = check_parse(s, size);
  if (rotate_keys(other, size, &key, &key_n) > 0) {
    err2 = check_parse(other, size);
    FUZZ_CHECK((err1 == NULL) == (err2 == NULL) && (err1 == NULL || strcmp(err1, err2) == 0),
               "the parser's message depends on the key");
    check_parse(s, size);
    check_client(L, s, size, s + (key - other), key_n);
    check_client(L, other, size, NULL, 0);
    FUZZ_CHECK(lua_rawequal(L, -1, -2), "core.client's message depends on the key");
  } else {
    check_client(L, s, size, NULL, 0);
  }
  free(other);
  fuzz_end(L, top);
  return 0;
}
