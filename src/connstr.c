/* connstr.c: connection-string parsing (see connstr.h). Keys are matched
 * case-insensitively; a value may itself contain '='. */
#include "connstr.h"
#include "sas.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>

static char *dup_range(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (p) { memcpy(p, s, n); p[n] = '\0'; }
  return p;
}

static int key_is(const char *k, size_t n, const char *name) {
  return strlen(name) == n && strncasecmp(k, name, n) == 0;
}

const char *iothub_connstr_parse(iothub_connstr *cs, const char *s, size_t len) {
  const char *p = s, *end = s + len;
  const char *key_b64 = NULL;
  size_t key_b64_len = 0;
  memset(cs, 0, sizeof *cs);
  if (memchr(s, '\0', len)) return "connection string contains a NUL byte";
  while (p < end) {
    const char *semi = memchr(p, ';', (size_t)(end - p));
    const char *seg_end = semi ? semi : end;
    const char *eq = memchr(p, '=', (size_t)(seg_end - p));
    char **slot = NULL;
    if (seg_end > p) {
      size_t klen, vlen;
      const char *v;
      if (eq == NULL) { iothub_connstr_free(cs); return "connection string has a part without '='"; }
      klen = (size_t)(eq - p);
      v = eq + 1;
      vlen = (size_t)(seg_end - v);
      if (key_is(p, klen, "HostName")) slot = &cs->host_name;
      else if (key_is(p, klen, "SharedAccessKeyName")) slot = &cs->key_name;
      else if (key_is(p, klen, "SharedAccessSignature")) slot = &cs->signature;
      else if (key_is(p, klen, "SharedAccessKey")) { key_b64 = v; key_b64_len = vlen; }
      /* Other keys (DeviceId, GatewayHostName, ...) are not ours; ignore them. */
      if (slot) {
        /* A repeated part replaces the earlier one: wipe a replaced signature. */
        if (slot == &cs->signature && *slot) OPENSSL_cleanse(*slot, strlen(*slot));
        free(*slot);
        *slot = vlen ? dup_range(v, vlen) : NULL;
      }
    }
    p = semi ? semi + 1 : end;
  }
  if (cs->host_name == NULL) { iothub_connstr_free(cs); return "connection string is missing HostName"; }
  if (cs->signature) {
    if (strncmp(cs->signature, "SharedAccessSignature ", 22) != 0) {
      iothub_connstr_free(cs);
      return "SharedAccessSignature in the connection string must start with 'SharedAccessSignature sr='";
    }
    return NULL;
  }
  if (cs->key_name == NULL) { iothub_connstr_free(cs); return "connection string is missing SharedAccessKeyName"; }
  if (key_b64 == NULL || key_b64_len == 0) {
    iothub_connstr_free(cs);
    return "connection string is missing SharedAccessKey (or SharedAccessSignature)";
  }
  cs->key = iothub_base64_decode(key_b64, key_b64_len, &cs->key_len);
  if (cs->key == NULL || cs->key_len == 0) {
    iothub_connstr_free(cs);
    return "SharedAccessKey in the connection string is not valid base64";
  }
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
