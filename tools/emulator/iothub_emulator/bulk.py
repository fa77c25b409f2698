"""Import/export jobs (the v1 jobs API: POST /jobs/create, GET/DELETE /jobs/{id}).

Each job follows a fixed timeline on the emulated clock from its creation:
"enqueued" for 1 s, "running" for 4 s with progress 0..99, then "completed"
(progress 100, endTimeUtc set). An import whose inputBlobContainerUri
contains "fail" ends "failed" 3 s after creation. Cancelling freezes an
active job as "cancelled". Only one job may be active at a time.
"""

import copy
import uuid
from urllib.parse import urlparse

from .clock import MICROS, iso

ENQUEUED_FOR = 1 * MICROS
DONE_AFTER = 5 * MICROS
FAIL_AFTER = 3 * MICROS
FAILURE_REASON = "Failed to read the devices from the input blob container"
TYPES = ("export", "import")


class InvalidBulkJob(ValueError):
    pass


def _check_uri(body, key):
    uri = body.get(key)
    if not isinstance(uri, str) or not uri:
        raise InvalidBulkJob("{} is required".format(key))
    parsed = urlparse(uri)
    if parsed.scheme.lower() != "https" or not parsed.netloc:
        raise InvalidBulkJob("{} must be an https URI".format(key))


def validate(body):
    if not isinstance(body, dict):
        raise InvalidBulkJob("The job properties must be a JSON object")
    if body.get("type") not in TYPES:
        raise InvalidBulkJob("type must be export or import")
    _check_uri(body, "outputBlobContainerUri")
    if body["type"] == "import":
        _check_uri(body, "inputBlobContainerUri")
    if "excludeKeysInExport" in body and not isinstance(body["excludeKeysInExport"], bool):
        raise InvalidBulkJob("excludeKeysInExport must be true or false")


class BulkJob:
    def __init__(self, body, now, job_id=None):
        self.job_id = job_id or str(uuid.uuid4())
        self.body = copy.deepcopy(body)
        self.type = body["type"]
        self.created = now
        self.cancelled_at = None
        self.fails = self.type == "import" and "fail" in body.get("inputBlobContainerUri", "")

    def _phase(self, now):
        """(status, progress, end time or None) at ``now``."""
        if self.cancelled_at is not None and self.cancelled_at <= now:
            progress = self._natural(self.cancelled_at)[1]
            return "cancelled", progress, self.cancelled_at
        return self._natural(now)

    def _natural(self, now):
        """The phase at ``now`` had the job not been cancelled."""
        elapsed = now - self.created
        if self.fails and elapsed >= FAIL_AFTER:
            return "failed", self._progress(FAIL_AFTER), self.created + FAIL_AFTER
        if elapsed >= DONE_AFTER:
            return "completed", 100, self.created + DONE_AFTER
        if elapsed >= ENQUEUED_FOR:
            return "running", self._progress(elapsed), None
        return "enqueued", 0, None

    @staticmethod
    def _progress(elapsed):
        return min(99, max(0, (elapsed - ENQUEUED_FOR) * 100 // (DONE_AFTER - ENQUEUED_FOR)))

    def status(self, now):
        return self._phase(now)[0]

    def active(self, now):
        return self.status(now) in ("enqueued", "running")

    def cancel(self, now):
        """Cancel if active; return whether it was."""
        if not self.active(now):
            return False
        self.cancelled_at = now
        return True

    def properties(self, now):
        status, progress, end = self._phase(now)
        job = {"jobId": self.job_id, "startTimeUtc": iso(self.created), "type": self.type,
               "status": status, "progress": progress,
               "outputBlobContainerUri": self.body["outputBlobContainerUri"]}
        for key in ("inputBlobContainerUri", "excludeKeysInExport", "storageAuthenticationType",
                    "inputBlobName", "outputBlobName"):
            if key in self.body:
                job[key] = self.body[key]
        if end is not None:
            job["endTimeUtc"] = iso(end)
        if status == "failed":
            job["failureReason"] = FAILURE_REASON
        return job

    def v2_view(self):
        """What GET /jobs/v2/{id} shows for an import/export job: status unknown."""
        return {"jobId": self.job_id, "type": self.type, "status": "unknown",
                "createdTime": iso(self.created)}
