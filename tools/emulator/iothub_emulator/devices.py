"""The device registry: a seeded fleet of 40 devices, their twins and how each
answers a direct method.

Fleet (deterministic, no randomness): device-001 .. device-040, all enabled.
- tags: site paris/lyon/berlin in turn (001 paris, 002 lyon, 003 berlin, ...),
  floor 1..5 in turn, model.name tx-1 (odd numbers) or tx-2 (even numbers)
- desired: telemetryInterval 60; reported: fw.version 1.0.0 and a temperature
  (an int for even numbers, a float for odd ones)
- device-011..013 answer every direct method with status 500 {"error": "boom"}
- device-037..040 are Disconnected: method jobs fail for them (DeviceNotOnline)
- every other device answers status 200 {"ok": true, "method": <name>}
- module twins: sensor on device-001..003, camera on device-001 (twins.py
  builds every twin document: etag, versions, $metadata)
"""

import copy

from . import twins

FLEET_SIZE = 40
SITES = ("paris", "lyon", "berlin")
FAILING = range(11, 14)
OFFLINE = range(37, 41)
SEED_TIME = "2026-11-20T08:00:00.0000000Z"
MODULES = {1: ("sensor", "camera"), 2: ("sensor",), 3: ("sensor",)}


def device_id(n):
    return "device-{:03d}".format(n)


def _seed_device(n):
    ident = device_id(n)
    offline = n in OFFLINE
    twin = twins.new_twin(
        ident, SEED_TIME, version=2,
        connection_state="Disconnected" if offline else "Connected",
        tags={"site": SITES[(n - 1) % 3], "floor": (n - 1) % 5 + 1,
              "model": {"name": "tx-1" if n % 2 else "tx-2"}},
        desired={"telemetryInterval": 60},
        reported={"fw": {"version": "1.0.0"},
                  "temp": 20 + n % 7 if n % 2 == 0 else 20.5 + n % 5})
    twin["lastActivityTime"] = "2026-11-20T08:{:02d}:00.0000000Z".format(n)
    method = {"status": 500, "payload": {"error": "boom"}} if n in FAILING else \
        {"status": 200}  # no payload: the default {"ok": true, "method": name}
    method["offline"] = offline
    return ident, {"twin": twin, "method": method}


def seeded_devices():
    return dict(_seed_device(n) for n in range(1, FLEET_SIZE + 1))


def seeded_modules():
    """Module twins by device id, then module id: sensor on devices 001..003
    and camera on 001 (a camera whose desired rate differs from its report)."""
    found = {}
    for n, names in MODULES.items():
        ident = device_id(n)
        found[ident] = {name: twins.new_twin(
            ident, SEED_TIME, module_id=name, tags={"kind": name},
            desired={"rate": 10 * n}, reported={"rate": 10 * n if name == "sensor" else 5})
            for name in names}
    return found


def merge_patch(target, patch):
    """Deep-merge ``patch`` into the dict ``target``; a JSON null deletes the key."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge_patch(target[key], value)
        elif isinstance(value, dict):
            target[key] = {}
            merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def new_device(ident, spec):
    """A device from a control-API body: {"twin": {...}, "method": {...}}."""
    twin_in = spec.get("twin") or {}
    method_in = spec.get("method") or {}
    properties = twin_in.get("properties") or {}
    twin = twins.new_twin(ident, SEED_TIME, tags=twin_in.get("tags"),
                          desired=properties.get("desired"), reported=properties.get("reported"),
                          connection_state=twin_in.get("connectionState", "Connected"))
    offline = bool(method_in.get("offline", twin["connectionState"] == "Disconnected"))
    if offline:
        twin["connectionState"] = "Disconnected"
    method = {"status": method_in.get("status", 200), "offline": offline}
    if "payload" in method_in:
        method["payload"] = copy.deepcopy(method_in["payload"])
    return {"twin": twin, "method": method}


def apply_twin_patch(device, patch, when=SEED_TIME):
    """Apply a job's updateTwin (tags and desired properties) to a device."""
    twin = device["twin"]
    tags = patch.get("tags")
    desired = (patch.get("properties") or {}).get("desired")
    if isinstance(tags, dict):
        merge_patch(twin.setdefault("tags", {}), tags)
    if isinstance(desired, dict):
        twins.patch_section(twin["properties"]["desired"], desired, when, True)
    twin["version"] += 1
    twin["etag"] = twins.etag(twin["version"])


def call_method(device, method_name):
    """How a device answers a direct method: ("ok"|"failed"|"offline", status, payload)."""
    behaviour = device["method"]
    if behaviour.get("offline") or device["twin"].get("connectionState") == "Disconnected":
        return "offline", None, None
    status = behaviour.get("status", 200)
    payload = behaviour.get("payload", {"ok": True, "method": method_name})
    return ("ok" if 200 <= status < 300 else "failed"), status, copy.deepcopy(payload)
