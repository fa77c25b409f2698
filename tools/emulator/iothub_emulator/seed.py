"""The seeded job set: fixtures plus a few hundred generated, realistic jobs.

Generation is deterministic (a fixed random seed, no wall clock), so every
emulator, on every machine, serves the same jobs. Counts per type and status
are chosen so that no filter's total is a multiple of 7, 13 or 100, which
makes every paged query end on a short page.
"""

import datetime
import random
import uuid

from .fixtures import fixture_jobs

SEED = 20261123

# Generated jobs per (type, status); the fixtures come on top of these.
COUNTS = {
    ("scheduleDeviceMethod", "queued"): 6,
    ("scheduleDeviceMethod", "scheduled"): 11,
    ("scheduleDeviceMethod", "enqueued"): 5,
    ("scheduleDeviceMethod", "running"): 8,
    ("scheduleDeviceMethod", "completed"): 61,
    ("scheduleDeviceMethod", "failed"): 11,
    ("scheduleDeviceMethod", "cancelled"): 6,
    ("scheduleDeviceMethod", "unknown"): 2,
    ("scheduleUpdateTwin", "queued"): 5,
    ("scheduleUpdateTwin", "scheduled"): 9,
    ("scheduleUpdateTwin", "enqueued"): 4,
    ("scheduleUpdateTwin", "running"): 6,
    ("scheduleUpdateTwin", "completed"): 52,
    ("scheduleUpdateTwin", "failed"): 8,
    ("scheduleUpdateTwin", "cancelled"): 5,
    ("scheduleUpdateTwin", "unknown"): 2,
    ("export", "completed"): 4,
    ("export", "failed"): 2,
    ("export", "running"): 1,
    ("export", "unknown"): 3,
    ("import", "completed"): 3,
    ("import", "failed"): 1,
    ("import", "unknown"): 2,
}

FAR_FUTURE = "9999-12-30T23:59:59.9999999Z"
NEVER = "0001-01-01T00:00:00Z"
_START = datetime.datetime(2026, 1, 5, 8, 0, 0)

_CONDITIONS = ["deviceId IN ['d1','d2']", "tags.site = 'paris'", "tags.site = 'lyon'",
               "tags.floor > 2", "properties.reported.fw.version < '2.1.0'",
               "deviceId = 'sensor-042'", "capabilities.iotEdge = true"]
_METHODS = ["reboot", "firmwareUpdate", "setTelemetryInterval", "ping", "resetCounters"]
_PAYLOADS = [{"delay": 5}, {}, {"level": "debug", "verbose": True},
             {"version": "2.1.0", "url": "https://example.invalid/fw.bin"},
             "now", 42, None, [1, 2, 3], {"window": {"from": "22:00", "to": "06:00"}}]
_FAILURES = [("Device method timed out", "{failed} of {count} devices failed"),
             ("Job exceeded maxExecutionTimeInSeconds", "Timed out"),
             ("Device twin update rejected", "{failed} devices rejected the patch")]


def _time(rng, moment):
    """ISO 8601 with 7, 3 or no fractional digits, as the service mixes them."""
    digits = rng.choice([7, 3, 0])
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if digits == 7:
        text += ".{:06d}{}".format(moment.microsecond, moment.microsecond % 7)
    elif digits == 3:
        text += ".{:03d}".format(moment.microsecond // 1000)
    return text + "Z"


def _statistics(rng, status):
    if status in ("queued", "scheduled"):
        return {"deviceCount": 0, "failedCount": 0, "succeededCount": 0,
                "runningCount": 0, "pendingCount": 0}
    count = rng.randint(5, 500)
    failed = running = pending = 0
    if status == "enqueued":
        pending = count
    elif status == "running":
        running = rng.randint(1, count - 2)
        failed = rng.randint(0, (count - running) // 10)
        pending = rng.randint(0, count - running - failed)
    elif status == "completed":
        failed = rng.choice([0, 0, 0, rng.randint(1, count // 5)])
    elif status == "failed":
        failed = rng.randint(1, count)
    elif status == "cancelled":
        failed = rng.randint(0, count // 10)
        pending = rng.randint(1, count - failed)
    succeeded = count - failed - running - pending
    return {"deviceCount": count, "failedCount": failed, "succeededCount": succeeded,
            "runningCount": running, "pendingCount": pending}


def _method(rng):
    return {"methodName": rng.choice(_METHODS), "payload": rng.choice(_PAYLOADS),
            "responseTimeoutInSeconds": rng.choice([30, 60, 300]),
            "connectTimeoutInSeconds": rng.choice([0, 15, 30])}


def _twin(rng):
    twin = {"etag": "*",
            "tags": {"site": rng.choice(["paris", "lyon", "milano"])},
            "properties": {"desired": {"telemetryInterval": rng.choice([10, 30, 60]),
                                       "fw": {"version": rng.choice(["2.0.1", "2.1.0"])}}}}
    if rng.random() < 0.5:
        twin["deviceId"] = None
    return twin


def _times(rng, job, status, created):
    """Fill startTime and endTime as they look for a job in ``status``."""
    if status in ("queued", "scheduled"):
        job["startTime"] = _time(rng, created + datetime.timedelta(hours=rng.randint(1, 72)))
        if rng.random() < 0.5:
            job["endTime"] = NEVER
        return
    start = created + datetime.timedelta(seconds=rng.randint(0, 120))
    job["startTime"] = _time(rng, start)
    if status in ("enqueued", "running"):
        job["endTime"] = rng.choice([FAR_FUTURE, NEVER])
    else:
        end = start + datetime.timedelta(seconds=rng.randint(5, 3600),
                                         microseconds=rng.randint(0, 999999))
        job["endTime"] = _time(rng, end)


def _job(rng, index, job_type, status, created):
    if job_type in ("export", "import"):
        job = {"jobId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
               "type": job_type, "status": status, "createdTime": _time(rng, created)}
        if status != "unknown":
            _times(rng, job, status, created)
        if status == "failed":
            job["failureReason"] = "The storage container could not be reached"
        return job

    if rng.random() < 0.5:
        job_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    else:
        job_id = "{}-{:04d}".format("method" if job_type == "scheduleDeviceMethod" else "twin",
                                    index)
    job = {"jobId": job_id, "type": job_type, "status": status,
           "queryCondition": rng.choice(_CONDITIONS), "createdTime": _time(rng, created),
           "maxExecutionTimeInSeconds": rng.choice([600, 3600, 86400, 172800])}
    if status == "unknown":
        return job
    _times(rng, job, status, created)
    if job_type == "scheduleDeviceMethod":
        job["cloudToDeviceMethod"] = _method(rng)
    else:
        job["updateTwin"] = _twin(rng)
    stats = _statistics(rng, status)
    job["deviceJobStatistics"] = stats
    if status == "failed":
        reason, message = rng.choice(_FAILURES)
        job["failureReason"] = reason
        job["statusMessage"] = message.format(failed=stats["failedCount"],
                                              count=stats["deviceCount"])
    elif status == "cancelled":
        job["statusMessage"] = rng.choice([None, "Cancelled by user"])
    return job


def generated_jobs():
    rng = random.Random(SEED)
    kinds = [kind for kind, count in sorted(COUNTS.items()) for _ in range(count)]
    rng.shuffle(kinds)
    created = _START
    jobs = []
    for index, (job_type, status) in enumerate(kinds):
        created += datetime.timedelta(minutes=rng.randint(20, 1800),
                                      microseconds=rng.randint(0, 999999))
        jobs.append(_job(rng, index, job_type, status, created))
    return jobs


def seeded_jobs():
    """Every job a fresh (or reset) emulator serves."""
    return fixture_jobs() + generated_jobs()
