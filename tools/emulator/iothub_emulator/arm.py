"""The management plane (Azure Resource Manager) view of the hub's jobs.

    GET /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Devices/IotHubs/{name}/jobs/{jobId}
    GET /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Devices/IotHubs/{name}/jobs

Checked in ARM's order: the bearer token (issued by aad.py, not expired on
the emulated clock, for the ARM audience), the api-version, then the
subscription, resource group and hub. The jobs are the service API's own
(seeded, planted, created and import/export), mapped into ARM's JobResponse:
RFC 1123 times, ARM's type and status sets. Lists are paged with an absolute
``nextLink`` carrying an opaque ``$skiptoken``.
"""

import datetime
import email.utils
import re
import uuid
from urllib.parse import quote

from . import aad, identity, jobs, paging
from .clock import parse_iso
from .routing import HttpError, json_response

API_VERSIONS = ("2023-06-30", "2022-04-30-preview", "2021-07-02", "2018-04-01")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000

ARM_TYPES = ("backup", "export", "factoryResetDevice", "firmwareUpdate", "import",
             "readDeviceProperties", "rebootDevice", "unknown", "updateDeviceConfiguration",
             "writeDeviceProperties")
# Service job types without an ARM twin. ARM has no "direct method" type:
# scheduleDeviceMethod jobs are "unknown" (whatever method they call).
TYPE_MAP = {"scheduleUpdateTwin": "writeDeviceProperties", "scheduleDeviceMethod": "unknown"}
ARM_STATUSES = ("unknown", "enqueued", "running", "completed", "failed", "cancelled")
STATUS_MAP = {"queued": "enqueued", "scheduled": "enqueued"}

# parentJobId, shown in the ARM view only (the service API has no such field).
PARENT_JOBS = {
    "method-0002": "method-0001",
    "method-0004": "method-0002",
    "twin-0007": "twin-0000",
}

_HUB = (r"/(?i:subscriptions)/([^/]+)/(?i:resourceGroups)/([^/]+)"
        r"/(?i:providers)/(?i:Microsoft\.Devices)/(?i:IotHubs)/([^/]+)")
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_ISOISH = re.compile(r"(\d{4})-")


def arm_type(service_type):
    if service_type in TYPE_MAP:
        return TYPE_MAP[service_type]
    return service_type if service_type in ARM_TYPES else "unknown"


def arm_status(service_status):
    if service_status in STATUS_MAP:
        return STATUS_MAP[service_status]
    return service_status if service_status in ARM_STATUSES else "unknown"


def rfc1123(text):
    """``Thu, 15 Jun 2017 19:20:58 GMT`` for an ISO 8601 UTC time; None for a
    sentinel (years 0001 and 9999), a missing or an unreadable time."""
    if not isinstance(text, str):
        return None
    year = _ISOISH.match(text)
    if not year or year.group(1) in ("0001", "9999"):
        return None
    try:
        micros = parse_iso(text)
    except ValueError:
        return None
    moment = _EPOCH + datetime.timedelta(microseconds=micros)
    return email.utils.format_datetime(moment.replace(microsecond=0), usegmt=True)


def from_service(job):
    """The ARM JobResponse of a service API (v2) JobResponse."""
    view = {"jobId": job.get("jobId")}
    for key, source in (("startTimeUtc", "startTime"), ("endTimeUtc", "endTime")):
        when = rfc1123(job.get(source))
        if when:
            view[key] = when
    view["type"] = arm_type(job.get("type"))
    view["status"] = arm_status(job.get("status"))
    for key in ("failureReason", "statusMessage", "parentJobId"):
        if isinstance(job.get(key), str):
            view[key] = job[key]
    if "parentJobId" not in view and view["jobId"] in PARENT_JOBS:
        view["parentJobId"] = PARENT_JOBS[view["jobId"]]
    return view


def from_bulk(job):
    """The ARM JobResponse of an import/export job's JobProperties."""
    view = {"jobId": job["jobId"]}
    for key in ("startTimeUtc", "endTimeUtc"):
        when = rfc1123(job.get(key))
        if when:
            view[key] = when
    view["type"] = arm_type(job["type"])
    view["status"] = arm_status(job["status"])
    if isinstance(job.get("failureReason"), str):
        view["failureReason"] = job["failureReason"]
    return view


# -- errors ----------------------------------------------------------------------------
def _headers(request, extra=None):
    correlation = request.headers.get("x-ms-correlation-request-id", "")
    try:
        correlation = str(uuid.UUID(correlation))
    except ValueError:
        correlation = str(uuid.uuid4())
    return {"x-ms-request-id": str(uuid.uuid4()),
            "x-ms-correlation-request-id": correlation,
            "x-ms-ratelimit-remaining-subscription-reads": "11999", **(extra or {})}


def arm_error(request, status, code, message, headers=None):
    """An error in ARM's generic envelope {"error": {"code", "message"}}."""
    response = json_response({"error": {"code": code, "message": message}}, status,
                             _headers(request, headers))
    response.log_note = code
    return HttpError(response)


def details_error(request, status, reason, code, message):
    """An error as the IoT Hub resource provider sends it: ErrorDetails, all strings."""
    response = json_response({"code": code, "httpStatusCode": reason, "message": message,
                              "details": ""}, status, _headers(request))
    response.log_note = code
    return HttpError(response)


def _support_message(text, errorcode):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    return ("{} If you contact a support representative please include this correlation "
            "identifier: {}, timestamp: {}, errorcode: {}.".format(text, uuid.uuid4(), stamp,
                                                                   errorcode))


def _unauthorized(request, code, message):
    challenge = ('Bearer authorization_uri="https://login.microsoftonline.com/{}", '
                 'error="invalid_token", error_description="{}"'
                 .format(identity.TENANT_ID, message.replace('"', "'")))
    return arm_error(request, 401, code, message, {"WWW-Authenticate": challenge})


def _dotnet_time(micros):
    """M/d/yyyy h:mm:ss tt, as ARM writes times in its messages."""
    moment = _EPOCH + datetime.timedelta(microseconds=micros)
    hour = moment.hour % 12 or 12
    return "{}/{}/{} {}:{:02d}:{:02d} {}".format(
        moment.month, moment.day, moment.year, hour, moment.minute, moment.second,
        "AM" if moment.hour < 12 else "PM")


# -- checks ----------------------------------------------------------------------------
def authenticate(store, request):
    header = request.headers.get("authorization")
    if header is None or not header.strip():
        raise _unauthorized(request, "AuthenticationFailed",
                            "Authentication failed. The 'Authorization' header is missing.")
    scheme, _, text = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not text.strip():
        raise _unauthorized(request, "AuthenticationFailed",
                            "Authentication failed. The 'Authorization' header is provided in "
                            "an invalid format.")
    token = store.lookup(text.strip())
    if token is None:
        raise _unauthorized(request, "InvalidAuthenticationToken",
                            "The access token is invalid.")
    now = store.clock.now()
    if token.expires <= now:
        raise _unauthorized(request, "ExpiredAuthenticationToken",
                            "The access token expiry UTC time '{}' is earlier than current UTC "
                            "time '{}'.".format(_dotnet_time(token.expires), _dotnet_time(now)))
    if token.audience != aad.ARM_AUDIENCE:
        raise _unauthorized(request, "InvalidAuthenticationTokenAudience",
                            "The access token has been obtained for wrong audience or resource "
                            "'{}'. It should exactly match with one of the allowed audiences "
                            "'https://management.core.windows.net/','https://management.core."
                            "windows.net','https://management.azure.com/',"
                            "'https://management.azure.com'.".format(token.audience))


def check_api_version(request):
    version = request.query.get("api-version")
    if isinstance(version, list):
        version = version[0]
    if not version:
        raise arm_error(request, 400, "MissingApiVersionParameter",
                        "The api-version query parameter (?api-version=) is required for all "
                        "requests.")
    if version not in API_VERSIONS:
        raise arm_error(request, 400, "InvalidApiVersionParameter",
                        "The api-version '{}' is invalid. The supported versions are '{}'."
                        .format(version, ",".join(API_VERSIONS)))
    return version


def check_hub(request, subscription, group, hub):
    if subscription.lower() != identity.SUBSCRIPTION_ID:
        raise arm_error(request, 404, "SubscriptionNotFound",
                        "The subscription '{}' could not be found.".format(subscription))
    if group.lower() != identity.RESOURCE_GROUP.lower():
        raise arm_error(request, 404, "ResourceGroupNotFound",
                        "Resource group '{}' could not be found.".format(group))
    if hub.lower() != identity.HUB_NAME.lower():
        raise arm_error(request, 404, "ResourceNotFound",
                        "The Resource 'Microsoft.Devices/IotHubs/{}' under resource group "
                        "'{}' was not found. For more details please go to "
                        "https://aka.ms/ARMResourceNotFoundFix".format(hub, group))


# -- the job views -------------------------------------------------------------------
def all_jobs(state):
    """Every job, in the order of /jobs/v2/query (createdTime, then jobId), ARM view."""
    keyed = [(jobs.created_key(job), from_service(job)) for job in state.jobs.query({})[0]]
    keyed += [(jobs.created_key(job), from_service(job)) for job in state.hub.jobs({})]
    keyed += [(jobs.created_key({"createdTime": job["startTimeUtc"], "jobId": job["jobId"]}),
               from_bulk(job)) for job in state.hub.bulk_jobs()]
    keyed.sort(key=lambda pair: pair[0])
    return [view for _, view in keyed]


def one_job(state, job_id):
    job = state.jobs.get(job_id)
    if job is not None:
        return from_service(job)
    bulk = state.hub.bulk_job(job_id)
    if bulk is not None:
        return from_bulk(bulk)
    job = state.hub.job(job_id)
    return from_service(job) if job is not None else None


def register(router, state):
    store = state.tokens

    def guarded(handler):
        def wrapped(request, *args):
            authenticate(store, request)
            version = check_api_version(request)
            check_hub(request, *args[:3])
            return handler(request, version, *args[3:])
        return wrapped

    def get_job(request, version, job_id):
        view = one_job(state, job_id)
        if view is None:
            raise details_error(request, 404, "NotFound", "JobNotFound",
                                _support_message("Job not found.", "IH404002"))
        return json_response(view, headers=_headers(request))

    def list_jobs(request, version):
        host = request.headers.get("host")
        if not host:
            raise arm_error(request, 400, "MissingHost", "The request has no Host header.")
        token = request.query.get("$skiptoken")
        if isinstance(token, list):
            raise details_error(request, 400, "BadRequest", "InvalidSkipToken",
                                "$skiptoken is given more than once.")
        key = {"arm": "jobs"}
        try:
            page, following = paging.page_list(all_jobs(state), key, state.arm_page_size, token)
        except ValueError:
            raise details_error(request, 400, "BadRequest", "InvalidSkipToken",
                                _support_message("The $skiptoken is not valid.",
                                                 "IH400004")) from None
        body = {"value": page}
        if following:
            body["nextLink"] = "https://{}{}?api-version={}&$skiptoken={}".format(
                host, request.path, quote(version, safe=""), quote(following, safe=""))
        return json_response(body, headers=_headers(request))

    def no_route(request):
        authenticate(store, request)
        raise arm_error(request, 404, "RouteNotFound",
                        "The emulator has no management route for {} {}"
                        .format(request.method, request.path))

    router.add("GET", _HUB + r"/(?i:jobs)", guarded(list_jobs))
    router.add("GET", _HUB + r"/(?i:jobs)/([^/]+)", guarded(get_job))
    for method in ("GET", "PUT", "POST", "PATCH", "DELETE"):
        router.add(method, r"/(?i:subscriptions)(?:/.*)?", no_route)
