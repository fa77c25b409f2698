/* buffer.c: the growable byte buffer (see buffer.h). */
#include "buffer.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

int iothub_buffer_append(iothub_buffer *b, const void *p, size_t n) {
  if (b->limit && (n > b->limit || b->len > b->limit - n)) return -1;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    char *grown;
    while (cap < b->len + n + 1) cap *= 2;
    if (b->secret) {
      /* Not realloc: the block it gives back would keep the secret. */
      grown = malloc(cap);
      if (grown == NULL) return -1;
      if (b->data) {
        memcpy(grown, b->data, b->len + 1);
        OPENSSL_cleanse(b->data, b->cap);
        free(b->data);
      }
    } else {
      grown = realloc(b->data, cap);
      if (grown == NULL) return -1;
    }
    b->data = grown;
    b->cap = cap;
  }
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int iothub_buffer_append_str(iothub_buffer *b, const char *s) {
  return iothub_buffer_append(b, s, strlen(s));
}

void iothub_buffer_reset(iothub_buffer *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

void iothub_buffer_free(iothub_buffer *b, int wipe) {
  if (b->data && (wipe || b->secret)) OPENSSL_cleanse(b->data, b->cap);
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
