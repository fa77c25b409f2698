# Makefile: builds iothub.core for every supported Lua, runs the specs against
# the bundled emulator, and runs the demo. `make test` and `make demo` install
# missing system packages first (tools/install-deps).

LUAS      ?= lua5.1 lua5.2 lua5.3 lua5.4 luajit
CC        ?= cc
CFLAGS    ?= -O2 -g
WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
DEFS      := -std=c99 -D_POSIX_C_SOURCE=200809L -fPIC -fvisibility=hidden
CURL_CFLAGS := $(shell pkg-config --cflags libcurl 2>/dev/null)
LIBS      := $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl) -lcrypto -lpthread -lm
SRCS      := $(wildcard src/*.c)
HDRS      := $(wildcard src/*.h)
BUILD     := build

incdir_lua5.1 := /usr/include/lua5.1
incdir_lua5.2 := /usr/include/lua5.2
incdir_lua5.3 := /usr/include/lua5.3
incdir_lua5.4 := /usr/include/lua5.4
incdir_luajit := /usr/include/luajit-2.1

MODULES := $(foreach l,$(LUAS),$(BUILD)/$(l)/iothub/core.so)
EMBED_HOST := $(BUILD)/embed/iothub-embed-host

.PHONY: all deps test doctest demo bench lint docs clean check-rock check-private embed asan valgrind fuzz soak
all: $(MODULES) $(EMBED_HOST)

embed: $(EMBED_HOST)

# The core as one object for static linking into a host: every symbol but
# luaopen_iothub_core is made local, so nothing can clash with the host's.
CORE_STATIC := $(BUILD)/embed/iothub_core.o
$(CORE_STATIC): $(SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	cd $(dir $@) && for f in $(abspath $(SRCS)); do \
	  $(CC) $(CFLAGS) $(WARN) $(DEFS) -I$(incdir_lua5.4) $(CURL_CFLAGS) -c $$f -o $$(basename $$f .c).part.o || exit 1; done
	ld -r -o $@ $(patsubst src/%.c,$(BUILD)/embed/%.part.o,$(SRCS))
	objcopy --localize-hidden $@

# The embedding example: Lua 5.4 and the core linked into one executable.
$(EMBED_HOST): examples/embed/host.c $(CORE_STATIC)
	$(CC) $(CFLAGS) $(WARN) -std=c99 -D_POSIX_C_SOURCE=200809L -I$(incdir_lua5.4) \
	  -o $@ examples/embed/host.c $(CORE_STATIC) -llua5.4 $(LIBS) -ldl

$(BUILD)/%/iothub/core.so: $(SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(DEFS) -I$(incdir_$*) $(CURL_CFLAGS) -shared -o $@ $(SRCS) $(LIBS)

deps:
	@tools/install-deps

test: deps
	@$(MAKE) --no-print-directory all
	@python3 -m unittest discover -q -s tools/emulator/tests
	@tools/with-emulator tools/run-specs $(LUAS) doctests

# make doctest: only README.md's snippets and examples/ (tools/run-doctests),
# on every Lua, as TAP; make test runs them too, counted in its totals.
doctest: deps
	@$(MAKE) --no-print-directory all
	@tools/with-emulator tools/run-doctests $(LUAS)

demo: deps
	@$(MAKE) --no-print-directory all
	@tools/with-emulator tools/run-demo

# make bench: our client against a private nginx (wrk, curl, the Node SDK
# alongside), then get_jobs against the emulator. BENCH_* variables given on
# the command line or in the environment reach the scripts (make exports
# command-line variables); see docs/performance.md, e.g.
#   make bench BENCH_RUNS=5 BENCH_SECONDS=5 BENCH_EMULATOR=0
bench: deps
	@$(MAKE) --no-print-directory all
	@tools/run-bench

lint: deps
	luacheck -q lua spec examples bench

# make docs: the API reference from the doc comments (config.ld) into
# docs/api/ (not committed; CI builds it). Any LDoc warning fails it, and so
# does a public function without a doc comment (tools/check-docs, which
# loads the real modules with the lua5.4 core). LDoc runs on Lua 5.1:
# Debian's lua-markdown, its Markdown, is installed for 5.1 only.
LDOC ?= lua5.1 /usr/bin/ldoc
docs: deps
	@$(MAKE) --no-print-directory -s $(BUILD)/lua5.4/iothub/core.so
	@rm -rf docs/api
	@warnings=$$($(LDOC) --fatalwarnings . 2>&1 >/dev/null) && [ -z "$$warnings" ] || \
	  { echo "$$warnings" >&2; echo "make docs: LDoc warned (see above)" >&2; exit 1; }
	@LDOC="$(LDOC)" tools/check-docs
	@echo "docs: docs/api/index.html"

check-rock: deps
	@tools/with-emulator tools/check-rock

# The OpenResty spec from a copy of the checkout in a 0700 folder (nginx
# workers must read it when root starts nginx; tools/nginx-user).
check-private: deps
	@tools/check-private-checkout

# The reliability checks; any sanitizer, memcheck or fuzzer finding fails them.
#   make asan      the suite on ASAN_LUAS (all five), the core built with ASan
#                  and UBSan, the stock interpreters with libasan preloaded
#                  (tools/run-asan)
#   make valgrind  the suite on VALGRIND_LUAS (all five) under memcheck
#                  (tools/run-valgrind)
#   make fuzz      each libFuzzer harness in fuzz/ for FUZZ_SECONDS (60) s
#                  (tools/run-fuzz, fuzz/README.md)
SAN_CC        ?= gcc
SAN_FLAGS     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow \
                 -fno-sanitize-recover=all
ASAN_LUAS     ?= $(LUAS)
VALGRIND_LUAS ?= $(LUAS)
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 60
FUZZ_FLAGS    := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
                 -fno-sanitize-recover=undefined
FUZZERS       := connstr json errors http1
ASAN_MODULES  := $(foreach l,$(ASAN_LUAS),$(BUILD)/asan/$(l)/iothub/core.so)
FUZZ_BINS     := $(foreach f,$(FUZZERS),$(BUILD)/fuzz/fuzz_$(f))
export SAN_CC FUZZ_SECONDS

# Both link with -z nodelete: lua_close's dlclose leaves the core (and so
# libcurl and OpenSSL) mapped, so the leak checks at exit can name its
# functions, and what libcurl's global init keeps stays reachable instead of
# turning into leaks when libcurl is unmapped.
$(BUILD)/asan/%/iothub/core.so: $(SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_FLAGS) $(WARN) $(DEFS) -I$(incdir_$*) $(CURL_CFLAGS) -shared -Wl,-z,nodelete \
	  -o $@ $(SRCS) $(LIBS)

$(BUILD)/valgrind/%/iothub/core.so: $(SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(DEFS) -I$(incdir_$*) $(CURL_CFLAGS) -shared -Wl,-z,nodelete \
	  -o $@ $(SRCS) $(LIBS)

# Harnesses link the whole core and Lua 5.4.
FUZZ_SRCS = $(SRCS)
# fuzz_http1 is the codec alone (it includes src/http1.c): no Lua, no libcurl.
$(BUILD)/fuzz/fuzz_http1: fuzz/fuzz_http1.c src/http1.c src/http1.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(WARN) -std=c99 -D_POSIX_C_SOURCE=200809L -Isrc -o $@ fuzz/fuzz_http1.c

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_lua.h $(SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(WARN) -std=c99 -D_POSIX_C_SOURCE=200809L -I$(incdir_lua5.4) -Isrc \
	  $(CURL_CFLAGS) -o $@ $< $(FUZZ_SRCS) -llua5.4 $(LIBS) -ldl

asan: deps
	@$(MAKE) --no-print-directory all $(ASAN_MODULES)
	@tools/with-emulator tools/run-asan $(ASAN_LUAS)

valgrind: deps
	@$(MAKE) --no-print-directory all $(foreach l,$(VALGRIND_LUAS),$(BUILD)/valgrind/$(l)/iothub/core.so)
	@tools/with-emulator tools/run-valgrind $(VALGRIND_LUAS)

fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@tools/run-fuzz $(FUZZERS)

# make soak: SOAK_CALLS (100000) calls through one client against the
# emulator with faults mixed in; RSS at start and end, outcomes by kind.
soak: deps
	@$(MAKE) --no-print-directory all
	@tools/with-emulator tools/run-soak

# Also what `luarocks make` leaves when run in the checkout (README.md,
# "Installing as a rock"), which `./?.so` would load into every Lua.
clean:
	rm -rf $(BUILD) iothub
	rm -f src/*.o
