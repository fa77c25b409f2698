"""Requests, responses and the route table that maps one to the other.

Routes match the RAW request path (before percent-decoding), so an encoded
``/`` (``%2F``) stays inside its path segment. Captured segments are then
percent-decoded as UTF-8 and passed to the handler as strings.
"""

import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote

from .errors import ServiceError

JSON_TYPE = "application/json; charset=utf-8"


@dataclass
class Request:
    method: str
    target: str        # the raw request target: path and query, as sent
    headers: dict      # lowercase name -> value
    body: bytes
    connection: int    # id of the TCP connection the request came on

    @property
    def path(self):
        return self.target.partition("?")[0]

    @property
    def query(self):
        """Query parameters: a string per name, a list for repeated names."""
        parsed = parse_qs(self.target.partition("?")[2], keep_blank_values=True)
        return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ServiceError("ArgumentInvalid",
                               "The request body is not valid JSON", shape=4) from None


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    log_note: str = ""  # for the verbose log; never sent
    delivery: object = None  # faults.py: sends it its own way, fn(handler, response)


def json_response(data, status=200, headers=None):
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status, body, {"Content-Type": JSON_TYPE, **(headers or {})})


def error_response(err):
    response = json_response(err.body(), err.status, {"iothub-errorcode": err.code})
    response.log_note = err.detail
    return response


class HttpError(Exception):
    """Raised by handlers that answer an error in their own format (ARM, Azure
    AD, managed identity) rather than an IoT Hub error shape."""

    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def target_error(target):
    """Why a raw request target is not a valid origin-form target (RFC 9112),
    as the service's front end refuses it with a 400, or None. The server
    reads the request line as ISO-8859-1, so raw bytes >= 0x80 are characters
    >= U+0080 here."""
    if "#" in target:
        return "The request target holds a raw '#'"
    if any(ord(ch) >= 0x80 for ch in target):
        return "The request target holds a raw byte >= 0x80; percent-encode it"
    if _BAD_ESCAPE.search(target):
        return "The request target holds a '%' that is not followed by two hex digits"
    return None


def _decode_segment(raw):
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise ServiceError("ArgumentInvalid",
                           "A path segment is not valid percent-encoded UTF-8") from None


class Router:
    """An ordered table of (method, path regex, guard, handler); first match wins."""

    def __init__(self):
        self._routes = []

    def add(self, method, pattern, handler, guard=None):
        """``pattern`` is a regex over the raw path; each group is one segment.
        ``guard(request)``, if given, runs first (authentication) and may raise."""
        self._routes.append((method, re.compile(pattern), guard, handler))

    def dispatch(self, request):
        for method, regex, guard, handler in self._routes:
            match = regex.fullmatch(request.path)
            if match and method == request.method:
                try:
                    if guard:
                        guard(request)
                    args = [_decode_segment(group) for group in match.groups()]
                    return handler(request, *args)
                except ServiceError as err:
                    return error_response(err)
                except HttpError as err:
                    return err.response
        return error_response(ServiceError(
            "RouteNotFound",
            "No route for {} {}".format(request.method, request.path), shape=4))
