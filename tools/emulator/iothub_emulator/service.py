"""The IoT Hub service API routes (jobs), behind SAS authentication.

Every route checks the Authorization header first, then the api-version
query parameter, then does its work.
"""

import re

from . import identity, jobs, sas
from .errors import ServiceError
from .routing import json_response

API_VERSION = re.compile(r"\d{4}-\d\d-\d\d(-preview)?")


def _authorize(request):
    try:
        sas.validate(request.headers.get("authorization"),
                     identity.HOST_NAME, identity.POLICY_KEYS)
    except sas.InvalidToken as err:
        raise ServiceError("IotHubUnauthorizedAccess", "Unauthorized", detail=str(err)) from None


def _check_api_version(request):
    version = request.query.get("api-version")
    if version is None:
        raise ServiceError("ArgumentInvalid", "api-version is missing")
    if not isinstance(version, str) or not API_VERSION.fullmatch(version):
        raise ServiceError("ArgumentInvalid", "api-version is not a valid API version")


def _guard(request):
    _authorize(request)
    _check_api_version(request)


def _filter(request, name):
    value = request.query.get(name)
    if value is not None and not isinstance(value, str):
        raise ServiceError("ArgumentInvalid", "{} is given more than once".format(name))
    return value


def register(router, state):
    def query_jobs(request):
        filters = {}
        for param, field in (("jobType", "type"), ("jobStatus", "status")):
            value = _filter(request, param)
            if value is not None:
                filters[field] = value
        try:
            size = jobs.parse_page_size(request.headers.get("x-ms-max-item-count"))
        except ValueError:
            raise ServiceError("ArgumentInvalid",
                               "x-ms-max-item-count is not an integer") from None
        try:
            items, token = jobs.page(state.jobs, filters, size,
                                     request.headers.get("x-ms-continuation"))
        except ValueError as err:
            raise ServiceError("ArgumentInvalid", "Invalid continuation token",
                               detail=str(err)) from None
        headers = {"x-ms-item-type": "JobResponse"}
        if token:
            headers["x-ms-continuation"] = token
        return json_response(items, headers=headers)

    def get_job(request, job_id):
        job = state.jobs.get(job_id)
        if job is None:
            raise ServiceError("JobNotFound", "Job with id '{}' was not found".format(job_id))
        return json_response(job)

    router.add("GET", r"/jobs/v2/query", query_jobs, guard=_guard)
    router.add("GET", r"/jobs/v2/([^/]+)", get_job, guard=_guard)
