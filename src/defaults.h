/* defaults.h: the one source of lua-iothub's defaults and limits, its
 * version and its default User-Agent (not "limits.h": with -Isrc, as the
 * fuzz harnesses build, that name would shadow the system's <limits.h>). The C core uses these names; luaopen exports
 * them as core.limits and core.version, and the Lua side (iothub.transport,
 * iothub.ngx_client, ...) reads them from there, so the libcurl and the
 * cosocket paths cannot drift apart. Times are in seconds, sizes in bytes. */
#ifndef IOTHUB_DEFAULTS_H
#define IOTHUB_DEFAULTS_H

#define IOTHUB_VERSION "0.1.0"
#define IOTHUB_USER_AGENT "lua-iothub/" IOTHUB_VERSION

/* One attempt of one request (option `timeout`), and its connect + TLS
 * handshake (`connect_timeout`). */
#define IOTHUB_TIMEOUT 30
#define IOTHUB_CONNECT_TIMEOUT 10

/* Where an nginx request waits for the call (request phases): one attempt,
 * and the retry deadline of a whole call, unless the options set them. */
#define IOTHUB_HANDLER_TIMEOUT 5
#define IOTHUB_HANDLER_DEADLINE 10

/* Response body (option `max_response_size`: default and smallest), and
 * the whole header block of a response. */
#define IOTHUB_MAX_RESPONSE_SIZE (16 * 1024 * 1024)
#define IOTHUB_MIN_RESPONSE_SIZE 1024
#define IOTHUB_MAX_HEADER_BYTES (256 * 1024)

/* Lifetime of a signed SAS token (option `sas_ttl`). */
#define IOTHUB_SAS_TTL 3600

/* JSON nesting (option `max_json_depth`): default, and most allowed (the
 * decoder recurses in C). */
#define IOTHUB_JSON_DEFAULT_DEPTH 128
#define IOTHUB_JSON_MAX_DEPTH 1000

/* Concurrent requests of request_many / get_jobs: default and bounds; and
 * the async loop's connections per host by default. */
#define IOTHUB_CONCURRENCY 8
#define IOTHUB_MAX_CONCURRENCY 256
#define IOTHUB_LOOP_CONNECTIONS 4

#endif
