"""Everything an emulator remembers: its planted jobs, the live hub (devices,
created jobs, clock), the request log, counters and the artificial delays set
through the control API. Shared by request threads.

Control API requests (under /_emulator/) are not logged or counted, so tests
see only what the client under test sent.
"""

import collections
import threading

from . import sas
from .hub import Hub
from .jobs import JobStore
from .seed import seeded_jobs

LOG_SIZE = 1000


class EmulatorState:
    def __init__(self):
        self._seed = seeded_jobs()
        self.jobs = JobStore(self._seed)
        self.hub = Hub()
        self._lock = threading.Lock()
        self._last_connection_id = 0  # never reset: ids stay unique for the process
        self._clear()

    def _clear(self):
        self._log = collections.deque(maxlen=LOG_SIZE)
        self._requests = 0
        self._accepted = 0
        self._service_connections = set()
        self._delays = {}

    def reset(self):
        """Back to the seeded jobs and fleet, the clock at real time and speed 1,
        with no created jobs, log, counters or delays."""
        self.jobs.replace_all(self._seed)
        self.hub.reset()
        with self._lock:
            self._clear()

    def new_connection(self):
        """Count an accepted TCP connection and return its id."""
        with self._lock:
            self._last_connection_id += 1
            self._accepted += 1
            return self._last_connection_id

    def record(self, request):
        auth = request.headers.get("authorization")
        headers = dict(request.headers)
        if auth is not None:
            headers["authorization"] = sas.summary(auth)
        entry = {
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "headers": headers,
            "body": request.body.decode("utf-8", errors="replace") if request.body else None,
            "connection": request.connection,
        }
        with self._lock:
            self._log.append(entry)
            self._requests += 1
            self._service_connections.add(request.connection)

    def requests(self):
        with self._lock:
            return list(self._log)

    def clear_requests(self):
        with self._lock:
            self._log.clear()

    def stats(self):
        with self._lock:
            return {"requests": self._requests,
                    "connections": len(self._service_connections),
                    "connections_accepted": self._accepted}

    def set_delay(self, path_prefix, seconds):
        with self._lock:
            if seconds > 0:
                self._delays[path_prefix] = seconds
            else:
                self._delays.pop(path_prefix, None)
            return dict(self._delays)

    def delay_for(self, path):
        """Seconds to wait before answering ``path``: the longest matching prefix wins."""
        with self._lock:
            matches = [p for p in self._delays if path.startswith(p)]
            return self._delays[max(matches, key=len)] if matches else 0
