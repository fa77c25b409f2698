"""The live part of the emulated hub: devices and their twins, the jobs created
through the API (scheduled and import/export) and the emulated clock.

Everything is evaluated lazily: before any read or change, ``_catch_up``
fires every job event and device report due by the emulated "now", in time
order (ties: the older job first, reports before jobs). No background thread; every answer sees one consistent
state. One lock guards it all.
"""

import copy
import heapq
import itertools
import threading

from . import devices, jobs, query, twins
from .bulk import BulkJob
from .clock import Clock, iso
from .errors import ServiceError
from .scheduled import ScheduledJob


class Conflict(Exception):
    pass


class Registry:
    """Devices by id (live dicts {"twin", "method"}); used under the hub's lock."""

    def __init__(self):
        self.devices = devices.seeded_devices()
        self.modules = devices.seeded_modules()   # device id -> module id -> twin
        self.reports = []         # heap of (due, seq, device id, desired patch)
        self._seq = itertools.count()
        self.report_micros = 0    # set by the hub from its clock

    def desired_changed(self, device_id, update, at):
        """A twin job patched this device at ``at``: a connected device
        reports the desired values it got, report_micros later."""
        desired = (update.get("properties") or {}).get("desired")
        device = self.devices.get(device_id)
        if not isinstance(desired, dict) or not desired or device is None or \
                device["twin"].get("connectionState") != "Connected":
            return
        heapq.heappush(self.reports, (at + self.report_micros, next(self._seq), device_id,
                                      copy.deepcopy(desired)))

    def report_due(self, now):
        return self.reports[0][0] if self.reports and self.reports[0][0] <= now else None

    def fire_report(self):
        at, _, device_id, desired = heapq.heappop(self.reports)
        device = self.devices.get(device_id)
        if device is not None:
            twins.report(device["twin"], desired, iso(at))

    def get(self, device_id):
        return self.devices.get(device_id)

    def twin(self, device_id, module_id=None):
        """The live twin document; 404 DeviceNotFound / ModuleNotFound."""
        device = self.devices.get(device_id)
        if device is None:
            raise ServiceError("DeviceNotFound", "Device {} not registered".format(device_id))
        if module_id is None:
            return device["twin"]
        module = self.modules.get(device_id, {}).get(module_id)
        if module is None:
            raise ServiceError("ModuleNotFound", "Module {} on device {} not registered"
                               .format(module_id, device_id))
        return module

    def module_twins(self):
        """Every module twin, by device id then module id."""
        return [self.modules[d][m] for d in sorted(self.modules) for m in sorted(self.modules[d])]

    def matching(self, tree):
        """Ids of the devices whose twin satisfies ``tree``, sorted."""
        return sorted(ident for ident, device in self.devices.items()
                      if query.matches(tree, query.twin_resolver(device["twin"])))


class Hub:
    def __init__(self, clock=None):
        self.clock = clock or Clock()
        self._lock = threading.RLock()
        self.reset()

    def reset(self):
        with self._lock:
            self.clock.reset()
            self.registry = Registry()
            self._jobs = {}   # scheduled jobs by id, in creation order
            self._bulk = {}   # import/export jobs by id, in creation order

    def _catch_up(self):
        now = self.clock.now()
        self.registry.report_micros = self.clock.report_micros
        while True:
            best = None
            for job in self._jobs.values():
                at = job.due(now)
                if at is not None and (best is None or at < best[0]):
                    best = (at, job)
            report = self.registry.report_due(now)
            if report is not None and (best is None or report <= best[0]):
                self.registry.fire_report()
                continue
            if best is None:
                return now
            best[1].fire(best[0], self.registry)

    # -- clock ----------------------------------------------------------------
    def configure_clock(self, **settings):
        with self._lock:
            self._catch_up()   # events due at the old speed happen at the old speed
            self.clock.configure(**settings)
            self._catch_up()
            return self.clock.describe()

    def describe_clock(self):
        with self._lock:
            self._catch_up()
            return self.clock.describe()

    # -- devices --------------------------------------------------------------
    def twin(self, device_id):
        with self._lock:
            self._catch_up()
            device = self.registry.get(device_id)
            return copy.deepcopy(device["twin"]) if device else None

    def twins(self, tree):
        with self._lock:
            self._catch_up()
            return [copy.deepcopy(self.registry.get(ident)["twin"])
                    for ident in self.registry.matching(tree)]

    def get_twin(self, device_id, module_id=None):
        """A device or module twin; raises ServiceError 404 when there is none."""
        with self._lock:
            self._catch_up()
            return copy.deepcopy(self.registry.twin(device_id, module_id))

    def write_twin(self, device_id, module_id, body, if_match, replace):
        """PATCH (replace False) or PUT a twin after the If-Match check; the new twin."""
        with self._lock:
            now = self._catch_up()
            twin = self.registry.twin(device_id, module_id)
            twins.check_etag(twin, if_match)
            scratch = copy.deepcopy(twin)   # a refused body leaves the twin untouched
            (twins.apply_replace if replace else twins.apply_patch)(scratch, body, iso(now))
            twin.clear()
            twin.update(scratch)
            return copy.deepcopy(twin)

    def query_documents(self, source):
        """Every document a query FROM ``source`` reads, in answer order."""
        with self._lock:
            self._catch_up()
            if source == "devices":
                docs = [self.registry.devices[i]["twin"] for i in sorted(self.registry.devices)]
            elif source == "devices.modules":
                docs = self.registry.module_twins()
            else:
                docs = [row for job in self._jobs.values()
                        for row in job.device_rows(self.registry)]
            return copy.deepcopy(docs)

    def device(self, device_id):
        with self._lock:
            self._catch_up()
            return copy.deepcopy(self.registry.get(device_id))

    def put_device(self, device_id, spec):
        with self._lock:
            self._catch_up()
            self.registry.devices[device_id] = devices.new_device(device_id, spec)
            return copy.deepcopy(self.registry.devices[device_id])

    def delete_device(self, device_id):
        with self._lock:
            self._catch_up()
            self.registry.modules.pop(device_id, None)
            return self.registry.devices.pop(device_id, None) is not None

    # -- scheduled jobs -----------------------------------------------------------
    def has_job(self, job_id):
        with self._lock:
            return job_id in self._jobs or job_id in self._bulk

    def create_job(self, job_id, body, tree, start):
        """Create a scheduled job (already validated); its JobResponse at creation."""
        with self._lock:
            now = self._catch_up()
            if job_id in self._jobs or job_id in self._bulk:
                raise Conflict(job_id)
            count = len(self.registry.matching(tree))
            job = ScheduledJob(job_id, body, tree, now, start, self.clock.device_micros, count)
            self._jobs[job_id] = job
            return job.response()

    def job(self, job_id):
        """A scheduled job's JobResponse, an import/export job's v2 view, or None."""
        with self._lock:
            self._catch_up()
            if job_id in self._jobs:
                return self._jobs[job_id].response()
            if job_id in self._bulk:
                return self._bulk[job_id].v2_view()
            return None

    def jobs(self, filters):
        with self._lock:
            self._catch_up()
            found = (job.response() for job in self._jobs.values())
            return [job for job in found if jobs.matches(job, filters)]

    def cancel_job(self, job_id):
        with self._lock:
            now = self._catch_up()
            job = self._jobs.get(job_id)
            if job is None:
                return None
            job.cancel(now, self.registry)
            return job.response()

    def forget_job(self, job_id):
        with self._lock:
            return self._jobs.pop(job_id, None) is not None

    def device_job_rows(self, tree):
        with self._lock:
            self._catch_up()
            rows = [row for job in self._jobs.values() for row in job.device_rows(self.registry)]
            return [row for row in rows if query.matches(tree, query.device_job_resolver(row))]

    # -- import/export jobs -------------------------------------------------------
    def create_bulk(self, body):
        with self._lock:
            now = self._catch_up()
            for job in self._bulk.values():
                if job.active(now):
                    raise Conflict(job.job_id)
            job = BulkJob(body, now)
            self._bulk[job.job_id] = job
            return job.properties(now)

    def bulk_jobs(self):
        with self._lock:
            now = self._catch_up()
            return [job.properties(now) for job in self._bulk.values()]

    def bulk_job(self, job_id):
        with self._lock:
            now = self._catch_up()
            job = self._bulk.get(job_id)
            return job.properties(now) if job else None

    def cancel_bulk(self, job_id):
        """(whether it was active and is now cancelled, its properties), or None."""
        with self._lock:
            now = self._catch_up()
            job = self._bulk.get(job_id)
            if job is None:
                return None
            return job.cancel(now), job.properties(now)
