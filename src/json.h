/* json.h: JSON text to Lua values, in one pass that applies the project's
 * rules while it builds the tables: JSON null becomes nil in schema fields
 * and stays iothub.null (the NULL lightuserdata, cjson's null) inside
 * free-form objects (payload, tags, desired, reported, at any depth below
 * them) and in arrays, and on Lua 5.3+ integral numbers with |n| <= 2^53
 * become Lua integers. Strict RFC 8259 (no NaN, Infinity, leading zeros,
 * bare control characters or trailing text); number parsing does not
 * depend on the C locale. */
#ifndef IOTHUB_JSON_H
#define IOTHUB_JSON_H

#include <stddef.h>
#include "compat.h"
#include "defaults.h"

/* Internal to the module: only luaopen_iothub_core is exported. */
#pragma GCC visibility push(hidden)

#define IOTHUB_JSON_RAW 0      /* nulls kept everywhere (error bodies) */
#define IOTHUB_JSON_SCHEMA 1   /* the REST schema rules above */

/* IOTHUB_JSON_DEFAULT_DEPTH and IOTHUB_JSON_MAX_DEPTH live in defaults.h. */

/* Nothing to set up any more (the decoder needs no Lua module); kept so
 * luaopen's sequence of inits stays the same. */
void iothub_json_init(lua_State *L);

/* Decodes buf, refusing nesting deeper than max_depth (0: the default; at
 * most IOTHUB_JSON_MAX_DEPTH): on success pushes the value and returns 1; on
 * failure pushes a message ("<what> at offset <n>"; nesting beyond
 * max_depth says "too many nested") and returns 0. Never raises, except
 * out of memory (or with the caller's Lua stack already exhausted). */
int iothub_json_decode(lua_State *L, const char *buf, size_t len, int mode, int max_depth);

#pragma GCC visibility pop

#endif
