"""The emulated clock every job time comes from.

    emulated now = real start + real elapsed * speed + manual advances

Times are whole microseconds since the Unix epoch (ints), so job timelines
computed from them are exact and deterministic. Changing the speed re-anchors
the clock at the current emulated time, so time never jumps. ``speed`` 0
freezes the clock: tests then move it only with ``advance``.
"""

import datetime
import re
import threading
import time

DEFAULT_SPEED = 1.0
DEFAULT_DEVICE_SECONDS = 0.25
DEFAULT_REPORT_SECONDS = 0.5   # how long a device takes to report new desired values
MICROS = 1_000_000
FAR_FUTURE = "9999-12-30T23:59:59.9999999Z"

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,7}))?Z")


def iso(micros):
    """ISO 8601 UTC with 7 fractional digits, as the service writes them."""
    moment = _EPOCH + datetime.timedelta(microseconds=micros)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def parse_iso(text):
    """Microseconds for ``YYYY-MM-DDTHH:MM:SS[.f{1,7}]Z``; ValueError otherwise."""
    match = _ISO.fullmatch(text) if isinstance(text, str) else None
    if not match:
        raise ValueError("not an ISO 8601 UTC time (YYYY-MM-DDTHH:MM:SS[.fffffff]Z)")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = (match.group(7) or "").ljust(7, "0")
    moment = datetime.datetime(year, month, day, hour, minute, second,
                               tzinfo=datetime.timezone.utc)  # ValueError if impossible
    return (moment - _EPOCH) // datetime.timedelta(microseconds=1) + int(fraction) // 10


class Clock:
    """Thread-safe emulated clock; ``real_time``/``monotonic`` are injectable."""

    def __init__(self, real_time=time.time, monotonic=time.monotonic):
        self._real_time = real_time
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self._anchor_emulated = int(self._real_time() * MICROS)
            self._anchor_real = self._monotonic()
            self._speed = DEFAULT_SPEED
            self._device_seconds = DEFAULT_DEVICE_SECONDS
            self._report_seconds = DEFAULT_REPORT_SECONDS

    def _now(self):
        elapsed = self._monotonic() - self._anchor_real
        return self._anchor_emulated + int(elapsed * self._speed * MICROS)

    def now(self):
        """Emulated time, in microseconds since the epoch."""
        with self._lock:
            return self._now()

    @property
    def device_micros(self):
        """How long a job spends on one device, in emulated microseconds."""
        with self._lock:
            return int(self._device_seconds * MICROS)

    @property
    def report_micros(self):
        """How long after a twin job patches a device it reports the desired values."""
        with self._lock:
            return int(self._report_seconds * MICROS)

    def configure(self, speed=None, advance=None, device_seconds=None, report_seconds=None):
        """Change the speed, jump ahead ``advance`` seconds, set the per-device
        time and the devices' report delay."""
        with self._lock:
            if speed is not None:
                self._anchor_emulated = self._now()
                self._anchor_real = self._monotonic()
                self._speed = float(speed)
            if advance is not None:
                self._anchor_emulated += int(advance * MICROS)
            if device_seconds is not None:
                self._device_seconds = float(device_seconds)
            if report_seconds is not None:
                self._report_seconds = float(report_seconds)

    def describe(self):
        with self._lock:
            return {"now": iso(self._now()), "speed": self._speed,
                    "device_seconds": self._device_seconds,
                    "report_seconds": self._report_seconds}
