"""Everything an emulator remembers: its planted jobs, the live hub (devices,
created jobs, clock), the bearer tokens issued by the Azure AD and managed
identity endpoints, the ARM page size, the request log, counters, and the
artificial delays and scripted faults set through the control API. Shared by
request threads.

Control API requests (under /_emulator/) are not logged or counted, so tests
see only what the client under test sent.
"""

import collections
import threading
from urllib.parse import unquote_plus

from . import sas
from .aad import TokenStore
from .arm import DEFAULT_PAGE_SIZE
from .faults import FaultStore
from .hub import Hub
from .jobs import JobStore
from .seed import seeded_jobs

LOG_SIZE = 1000
REDACTED = "***"
SECRET_FIELDS = ("client_secret", "client_assertion")


def _auth_summary(header):
    """The Authorization header without its secret part."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return {"scheme": scheme, "length": len(rest.strip())}
    return sas.summary(header)


def _redact_form(text):
    """A form body with the values of secret fields replaced by ***."""
    pairs = text.split("&")
    for i, pair in enumerate(pairs):
        name, sep, _ = pair.partition("=")
        if sep and unquote_plus(name).strip() in SECRET_FIELDS:
            pairs[i] = name + "=" + REDACTED
    return "&".join(pairs)


class EmulatorState:
    def __init__(self):
        self._seed = seeded_jobs()
        self.jobs = JobStore(self._seed)
        self.hub = Hub()
        self.tokens = TokenStore(self.hub.clock)
        self.arm_page_size = DEFAULT_PAGE_SIZE
        self.faults = FaultStore()
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
        with no created jobs, log, counters, delays or faults."""
        self.jobs.replace_all(self._seed)
        self.hub.reset()
        self.tokens.reset()
        self.faults.clear()
        self.arm_page_size = DEFAULT_PAGE_SIZE
        with self._lock:
            self._clear()

    def new_connection(self):
        """Count an accepted TCP connection and return its id."""
        with self._lock:
            self._last_connection_id += 1
            self._accepted += 1
            return self._last_connection_id

    def record(self, request, fault=None):
        headers = dict(request.headers)
        if "authorization" in headers:
            headers["authorization"] = _auth_summary(headers["authorization"])
        if "x-identity-header" in headers:
            headers["x-identity-header"] = REDACTED
        entry = {
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "headers": headers,
            "body": _redact_form(request.body.decode("utf-8", errors="replace"))
                    if request.body else None,
            "connection": request.connection,
        }
        if fault is not None:
            entry["fault"] = fault.kind
            entry["fault_id"] = fault.id
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
