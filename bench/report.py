#!/usr/bin/env python3
"""Turns bench/run's raw figures into the one table of `make bench`.

  python3 bench/report.py build/bench/raw.txt [build/bench/notes.txt]

raw.txt holds "subject name value" lines, one per figure per round. Values
show as min..max over the rounds. Ratios compare the best round of each side
(highest req/s, lowest time), both measured in this same run.
"""

import sys
from collections import defaultdict


def load(path):
    data = defaultdict(list)
    with open(path) as f:
        for line in f:
            parts = line.split(None, 2)
            if len(parts) == 3:
                try:
                    data[(parts[0], parts[1])].append(float(parts[2]))
                except ValueError:
                    data[(parts[0], parts[1])].append(parts[2].strip())
    return data


def main():
    data = load(sys.argv[1])
    notes = open(sys.argv[2]).read().split("\n") if len(sys.argv) > 2 else []
    meta = {name: values[0] for (subject, name), values in data.items() if subject == "meta"}
    luas = str(meta.get("luas", "lua5.1,lua5.2,lua5.4,luajit")).split(",")
    rows = []

    def vals(subject, name):
        return data.get((subject, name), [])

    def span(values, fmt="{:.0f}"):
        if not values:
            return "-"
        lo, hi = min(values), max(values)
        return fmt.format(lo) if lo == hi else (fmt + ".." + fmt).format(lo, hi)

    def best(values, low=False):
        if not values:
            return None
        return min(values) if low else max(values)

    def pct(a, b):
        return None if a is None or not b else 100.0 * a / b

    def met(ok):
        return "" if ok is None else ("yes" if ok else "NO")

    def row(measure, value, ratio="", target="", ok=None):
        rows.append((measure, value, ratio, target, met(ok)))

    wrk1, wrk16 = best(vals("wrk", "c1_rps")), best(vals("wrk", "c16_rps"))
    node_seq, node16 = best(vals("node", "node_seq_rps")), best(vals("node", "node_c16_rps"))

    row("wrk, 1 connection (req/s)", span(vals("wrk", "c1_rps")), "the limit, 1 conn")
    row("wrk, 16 connections, 2 threads (req/s)", span(vals("wrk", "c16_rps")), "the limit, 16 conns")
    curl = best(vals("curl", "seq_rps"))
    if curl:
        row("curl CLI, sequential, 1 connection (req/s)", span(vals("curl", "seq_rps")),
            "{:.0f}% of wrk 1c".format(pct(curl, wrk1)) if wrk1 else "")
    if node_seq:
        row("node SDK getJob, sequential (req/s)", span(vals("node", "node_seq_rps")),
            "{:.0f}% of wrk 1c".format(pct(node_seq, wrk1)) if wrk1 else "")
    if node16:
        row("node SDK getJob, 16 in flight (req/s)", span(vals("node", "node_c16_rps")),
            "{:.0f}% of wrk 16c".format(pct(node16, wrk16)) if wrk16 else "")

    for lua in luas:
        v = vals(lua, "get_job_rps")
        if not v:
            continue
        b = best(v)
        parts, oks = [], []
        if wrk1:
            parts.append("{:.0f}% of wrk 1c".format(pct(b, wrk1)))
            oks.append(pct(b, wrk1) >= 70)
        if node_seq:
            parts.append("{:.1f}x node".format(b / node_seq))
            oks.append(b / node_seq >= 3)
        row("{} get_job loop (req/s)".format(lua), span(v), ", ".join(parts),
            ">= 70% wrk, >= 3x node" if node_seq else ">= 70% wrk", all(oks) if oks else None)
    for lua in luas:
        v = vals(lua, "get_jobs16_rps")
        if not v:
            continue
        b = best(v)
        parts = []
        if wrk16:
            parts.append("{:.0f}% of wrk 16c".format(pct(b, wrk16)))
        if node16:
            parts.append("{:.1f}x node 16".format(b / node16))
        row("{} get_jobs, concurrency 16 (req/s)".format(lua), span(v), ", ".join(parts), ">= 60% wrk",
            pct(b, wrk16) >= 60 if wrk16 else None)

    page_kb = best(vals(luas[0], "page_bytes")) or best(vals("luajit", "page_bytes"))
    wrk_page = best(vals("wrk", "page_rps"))
    if wrk_page:
        row("wrk, 1 conn, fetch of the 100-job page (us)", span([1e6 / r for r in vals("wrk", "page_rps")]),
            "transfer alone, no decode")
    for lua in luas:
        q, d, c = vals(lua, "page_query_us"), vals(lua, "page_core_decode_us"), vals(lua, "page_cjson_us")
        if not q:
            continue
        bq, bd, bc = best(q, True), best(d, True), best(c, True)
        row("{} query_jobs, 100-job page (us)".format(lua), span(q, "{:.0f}"),
            "{:.2f}x cjson.decode".format(bq / bc) if bc else "", "<= 1.3x", bq / bc <= 1.3 if bc else None)
        if d:
            row("{}   core decode alone, no I/O (us)".format(lua), span(d, "{:.0f}"),
                "{:.2f}x cjson.decode".format(bd / bc) if bc else "")
        row("{}   bare cjson.decode (us)".format(lua), span(c, "{:.0f}"))

    for lua in luas:
        v = vals(lua, "signatures_per_call")
        if not v:
            continue
        total = best(vals(lua, "signatures_total"))
        row("{} SAS signatures per call, warm".format(lua), span(v, "{:g}"),
            "{:.0f} in all per client".format(total) if total is not None else "", "0", max(v) == 0)

    for lua in luas:
        s, e, p = vals(lua, "rss_start_kb"), vals(lua, "rss_end_kb"), vals(lua, "rss_peak_kb")
        if not s or not e:
            continue
        calls = int(best(vals(lua, "rss_calls")) or 0)
        growth = e[0] - s[0]
        row("{} VmRSS over {} get_job (KB)".format(lua, calls),
            "{:.0f} -> {:.0f}".format(s[0], e[0]),
            "{:+.0f} KB, peak {:.0f}".format(growth, best(p) or e[0]), "flat (< 1 MB)", growth < 1024)

    cg = {name: best(vals("callgrind", name)) for name in ("get_job_ir", "query_ir", "cjson_ir")}
    if cg["get_job_ir"]:
        row("lua5.4 instructions per get_job (callgrind)", "{:,.0f}".format(cg["get_job_ir"]))
    if cg["query_ir"]:
        row("lua5.4 instructions per page, query_jobs", "{:,.0f}".format(cg["query_ir"]),
            "{:.2f}x cjson.decode".format(cg["query_ir"] / cg["cjson_ir"]) if cg["cjson_ir"] else "")
    if cg["cjson_ir"]:
        row("lua5.4 instructions per page, cjson.decode", "{:,.0f}".format(cg["cjson_ir"]))

    head = ("measure", "value (min..max)", "ratio (best rounds)", "target", "met")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(5)]
    line = lambda r: "  ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)).rstrip()
    print()
    print("lua-iothub bench: HTTPS keep-alive to nginx {} ({} worker(s)) on 127.0.0.1, {} rounds, "
          "{:.0f} s loops, wrk {:.0f} s".format(meta.get("nginx", "?"), int(meta.get("workers", 1)),
                                                  int(meta.get("runs", 0)), meta.get("seconds", 0),
                                                  meta.get("wrk_seconds", 0)))
    if page_kb:
        print("bodies: job {:d} bytes, page of 100 jobs {:.0f} bytes".format(
            int(meta.get("job_bytes", 0)), page_kb))
    print(line(head))
    print(line(tuple("-" * w for w in widths)))
    for r in rows:
        print(line(r))
    extra = [n for n in notes if n.strip()]
    if extra:
        print()
        for n in extra:
            print("note: " + n)


if __name__ == "__main__":
    main()
