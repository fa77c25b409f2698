"""The request pipeline: refuse a malformed request target (400), log the
request, apply a scripted fault (faults.py) or any artificial delay, route it."""

import time

from . import aad, arm, control, faults, service
from .errors import ServiceError
from .routing import Router, error_response, target_error


def build_app(state):
    """Return a function from Request to Response for this emulator state."""
    router = Router()
    control.register(router, state)
    service.register(router, state)
    aad.register(router, state)
    arm.register(router, state)

    def route(request):
        time.sleep(state.delay_for(request.path))
        return router.dispatch(request)

    def handle(request):
        bad = target_error(request.target)
        if bad:
            return error_response(ServiceError("ArgumentInvalid", bad, shape=4))
        if control.is_control(request.path):
            return router.dispatch(request)
        fault = state.faults.take(request)
        state.record(request, fault)
        if fault:
            return faults.respond(fault, request, lambda: route(request))
        return route(request)

    def early(request):
        """The answer for a request whose body is not read yet, from an
        ``early_answer`` fault, or None."""
        if control.is_control(request.path):
            return None
        fault = state.faults.take(request, early=True)
        if fault is None:
            return None
        state.record(request, fault)
        return faults.early_answer(fault, request)

    handle.early = early
    return handle


# What the plain-HTTP listener serves: the identity endpoints, which are
# plain http on a local address in Azure too (App Service, IMDS).
PLAIN_HTTP_PATHS = ("/msi/token", "/metadata/identity/oauth2/token")


def plain_http_app(app):
    """app restricted to the managed identity routes; anything else is a 404."""
    def handle(request):
        if request.path in PLAIN_HTTP_PATHS:
            return app(request)
        return error_response(ServiceError("RouteNotFound", "Only managed identity is served over plain HTTP.",
                                           status=404, shape=4))

    return handle
