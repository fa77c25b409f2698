/* http1_lua.h: the Lua face of the HTTP/1.1 codec (src/http1.c), for the
 * nginx cosocket transport (lua/iothub/ngx_http.lua). */
#ifndef IOTHUB_HTTP1_LUA_H
#define IOTHUB_HTTP1_LUA_H

#include "compat.h"

/* Internal to the module: only luaopen_iothub_core is exported. */
#pragma GCC visibility push(hidden)

#define IOTHUB_HTTP1_READER_MT "iothub.http1_reader"

/* Registers the reader metatable (idempotent). */
void iothub_http1_init(lua_State *L);

/* core.http1_request(method, target, host, headers [, body]) */
int iothub_http1_request(lua_State *L);

/* core.http1_reader([opts]) */
int iothub_http1_reader_new(lua_State *L);

#pragma GCC visibility pop

#endif
