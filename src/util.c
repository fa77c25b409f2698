/* util.c: clocks, sleep and UUIDs (see util.h). */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <openssl/rand.h>

void iothub_uuid(char out[37]) {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    /* The CSPRNG failing is near impossible; fall back to clock bits. */
    struct timespec ts;
    size_t i;
    clock_gettime(CLOCK_REALTIME, &ts);
    for (i = 0; i < sizeof b; i++) b[i] = (unsigned char)((ts.tv_nsec >> (i % 4 * 8)) ^ (i * 37));
  }
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
           b[12], b[13], b[14], b[15]);
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
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}
