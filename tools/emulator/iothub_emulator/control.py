"""The test control API under /_emulator/: no authentication, test use only.

Tests use it to reset the emulator, plant or remove jobs, add, change or
remove devices, drive the emulated clock, read back the requests a client
sent, slow routes down, script faults (faults.py), and set, count or revoke
the management plane's tokens. Every answer but DELETE /_emulator/faults
(204) has a JSON body, so any client can drive it.
"""

from .aad import MAX_TOKEN_LIFETIME
from .arm import MAX_PAGE_SIZE as MAX_ARM_PAGE_SIZE
from .errors import ServiceError
from .faults import FaultError
from .routing import Response, json_response

PREFIX = "/_emulator/"
MAX_DELAY_SECONDS = 600
MAX_SPEED = 1_000_000
MAX_ADVANCE = 10 * 365 * 86400


def is_control(path):
    return path.startswith(PREFIX)


def _bad(message):
    return ServiceError("ArgumentInvalid", message, shape=4)


def register(router, state):
    hub = state.hub

    def reset(request):
        state.reset()
        return json_response({"reset": True, "jobs": len(state.jobs),
                              "devices": len(hub.registry.devices)})

    def put_job(request, job_id):
        body = request.json()
        if not isinstance(body, dict):
            raise _bad("A job must be a JSON object")
        job = {**body, "jobId": job_id}
        hub.forget_job(job_id)  # ids stay unique across planted and created jobs
        state.jobs.put(job)
        return json_response(job)

    def delete_job(request, job_id):
        if not (state.jobs.delete(job_id) | hub.forget_job(job_id)):
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

    def _number(body, key, low, high):
        value = body.get(key)
        if value is not None and (type(value) not in (int, float) or not low <= value <= high):
            raise _bad("{} must be a number in {}..{}".format(key, low, high))
        return value

    def clock(request):
        if request.method == "GET":
            return json_response(hub.describe_clock())
        body = request.json()
        if not isinstance(body, dict):
            raise _bad('Expected {"speed": x, "advance": seconds, "device_seconds": x, '
                       '"report_seconds": x}')
        settings = {"speed": _number(body, "speed", 0, MAX_SPEED),
                    "advance": _number(body, "advance", 0, MAX_ADVANCE),
                    "device_seconds": _number(body, "device_seconds", 0, 86400),
                    "report_seconds": _number(body, "report_seconds", 0, 86400)}
        return json_response(hub.configure_clock(**settings))

    def _device_body(request):
        body = request.json()
        if not isinstance(body, dict):
            raise _bad('A device must be {"twin": {...}, "method": {...}}')
        twin, method = body.get("twin", {}), body.get("method", {})
        if not isinstance(twin, dict) or not isinstance(method, dict):
            raise _bad("twin and method must be JSON objects")
        for key in ("tags",):
            if key in twin and not isinstance(twin[key], dict):
                raise _bad("twin.tags must be a JSON object")
        if twin.get("connectionState", "Connected") not in ("Connected", "Disconnected"):
            raise _bad("twin.connectionState must be Connected or Disconnected")
        if type(method.get("status", 200)) is not int:
            raise _bad("method.status must be an integer")
        return body

    def put_device(request, device_id):
        return json_response(hub.put_device(device_id, _device_body(request)))

    def get_device(request, device_id):
        device = hub.device(device_id)
        if device is None:
            raise ServiceError("DeviceNotFound", "Device {} not registered".format(device_id))
        return json_response(device)

    def delete_device(request, device_id):
        if not hub.delete_device(device_id):
            raise ServiceError("DeviceNotFound", "Device {} not registered".format(device_id))
        return json_response({"deleted": device_id})

    def add_fault(request):
        try:
            return json_response({"id": state.faults.add(request.json())})
        except FaultError as err:
            raise _bad(str(err)) from None

    def list_faults(request):
        return json_response({"faults": state.faults.describe()})

    def clear_faults(request):
        state.faults.clear()
        return Response(204)

    def delete_fault(request, fault_id):
        if not state.faults.clear(int(fault_id)):
            raise ServiceError("ArgumentInvalid", "No fault {}".format(fault_id),
                               shape=4, status=404)
        return Response(204)

    def describe_aad():
        return {**state.tokens.counts(), "arm_page_size": state.arm_page_size}

    def aad(request):
        if request.method == "POST":
            body = request.json()
            if not isinstance(body, dict):
                raise _bad('Expected {"token_lifetime": seconds, "arm_page_size": n}')
            for key, high in (("token_lifetime", MAX_TOKEN_LIFETIME),
                              ("arm_page_size", MAX_ARM_PAGE_SIZE)):
                value = body.get(key)
                low = 0 if key == "token_lifetime" else 1
                if value is not None and (type(value) is not int or not low <= value <= high):
                    raise _bad("{} must be an integer in {}..{}".format(key, low, high))
            if body.get("token_lifetime") is not None:
                state.tokens.set_lifetime(body["token_lifetime"])
            if body.get("arm_page_size") is not None:
                state.arm_page_size = body["arm_page_size"]
        return json_response(describe_aad())

    def revoke(request):
        return json_response({"revoked": state.tokens.revoke(), **describe_aad()})

    router.add("POST", r"/_emulator/reset", reset)
    router.add("GET", r"/_emulator/clock", clock)
    router.add("POST", r"/_emulator/clock", clock)
    router.add("PUT", r"/_emulator/devices/([^/]+)", put_device)
    router.add("GET", r"/_emulator/devices/([^/]+)", get_device)
    router.add("DELETE", r"/_emulator/devices/([^/]+)", delete_device)
    router.add("PUT", r"/_emulator/jobs/([^/]+)", put_job)
    router.add("DELETE", r"/_emulator/jobs/([^/]+)", delete_job)
    router.add("GET", r"/_emulator/requests", get_requests)
    router.add("DELETE", r"/_emulator/requests", clear_requests)
    router.add("GET", r"/_emulator/stats", stats)
    router.add("POST", r"/_emulator/delay", delay)
    router.add("POST", r"/_emulator/faults", add_fault)
    router.add("GET", r"/_emulator/faults", list_faults)
    router.add("DELETE", r"/_emulator/faults", clear_faults)
    router.add("DELETE", r"/_emulator/faults/(\d+)", delete_fault)
    router.add("GET", r"/_emulator/aad", aad)
    router.add("POST", r"/_emulator/aad", aad)
    router.add("POST", r"/_emulator/aad/revoke", revoke)
