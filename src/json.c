/* json.c: a one-pass JSON to Lua decoder with the project's rules (json.h).
 *
 * Values are built on the Lua stack: a container pushes a placeholder, then
 * its elements (objects: key, value pairs) above it, and at its end creates
 * the table with the exact size and moves the elements in, so a table is
 * not rehashed again and again while it fills (lua-cjson's cost). A
 * container flushes early after CHUNK elements, and at once when the stack
 * is already deep, so the stack stays bounded whatever the input (Lua 5.1
 * and LuaJIT allow a C function 8000 slots). Object keys come from a cache
 * of the strings made before (push_key_cache).
 * Strings without escapes go straight from the input to lua_pushlstring;
 * numbers are parsed by hand, with strtod only for what the exact fast path
 * cannot do. */
#include "json.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define CHUNK 256          /* pending elements in one container at most */
#define STACK_SOFT 2048    /* slots in use above which containers flush at once */
#define SCRATCH 512        /* escaped strings up to this size decode in place */

typedef const unsigned char *ptr;

#define KEYCACHE 512       /* slots, a power of 2 */
#define KEYMAX 40          /* longer keys are not cached */

typedef struct {
  uint64_t a, b;           /* the first and last 8 bytes (zero padded) */
  size_t len;              /* (size_t)-1: empty slot */
  const char *s;
} key_slot;

typedef struct {
  lua_State *L;
  ptr start, end;
  int base;                /* the stack top when decoding began */
  int cache;               /* the key cache table's index */
  key_slot *keys;
  int max_depth;
  char err[112];
  char scratch[SCRATCH];
} decoder;

static ptr parse_value(decoder *d, ptr p, int freeform, int depth);

/* --- errors: what and where, never more than one byte of the input -------- */

static ptr fail(decoder *d, const char *what, ptr at) {
  snprintf(d->err, sizeof d->err, "%s at offset %lu", what, (unsigned long)(at - d->start));
  return NULL;
}

/* "unexpected character 'x' at offset N (expected ...)", or the end. */
static ptr fail_at(decoder *d, ptr at, const char *expected) {
  unsigned long off = (unsigned long)(at - d->start);
  if (at >= d->end)
    snprintf(d->err, sizeof d->err, "unexpected end of input at offset %lu (expected %s)", off,
             expected);
  else if (*at >= 0x20 && *at < 0x7f)
    snprintf(d->err, sizeof d->err, "unexpected character '%c' at offset %lu (expected %s)", *at,
             off, expected);
  else
    snprintf(d->err, sizeof d->err, "unexpected byte 0x%02X at offset %lu (expected %s)", *at, off,
             expected);
  return NULL;
}

static ptr fail_control(decoder *d, ptr at) {
  snprintf(d->err, sizeof d->err, "control character 0x%02X in a string at offset %lu", *at,
           (unsigned long)(at - d->start));
  return NULL;
}

static ptr fail_depth(decoder *d, ptr at, int depth) {
  snprintf(d->err, sizeof d->err, "too many nested arrays/objects (%d) at offset %lu", depth,
           (unsigned long)(at - d->start));
  return NULL;
}

/* --- small pieces ---------------------------------------------------------- */

static inline ptr skip_ws(ptr p, ptr end) {
  while (p < end && *p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  return p;
}

static int is_freeform_key(const char *k, size_t n) {
  switch (n) {
    case 4: return memcmp(k, "tags", 4) == 0;
    case 7: return memcmp(k, "payload", 7) == 0 || memcmp(k, "desired", 7) == 0;
    case 8: return memcmp(k, "reported", 8) == 0;
    default: return 0;
  }
}

/* Pushes a number by the rules: on 5.3+ an integer when it is integral and
 * |n| <= 2^53 (what JSON producers mean by an integer), else a float. */
static inline void push_double(lua_State *L, double n) {
#if LUA_VERSION_NUM >= 503
  if (n == floor(n) && fabs(n) <= 9007199254740992.0) {
    lua_pushinteger(L, (lua_Integer)n);
    return;
  }
#endif
  lua_pushnumber(L, n);
}

/* --- strings --------------------------------------------------------------- */

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LITTLE_ENDIAN_WORDS 1
#endif

/* The high bit of each byte of x that is '"', '\\' or below 0x20 ("Bit
 * Twiddling Hacks": haszero, hasless). Bytes above a hit may be set too
 * (borrows), but the lowest set bit always marks the first hit. */
static inline uint64_t special_bytes(uint64_t x) {
  uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
  return (((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGHS;
}

/* The first '"', '\\' or control byte at or after p, or end: 16 bytes a
 * step with SSE2 (every x86-64), 8 with the word tricks, then bytes. */
static inline ptr scan_string(ptr p, ptr end) {
#ifdef __SSE2__
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), c1f = _mm_set1_epi8(0x1F);
  while (end - p >= 16) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                               _mm_cmpeq_epi8(_mm_min_epu8(x, c1f), x));
    int m = _mm_movemask_epi8(hit);
    if (m) return p + __builtin_ctz((unsigned)m);
    p += 16;
  }
#endif
  while (end - p >= 8) {
    uint64_t x, m;
    memcpy(&x, p, 8);
    m = special_bytes(x);
#ifdef LITTLE_ENDIAN_WORDS
    if (m) return p + (__builtin_ctzll(m) >> 3);
#else
    if (m) break;
#endif
    p += 8;
  }
  while (p < end && *p != '"' && *p != '\\' && *p >= 0x20) p++;
  return p;
}

static int hex4(ptr p) {
  int v = 0, i;
  for (i = 0; i < 4; i++) {
    unsigned c = p[i];
    if (c >= '0' && c <= '9') c -= '0';
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') c = (c | 0x20) - 'a' + 10;
    else return -1;
    v = v * 16 + (int)c;
  }
  return v;
}

/* The slow path of parse_string: s is the content after the quote q, p the
 * first backslash. Finds the closing quote, then decodes into the scratch
 * buffer (or a temporary userdata: the text never grows when unescaped). */
static ptr parse_escaped(decoder *d, ptr q, ptr s, ptr p) {
  lua_State *L = d->L;
  ptr e = p, end = d->end, r;
  char *out, *o;
  while (e < end && *e != '"') {
    if (*e == '\\') {
      if (end - e < 2) { e = end; break; }
      e += 2;
    } else if (*e < 0x20) {
      return fail_control(d, e);
    } else {
      e++;
    }
  }
  if (e >= end) return fail(d, "unterminated string", q);
  out = (size_t)(e - s) <= SCRATCH ? d->scratch : (char *)lua_newuserdata(L, (size_t)(e - s));
  o = out;
  for (r = s; r < e;) {
    if (*r != '\\') { *o++ = (char)*r++; continue; }
    switch (r[1]) {     /* r + 1 < e: the scan above skipped escaped pairs */
      case '"': case '\\': case '/': *o++ = (char)r[1]; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 't': *o++ = '\t'; break;
      case 'u': {
        long cp = e - r >= 6 ? hex4(r + 2) : -1;
        if (cp < 0) return fail(d, "invalid \\u escape", r);
        if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(d, "unpaired surrogate in \\u escape", r);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          long lo = e - r >= 12 && r[6] == '\\' && r[7] == 'u' ? hex4(r + 8) : -1;
          if (lo < 0xDC00 || lo > 0xDFFF) return fail(d, "unpaired surrogate in \\u escape", r);
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          r += 6;
        }
        if (cp < 0x80) {
          *o++ = (char)cp;
        } else if (cp < 0x800) {
          *o++ = (char)(0xC0 | (cp >> 6));
          *o++ = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          *o++ = (char)(0xE0 | (cp >> 12));
          *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
          *o++ = (char)(0x80 | (cp & 0x3F));
        } else {
          *o++ = (char)(0xF0 | (cp >> 18));
          *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
          *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
          *o++ = (char)(0x80 | (cp & 0x3F));
        }
        r += 4;
        break;
      }
      default: return fail(d, "invalid escape in a string", r);
    }
    r += 2;
  }
  lua_pushlstring(L, out, (size_t)(o - out));
  if (out != d->scratch) lua_remove(L, -2);
  return e + 1;
}

/* p at the opening quote; pushes the string. Invalid UTF-8 passes through,
 * as with cjson (the strict checks are the encoder's and the callers'). */
static ptr parse_string(decoder *d, ptr p) {
  ptr s = p + 1, end = d->end;
  p = scan_string(s, end);
  if (p < end && *p == '"') {
    lua_pushlstring(d->L, (const char *)s, (size_t)(p - s));
    return p + 1;
  }
  if (p < end && *p == '\\') return parse_escaped(d, s - 1, s, p);
  if (p < end) return fail_control(d, p);
  return fail(d, "unterminated string", s - 1);
}

/* Object keys repeat (every job of a page has the same ones), so the
 * decoder keeps the short ones it made, per Lua state, in a direct-mapped
 * cache: a table in the registry holding the strings, and in its [0] a
 * userdata with, per slot, the key's length, its first and last 8 bytes and
 * where its bytes are (the string's own, which does not move and lives as
 * long as the table holds it). A hit pushes the cached string instead of
 * hashing and interning the bytes again. */
static const char key_cache_id = 0;   /* its address names the registry entry */

/* Pushes the cache table, making it on first use; returns its slots. */
static key_slot *push_key_cache(lua_State *L) {
  key_slot *k;
  int i;
  lua_pushlightuserdata(L, (void *)&key_cache_id);
  lua_rawget(L, LUA_REGISTRYINDEX);
  if (lua_istable(L, -1)) {
    lua_rawgeti(L, -1, 0);
    k = (key_slot *)lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (k) return k;
  }
  lua_pop(L, 1);
  lua_createtable(L, KEYCACHE, 1);
  k = (key_slot *)lua_newuserdata(L, sizeof(key_slot) * KEYCACHE);
  for (i = 0; i < KEYCACHE; i++) {
    k[i].a = k[i].b = 0;
    k[i].len = (size_t)-1;
    k[i].s = NULL;
  }
  lua_rawseti(L, -2, 0);
  lua_pushlightuserdata(L, (void *)&key_cache_id);
  lua_pushvalue(L, -2);
  lua_rawset(L, LUA_REGISTRYINDEX);
  return k;
}

/* p at the opening quote of a key; pushes the key. */
static ptr parse_key(decoder *d, ptr p) {
  lua_State *L = d->L;
  ptr s = p + 1, end = d->end;
  size_t len;
  uint64_t a = 0, b = 0, h;
  key_slot *k;
  p = scan_string(s, end);
  len = (size_t)(p - s);
  if (p >= end || *p != '"' || len > KEYMAX || end - s < 8) {
    if (p < end && *p == '"') {
      lua_pushlstring(L, (const char *)s, len);
      return p + 1;
    }
    return parse_string(d, s - 1);
  }
  memcpy(&a, s, 8);
  if (len < 8) {
#ifdef LITTLE_ENDIAN_WORDS
    a &= ((uint64_t)1 << (8 * len)) - 1;
#else
    a &= ~(~(uint64_t)0 >> (8 * len));
#endif
  } else {
    memcpy(&b, s + len - 8, 8);
  }
  h = ((a + len) * 0x9E3779B97F4A7C15ULL ^ b * 0xC2B2AE3D27D4EB4FULL) >> 32;
  k = &d->keys[h & (KEYCACHE - 1)];
  if (k->len == len && k->a == a && k->b == b &&
      (len <= 16 || memcmp(k->s + 8, s + 8, len - 16) == 0)) {
    lua_rawgeti(L, d->cache, (int)(h & (KEYCACHE - 1)) + 1);
    return p + 1;
  }
  lua_pushlstring(L, (const char *)s, len);
  lua_pushvalue(L, -1);
  lua_rawseti(L, d->cache, (int)(h & (KEYCACHE - 1)) + 1);
  k->len = len;
  k->a = a;
  k->b = b;
  k->s = lua_tostring(L, -1);
  return p + 1;
}

/* --- numbers --------------------------------------------------------------- */

static const double pow10_exact[] = {
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* strtod on a NUL-terminated copy of the token s..e with '.' spelled as the
 * locale's decimal point, as lua-cjson's fpconv does: correctly rounded
 * (glibc), and the same bits as cjson. */
__attribute__((noinline)) static int slow_strtod(decoder *d, ptr s, ptr e, double *out) {
  const char *dp = localeconv()->decimal_point;
  size_t dl = dp && *dp ? strlen(dp) : 1, n = (size_t)(e - s), i, j = 0;
  char small[64], *buf = small, *stop;
  if (!dp || !*dp) dp = ".";
  if (n + dl + 1 > sizeof small) buf = (char *)lua_newuserdata(d->L, n + dl + 1);
  for (i = 0; i < n; i++) {
    if (s[i] == '.') { memcpy(buf + j, dp, dl); j += dl; }
    else buf[j++] = (char)s[i];
  }
  buf[j] = '\0';
  *out = strtod(buf, &stop);
  if (buf != small) lua_pop(d->L, 1);
  return stop == buf + j;
}

/* p at '-' or a digit; pushes the number. */
static ptr parse_number(decoder *d, ptr p) {
  ptr s = p, end = d->end;
  uint64_t m = 0;            /* the first 19 significant digits */
  int digits = 0, inexact = 0, neg = 0;
  long e10 = 0;
  double n;
  if (*p == '-') { neg = 1; p++; }
  if (p < end && *p == '0') {
    p++;
    if (p < end && *p >= '0' && *p <= '9') return fail(d, "invalid number (leading zero)", s);
  } else if (p < end && *p >= '1' && *p <= '9') {
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
      if (digits < 19) { m = m * 10 + (unsigned)(*p - '0'); digits++; }
      else { e10++; inexact |= *p != '0'; }
    }
  } else {
    return fail(d, "invalid number", s);
  }
  if (p < end && *p == '.') {
    p++;
    if (p >= end || *p < '0' || *p > '9') return fail(d, "invalid number", s);
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
      if (digits < 19) {
        if (m != 0 || *p != '0') { m = m * 10 + (unsigned)(*p - '0'); digits++; }
        e10--;
      } else {
        inexact |= *p != '0';
      }
    }
  }
  if (p < end && (*p | 0x20) == 'e') {
    long x = 0;
    int eneg = 0;
    p++;
    if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
    if (p >= end || *p < '0' || *p > '9') return fail(d, "invalid number", s);
    for (; p < end && *p >= '0' && *p <= '9'; p++)
      if (x < 100000000) x = x * 10 + (*p - '0');
    e10 += eneg ? -x : x;
  }
  if (!inexact && e10 == 0) {
#if LUA_VERSION_NUM >= 503
    if (m <= 9007199254740992ULL) {
      lua_pushinteger(d->L, neg ? -(lua_Integer)m : (lua_Integer)m);
      return p;
    }
#endif
    n = (double)m;         /* one correctly rounded conversion */
  } else if (m == 0 && !inexact) {
    n = 0.0;
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
  } else if (!inexact && m <= 9007199254740992ULL && e10 >= -22 && e10 <= 22) {
    /* Both operands exact: one IEEE operation rounds correctly (Clinger). */
    n = e10 < 0 ? (double)m / pow10_exact[-e10] : (double)m * pow10_exact[e10];
#endif
  } else {
    if (!slow_strtod(d, s, p, &n)) return fail(d, "invalid number", s);
    push_double(d->L, n);
    return p;
  }
  push_double(d->L, neg ? -n : n);
  return p;
}

/* --- containers ------------------------------------------------------------ */

/* Moves the n elements above slot into the table (created if *have is 0)
 * at slot, after the stored ones. */
static void flush_array(lua_State *L, int slot, int n, int *have, int *stored) {
  int i;
  if (!*have) {
    lua_createtable(L, n, 0);
    lua_replace(L, slot);
    for (i = n; i >= 1; i--) lua_rawseti(L, slot, i);
    *have = 1;
  } else {
    for (i = 1; i <= n; i++) {
      lua_pushvalue(L, slot + i);
      lua_rawseti(L, slot, *stored + i);
    }
    lua_settop(L, slot);
  }
  *stored += n;
}

/* Moves the n key, value pairs above slot into the table at slot (creating
 * it if *have is 0), in order, so that the last of duplicate keys wins. A
 * nil value (a dropped null) clears what an earlier duplicate set. */
static void flush_object(lua_State *L, int slot, int n, int *have, int nils) {
  int i, k;
  if (!*have) {
    lua_createtable(L, 0, n);
    lua_replace(L, slot);
    *have = 1;
  }
  for (i = 0, k = slot + 1; i < n; i++, k += 2) {
    if (nils && lua_isnil(L, k + 1)) {
      lua_pushvalue(L, k);
      lua_rawget(L, slot);
      if (lua_isnil(L, -1)) { lua_pop(L, 1); continue; }
      lua_pop(L, 1);
    }
    lua_pushvalue(L, k);
    lua_pushvalue(L, k + 1);
    lua_rawset(L, slot);
  }
  lua_settop(L, slot);
}

/* p at '['. */
static ptr parse_array(decoder *d, ptr p, int freeform, int depth) {
  lua_State *L = d->L;
  ptr end = d->end;
  int slot, limit, n = 0, have = 0, stored = 0;
  if (++depth > d->max_depth) return fail_depth(d, p, depth);
  slot = lua_gettop(L) + 1;
  limit = slot - d->base > STACK_SOFT ? 1 : CHUNK;
  if (!lua_checkstack(L, limit + 8)) return fail(d, "out of Lua stack space", p);
  lua_pushnil(L);                                /* the table's slot */
  p = skip_ws(p + 1, end);
  if (p < end && *p == ']') {
    lua_createtable(L, 0, 0);
    lua_replace(L, slot);
    return p + 1;
  }
  for (;;) {
    if (p >= end) return fail_at(d, p, "a value");
    if (n == limit) { flush_array(L, slot, n, &have, &stored); n = 0; }
    if (!(p = parse_value(d, p, freeform, depth))) return NULL;
    n++;
    p = skip_ws(p, end);
    if (p < end && *p == ',') { p = skip_ws(p + 1, end); continue; }
    if (p < end && *p == ']') break;
    return fail_at(d, p, "',' or ']'");
  }
  flush_array(L, slot, n, &have, &stored);
  return p + 1;
}

/* p at '{'. In schema mode outside free-form objects a null field is pushed
 * as nil, so it ends up absent. */
static ptr parse_object(decoder *d, ptr p, int freeform, int depth) {
  lua_State *L = d->L;
  ptr end = d->end;
  int slot, limit, n = 0, have = 0, nils = 0;
  if (++depth > d->max_depth) return fail_depth(d, p, depth);
  slot = lua_gettop(L) + 1;
  limit = slot - d->base > STACK_SOFT ? 1 : CHUNK;
  if (!lua_checkstack(L, 2 * limit + 8)) return fail(d, "out of Lua stack space", p);
  lua_pushnil(L);                                /* the table's slot */
  p = skip_ws(p + 1, end);
  if (p < end && *p == '}') {
    lua_createtable(L, 0, 0);
    lua_replace(L, slot);
    return p + 1;
  }
  for (;;) {
    if (p >= end || *p != '"') return fail_at(d, p, "a string key");
    if (n == limit) { flush_object(L, slot, n, &have, nils); n = 0; nils = 0; }
    if (!(p = parse_key(d, p))) return NULL;
    p = skip_ws(p, end);
    if (p >= end || *p != ':') return fail_at(d, p, "':'");
    p = skip_ws(p + 1, end);
    if (p >= end) return fail_at(d, p, "a value");
    if (*p == 'n' && !freeform) {
      if (end - p < 4 || memcmp(p, "null", 4) != 0) return fail_at(d, p, "a value");
      lua_pushnil(L);
      nils = 1;
      p += 4;
    } else if (*p == '{' || *p == '[') {
      int child = freeform;
      if (!child) {
        size_t kn;
        const char *k = lua_tolstring(L, -1, &kn);
        child = is_freeform_key(k, kn);
      }
      if (!(p = parse_value(d, p, child, depth))) return NULL;
    } else if (!(p = parse_value(d, p, freeform, depth))) {
      return NULL;
    }
    n++;
    p = skip_ws(p, end);
    if (p < end && *p == ',') { p = skip_ws(p + 1, end); continue; }
    if (p < end && *p == '}') break;
    return fail_at(d, p, "',' or '}'");
  }
  flush_object(L, slot, n, &have, nils);
  return p + 1;
}

/* p < end, at a non-blank byte; pushes one value. */
static ptr parse_value(decoder *d, ptr p, int freeform, int depth) {
  ptr end = d->end;
  switch (*p) {
    case '"': return parse_string(d, p);
    case '{': return parse_object(d, p, freeform, depth);
    case '[': return parse_array(d, p, freeform, depth);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
      return parse_number(d, p);
    case 't':
      if (end - p < 4 || memcmp(p, "true", 4) != 0) break;
      lua_pushboolean(d->L, 1);
      return p + 4;
    case 'f':
      if (end - p < 5 || memcmp(p, "false", 5) != 0) break;
      lua_pushboolean(d->L, 0);
      return p + 5;
    case 'n':
      if (end - p < 4 || memcmp(p, "null", 4) != 0) break;
      lua_pushlightuserdata(d->L, NULL);
      return p + 4;
    default: break;
  }
  return fail_at(d, p, "a value");
}

void iothub_json_init(lua_State *L) {
  (void)L;
}

int iothub_json_decode(lua_State *L, const char *buf, size_t len, int mode, int max_depth) {
  decoder d;
  ptr p;
  d.L = L;
  d.start = (ptr)buf;
  d.end = d.start + len;
  d.base = lua_gettop(L);
  d.max_depth = max_depth <= 0 ? IOTHUB_JSON_DEFAULT_DEPTH
              : max_depth > IOTHUB_JSON_MAX_DEPTH ? IOTHUB_JSON_MAX_DEPTH : max_depth;
  luaL_checkstack(L, 6, "iothub: JSON decode");
  d.keys = push_key_cache(L);
  d.cache = d.base + 1;
  p = skip_ws(d.start, d.end);
  if (p >= d.end) {
    fail(&d, "empty JSON text", p);
  } else if ((p = parse_value(&d, p, mode == IOTHUB_JSON_RAW, 0)) != NULL) {
    p = skip_ws(p, d.end);
    if (p == d.end) {
      lua_replace(L, d.cache);
      return 1;
    }
    fail_at(&d, p, "the end of the input");
  }
  lua_settop(L, d.base);
  lua_pushstring(L, d.err);
  return 0;
}
