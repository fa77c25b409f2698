"""The job store and the paging of job queries.

Query results come in a stable order (createdTime, then jobId). A continuation
token is opaque to clients: urlsafe base64 of a small JSON object holding the
offset of the next item and the filters it belongs to, so a token can only
continue the query that produced it.
"""

import base64
import binascii
import copy
import json
import re
import threading

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?Z")


def _created_key(job):
    """Sort key for createdTime, whatever its number of fractional digits."""
    match = _TIME.fullmatch(str(job.get("createdTime", "")))
    if not match:
        return ("", "", str(job.get("jobId")))
    return (match.group(1), (match.group(2) or "").ljust(7, "0"), str(job.get("jobId")))


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
        """The jobs whose fields equal ``filters`` ({"type": .., "status": ..}),
        in order, sliced [start:stop]; and how many match in all."""
        with self._lock:
            found = sorted((job for job in self._jobs.values()
                            if all(job.get(k) == v for k, v in filters.items())),
                           key=_created_key)
            return copy.deepcopy(found[start:stop]), len(found)


def parse_page_size(value):
    """The page size asked by ``x-ms-max-item-count``, clamped to 1..1000."""
    if value is None:
        return DEFAULT_PAGE_SIZE
    size = int(value.strip())  # ValueError for anything but an integer
    return min(max(size, 1), MAX_PAGE_SIZE)


def encode_token(offset, filters):
    data = json.dumps({"offset": offset, "filters": filters}, sort_keys=True,
                      separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode("utf-8")).decode("ascii")


def decode_token(token, filters):
    """The offset a token stands for; ValueError if it is not one of ours for ``filters``."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError):
        raise ValueError("undecodable continuation token") from None
    if not isinstance(data, dict) or data.get("filters") != filters:
        raise ValueError("continuation token belongs to another query")
    offset = data.get("offset")
    if type(offset) is not int or offset < 0:
        raise ValueError("bad offset in continuation token")
    return offset


def page(store, filters, size, token=None):
    """One page of a query: (items, continuation token or None on the last page)."""
    offset = decode_token(token, filters) if token else 0
    end = offset + size
    items, total = store.query(filters, offset, end)
    return items, (encode_token(end, filters) if end < total else None)
