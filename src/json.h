/* json.h: JSON text to Lua values through a private lua-cjson instance, with
 * the project's rules applied in one walk afterwards: JSON null becomes nil in
 * schema fields and stays iothub.null (cjson's null) inside free-form objects
 * (payload, tags, desired, reported), and on Lua 5.3+ integral numbers become
 * Lua integers (lua-cjson 2.1.0 decodes every number as a float). */
#ifndef IOTHUB_JSON_H
#define IOTHUB_JSON_H

#include <stddef.h>
#include "compat.h"

/* Internal to the module: only luaopen_iothub_core is exported. */
#pragma GCC visibility push(hidden)

#define IOTHUB_JSON_RAW 0      /* nulls kept everywhere (error bodies) */
#define IOTHUB_JSON_SCHEMA 1   /* the REST schema rules above */

#define IOTHUB_JSON_DEFAULT_DEPTH 128
#define IOTHUB_JSON_MAX_DEPTH 1000     /* the fix-up walk recurses in C */

/* Loads cjson.safe, makes a private instance with the default nesting limit
 * and keeps its decode function in the registry. Raises if lua-cjson is not
 * installed (only ever called from luaopen). Idempotent. */
void iothub_json_init(lua_State *L);

/* Decodes buf, refusing nesting deeper than max_depth (0: the default): on
 * success pushes the value and returns 1; on failure pushes a message string
 * and returns 0. Never raises (except out of memory). */
int iothub_json_decode(lua_State *L, const char *buf, size_t len, int mode, int max_depth);

/* Applies the schema rules to the table at idx (freeform: inside a free-form
 * object already). Exposed for transports that decode elsewhere. */
void iothub_json_fixup(lua_State *L, int idx, int freeform);

#pragma GCC visibility pop

#endif
