"""The request pipeline: log the request, apply any artificial delay, route it."""

import time

from . import aad, arm, control, service
from .routing import Router


def build_app(state):
    """Return a function from Request to Response for this emulator state."""
    router = Router()
    control.register(router, state)
    service.register(router, state)
    aad.register(router, state)
    arm.register(router, state)

    def handle(request):
        if not control.is_control(request.path):
            state.record(request)
            time.sleep(state.delay_for(request.path))
        return router.dispatch(request)

    return handle
