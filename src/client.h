/* client.h: the service-API client userdata ("iothub.client"): connection
 * string, cached SAS token, and the HTTP transport. */
#ifndef IOTHUB_CLIENT_H
#define IOTHUB_CLIENT_H

#include "compat.h"

/* Internal to the module: only luaopen_iothub_core is exported. */
#pragma GCC visibility push(hidden)

#define IOTHUB_CLIENT_MT "iothub.client"

/* Registers the client metatable (idempotent). */
void iothub_client_init(lua_State *L);

/* core.client(connection_string, opts) -> client | nil, err */
int iothub_client_new(lua_State *L);

#pragma GCC visibility pop

#endif
