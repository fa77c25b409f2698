"""Scripted fault injection: make the emulator misbehave per route or request.

A test adds rules through ``POST /_emulator/faults``; each non-control
request takes the first rule that matches it (method, raw path prefix) and
still has uses left. The rule turns the request into an error answer, a
broken body, a stall, or a connection closed, truncated or reset mid-body;
or it delivers the real answer framed in a legal but unusual way (chunked,
dripped a byte at a time, HTTP/1.0, ended by a close, after an interim 1xx,
odd header case, junk after it...). Kinds that need the real answer run the
request through the normal routes first. How a response leaves the socket
(``deliver_*``) is decided here and carried out on the connection's handler
(server.py).
"""

import base64
import fcntl
import http
import json
import select
import socket
import ssl
import struct
import termios
import threading
import time
import uuid
from urllib.parse import unquote

from . import aad, arm, errors
from .routing import JSON_TYPE, Response

MAX_STALL = 600
MAX_BYTES = 4 << 30
MAX_DEPTH = 50_000_000
CHUNK = 64 * 1024
DRAIN_SECONDS = 1.0
CLOSE_NOTIFY_TIMEOUT = 1.0
BAD_UTF8 = b"\xff\xfe\xc3\x28"
OUTQ = getattr(termios, "TIOCOUTQ", None)  # bytes a socket has not had acknowledged (Linux)
MAX_CHUNK = 1 << 20
MAX_DELAY_MS = 10_000
MAX_IDLE_MS = 60_000
MAX_GARBAGE = 1 << 20
INTERIM = {100: [], 102: [], 103: [("Link", "</static/hints.css>; rel=preload; as=style")]}
TRAILER = ("x-fault-trailer", "done")
CHUNK_EXTENSION = b";name=value"
GARBAGE = b"JUNK\x00\xff\r\n"
# header_case: these names as sent; the rest get alternating letter case.
ODD_NAMES = {"content-length": "content-LENGTH", "content-type": "CONTENT-TYPE"}
# header_case: whitespace before and after each value, in turn (all of it OWS).
ODD_SPACING = (("", ""), ("   ", "\t"), ("\t", "  "), (" \t ", " "))
DUPLICATE = ("Cache-Control", "no-cache")

SHAPES = (1, 2, 3, 4, "arm", "arm_details", "aad", "text", "empty")
# Default service error code by HTTP status (else errors.CODES' first for it).
SERVICE_CODES = {400: "ArgumentInvalid", 401: "IotHubUnauthorizedAccess",
                 403: "IotHubQuotaExceeded", 404: "JobNotFound", 412: "PreconditionFailed",
                 429: "ThrottlingException", 500: "ServerError", 503: "ServiceUnavailable"}
ARM_CODES = {401: "InvalidAuthenticationToken", 403: "AuthorizationFailed",
             404: "ResourceNotFound", 429: "SubscriptionRequestsThrottled"}
COMMON = {"fault", "method", "path", "times", "skip", "headers"}
FIELDS = {  # kind -> the fields it takes besides COMMON
    "error": {"status", "shape", "code", "error_code", "message", "run"},
    "reset": {"after_bytes"},
    "close": {"run"},
    "stall": {"seconds", "then"},
    "truncate": {"after_bytes"},
    "truncated_json": {"status", "after_bytes"},
    "malformed_json": {"status", "run"},
    "oversize": {"status", "bytes", "chunked"},
    "invalid_utf8": {"status"},
    "deep_nesting": {"status", "depth", "run"},
    "body": {"status", "body", "body_b64", "content_type", "run"},
    "raw": {"data_b64", "run"},
    # The real answer (same status, headers and body), framed differently:
    "chunked": {"chunk_size", "extensions", "trailers", "odd_sizes"},
    "drip": {"piece", "delay_ms"},
    "connection_close": set(),
    "http10": set(),
    "no_length": set(),
    "informational": {"status"},
    "idle_close": {"after_ms"},
    "header_case": set(),
    "garbage_after": {"bytes", "delay_ms"},
    # Answered before the body is read (see take_early):
    "early_answer": {"status", "shape", "code", "error_code", "message", "drain_bytes"},
}
FRAMINGS = ("chunked", "drip", "connection_close", "http10", "no_length", "informational",
            "idle_close", "header_case", "garbage_after")


class FaultError(ValueError):
    """A rule that cannot be added; the message says why."""


def _int(spec, key, low, high, default=None):
    value = spec.get(key, default)
    if value is default and key not in spec:
        return value
    if type(value) is not int or not low <= value <= high:
        raise FaultError("{} must be an integer in {}..{}".format(key, low, high))
    return value


def _check(spec):
    """The rule ``spec`` (a JSON object) with its defaults; raises FaultError."""
    if not isinstance(spec, dict):
        raise FaultError('A fault must be a JSON object like {"fault": "error", "status": 503}')
    kind = spec.get("fault")
    if kind not in FIELDS:
        raise FaultError("fault must be one of {}, not {}".format(
            ", ".join(FIELDS), json.dumps(kind)))
    unknown = sorted(set(spec) - COMMON - FIELDS[kind])
    if unknown:
        raise FaultError("{} does not take {} (it takes {})".format(
            kind, ", ".join(unknown), ", ".join(sorted((COMMON | FIELDS[kind]) - {"fault"}))))
    rule = dict(spec)
    if spec.get("method") is not None:
        if not isinstance(spec["method"], str) or not spec["method"].isalpha():
            raise FaultError("method must be an HTTP method name like GET")
        rule["method"] = spec["method"].upper()
    path = spec.get("path")
    if path is not None and (not isinstance(path, str) or not path.startswith("/")):
        raise FaultError("path must be a string starting with /")
    rule.setdefault("method", None)
    rule.setdefault("path", None)
    rule["times"] = _int(spec, "times", 0, 2**31, 1)
    rule["skip"] = _int(spec, "skip", 0, 2**31, 0)
    headers = spec.get("headers", {})
    if not isinstance(headers, dict) or not all(
            isinstance(v, (str, int, float)) and not isinstance(v, bool) or v is None
            for v in headers.values()):
        raise FaultError("headers must be an object of name: string (or number, or null "
                         "to leave a default header out)")
    for name in headers:
        if not name or any(c in name for c in " :\r\n") or "\n" in str(headers[name]) \
                or "\r" in str(headers[name]):
            raise FaultError("headers: invalid header {}".format(json.dumps(name)))
    rule["headers"] = headers
    if "status" in FIELDS[kind] and kind != "informational":
        required = kind == "error"
        if required and "status" not in spec:
            raise FaultError("error needs a status (an HTTP status code)")
        rule["status"] = _int(spec, "status", 200, 599, 413 if kind == "early_answer" else 200)
    if "run" in spec and not isinstance(spec["run"], bool):
        raise FaultError("run must be true or false")
    if "after_bytes" in spec:
        _int(spec, "after_bytes", 0, MAX_BYTES)
    _CHECKS.get(kind, lambda rule: None)(rule)
    return rule


def _check_error(rule):
    shape = rule.setdefault("shape", 4)
    if shape not in SHAPES or isinstance(shape, bool):
        raise FaultError("shape must be one of 1, 2, 3, 4, \"arm\", \"arm_details\", "
                         "\"aad\", \"text\", \"empty\"")
    for key in ("code", "message"):
        if key in rule and not isinstance(rule[key], str):
            raise FaultError("{} must be a string".format(key))
    if "error_code" in rule:
        _int(rule, "error_code", 0, 2**31)


def _check_stall(rule):
    seconds = rule.get("seconds")
    if type(seconds) not in (int, float) or not 0 <= seconds <= MAX_STALL:
        raise FaultError("stall needs seconds, a number in 0..{}".format(MAX_STALL))
    if rule.setdefault("then", "respond") not in ("respond", "close", "reset"):
        raise FaultError('then must be "respond", "close" or "reset"')


def _check_oversize(rule):
    _int(rule, "bytes", 2, MAX_BYTES)
    if "bytes" not in rule:
        raise FaultError("oversize needs bytes, the body size")
    if not isinstance(rule.setdefault("chunked", False), bool):
        raise FaultError("chunked must be true or false")


def _check_deep(rule):
    rule["depth"] = _int(rule, "depth", 1, MAX_DEPTH, 10000)


def _check_body(rule):
    if "body" in rule and "body_b64" in rule:
        raise FaultError("give body or body_b64, not both")
    if "body" in rule and not isinstance(rule["body"], str):
        raise FaultError("body must be a string (use body_b64 for raw bytes)")
    if "body_b64" in rule:
        try:
            base64.b64decode(rule["body_b64"], validate=True)
        except (TypeError, ValueError):
            raise FaultError("body_b64 must be base64") from None
    content_type = rule.setdefault("content_type", JSON_TYPE)
    if content_type is not None and (not isinstance(content_type, str) or "\n" in content_type):
        raise FaultError("content_type must be a string or null")
    if rule["status"] in (204, 304) and (rule.get("body") or rule.get("body_b64")):
        raise FaultError("a {} answer has no body".format(rule["status"]))


def _check_raw(rule):
    try:
        base64.b64decode(rule.get("data_b64"), validate=True)
    except (TypeError, ValueError):
        raise FaultError("raw needs data_b64, the bytes to send as base64") from None


def _bool(rule, key):
    if not isinstance(rule.setdefault(key, False), bool):
        raise FaultError("{} must be true or false".format(key))


def _check_chunked(rule):
    rule["chunk_size"] = _int(rule, "chunk_size", 1, MAX_CHUNK, 7)
    _bool(rule, "extensions")
    _bool(rule, "trailers")
    _bool(rule, "odd_sizes")


def _check_drip(rule):
    rule["piece"] = _int(rule, "piece", 1, MAX_CHUNK, 1)
    rule["delay_ms"] = _int(rule, "delay_ms", 0, MAX_DELAY_MS, 1)


def _check_informational(rule):
    status = rule.setdefault("status", 100)
    if type(status) is not int or status not in INTERIM:
        raise FaultError("status must be one of {} (an interim answer)".format(
            ", ".join(map(str, INTERIM))))


def _check_idle_close(rule):
    rule["after_ms"] = _int(rule, "after_ms", 0, MAX_IDLE_MS, 50)


def _check_early(rule):
    rule["drain_bytes"] = _int(rule, "drain_bytes", 0, MAX_BYTES, 256 * 1024)
    _check_error(rule)


def _check_garbage(rule):
    rule["bytes"] = _int(rule, "bytes", 1, MAX_GARBAGE, 16)
    rule["delay_ms"] = _int(rule, "delay_ms", 0, MAX_DELAY_MS, 0)


_CHECKS = {"error": _check_error, "stall": _check_stall, "oversize": _check_oversize,
           "deep_nesting": _check_deep, "body": _check_body, "raw": _check_raw, "chunked": _check_chunked,
           "drip": _check_drip, "informational": _check_informational,
           "idle_close": _check_idle_close, "garbage_after": _check_garbage,
           "early_answer": _check_early}


class Fault:
    """One rule, its counters, and an event that ends its stalls early."""

    def __init__(self, fault_id, rule):
        self.id = fault_id
        self.rule = rule
        self.kind = rule["fault"]
        self.hits = 0
        self.skipped = 0
        self.cancelled = threading.Event()

    def matches(self, method, path):
        rule = self.rule
        return ((rule["method"] is None or rule["method"] == method)
                and (rule["path"] is None or path.startswith(rule["path"])))

    def used_up(self):
        return self.rule["times"] and self.hits >= self.rule["times"]

    def describe(self):
        times = self.rule["times"]
        return {"id": self.id, **self.rule, "hits": self.hits, "skipped": self.skipped,
                "remaining": times - self.hits if times else None}


class FaultStore:
    """The rules, in the order they were added. Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []
        self._last_id = 0  # never reset: an id names one rule for the process

    def add(self, spec):
        rule = _check(spec)
        with self._lock:
            self._last_id += 1
            self._faults.append(Fault(self._last_id, rule))
            return self._last_id

    def describe(self):
        with self._lock:
            return [fault.describe() for fault in self._faults]

    def clear(self, fault_id=None):
        """Remove every rule, or one; stalls in progress end now. The count removed."""
        with self._lock:
            gone = [f for f in self._faults if fault_id is None or f.id == fault_id]
            self._faults = [f for f in self._faults if f not in gone]
        for fault in gone:
            fault.cancelled.set()
        return len(gone)

    def take(self, request, early=False):
        """The rule this request gets, counted as a hit, or None. A rule still
        skipping counts the request as skipped and lets the next rules see it.
        ``early``: only the rules answered before the body is read
        (``early_answer``), which the others never see."""
        with self._lock:
            for fault in self._faults:
                if fault.used_up() or not fault.matches(request.method, request.path):
                    continue
                if (fault.kind == "early_answer") != early:
                    continue
                if fault.skipped < fault.rule["skip"]:
                    fault.skipped += 1
                    continue
                fault.hits += 1
                return fault
        return None


# -- answers ---------------------------------------------------------------------------
def _reason(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _service_code(status):
    if status in SERVICE_CODES:
        return SERVICE_CODES[status]
    return next((c for c, n in errors.CODES.items() if n // 1000 == status), "GenericError")


def _error(rule, request):
    status, shape = rule["status"], rule["shape"]
    message = rule.get("message")
    if shape == "aad":
        default = ("invalid_client", 7000215) if status == 401 else \
                  ("temporarily_unavailable", 50196) if status == 429 else \
                  ("temporarily_unavailable", 90033) if status >= 500 else \
                  ("invalid_request", 900144)
        response = aad.aad_error(request, status, rule.get("code", default[0]),
                                 rule.get("error_code", default[1]),
                                 message or "Injected fault.").response
    elif shape in ("arm", "arm_details"):
        code = rule.get("code") or ARM_CODES.get(status) or _reason(status).replace(" ", "")
        message = message or "Injected fault: {}".format(code)
        if shape == "arm":
            response = arm.arm_error(request, status, code, message).response
        else:
            response = arm.details_error(request, status, _reason(status).replace(" ", ""),
                                         code, message).response
    elif shape in ("text", "empty"):
        body = b"" if shape == "empty" else (message or _reason(status)).encode("utf-8")
        response = Response(status, body, {} if shape == "empty" else
                            {"Content-Type": "text/plain; charset=utf-8"})
    else:
        code = rule.get("code") or _service_code(status)
        number = rule.get("error_code", errors.CODES.get(code, status * 1000))
        message = message or "Injected fault: {}".format(code)
        body = {1: lambda: errors.message_body(code, message),
                2: lambda: errors.nested_body(code, message, status),
                3: lambda: errors.escaped_body(code, message, number),
                4: lambda: errors.flat_body(code, message, number)}[shape]()
        response = Response(status, _dumps(body), {"Content-Type": JSON_TYPE,
                                                   "iothub-errorcode": code})
    return response


def _dumps(data):
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _job_id(request):
    """The job id a job route names, else "x"."""
    parts = request.path.rstrip("/").split("/")
    if len(parts) >= 3 and parts[-2].lower() in ("jobs", "v2") and parts[-1] != "query":
        return unquote(parts[-1]) or "x"
    return "x"


def _job_like(request):
    return {"jobId": _job_id(request), "type": "scheduleDeviceMethod", "status": "completed",
            "queryCondition": "*", "createdTime": "2026-11-23T10:00:00Z",
            "startTime": "2026-11-23T10:00:00Z", "endTime": "2026-11-23T10:01:00Z",
            "maxExecutionTimeInSeconds": 3600,
            "deviceJobStatistics": {"deviceCount": 1, "failedCount": 0, "succeededCount": 1,
                                    "runningCount": 0, "pendingCount": 0}}


def _real_json(real, request):
    """(value, headers): the real answer's JSON when it is a success with a JSON
    body, else a job-like object and fresh headers."""
    if real is not None and 200 <= real.status < 300 and real.body:
        try:
            return json.loads(real.body.decode("utf-8")), dict(real.headers)
        except ValueError:
            pass
    return _job_like(request), {"Content-Type": JSON_TYPE}


def _with_marker(value, field):
    """``value`` (an object, or a list whose first object gets it) with ``field``
    set to a marker string; the JSON text split around the marker."""
    marker = "FAULT" + uuid.uuid4().hex
    target = value
    if isinstance(value, list):
        target = next((item for item in value if isinstance(item, dict)), None)
    if not isinstance(target, dict):
        value = target = {"value": value}
    if callable(field):
        field = field(target)
    target[field] = marker
    before, _, after = _dumps(value).partition(marker.encode())
    return before, after


def _transform(fault, request, real):
    rule, kind = fault.rule, fault.kind
    status = rule.get("status", 200)
    if kind == "error":
        return _error(rule, request)
    if kind == "malformed_json":
        text = '{{"jobId": {}, "status": completed, "deviceJobStatistics": {{"deviceCount": 1,}}'
        return Response(status, text.format(json.dumps(_job_id(request))).encode(),
                        {"Content-Type": JSON_TYPE})
    if kind == "deep_nesting":
        depth = rule["depth"]
        body = b"".join([_dumps({"jobId": _job_id(request), "status": "completed"})[:-1],
                         b',"deep":', b"[" * depth, b"]" * depth, b"}"])
        return Response(status, body, {"Content-Type": JSON_TYPE})
    if kind == "body":
        body = base64.b64decode(rule["body_b64"]) if "body_b64" in rule else \
            rule.get("body", "").encode("utf-8")
        headers = {"Content-Type": rule["content_type"]} if rule["content_type"] else {}
        return Response(status, body, headers)
    value, headers = _real_json(real, request)
    headers["Content-Type"] = JSON_TYPE
    if kind == "truncated_json":
        body = _dumps(value)
        cut = min(rule.get("after_bytes", len(body) // 2), len(body) - 1)
        return Response(status, body[:cut], headers)
    if kind == "invalid_utf8":
        before, after = _with_marker(
            value, lambda obj: "failureReason" if "jobId" in obj else "note")
        return Response(status, before + b"bad " + BAD_UTF8 + b" bytes" + after, headers)
    if kind == "oversize":
        before, after = _with_marker(value, "padding")
        pad = max(0, rule["bytes"] - len(before) - len(after))
        response = Response(status, b"", headers)
        response.delivery = lambda handler, response: deliver_stream(
            handler, response, before, pad, after, rule["chunked"])
        return response
    raise AssertionError(kind)


def respond(fault, request, run):
    """The response for a request that got ``fault``; ``run()`` answers it normally."""
    rule, kind = fault.rule, fault.kind
    if kind == "stall":
        fault.cancelled.wait(rule["seconds"])
        kind = {"close": "close", "reset": "reset"}.get(rule["then"], "respond")
        if kind == "reset":
            response = Response(0)
            response.delivery = lambda handler, response: deliver_reset(handler, response, 0)
            return _note(response, fault, rule)
    if kind in FRAMINGS:
        response = run()
        response.delivery = lambda handler, response: _FRAMED[kind](
            handler, response, rule, fault.cancelled)
        return _note(response, fault, rule)
    if kind == "close":
        if rule.get("run"):
            run()
        response = Response(0)
        response.delivery = deliver_close
        return _note(response, fault, {})
    if kind == "raw":
        if rule.get("run"):
            run()
        data = base64.b64decode(rule["data_b64"])
        response = Response(0)
        response.delivery = lambda handler, response: deliver_raw(handler, data)
        return _note(response, fault, {})
    needs_real = kind in ("respond", "reset", "truncate", "truncated_json", "oversize",
                          "invalid_utf8") or rule.get("run")
    real = run() if needs_real else None
    if kind == "respond":
        response = real
    elif kind in ("reset", "truncate"):
        response = real
        cut = min(rule.get("after_bytes", len(real.body) // 2), len(real.body))
        send = deliver_reset if kind == "reset" else deliver_truncated
        response.delivery = lambda handler, response: send(handler, response, cut)
    else:
        response = _transform(fault, request, real)
    return _note(response, fault, rule)


def _note(response, fault, rule):
    for name, value in rule.get("headers", {}).items():
        existing = [k for k in response.headers if k.lower() == name.lower()]
        for key in existing:
            del response.headers[key]
        if value is not None:
            response.headers[name] = str(value)
    response.log_note = "fault {} #{}".format(fault.kind, fault.id) + (
        "; " + response.log_note if response.log_note else "")
    return response


# -- on the socket ---------------------------------------------------------------------
def _close_notify(handler):
    """End TLS cleanly (close_notify), so the socket then closes with a FIN."""
    handler.close_connection = True
    try:
        handler.wfile.flush()
        handler.connection.settimeout(CLOSE_NOTIFY_TIMEOUT)
        handler.connection.unwrap()
    except (OSError, ValueError):
        pass


def _drain(sock):
    """Wait (a little) until the peer has acknowledged everything sent."""
    deadline = time.monotonic() + DRAIN_SECONDS
    buf = struct.pack("i", 0)
    while time.monotonic() < deadline:
        try:
            unsent = struct.unpack("i", fcntl.ioctl(sock.fileno(), OUTQ, buf))[0]
        except (OSError, TypeError):
            time.sleep(0.05)
            return
        if unsent == 0:
            return
        time.sleep(0.005)


def deliver_close(handler, response):
    """Send nothing and close the connection."""
    _close_notify(handler)


def deliver_raw(handler, data):
    """Send exactly ``data`` (a whole answer, well formed or not), then close."""
    try:
        handler.wfile.write(data)
    finally:
        _close_now(handler)


def _send_part(handler, response, cut):
    handler.send_head(response, None if response.status == 204 else len(response.body))
    handler.wfile.write(response.body[:cut])


def deliver_truncated(handler, response, cut):
    """Status line and headers with the full Content-Length, ``cut`` bytes of
    the body, then a clean close."""
    try:
        _send_part(handler, response, cut)
    finally:
        _close_notify(handler)


def deliver_reset(handler, response, cut):
    """Like deliver_truncated, but the connection is reset (RST), not closed."""
    handler.close_connection = True
    try:
        if response.status:
            _send_part(handler, response, cut)
            _drain(handler.connection)
    finally:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                      struct.pack("ii", 1, 0))


def deliver_stream(handler, response, before, pad, after, chunked):
    """``before``, ``pad`` bytes of "x", ``after``: with a Content-Length, or
    chunked. The client may hang up midway (its size limit): that ends it."""
    def pieces():
        yield before
        left = pad
        while left:
            yield b"x" * min(CHUNK, left)
            left -= min(CHUNK, left)
        yield after
    if chunked:
        response.headers["Transfer-Encoding"] = "chunked"
    handler.send_head(response, None if chunked else len(before) + pad + len(after))
    for piece in pieces():
        if not piece:
            continue
        if chunked:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        else:
            handler.wfile.write(piece)
    if chunked:
        handler.wfile.write(b"0\r\n\r\n")


# -- the real answer, framed differently -----------------------------------------------
def _has_body(handler, response):
    return not (response.status < 200 or response.status in (204, 304)
                or handler.command == "HEAD")


def _fields(handler, response, length=None):
    """[(name, value)]: what send_head would send (Server, Date, the answer's
    own headers, an x-ms-request-id), with a Content-Length when ``length`` is
    given and the answer has none of its own."""
    fields = [("Server", handler.version_string()), ("Date", handler.date_time_string())]
    fields += [(name, str(value)) for name, value in response.headers.items()]
    names = {name.lower() for name, _ in fields}
    if "x-ms-request-id" not in names:
        fields.append(("x-ms-request-id", str(uuid.uuid4())))
    if length is not None and "content-length" not in names:
        fields.append(("Content-Length", str(length)))
    return fields


def _head(status, fields, version="HTTP/1.1", spacing=None):
    """The status line, the header lines and the blank line, as bytes.
    ``spacing`` (optional): [(before, after)] whitespace around each value, in turn."""
    lines = ["{} {} {}\r\n".format(version, status, _reason(status))]
    for i, (name, value) in enumerate(fields):
        before, after = spacing[i % len(spacing)] if spacing else (" ", "")
        lines.append("{}:{}{}{}\r\n".format(name, before, value, after))
    lines.append("\r\n")
    return "".join(lines).encode("latin-1")


def _plain_head(handler, response):
    """Head and body exactly as the connection would send them without a fault."""
    body = response.body if _has_body(handler, response) else b""
    length = len(body) if response.status != 204 else None
    return _head(response.status, _fields(handler, response, length)), body


def _close_now(handler):
    """End the connection at once: TLS close_notify (without waiting for the
    peer's), then a FIN."""
    handler.close_connection = True
    conn = handler.connection
    try:
        handler.wfile.flush()
        if isinstance(conn, ssl.SSLSocket):
            conn.settimeout(0)
            try:
                conn.unwrap()  # sends close_notify; the peer's is not awaited
            except (OSError, ValueError):
                pass
        conn.shutdown(socket.SHUT_RDWR)
    except (OSError, ValueError):
        pass


def _next_request_within(handler, seconds):
    """Whether the client sends something (or hangs up) within ``seconds``."""
    conn = handler.connection
    if isinstance(conn, ssl.SSLSocket) and conn.pending():
        return True
    try:
        readable, _, _ = select.select([conn], [], [], seconds)
    except (OSError, ValueError):
        return True
    return bool(readable)


def deliver_chunked(handler, response, rule, cancelled):
    """Transfer-Encoding: chunked, ``chunk_size`` bytes a chunk (one write
    each), with chunk extensions, a trailer and sizes in upper-case hex with
    leading zeros if the rule asks."""
    if not _has_body(handler, response):
        head, body = _plain_head(handler, response)
        handler.wfile.write(head)
        return
    fields = _fields(handler, response) + [("Transfer-Encoding", "chunked")]
    if rule["trailers"]:
        fields.append(("Trailer", TRAILER[0]))
    handler.wfile.write(_head(response.status, fields))
    ext = CHUNK_EXTENSION if rule["extensions"] else b""
    hex_size = b"%04X" if rule["odd_sizes"] else b"%x"
    body, size = response.body, rule["chunk_size"]
    for start in range(0, len(body), size):
        piece = body[start:start + size]
        handler.wfile.write(hex_size % len(piece) + ext + b"\r\n" + piece + b"\r\n")
    trailer = "{}: {}\r\n".format(*TRAILER).encode() if rule["trailers"] else b""
    handler.wfile.write(hex_size % 0 + ext + b"\r\n" + trailer + b"\r\n")


def deliver_drip(handler, response, rule, cancelled):
    """The whole answer ``piece`` bytes a write, ``delay_ms`` apart, with
    TCP_NODELAY (each write is its own TLS record and TCP segment)."""
    head, body = _plain_head(handler, response)
    data, piece = head + body, rule["piece"]
    handler.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for start in range(0, len(data), piece):
        if start and rule["delay_ms"]:
            cancelled.wait(rule["delay_ms"] / 1000)  # clearing the fault ends the drip
        handler.wfile.write(data[start:start + piece])


def deliver_connection_close(handler, response, rule, cancelled):
    """With a Content-Length and Connection: close, then closed."""
    body = response.body if _has_body(handler, response) else b""
    fields = _fields(handler, response, None if response.status == 204 else len(body))
    handler.wfile.write(_head(response.status, fields + [("Connection", "close")]) + body)
    _close_now(handler)


def deliver_http10(handler, response, rule, cancelled):
    """HTTP/1.0, no Content-Length: the body ends where the connection does."""
    body = response.body if _has_body(handler, response) else b""
    handler.wfile.write(_head(response.status, _fields(handler, response), "HTTP/1.0"))
    handler.wfile.write(body)
    _close_now(handler)


def deliver_no_length(handler, response, rule, cancelled):
    """HTTP/1.1 with neither Content-Length nor chunked, Connection: close:
    the body ends where the connection does."""
    body = response.body if _has_body(handler, response) else b""
    fields = _fields(handler, response) + [("Connection", "close")]
    handler.wfile.write(_head(response.status, fields))
    handler.wfile.write(body)
    _close_now(handler)


def deliver_informational(handler, response, rule, cancelled):
    """An interim 1xx answer (its own write), then the real one."""
    status = rule["status"]
    handler.wfile.write(_head(status, INTERIM[status]))
    head, body = _plain_head(handler, response)
    handler.wfile.write(head + body)


def deliver_idle_close(handler, response, rule, cancelled):
    """The answer as usual (keep-alive); if no request follows within
    ``after_ms``, the connection is closed, as by a keep-alive timeout."""
    head, body = _plain_head(handler, response)
    handler.wfile.write(head + body)
    if not _next_request_within(handler, rule["after_ms"] / 1000):
        _close_now(handler)


def _odd_case(name):
    if name.lower() in ODD_NAMES:
        return ODD_NAMES[name.lower()]
    letters = iter(range(len(name)))
    return "".join(c.upper() if c.isalpha() and next(letters) % 2 else c.lower()
                   if c.isalpha() else c for c in name)


def deliver_header_case(handler, response, rule, cancelled):
    """Header names in odd case, values with extra whitespace around them
    (optional whitespace: legal), and one harmless header sent twice."""
    body = response.body if _has_body(handler, response) else b""
    fields = _fields(handler, response, None if response.status == 204 else len(body))
    fields = [(_odd_case(name), value) for name, value in fields]
    fields.insert(2, (DUPLICATE[0].upper(), DUPLICATE[1]))
    fields.append((DUPLICATE[0].lower(), DUPLICATE[1]))
    handler.wfile.write(_head(response.status, fields, spacing=ODD_SPACING) + body)


def deliver_garbage_after(handler, response, rule, cancelled):
    """The complete answer, then ``bytes`` junk bytes: in the same write, or
    ``delay_ms`` later in a write of their own. The connection stays open (a
    client must not send on it again)."""
    head, body = _plain_head(handler, response)
    junk = (GARBAGE * (rule["bytes"] // len(GARBAGE) + 1))[:rule["bytes"]]
    if not rule["delay_ms"]:
        handler.wfile.write(head + body + junk)
        return
    handler.wfile.write(head + body)
    cancelled.wait(rule["delay_ms"] / 1000)
    handler.wfile.write(junk)


def early_answer(fault, request):
    """An error answer (as ``error``) sent as soon as the request head is in,
    with Connection: close; then at most ``drain_bytes`` of the body are read
    and thrown away before the connection closes (a client still sending
    past that may see a reset)."""
    response = _note(_error(fault.rule, request), fault, fault.rule)
    response.headers["Connection"] = "close"
    response.delivery = lambda handler, response: deliver_early(
        handler, response, fault.rule["drain_bytes"])
    return response


def deliver_early(handler, response, drain_bytes):
    handler.close_connection = True
    handler.send_head(response, len(response.body))
    handler.wfile.write(response.body)
    handler.wfile.flush()
    conn, left = handler.connection, drain_bytes
    deadline = time.monotonic() + 2
    try:
        conn.settimeout(0.2)
        while left > 0 and time.monotonic() < deadline:
            data = handler.rfile.read1(min(left, CHUNK))
            if not data:
                break
            left -= len(data)
    except (OSError, ValueError):
        pass
    _close_now(handler)


_FRAMED = {"chunked": deliver_chunked, "drip": deliver_drip,
           "connection_close": deliver_connection_close, "http10": deliver_http10,
           "no_length": deliver_no_length, "informational": deliver_informational,
           "idle_close": deliver_idle_close, "header_case": deliver_header_case,
           "garbage_after": deliver_garbage_after}
