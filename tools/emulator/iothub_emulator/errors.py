"""Service API error bodies, in the four shapes IoT Hub is known to send.

1. message:  {"Message":"ErrorCode:<Name>;<text>","ExceptionMessage":"Tracking ID:..."}
2. nested:   shape 1 whose Message wraps "Error: <status> " + another shape-1 body
3. escaped:  shape 1 whose Message is a shape-4 body as a JSON string
4. flat:     {"errorCode":404002,"trackingId":"...","message":"...","timestampUtc":"..."}

The HTTP status is the numeric code divided by 1000, unless a ServiceError
names another one (JobRunPreconditionFailed is answered with 409). Responses also carry the
code's name in the ``iothub-errorcode`` header.
"""

import datetime
import json
import uuid

CODES = {
    "ArgumentInvalid": 400004,
    "IotHubNotFound": 401001,
    "IotHubUnauthorizedAccess": 401002,
    "IotHubSuspended": 403001,
    "IotHubQuotaExceeded": 403002,
    "JobQuotaExceeded": 403003,
    "DeviceNotFound": 404001,
    "JobNotFound": 404002,
    "ModuleNotFound": 404010,
    "RouteNotFound": 404103,  # the emulator's own: no such method and path
    "JobAlreadyExists": 409101,  # the emulator's own: PUT /jobs/v2/{id} of a used id
    "PreconditionFailed": 412001,
    "JobRunPreconditionFailed": 412003,  # served with HTTP 409 (one import/export at a time)
    "GenericTooManyRequests": 429000,
    "ThrottlingException": 429001,
    "ThrottleBacklogLimitExceeded": 429002,
    "ThrottlingBacklogTimeout": 429003,
    "ThrottlingMaxActiveJobCountExceeded": 429004,
    "DeviceThrottlingLimitExceeded": 429005,
    "ServerError": 500001,
    "JobCancelled": 500002,
    "ServiceUnavailable": 503001,
    "PartitionNotFound": 503003,
}


def http_status(code):
    return CODES[code] // 1000


def _tracking_id(now):
    return "{}-G:0-TimeStamp:{}".format(uuid.uuid4().hex,
                                        now.strftime("%m/%d/%Y %H:%M:%S"))


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def message_body(code, message):
    """Shape 1."""
    return {"Message": "ErrorCode:{};{}".format(code, message),
            "ExceptionMessage": "Tracking ID:" + _tracking_id(_now())}


def nested_body(code, message, status=None):
    """Shape 2. ``status`` defaults to the code's own HTTP status."""
    inner = json.dumps(message_body(code, message), separators=(",", ":"))
    return message_body(code, "Error: {} {}".format(status or http_status(code), inner))


def flat_body(code, message, number=None):
    """Shape 4. ``number`` defaults to the code's entry in CODES."""
    now = _now()
    return {"errorCode": CODES[code] if number is None else number,
            "trackingId": _tracking_id(now),
            "message": message,
            "timestampUtc": now.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")}


def escaped_body(code, message, number=None):
    """Shape 3."""
    flat = json.dumps(flat_body(code, message, number), separators=(",", ":"))
    return {"Message": flat,
            "ExceptionMessage": "Tracking ID:" + _tracking_id(_now())}


SHAPES = {1: message_body, 2: nested_body, 3: escaped_body, 4: flat_body}


class ServiceError(Exception):
    """Raised by route handlers; the router turns it into an error response.

    ``detail`` goes to the verbose log only, never to the client.
    """

    def __init__(self, code, message, shape=1, detail="", status=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.shape = shape
        self.detail = detail
        self._status = status

    @property
    def status(self):
        return self._status or http_status(self.code)

    def body(self):
        return SHAPES[self.shape](self.code, self.message)
