"""Scheduled jobs created through PUT /jobs/v2/{id}: validation and the
timeline each one follows on the emulated clock.

A job waits ("scheduled" or "queued") until its start time (or its creation,
if later). It then fixes its target devices (the query evaluated at that
moment) and is "running": it spends ``device_micros`` on each device in turn
(the device in progress counts as running, the rest as pending), and finishes
"completed" (even if some devices failed) once all are done. A job that runs
longer than maxExecutionTimeInSeconds ends "failed". The hub (hub.py) fires
the events of all jobs in time order, so one job's twin updates are seen by
the queries of the jobs that start after them.
"""

import copy

from . import devices, query
from .clock import FAR_FUTURE, MICROS, iso, parse_iso

TYPES = ("scheduleDeviceMethod", "scheduleUpdateTwin")
DEFAULT_MAX_EXECUTION = 3600
FORCE_UPDATE = "ScheduleUpdateTwin job type is a force update, which only accepts '*' as the Etag"
TIMEOUT_REASON = "Job exceeded its maximum execution time"
DONE = ("completed", "failed", "cancelled")


class InvalidJob(ValueError):
    pass


def _check_nulls(body, where=""):
    for key, value in body.items():
        if value is None:
            raise InvalidJob("{}{} must be left out rather than sent as null".format(where, key))


# Top-level fields the service refuses as null; every other null field is
# taken as left out (the .NET SDK sends "cloudToDeviceMethod": null in twin
# jobs and "updateTwin": null in method jobs).
NOT_NULL = ("startTime",)


def validate(job_id, body):
    """Check a JobRequest like the service does; return (start time or None,
    tree). Null top-level fields other than NOT_NULL are removed from body."""
    if not isinstance(body, dict):
        raise InvalidJob("The job request must be a JSON object")
    _check_nulls({key: body[key] for key in NOT_NULL if key in body})
    for key in [key for key, value in body.items() if value is None]:
        del body[key]
    if "jobId" in body and body["jobId"] != job_id:
        raise InvalidJob("jobId in the body ({!r}) differs from the job id in the path ({!r})"
                         .format(body["jobId"], job_id))
    job_type = body.get("type")
    if job_type not in TYPES:
        raise InvalidJob("type must be scheduleDeviceMethod or scheduleUpdateTwin, not {}"
                         .format("missing" if job_type is None else repr(job_type)))
    condition = body.get("queryCondition")
    if not isinstance(condition, str) or not condition.strip():
        raise InvalidJob("queryCondition is required")
    try:
        tree = query.parse_condition(condition)
    except query.QuerySyntaxError as err:
        raise InvalidJob("Invalid queryCondition: {}".format(err)) from None
    if job_type == "scheduleUpdateTwin":
        twin = body.get("updateTwin")
        if not isinstance(twin, dict):
            raise InvalidJob("updateTwin is required for a scheduleUpdateTwin job")
        if twin.get("etag") != "*":
            raise InvalidJob(FORCE_UPDATE)
    else:
        method = body.get("cloudToDeviceMethod")
        if not isinstance(method, dict):
            raise InvalidJob("cloudToDeviceMethod is required for a scheduleDeviceMethod job")
        _check_nulls({k: v for k, v in method.items() if k != "payload"}, "cloudToDeviceMethod.")
        name = method.get("methodName")
        if not isinstance(name, str) or not name:
            raise InvalidJob("cloudToDeviceMethod.methodName is required")
        for key in ("responseTimeoutInSeconds", "connectTimeoutInSeconds"):
            if key in method and (type(method[key]) is not int or method[key] < 0):
                raise InvalidJob("cloudToDeviceMethod.{} must be a non-negative integer"
                                 .format(key))
    limit = body.get("maxExecutionTimeInSeconds", DEFAULT_MAX_EXECUTION)
    if type(limit) is not int or limit <= 0:
        raise InvalidJob("maxExecutionTimeInSeconds must be a positive integer")
    start = None
    if "startTime" in body:
        try:
            start = parse_iso(body["startTime"])
        except ValueError as err:
            raise InvalidJob("startTime is invalid: {}".format(err)) from None
    return start, tree


class ScheduledJob:
    """One job's state; ``hub`` drives it by calling ``fire`` at ``next_event()``."""

    def __init__(self, job_id, body, tree, now, start, device_micros, device_count):
        self.job_id = job_id
        self.body = copy.deepcopy(body)
        self.type = body["type"]
        self.tree = tree
        self.created = now
        self.start = now if start is None else start
        self.start_text = body.get("startTime", iso(self.start))
        self.limit = body.get("maxExecutionTimeInSeconds", DEFAULT_MAX_EXECUTION)
        self.device_micros = device_micros
        self.preview_count = device_count
        self.waiting_status = "scheduled" if self.start > now else "queued"
        self.state = "waiting"   # waiting running completed failed cancelled
        self.started_at = None
        self.targets = []
        self.results = {}        # device id -> finished row fields
        self.index = 0           # the device in progress
        self.end = None
        self.failure_reason = None

    # -- timeline --------------------------------------------------------
    def due(self, now):
        """The time of the next event if it is due at ``now``, else None. A job
        starts once the clock has moved past its start (so it reads "queued"
        right after creation on a frozen clock)."""
        at = self.next_event()
        if at is None or at > now or (self.state == "waiting" and at == now):
            return None
        return at

    def next_event(self):
        if self.state == "waiting":
            return max(self.start, self.created)
        if self.state == "running":
            deadline = self.started_at + self.limit * MICROS
            return min(self._device_end(self.index), deadline)
        return None

    def _device_start(self, i):
        return self.started_at + i * self.device_micros

    def _device_end(self, i):
        return self.started_at + (i + 1) * self.device_micros

    def fire(self, at, registry):
        """Apply the event due at ``at``: start, one device done, or timeout."""
        if self.state == "waiting":
            self.state = "running"
            self.started_at = at
            self.targets = registry.matching(self.tree)
            if not self.targets:
                self._finish("completed", at)
            return
        deadline = self.started_at + self.limit * MICROS
        if self.index < len(self.targets) and self._device_end(self.index) <= deadline:
            device_id = self.targets[self.index]
            self.results[device_id] = self._process(device_id, registry, at)
            self.index += 1
            if self.index == len(self.targets):
                self._finish("completed", at)
            return
        for device_id in self.targets[self.index:]:
            self.results[device_id] = {
                "status": "failed", "start": self._device_start(self.index), "end": at,
                "error": {"code": "JobTimeout", "description": TIMEOUT_REASON}}
        self.index = len(self.targets)
        self.failure_reason = TIMEOUT_REASON
        self._finish("failed", at)

    def _finish(self, state, at):
        self.state = state
        self.end = at

    def _process(self, device_id, registry, at):
        row = {"start": self._device_start(self.index), "end": at}
        device = registry.get(device_id)
        if device is None:
            return {**row, "status": "failed", "error": {
                "code": "DeviceNotFound",
                "description": "Device '{}' was not found".format(device_id)}}
        if self.type == "scheduleUpdateTwin":
            devices.apply_twin_patch(device, self.body["updateTwin"], iso(at))
            registry.desired_changed(device_id, self.body["updateTwin"], at)
            return {**row, "status": "completed", "outcome": {"deviceMethodResponse": None}}
        name = self.body["cloudToDeviceMethod"]["methodName"]
        result, status, payload = devices.call_method(device, name)
        if result == "offline":
            return {**row, "status": "failed", "error": {
                "code": "DeviceNotOnline",
                "description": "Timed out waiting for device to connect."}}
        outcome = {"deviceMethodResponse": {"status": status, "payload": payload}}
        if result == "ok":
            return {**row, "status": "completed", "outcome": outcome}
        return {**row, "status": "failed", "outcome": outcome, "error": {
            "code": "DeviceMethodFailed",
            "description": "The device answered method '{}' with status {}".format(
                name, status)}}

    def cancel(self, at, registry):
        """Cancel a job that has not ended; devices not yet done become "canceled"."""
        if self.state in DONE:
            return
        if self.state == "waiting":
            self.started_at = max(self.start, self.created)
            self.targets = registry.matching(self.tree)
        self.state = "cancelled"
        self.end = at

    # -- views -----------------------------------------------------------
    @property
    def status(self):
        return self.waiting_status if self.state == "waiting" else self.state

    def statistics(self):
        stats = {"deviceCount": 0, "failedCount": 0, "succeededCount": 0,
                 "runningCount": 0, "pendingCount": 0}
        if self.state == "waiting":
            stats["deviceCount"] = self.preview_count
            return stats
        stats["deviceCount"] = len(self.targets)
        for device_id in self.targets:
            done = self.results.get(device_id)
            if done:
                stats["succeededCount" if done["status"] == "completed" else "failedCount"] += 1
        unfinished = len(self.targets) - len(self.results)
        if self.state == "running" and unfinished:
            stats["runningCount"] = 1
            unfinished -= 1
        stats["pendingCount"] = unfinished
        return stats

    def response(self):
        """The JobResponse as the service would send it now."""
        job = {"jobId": self.job_id, "type": self.type, "status": self.status,
               "queryCondition": self.body["queryCondition"],
               "createdTime": iso(self.created), "startTime": self.start_text,
               "maxExecutionTimeInSeconds": self.limit}
        if self.state == "running":
            job["endTime"] = FAR_FUTURE
        elif self.end is not None:
            job["endTime"] = iso(self.end)
        for key in ("updateTwin", "cloudToDeviceMethod"):
            if key in self.body:
                job[key] = copy.deepcopy(self.body[key])
        if self.failure_reason:
            job["failureReason"] = self.failure_reason
        job["deviceJobStatistics"] = self.statistics()
        return job

    def device_rows(self, registry):
        """The devices.jobs rows of this job, in target order."""
        if self.state == "waiting":
            ids, started = registry.matching(self.tree), max(self.start, self.created)
        else:
            ids, started = self.targets, self.started_at
        rows = []
        for i, device_id in enumerate(ids):
            row = {"deviceId": device_id, "jobId": self.job_id, "jobType": self.type}
            done = self.results.get(device_id)
            if self.state == "waiting":
                status, start, end, updated = "scheduled", started, None, self.created
            elif done:
                status, start, end, updated = done["status"], done["start"], done["end"], \
                    done["end"]
            elif self.state == "cancelled":
                status, start, end, updated = "canceled", started, self.end, self.end
            elif i == self.index:
                status, start, end, updated = "running", self._device_start(i), None, \
                    self._device_start(i)
            else:
                status, start, end, updated = "pending", started, None, started
            row.update({"status": status, "startTimeUtc": iso(start),
                        "endTimeUtc": FAR_FUTURE if end is None else iso(end),
                        "createdDateTimeUtc": iso(self.created),
                        "lastUpdatedDateTimeUtc": iso(updated)})
            if done:
                for key in ("outcome", "error"):
                    if key in done:
                        row[key] = copy.deepcopy(done[key])
            rows.append(row)
        return rows
