/* examples/embed/host.c: a small C host that embeds Lua 5.4 and links the
 * lua-iothub core statically, the way a game engine or tool would. It
 * registers iothub.core through package.preload (luaL_requiref), runs a
 * script's on_tick(dt) at a fixed rate (60 ticks a second) while the script
 * reads jobs in the background through iothub.spawn/iothub.poll, and reports
 * the longest tick and the 99th percentile. Built by `make embed`; run by
 * `make demo`, the specs, the doc-tests and `make bench` (bench/tick_game.lua).
 * Against the emulator (IOTHUB_LUA=lua5.4 puts the checkout's lua/ on
 * LUA_PATH; the core is linked in):
 *   IOTHUB_LUA=lua5.4 tools/with-emulator build/embed/iothub-embed-host examples/embed/game.lua [seconds]
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int luaopen_iothub_core(lua_State *L);

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t) {
  double left = t - now();
  if (left > 0) {
    struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };
    nanosleep(&ts, NULL);
  }
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Calls the global function `name` with a number; 0 on success. */
static int call(lua_State *L, const char *name, double arg, int *keep_going) {
  lua_getglobal(L, name);
  if (!lua_isfunction(L, -1)) { lua_pop(L, 1); return 0; }
  lua_pushnumber(L, arg);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    fprintf(stderr, "host: %s failed: %s\n", name, lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  if (keep_going) *keep_going = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return 0;
}

int main(int argc, char **argv) {
  const double tick = 1.0 / 60.0;
  double seconds = argc > 2 ? atof(argv[2]) : 10, longest = 0, total = 0, start, next;
  long ticks = 0, late = 0, cap;
  int keep_going = 1;
  double *took_each, p99;
  lua_State *L;
  if (argc < 2) {
    fprintf(stderr, "usage: %s script.lua [max seconds]\n", argv[0]);
    return 2;
  }
  if (!(seconds > 0 && seconds <= 3600)) seconds = 10;
  /* Every tick's time, for the percentile: ticks never outnumber the rate
   * times the run (late ticks run back to back, but only to catch up). */
  cap = (long)(seconds / tick) + 2;
  took_each = malloc((size_t)cap * sizeof *took_each);
  if (!took_each) { fprintf(stderr, "host: out of memory\n"); return 1; }
  L = luaL_newstate();
  luaL_openlibs(L);
  /* The statically linked module, found by require("iothub.core"). */
  luaL_requiref(L, "iothub.core", luaopen_iothub_core, 0);
  lua_pop(L, 1);
  if (luaL_dofile(L, argv[1]) != LUA_OK) {
    fprintf(stderr, "host: %s\n", lua_tostring(L, -1));
    free(took_each);
    lua_close(L);
    return 1;
  }
  if (call(L, "on_start", 0, NULL) != 0) { free(took_each); lua_close(L); return 1; }
  start = next = now();
  while (keep_going && now() - start < seconds) {
    double t0 = now(), took;
    if (call(L, "on_tick", tick, &keep_going) != 0) { free(took_each); lua_close(L); return 1; }
    took = now() - t0;
    if (took > longest) longest = took;
    if (ticks < cap) took_each[ticks] = took;
    if (took > tick) late++;
    total += took;
    ticks++;
    next += tick;
    sleep_until(next);
  }
  call(L, "on_stop", 0, NULL);
  printf("host: %ld ticks at 60/s in %.2f s; longest tick %.2f ms, mean %.3f ms, %ld over 16.7 ms\n",
         ticks, now() - start, longest * 1000, ticks ? total / (double)ticks * 1000 : 0, late);
  printf("host: longest_tick_ms=%.3f\n", longest * 1000);
  if (ticks > cap) ticks = cap;
  qsort(took_each, (size_t)ticks, sizeof *took_each, by_value);
  p99 = ticks ? took_each[(long)((double)(ticks - 1) * 0.99)] : 0;
  printf("host: p99_tick_ms=%.3f\n", p99 * 1000);
  free(took_each);
  lua_close(L);
  return keep_going ? 3 : 0;     /* 3: the script did not finish in time */
}
