"""The request pipeline: log the request, apply a scripted fault (faults.py) or
any artificial delay, route it."""

import time

from . import aad, arm, control, faults, service
from .routing import Router


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
