/* loop.h: the non-blocking request loop ("iothub.loop") for hosts that run
 * their own main loop (game engines, tools): requests start at once and are
 * driven by loop:poll(timeout), which never blocks longer than told. */
#ifndef IOTHUB_LOOP_H
#define IOTHUB_LOOP_H

#include "compat.h"

/* Internal to the module: only luaopen_iothub_core is exported. */
#pragma GCC visibility push(hidden)

#define IOTHUB_LOOP_MT "iothub.loop"

/* Registers the loop metatable (idempotent). */
void iothub_loop_init(lua_State *L);

/* core.loop() -> a new loop */
int iothub_loop_new(lua_State *L);

#pragma GCC visibility pop

#endif
