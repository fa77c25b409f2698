#!/usr/bin/env python3
"""Writes the fixed bodies that bench/run's nginx serves (deterministic).

  bench/fixtures/job.json      one twin-update JobResponse with statistics
                               (~617 bytes, the size issue 7 measured with)
  bench/fixtures/page100.json  a bare JSON array of 100 jobs, mixed types and
                               statuses (~59.5 KB), as GET /jobs/v2/query
                               returns one full page

Compact JSON, like the service. Run it again after changing it; the output
is committed so every machine serves the same bytes:
  python3 bench/make_fixtures.py
"""

import datetime
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

SEED = 7
START = datetime.datetime(2026, 3, 2, 6, 0, 0)
SITES = ["paris", "lyon", "milano", "berlin-spandau", "rotterdam-port", "oslo"]
CONDITIONS = ["tags.site = '{site}' AND properties.reported.fw.version < '2.1.0'",
              "deviceId IN ['gw-0001','gw-0002','gw-0003','gw-0004']",
              "tags.site = '{site}' AND tags.ring = 'canary'",
              "capabilities.iotEdge = true AND tags.site = '{site}'",
              "properties.reported.battery.level < 20"]
METHODS = [("reboot", {"delaySeconds": 30, "reason": "scheduled maintenance"}),
           ("firmwareUpdate", {"version": "2.1.0", "url": "https://fw.example.invalid/gw/2.1.0.bin"}),
           ("setTelemetryInterval", {"seconds": 60}),
           ("collectDiagnostics", {"level": "verbose", "uploadTo": "diag-container", "maxMinutes": 15})]


def iso(moment, rng):
    """ISO 8601 in UTC with 7 fractional digits most of the time, as the service sends."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if rng.random() < 0.5:
        text += ".{:06d}{}".format(moment.microsecond, rng.randint(0, 9))
    return text + "Z"


def statistics(rng, status):
    count = rng.randint(40, 4000)
    failed = running = pending = 0
    if status == "running":
        running = rng.randint(1, count // 3)
        pending = rng.randint(0, count - running)
        failed = rng.randint(0, (count - running - pending) // 10)
    elif status == "failed":
        failed = rng.randint(1, count)
    elif status == "cancelled":
        pending = rng.randint(1, count)
    else:
        failed = rng.choice([0, 0, rng.randint(1, count // 20 + 1)])
    return {"deviceCount": count, "failedCount": failed,
            "succeededCount": count - failed - running - pending,
            "runningCount": running, "pendingCount": pending}


def job(rng, index, kind, status, created):
    site = rng.choice(SITES)
    start = created + datetime.timedelta(seconds=rng.randint(5, 600), microseconds=rng.randint(0, 999999))
    end = start + datetime.timedelta(seconds=rng.randint(30, 7200), microseconds=rng.randint(0, 999999))
    out = {
        "jobId": "{}-{}-{:04d}".format("twin" if kind == "scheduleUpdateTwin" else "method", site, index),
        "queryCondition": rng.choice(CONDITIONS).format(site=site),
        "createdTime": iso(created, rng),
        "startTime": iso(start, rng),
        "endTime": "9999-12-30T23:59:59.9999999Z" if status == "running" else iso(end, rng),
        "maxExecutionTimeInSeconds": rng.choice([3600, 86400, 172800]),
        "type": kind,
        "status": status,
    }
    if kind == "scheduleUpdateTwin":
        out["updateTwin"] = {
            "deviceId": None, "etag": "*",
            "tags": {"site": site, "ring": rng.choice(["canary", "beta", "stable"]),
                     "owner": "ops-{}".format(site)},
            "properties": {"desired": {
                "telemetryInterval": rng.choice([10, 30, 60, 300]),
                "fw": {"version": rng.choice(["2.0.4", "2.1.0", "2.1.1"]), "channel": "stable"},
            }},
        }
    else:
        name, payload = rng.choice(METHODS)
        out["cloudToDeviceMethod"] = {"methodName": name, "payload": payload,
                                      "responseTimeoutInSeconds": rng.choice([30, 60, 300]),
                                      "connectTimeoutInSeconds": rng.choice([0, 15, 30])}
    stats = statistics(rng, status)
    if status == "failed":
        out["failureReason"] = "Device method timed out on some devices"
        out["statusMessage"] = "{} of {} devices failed".format(stats["failedCount"], stats["deviceCount"])
    elif status == "cancelled":
        out["statusMessage"] = "Cancelled by user"
    out["deviceJobStatistics"] = stats
    return out


def dump(path, value):
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return len(text.encode("utf-8"))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(SEED)
    single = job(rng, 1, "scheduleUpdateTwin", "completed", START)
    single["jobId"] = "bench-job"
    print("job.json", dump(os.path.join(OUT, "job.json"), single), "bytes")

    kinds = [("scheduleUpdateTwin", "completed")] * 38 + [("scheduleDeviceMethod", "completed")] * 34 + \
            [("scheduleUpdateTwin", "running")] * 6 + [("scheduleDeviceMethod", "running")] * 8 + \
            [("scheduleDeviceMethod", "failed")] * 7 + [("scheduleUpdateTwin", "failed")] * 3 + \
            [("scheduleUpdateTwin", "cancelled")] * 4
    rng.shuffle(kinds)
    created = START
    page = []
    for index, (kind, status) in enumerate(kinds):
        created += datetime.timedelta(minutes=rng.randint(20, 600), microseconds=rng.randint(0, 999999))
        page.append(job(rng, index, kind, status, created))
    print("page100.json", dump(os.path.join(OUT, "page100.json"), page), "bytes")


if __name__ == "__main__":
    main()
