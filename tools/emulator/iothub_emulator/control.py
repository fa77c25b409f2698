"""The test control API under /_emulator/: no authentication, test use only.

Tests use it to reset the emulator, plant or remove jobs, read back the
requests a client sent, and slow routes down. Every answer has a JSON body,
so any client can drive it.
"""

from .errors import ServiceError
from .routing import json_response

PREFIX = "/_emulator/"
MAX_DELAY_SECONDS = 600


def is_control(path):
    return path.startswith(PREFIX)


def _bad(message):
    return ServiceError("ArgumentInvalid", message, shape=4)


def register(router, state):
    def reset(request):
        state.reset()
        return json_response({"reset": True, "jobs": len(state.jobs)})

    def put_job(request, job_id):
        body = request.json()
        if not isinstance(body, dict):
            raise _bad("A job must be a JSON object")
        job = {**body, "jobId": job_id}
        state.jobs.put(job)
        return json_response(job)

    def delete_job(request, job_id):
        if not state.jobs.delete(job_id):
            raise ServiceError("JobNotFound", "Job with id '{}' was not found".format(job_id))
        return json_response({"deleted": job_id})

    def get_requests(request):
        return json_response(state.requests())

    def clear_requests(request):
        state.clear_requests()
        return json_response({"cleared": True})

    def stats(request):
        return json_response(state.stats())

    def delay(request):
        rule = request.json()
        if not isinstance(rule, dict):
            raise _bad("Expected {\"seconds\": x, \"path_prefix\": \"/...\"}")
        seconds = rule.get("seconds")
        prefix = rule.get("path_prefix", "/")
        if (type(seconds) not in (int, float) or not 0 <= seconds <= MAX_DELAY_SECONDS
                or not isinstance(prefix, str) or not prefix.startswith("/")):
            raise _bad("seconds must be a number in 0..{} and path_prefix a path"
                       .format(MAX_DELAY_SECONDS))
        return json_response({"delays": state.set_delay(prefix, seconds)})

    router.add("POST", r"/_emulator/reset", reset)
    router.add("PUT", r"/_emulator/jobs/([^/]+)", put_job)
    router.add("DELETE", r"/_emulator/jobs/([^/]+)", delete_job)
    router.add("GET", r"/_emulator/requests", get_requests)
    router.add("DELETE", r"/_emulator/requests", clear_requests)
    router.add("GET", r"/_emulator/stats", stats)
    router.add("POST", r"/_emulator/delay", delay)
