/* util.c: clocks, sleep and UUIDs (see util.h). */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <openssl/rand.h>

/* b (16 bytes) as a lowercase UUID string with version 4 and the variant. */
static void format_uuid(unsigned char b[16], char out[37]) {
  static const char hex[] = "0123456789abcdef";
  int i, o = 0;
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  for (i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hex[b[i] >> 4];
    out[o++] = hex[b[i] & 15];
  }
  out[o] = '\0';
}

void iothub_idgen_init(iothub_idgen *g) {
  iothub_uuid_bytes(g->seed);
  g->counter = 0;
}

void iothub_idgen_next(iothub_idgen *g, char out[37]) {
  unsigned char b[16];
  uint64_t n = ++g->counter;
  int i;
  for (i = 0; i < 16; i++) b[i] = g->seed[i];
  for (i = 0; i < 8; i++) b[15 - i] ^= (unsigned char)(n >> (8 * i));
  format_uuid(b, out);
}

void iothub_uuid(char out[37]) {
  unsigned char b[16];
  iothub_uuid_bytes(b);
  format_uuid(b, out);
}

/* 16 random bytes from the CSPRNG (clock bits if it ever fails). */
void iothub_uuid_bytes(unsigned char b[16]) {
  if (RAND_bytes(b, 16) != 1) {
    struct timespec ts;
    int i;
    clock_gettime(CLOCK_REALTIME, &ts);
    for (i = 0; i < 16; i++) b[i] = (unsigned char)((ts.tv_nsec >> (i % 4 * 8)) ^ (i * 37));
  }
}

static double clock_seconds(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double iothub_now(void) { return clock_seconds(CLOCK_REALTIME); }
double iothub_monotonic(void) { return clock_seconds(CLOCK_MONOTONIC); }

void iothub_sleep(double seconds) {
  struct timespec ts;
  if (!(seconds > 0)) return;
  if (seconds > 1e9) seconds = 1e9;   /* (time_t) of inf or 1e300 is undefined; 31 years */
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}
