"""Hand-written jobs with exactly known content, for tests to assert on.

Documented field by field in tools/emulator/README.md; keep the two in step.
"""

TWIN_1 = {
    "jobId": "fixture-twin-1",
    "type": "scheduleUpdateTwin",
    "status": "completed",
    "queryCondition": "tags.site = 'paris'",
    "createdTime": "2026-11-23T09:59:58.5Z",
    "startTime": "2026-11-23T10:00:00.1234567Z",
    "endTime": "2026-11-23T10:05:00Z",
    "maxExecutionTimeInSeconds": 3600,
    "updateTwin": {
        "etag": "*",
        "tags": {"site": "paris", "floor": 3, "owner": None},
        "properties": {"desired": {
            "fw": {"version": "2.1.0", "channels": [1, 2, 3], "flags": [], "meta": {}},
            "telemetryInterval": 30,
            "obsolete": None,
            "ratio": 0.5,
        }},
    },
    "statusMessage": None,
    "deviceJobStatistics": {"deviceCount": 10, "failedCount": 1, "succeededCount": 9,
                            "runningCount": 0, "pendingCount": 0},
}

METHOD_1 = {
    "jobId": "fixture-method-1",
    "type": "scheduleDeviceMethod",
    "status": "running",
    "queryCondition": "deviceId IN ['d1','d2','d3','d4']",
    "createdTime": "0001-01-01T00:00:00Z",
    "startTime": "2026-11-23T11:00:00Z",
    "endTime": "9999-12-30T23:59:59.9999999Z",
    "maxExecutionTimeInSeconds": 7200,
    "cloudToDeviceMethod": {
        "methodName": "reboot",
        "payload": {"delay": 5, "force": False, "note": "", "nothing": None,
                    "list": [1, None, "x"]},
        "responseTimeoutInSeconds": 30,
        "connectTimeoutInSeconds": 0,
    },
    "deviceJobStatistics": {"deviceCount": 4, "failedCount": 0, "succeededCount": 1,
                            "runningCount": 2, "pendingCount": 1},
}

METHOD_FALSY = {
    "jobId": "fixture-method-falsy",
    "type": "scheduleDeviceMethod",
    "status": "completed",
    "queryCondition": "deviceId = 'd1'",
    "createdTime": "2026-11-23T12:00:00Z",
    "startTime": "2026-11-23T12:00:00Z",
    "endTime": "2026-11-23T12:00:02.250Z",
    "maxExecutionTimeInSeconds": 60,
    "cloudToDeviceMethod": {"methodName": "setLevel", "payload": 0,
                            "responseTimeoutInSeconds": 30, "connectTimeoutInSeconds": 0},
    "deviceJobStatistics": {"deviceCount": 1, "failedCount": 0, "succeededCount": 1,
                            "runningCount": 0, "pendingCount": 0},
}

FAILED_1 = {
    "jobId": "fixture-failed-1",
    "type": "scheduleDeviceMethod",
    "status": "failed",
    "queryCondition": "tags.site = 'lyon'",
    "createdTime": "2026-11-23T13:00:00Z",
    "startTime": "2026-11-23T13:00:00Z",
    "endTime": "2026-11-23T13:01:00Z",
    "maxExecutionTimeInSeconds": 600,
    "cloudToDeviceMethod": {"methodName": "ping", "payload": {},
                            "responseTimeoutInSeconds": 60, "connectTimeoutInSeconds": 30},
    "failureReason": "Device method timed out",
    "statusMessage": "1 of 3 devices failed",
    "deviceJobStatistics": {"deviceCount": 3, "failedCount": 1, "succeededCount": 2,
                            "runningCount": 0, "pendingCount": 0},
}

# Ids that break naive URL building: each needs percent-encoding in the path.
ODD_IDS = ["job with space", "a/b", "q?x=1", "h#1", "pct%20lit", "ünïcødé-日本", "plus+sign"]


def _odd_job(index, job_id):
    return {
        "jobId": job_id,
        "type": "scheduleDeviceMethod",
        "status": "completed",
        "queryCondition": "deviceId = 'odd-{}'".format(index),
        "createdTime": "2026-06-01T00:00:0{}Z".format(index),
        "startTime": "2026-06-01T00:00:0{}Z".format(index),
        "endTime": "2026-06-01T00:01:0{}Z".format(index),
        "maxExecutionTimeInSeconds": 60,
        "cloudToDeviceMethod": {"methodName": "ping", "payload": {"id": job_id},
                                "responseTimeoutInSeconds": 30,
                                "connectTimeoutInSeconds": 0},
        "deviceJobStatistics": {"deviceCount": 1, "failedCount": 0, "succeededCount": 1,
                                "runningCount": 0, "pendingCount": 0},
    }


def fixture_jobs():
    return [TWIN_1, METHOD_1, METHOD_FALSY, FAILED_1] + [
        _odd_job(i, job_id) for i, job_id in enumerate(ODD_IDS)]
