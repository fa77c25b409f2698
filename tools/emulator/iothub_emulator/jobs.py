"""The store of planted jobs (seeded, fixtures, control API) and their order.

Query results come in a stable order (createdTime, then jobId); paging itself
lives in paging.py.
"""

import copy
import re
import threading

from . import paging
from .paging import parse_page_size  # noqa: F401  (kept for callers and tests)

_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?Z")


def created_key(job):
    """Sort key for createdTime, whatever its number of fractional digits."""
    match = _TIME.fullmatch(str(job.get("createdTime", "")))
    if not match:
        return ("", "", str(job.get("jobId")))
    return (match.group(1), (match.group(2) or "").ljust(7, "0"), str(job.get("jobId")))


def matches(job, filters):
    """Whether every field named in ``filters`` equals its value, without
    regard to case (the service's jobType and jobStatus filters ignore it)."""
    for key, wanted in filters.items():
        value = job.get(key)
        if not isinstance(value, str) or value.lower() != wanted.lower():
            return False
    return True


class JobStore:
    """Jobs by id, safe to share between request threads. Returns copies."""

    def __init__(self, jobs=()):
        self._lock = threading.Lock()
        self._jobs = {}
        self.replace_all(jobs)

    def replace_all(self, jobs):
        with self._lock:
            self._jobs = {job["jobId"]: copy.deepcopy(job) for job in jobs}

    def __len__(self):
        with self._lock:
            return len(self._jobs)

    def get(self, job_id):
        with self._lock:
            return copy.deepcopy(self._jobs.get(job_id))

    def put(self, job):
        with self._lock:
            self._jobs[job["jobId"]] = copy.deepcopy(job)

    def delete(self, job_id):
        with self._lock:
            return self._jobs.pop(job_id, None) is not None

    def query(self, filters, start=0, stop=None):
        """The jobs whose fields match ``filters`` ({"type": .., "status": ..}),
        in order, sliced [start:stop]; and how many match in all."""
        with self._lock:
            found = sorted((job for job in self._jobs.values()
                            if matches(job, filters)),
                           key=created_key)
            return copy.deepcopy(found[start:stop]), len(found)


def page(store, filters, size, token=None):
    """One page of a query: (items, continuation token or None on the last page)."""
    return paging.page_of(lambda start, stop: store.query(filters, start, stop),
                          filters, size, token)
