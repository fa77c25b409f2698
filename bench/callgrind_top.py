#!/usr/bin/env python3
"""Per-call instruction counts by function, from two callgrind runs.

  python3 bench/callgrind_top.py SHORT.out LONG.out CALLS

SHORT and LONG ran the same script with CALLS fewer and more calls; each
function's count in LONG minus SHORT, divided by CALLS, is what one call
costs in it (start-up, module loading and the TLS handshake cancel out).
Prints the top inclusive and the top self (exclusive) functions. Symbols of
stripped libraries (Debian's lua5.4, libcurl) show as addresses.
"""

import re
import subprocess
import sys

LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)\s*$")


def counts(path, inclusive):
    args = ["callgrind_annotate", "--threshold=100", "--inclusive=" + ("yes" if inclusive else "no"), path]
    text = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    result, started = {}, False
    for line in text.splitlines():
        if "file:function" in line:
            started = True
            continue
        if not started:
            continue
        m = LINE.match(line)
        if m and "PROGRAM TOTALS" not in line:
            name = m.group(2)
            result[name] = result.get(name, 0) + int(m.group(1).replace(",", ""))
        elif started and line.startswith("-- "):
            break
    return result


def total(path):
    with open(path) as f:
        for line in f:
            if line.startswith("totals:"):
                return int(line.split()[1])
    return 0


def key(name):
    """The function's name without its file and object: callgrind_annotate
    lists some functions twice, once with the source file, once as ???."""
    return re.sub(r"\s*\[[^]]*\]$", "", name).split(":", 1)[-1]


def table(title, short, long_, calls, limit, below_interpreter):
    per_call = total(long_) - total(short)
    inclusive = title.startswith("inclusive")
    a, b = counts(short, inclusive), counts(long_, inclusive)
    best = {}
    for name, value in b.items():
        delta = (value - a.get(name, 0)) / calls
        if delta <= 0:
            continue
        if below_interpreter and (name.endswith("[/usr/bin/lua5.4]") or "'" in key(name) or
                                  "(below main)" in name or "libc_start" in name or
                                  name.endswith("ld-linux-x86-64.so.2]")):
            continue    # the interpreter's own frames, recursion cycles, start-up
        k = key(name)
        if k not in best or delta > best[k][0] or (delta == best[k][0] and not name.startswith("???")):
            best[k] = (delta, name)
    rows = sorted(best.values(), reverse=True)
    print("{} (instructions per call; one call = {:,.0f})".format(title, per_call / calls))
    for delta, name in rows[:limit]:
        share = 100.0 * delta * calls / per_call
        flag = "  (over 100%: a recursive cycle, counted more than once)" if share > 100.5 else ""
        print("  {:>10,.0f}  {:5.1f}%  {}{}".format(delta, share, name, flag))
    print()


def main():
    short, long_, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print("callgrind, {} minus {}, per call over {} calls\n".format(long_, short, calls))
    table("inclusive, top 10 below the interpreter", short, long_, calls, 10, True)
    table("inclusive, top 30 below the interpreter", short, long_, calls, 30, True)
    table("self, top 25", short, long_, calls, 25, False)
    print("The Lua interpreter (lua5.4, stripped) and libcurl have no symbols here; their")
    print("functions show as addresses. A call's cost outside client_request is the Lua")
    print("wrapper (argument checks, the target string, the retry closure).")


if __name__ == "__main__":
    main()
