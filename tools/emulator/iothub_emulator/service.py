"""The IoT Hub service API routes, behind SAS or Azure AD authentication.

Every route checks the Authorization header first (a SAS of one of the
hub's policies, or a bearer token from aad.py issued for the IoT Hub scope;
a registryRead-only policy may not create or cancel jobs), then the api-version
query parameter, then does its work:
- scheduled jobs (v2): get, create, cancel, query (planted jobs and live ones)
- twins and queries: GET, PATCH, PUT /twins/{id} and /twins/{id}/modules/{mid},
  POST /devices/query
- import/export jobs (v1): POST /jobs/create, GET /jobs, GET/DELETE /jobs/{id}
"""

import re

from . import aad, bulk, identity, jobs, paging, query, sas, scheduled
from .clock import iso
from .errors import ServiceError
from .hub import Conflict
from .routing import Response, json_response

API_VERSION = re.compile(r"\d{4}-\d\d-\d\d(-preview)?")
ACTIVE = ("queued", "scheduled", "running", "enqueued")


# Policies that may read but not write the registry or run jobs.
READ_ONLY_POLICIES = ("registryRead",)


def _unauthorized(detail):
    return ServiceError("IotHubUnauthorizedAccess", "Unauthorized", detail=detail)


def _bearer(tokens, text):
    """Check a bearer token as the service does: issued by the token endpoint,
    not expired on the emulated clock, for the IoT Hub audience. The reason
    goes to the verbose log only (never the token)."""
    token = tokens.lookup(text)
    if token is None:
        raise _unauthorized("unknown or revoked bearer token")
    if token.expires <= tokens.clock.now():
        raise _unauthorized("bearer token expired")
    if token.audience != aad.IOTHUB_AUDIENCE:
        raise _unauthorized("bearer token is for audience {}, not {}"
                            .format(token.audience, aad.IOTHUB_AUDIENCE))


def authorize(tokens, request):
    """The caller's identity: a SAS policy name, or "aad" for a bearer token
    (an Azure AD principal with the data-contributor role); raises a 401."""
    header = request.headers.get("authorization") or ""
    scheme, _, text = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        if not text.strip():
            raise _unauthorized("empty bearer token")
        _bearer(tokens, text.strip())
        return "aad"
    try:
        return sas.validate(header, identity.HOST_NAME, identity.POLICY_KEYS)
    except sas.InvalidToken as err:
        raise _unauthorized(str(err)) from None


def _check_api_version(request):
    version = request.query.get("api-version")
    if version is None:
        raise ServiceError("ArgumentInvalid", "api-version is missing")
    if not isinstance(version, str) or not API_VERSION.fullmatch(version):
        raise ServiceError("ArgumentInvalid", "api-version is not a valid API version")




def _filter(request, name):
    value = request.query.get(name)
    if value is not None and not isinstance(value, str):
        raise ServiceError("ArgumentInvalid", "{} is given more than once".format(name))
    return value


def _paged(request, items, key, item_type):
    """Answer one page of ``items`` (the whole ordered result of the query ``key``)."""
    try:
        size = paging.parse_page_size(request.headers.get("x-ms-max-item-count"))
    except ValueError:
        raise ServiceError("ArgumentInvalid", "x-ms-max-item-count is not an integer") from None
    try:
        page, token = paging.page_list(items, key, size, request.headers.get("x-ms-continuation"))
    except ValueError as err:
        raise ServiceError("ArgumentInvalid", "Invalid continuation token",
                           detail=str(err)) from None
    headers = {"x-ms-item-type": item_type}
    if token:
        headers["x-ms-continuation"] = token
    return json_response(page, headers=headers)


def _job_not_found(job_id):
    return ServiceError("JobNotFound", "Job with id '{}' was not found".format(job_id))


def register(router, state):
    hub = state.hub

    def _guard(request):
        authorize(state.tokens, request)
        _check_api_version(request)

    def _write_guard(request):
        """Creating and cancelling jobs needs more than registry read."""
        if authorize(state.tokens, request) in READ_ONLY_POLICIES:
            raise _unauthorized("policy may only read")
        _check_api_version(request)

    # -- scheduled jobs (v2) ------------------------------------------------
    def query_jobs(request):
        filters = {}
        for param, field in (("jobType", "type"), ("jobStatus", "status")):
            value = _filter(request, param)
            if value is not None:
                filters[field] = value
        found = state.jobs.query(filters)[0] + hub.jobs(filters)
        found.sort(key=jobs.created_key)
        return _paged(request, found, filters, "jobResponse")

    def get_job(request, job_id):
        job = state.jobs.get(job_id) or hub.job(job_id)
        if job is None:
            raise _job_not_found(job_id)
        return json_response(job)

    def create_job(request, job_id):
        body = request.json()
        try:
            start, tree = scheduled.validate(job_id, body)
        except scheduled.InvalidJob as err:
            raise ServiceError("ArgumentInvalid", str(err)) from None
        if state.jobs.get(job_id) is not None:
            raise Conflict(job_id)
        return json_response(hub.create_job(job_id, body, tree, start))

    def cancel_job(request, job_id):
        planted = state.jobs.get(job_id)
        if planted is not None:  # a seeded or planted job: only its status changes
            if planted.get("status") in ACTIVE:
                planted["status"] = "cancelled"
                planted["endTime"] = iso(hub.clock.now())
                state.jobs.put(planted)
            return json_response(planted)
        job = hub.cancel_job(job_id)
        if job is None:
            raise _job_not_found(job_id)
        return json_response(job)

    # -- twins and queries ------------------------------------------------------
    def get_twin(request, device_id, module_id=None):
        return json_response(hub.get_twin(device_id, module_id))

    def twin_writer(replace):
        def write(request, device_id, module_id=None):
            body = request.json()
            return json_response(hub.write_twin(device_id, module_id, body,
                                                request.headers.get("if-match"), replace))
        return write

    def query_devices(request):
        body = request.json()
        text = body.get("query") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ServiceError("ArgumentInvalid", 'The body must be {"query": "SELECT ..."}')
        try:
            statement = query.parse_statement(text)
        except query.QuerySyntaxError as err:
            raise ServiceError("ArgumentInvalid", str(err)) from None
        rows = query.run(statement, hub.query_documents(statement.source))
        return _paged(request, rows, {"query": text}, statement.item_type)

    # -- import/export jobs (v1) ------------------------------------------------
    def create_bulk(request):
        body = request.json()
        try:
            bulk.validate(body)
        except bulk.InvalidBulkJob as err:
            raise ServiceError("ArgumentInvalid", str(err)) from None
        try:
            return json_response(hub.create_bulk(body))
        except Conflict as err:
            raise ServiceError(
                "JobRunPreconditionFailed",
                "Only one import/export job may be active at a time; job '{}' is still active"
                .format(err.args[0]), status=409) from None

    def list_bulk(request):
        return json_response(hub.bulk_jobs())

    def get_bulk(request, job_id):
        job = hub.bulk_job(job_id)
        if job is None:
            raise _job_not_found(job_id)
        return json_response(job)

    def cancel_bulk(request, job_id):
        result = hub.cancel_bulk(job_id)
        if result is None:
            raise _job_not_found(job_id)
        cancelled, job = result
        return Response(204) if cancelled else json_response(job)

    def conflicts(handler):
        def wrapped(request, *args):
            try:
                return handler(request, *args)
            except Conflict as err:
                raise ServiceError("JobAlreadyExists", "A job with id '{}' already exists"
                                   .format(err.args[0]), status=409) from None
        return wrapped

    router.add("GET", r"/jobs/v2/query", query_jobs, guard=_guard)
    router.add("GET", r"/jobs/v2/([^/]+)", get_job, guard=_guard)
    router.add("PUT", r"/jobs/v2/([^/]+)", conflicts(create_job), guard=_write_guard)
    router.add("POST", r"/jobs/v2/([^/]+)/cancel", cancel_job, guard=_write_guard)
    for pattern in (r"/twins/([^/]+)", r"/twins/([^/]+)/modules/([^/]+)"):
        router.add("GET", pattern, get_twin, guard=_guard)
        router.add("PATCH", pattern, twin_writer(False), guard=_guard)
        router.add("PUT", pattern, twin_writer(True), guard=_guard)
    router.add("POST", r"/devices/query", query_devices, guard=_guard)
    router.add("POST", r"/jobs/create", create_bulk, guard=_guard)
    router.add("GET", r"/jobs", list_bulk, guard=_guard)
    router.add("GET", r"/jobs/([^/]+)", get_bulk, guard=_guard)
    router.add("DELETE", r"/jobs/([^/]+)", cancel_bulk, guard=_guard)
