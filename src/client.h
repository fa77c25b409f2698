/* client.h: the service-API client userdata ("iothub.client"): connection
 * string, cached SAS token, and the HTTP transport. */
#ifndef IOTHUB_CLIENT_H
#define IOTHUB_CLIENT_H

#include "buffer.h"
#include "compat.h"
#include "http.h"
#include "loop.h"
#include "request.h"

/* Internal to the module: only luaopen_iothub_core is exported. */
#pragma GCC visibility push(hidden)

#define IOTHUB_CLIENT_MT "iothub.client"

/* Registers the client metatable (idempotent). */
void iothub_client_init(lua_State *L);

/* core.client(connection_string, opts) -> client | nil, err */
int iothub_client_new(lua_State *L);

typedef struct iothub_client iothub_client;

/* The open client at idx; raises when it is not a client or is closed. */
iothub_client *iothub_client_at(lua_State *L, int idx);

/* For transfers run elsewhere (loop.c): builds t->req's header lines and
 * URL with the client's auth and endpoint, and a new handle with the
 * client's options, prepared to send it, into t->http. 0, or -1 with a
 * static message in *msg. */
int iothub_client_begin(lua_State *L, iothub_client *c, iothub_xfer *t, const char **msg);

#pragma GCC visibility pop

#endif
