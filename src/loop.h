/* loop.h: the one request scheduler of the core, over libcurl's multi
 * interface (http.h). Blocking client:request_many runs it until its batch
 * is done; the non-blocking loop ("iothub.loop") for hosts that run their
 * own main loop (game engines, tools) starts requests at once and drives it
 * from loop:poll(timeout), which never blocks longer than told. */
#ifndef IOTHUB_LOOP_H
#define IOTHUB_LOOP_H

#include "compat.h"
#include "http.h"
#include "request.h"

/* Internal to the module: only luaopen_iothub_core is exported. */
#pragma GCC visibility push(hidden)

#define IOTHUB_LOOP_MT "iothub.loop"

/* One transfer: its handle, its request (header lines and request id; the
 * request's strings are not kept), an owned copy of its body if it needs
 * one, and the caller's tag (its index in a batch). */
typedef struct iothub_xfer {
  iothub_http *http;
  iothub_request req;
  char *body;
  lua_Integer id;
  int tag;
  struct iothub_xfer *next;
} iothub_xfer;

typedef struct iothub_sched {
  iothub_multi *multi;
  iothub_xfer *active;        /* started, not yet handed back */
  iothub_xfer *handing;       /* handed back, its results being pushed: freed
                               * by the next hand-back if a raise cut that short */
  int running;
  lua_Integer last_id;
} iothub_sched;

/* 0, or -1 when libcurl cannot make a multi handle. */
int iothub_sched_init(iothub_sched *s, int max_host);
/* Discards every transfer (see iothub_sched_discard_all) and the multi. */
void iothub_sched_free(iothub_sched *s);
/* The per-host connection limit. */
void iothub_sched_limit(iothub_sched *s, int max_host);
/* Starts t (its handle prepared) and gives it the next id; 0 or -1. */
int iothub_sched_start(iothub_sched *s, iothub_xfer *t);
/* Advances the transfers; when none has finished, waits up to wait_ms for
 * one (0: never waits). */
void iothub_sched_step(iothub_sched *s, int wait_ms);
/* The next finished transfer, or NULL. It stays s->handing (freed with
 * the next call or by iothub_sched_free) until the caller takes it with
 * iothub_sched_take. */
iothub_xfer *iothub_sched_next(iothub_sched *s);
/* Takes the transfer iothub_sched_next handed back: the caller's now. */
iothub_xfer *iothub_sched_take(iothub_sched *s);
/* Takes t out of the scheduler: if it is still running it is dropped and
 * its connection closed, never reused for another request. */
void iothub_sched_discard(iothub_sched *s, iothub_xfer *t);
/* Discards every transfer, freeing each with its handle. */
void iothub_sched_discard_all(iothub_sched *s);
/* Frees a transfer no longer in a scheduler, with its handle (may be NULL). */
void iothub_xfer_free(iothub_xfer *t);

/* Registers the loop metatable (idempotent). */
void iothub_loop_init(lua_State *L);

/* core.loop([max_connections]) -> a new loop */
int iothub_loop_new(lua_State *L);

#pragma GCC visibility pop

#endif
