/* connstr.c: connection-string parsing (see connstr.h). Keys are matched
 * case-insensitively; a value may itself contain '='. Blanks around keys and
 * values (a trailing newline from a file or an environment variable, spaces
 * after ';') are dropped. The host name is checked here, once, so that
 * nothing it holds can change a request line or its target. */
#include "connstr.h"
#include "sas.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/crypto.h>

static char *dup_range(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (p) { memcpy(p, s, n); p[n] = '\0'; }
  return p;
}

static int key_is(const char *k, size_t n, const char *name) {
  return strlen(name) == n && strncasecmp(k, name, n) == 0;
}

static int blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Narrows [*b, *e) to drop blanks at both ends. */
static void trim(const char **b, const char **e) {
  while (*b < *e && blank(**b)) (*b)++;
  while (*e > *b && blank((*e)[-1])) (*e)--;
}

static int is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

const char *iothub_authority_check(const char *s, size_t n) {
  const char *p = s, *end = s + n;
  if (n == 0) return "has no host";
  if (*p == '[') {                        /* an IPv6 literal */
    p++;
    while (p < end && (*p == ':' || *p == '.' || (*p >= '0' && *p <= '9') ||
                       (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F'))) p++;
    if (p == s + 1 || p >= end || *p != ']') return "has a malformed IPv6 address";
    p++;
  } else {
    while (p < end && (is_alnum(*p) || *p == '-' || *p == '.' || *p == '_')) p++;
    if (p == s) return *p == ':' ? "has no host" : "has a character not allowed in a host name";
  }
  if (p < end && *p == ':') {
    unsigned long port = 0;
    const char *digits = ++p;
    while (p < end && *p >= '0' && *p <= '9' && p - digits < 6) port = port * 10 + (unsigned long)(*p++ - '0');
    if (p == digits || p < end || port == 0 || port > 65535) return "has a port that is not 1..65535";
  }
  if (p < end) return "has a character not allowed in a host name";
  return NULL;
}

/* The value of "se=" in a ready token, or -1 when it has none. */
static long long token_expiry(const char *sig) {
  const char *p = sig;
  while ((p = strstr(p, "se=")) != NULL) {
    if (p > sig && (p[-1] == ' ' || p[-1] == '&')) {
      long long v = 0;
      int digits = 0;
      for (p += 3; *p >= '0' && *p <= '9' && digits < 18; p++, digits++) v = v * 10 + (*p - '0');
      return digits > 0 && (*p == '\0' || *p == '&') ? v : -1;
    }
    p += 3;
  }
  return -1;
}

static const char *fail(iothub_connstr *cs, const char *msg) {
  iothub_connstr_free(cs);
  return msg;
}

const char *iothub_connstr_parse(iothub_connstr *cs, const char *s, size_t len) {
  const char *p = s, *end = s + len;
  const char *key_b64 = NULL;
  size_t key_b64_len = 0;
  int device = 0;
  memset(cs, 0, sizeof *cs);
  if (memchr(s, '\0', len)) return "connection string contains a NUL byte";
  while (p < end) {
    const char *semi = memchr(p, ';', (size_t)(end - p));
    const char *seg_end = semi ? semi : end, *k = p, *k_end, *v, *v_end = seg_end;
    const char *eq = memchr(p, '=', (size_t)(seg_end - p));
    char **slot = NULL;
    trim(&k, &v_end);
    if (v_end > k) {
      if (eq == NULL) return fail(cs, "connection string has a part without '='");
      k_end = eq;
      v = eq + 1;
      trim(&k, &k_end);
      trim(&v, &v_end);
      if (key_is(k, (size_t)(k_end - k), "HostName")) slot = &cs->host_name;
      else if (key_is(k, (size_t)(k_end - k), "SharedAccessKeyName")) slot = &cs->key_name;
      else if (key_is(k, (size_t)(k_end - k), "SharedAccessSignature")) slot = &cs->signature;
      else if (key_is(k, (size_t)(k_end - k), "SharedAccessKey")) { key_b64 = v; key_b64_len = (size_t)(v_end - v); }
      else if (key_is(k, (size_t)(k_end - k), "DeviceId") || key_is(k, (size_t)(k_end - k), "ModuleId")) device = 1;
      /* Other keys (GatewayHostName, ...) are not ours; ignore them. */
      if (slot) {
        /* A repeated part replaces the earlier one: wipe a replaced signature. */
        if (slot == &cs->signature && *slot) OPENSSL_cleanse(*slot, strlen(*slot));
        free(*slot);
        *slot = v_end > v ? dup_range(v, (size_t)(v_end - v)) : NULL;
      }
    }
    p = semi ? semi + 1 : end;
  }
  if (device && cs->key_name == NULL && cs->signature == NULL)
    return fail(cs, "this is a device connection string (DeviceId=...); the service client needs a hub-level "
                    "shared access policy (HostName=...;SharedAccessKeyName=...;SharedAccessKey=..., "
                    "e.g. the iothubowner or service policy)");
  if (cs->host_name == NULL) return fail(cs, "connection string is missing HostName");
  if (iothub_authority_check(cs->host_name, strlen(cs->host_name)) != NULL)
    return fail(cs, "HostName in the connection string must be a host name with an optional :port "
                    "(no scheme, path, '?', '#', '@', spaces or control characters)");
  if (cs->signature) {
    const char *c;
    long long se;
    if (strncmp(cs->signature, "SharedAccessSignature ", 22) != 0)
      return fail(cs, "SharedAccessSignature in the connection string must start with 'SharedAccessSignature sr='");
    for (c = cs->signature; *c; c++)
      if ((unsigned char)*c < 0x20 || *c == 0x7f)
        return fail(cs, "SharedAccessSignature in the connection string contains a control character");
    se = token_expiry(cs->signature);
    if (se < 0) return fail(cs, "SharedAccessSignature in the connection string has no expiry (se=)");
    if (se <= (long long)time(NULL))
      return fail(cs, "SharedAccessSignature in the connection string has expired (its se= is in the past); "
                      "make a new one, or give SharedAccessKeyName and SharedAccessKey so the client signs its own");
    return NULL;
  }
  if (cs->key_name == NULL) return fail(cs, "connection string is missing SharedAccessKeyName");
  if (key_b64 == NULL || key_b64_len == 0)
    return fail(cs, "connection string is missing SharedAccessKey (or SharedAccessSignature)");
  cs->key = iothub_base64_decode(key_b64, key_b64_len, &cs->key_len);
  if (cs->key == NULL || cs->key_len == 0)
    return fail(cs, "SharedAccessKey in the connection string is not valid base64");
  return NULL;
}

void iothub_connstr_free(iothub_connstr *cs) {
  if (cs->key) OPENSSL_cleanse(cs->key, cs->key_len);
  if (cs->signature) OPENSSL_cleanse(cs->signature, strlen(cs->signature));
  free(cs->key);
  free(cs->host_name);
  free(cs->key_name);
  free(cs->signature);
  memset(cs, 0, sizeof *cs);
}
