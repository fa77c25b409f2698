/* sas.c: base64, percent-encoding, HMAC-SHA256 and the SAS token itself. */
#include "sas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static int b64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

unsigned char *iothub_base64_decode(const char *s, size_t len, size_t *out_len) {
  size_t i, pad = 0, n = 0;
  unsigned char *out;
  if (len == 0 || len % 4 != 0) return NULL;
  if (s[len - 1] == '=') pad++;
  if (s[len - 2] == '=') pad++;
  for (i = 0; i < len - pad; i++)
    if (b64_value((unsigned char)s[i]) < 0) return NULL;
  out = malloc(len / 4 * 3);
  if (out == NULL) return NULL;
  for (i = 0; i < len; i += 4) {
    unsigned long v = 0;
    int j;
    for (j = 0; j < 4; j++) {
      int d = s[i + j] == '=' ? 0 : b64_value((unsigned char)s[i + j]);
      v = (v << 6) | (unsigned long)d;
    }
    out[n++] = (unsigned char)(v >> 16);
    out[n++] = (unsigned char)(v >> 8);
    out[n++] = (unsigned char)v;
  }
  *out_len = n - pad;
  return out;
}

int iothub_base64_append(iothub_buffer *b, const unsigned char *p, size_t n) {
  unsigned char out[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  size_t i;
  /* Encode in chunks that fit the stack buffer (48 bytes -> 64 chars). */
  for (i = 0; i < n; i += 48) {
    size_t chunk = n - i < 48 ? n - i : 48;
    int m = EVP_EncodeBlock(out, p + i, (int)chunk);
    if (iothub_buffer_append(b, out, (size_t)m) != 0) return -1;
  }
  return 0;
}

int iothub_percent_append(iothub_buffer *b, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
        c == '-' || c == '.' || c == '_' || c == '~') {
      if (iothub_buffer_append(b, &s[i], 1) != 0) return -1;
    } else {
      char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
      if (iothub_buffer_append(b, esc, 3) != 0) return -1;
    }
  }
  return 0;
}

int iothub_hmac_sha256_b64(iothub_buffer *b, const unsigned char *key, size_t key_len,
                           const char *msg, size_t msg_len) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  int rc = -1;
  if (HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, msg_len,
           mac, &mac_len) != NULL)
    rc = iothub_base64_append(b, mac, mac_len);
  OPENSSL_cleanse(mac, sizeof mac);
  return rc;
}

int iothub_sas_token(iothub_buffer *b, const unsigned char *key, size_t key_len,
                     const char *resource, long long expiry, const char *policy) {
  iothub_buffer sr = {0}, to_sign = {0}, sig = {0};
  char se[32];
  int rc = -1;
  snprintf(se, sizeof se, "%lld", expiry);
  sig.secret = 1;
  if (b->data == NULL) b->secret = 1;
  iothub_buffer_reset(b);
  if (iothub_percent_append(&sr, resource, strlen(resource)) == 0 &&
      iothub_buffer_append(&to_sign, sr.data, sr.len) == 0 &&
      iothub_buffer_append_str(&to_sign, "\n") == 0 &&
      iothub_buffer_append_str(&to_sign, se) == 0 &&
      iothub_hmac_sha256_b64(&sig, key, key_len, to_sign.data, to_sign.len) == 0 &&
      iothub_buffer_append_str(b, "SharedAccessSignature sr=") == 0 &&
      iothub_buffer_append(b, sr.data, sr.len) == 0 &&
      iothub_buffer_append_str(b, "&sig=") == 0 &&
      iothub_percent_append(b, sig.data, sig.len) == 0 &&
      iothub_buffer_append_str(b, "&se=") == 0 &&
      iothub_buffer_append_str(b, se) == 0 &&
      iothub_buffer_append_str(b, "&skn=") == 0 &&
      iothub_percent_append(b, policy, strlen(policy)) == 0)
    rc = 0;
  iothub_buffer_free(&sr, 1);
  iothub_buffer_free(&to_sign, 1);
  iothub_buffer_free(&sig, 1);
  if (rc != 0) iothub_buffer_free(b, 1);
  return rc;
}
