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
"""

import copy
import hashlib

FLEET_SIZE = 40
SITES = ("paris", "lyon", "berlin")
FAILING = range(11, 14)
OFFLINE = range(37, 41)
SEED_TIME = "2026-11-20T08:00:00.0000000Z"


def device_id(n):
    return "device-{:03d}".format(n)


def etag(device, version):
    digest = hashlib.sha256("{}:{}".format(device, version).encode("utf-8")).hexdigest()
    return '"{}"'.format(digest[:16])


def _seed_device(n):
    ident = device_id(n)
    offline = n in OFFLINE
    twin = {
        "deviceId": ident,
        "etag": etag(ident, 2),
        "version": 2,
        "status": "enabled",
        "connectionState": "Disconnected" if offline else "Connected",
        "lastActivityTime": "2026-11-20T08:{:02d}:00.0000000Z".format(n),
        "tags": {"site": SITES[(n - 1) % 3], "floor": (n - 1) % 5 + 1,
                 "model": {"name": "tx-1" if n % 2 else "tx-2"}},
        "properties": {
            "desired": {"telemetryInterval": 60, "$version": 1},
            "reported": {"fw": {"version": "1.0.0"},
                         "temp": 20 + n % 7 if n % 2 == 0 else 20.5 + n % 5,
                         "$version": 1},
        },
    }
    method = {"status": 500, "payload": {"error": "boom"}} if n in FAILING else \
        {"status": 200}  # no payload: the default {"ok": true, "method": name}
    method["offline"] = offline
    return ident, {"twin": twin, "method": method}


def seeded_devices():
    return dict(_seed_device(n) for n in range(1, FLEET_SIZE + 1))


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
    twin = {
        "deviceId": ident, "etag": etag(ident, 1), "version": 1, "status": "enabled",
        "connectionState": twin_in.get("connectionState", "Connected"),
        "lastActivityTime": SEED_TIME,
        "tags": copy.deepcopy(twin_in.get("tags") or {}),
        "properties": {
            "desired": {**copy.deepcopy(properties.get("desired") or {}), "$version": 1},
            "reported": {**copy.deepcopy(properties.get("reported") or {}), "$version": 1},
        },
    }
    offline = bool(method_in.get("offline", twin["connectionState"] == "Disconnected"))
    if offline:
        twin["connectionState"] = "Disconnected"
    method = {"status": method_in.get("status", 200), "offline": offline}
    if "payload" in method_in:
        method["payload"] = copy.deepcopy(method_in["payload"])
    return {"twin": twin, "method": method}


def apply_twin_patch(device, patch):
    """Apply a job's updateTwin (tags and desired properties) to a device."""
    twin = device["twin"]
    tags = patch.get("tags")
    desired = (patch.get("properties") or {}).get("desired")
    if isinstance(tags, dict):
        merge_patch(twin.setdefault("tags", {}), tags)
    if isinstance(desired, dict):
        target = twin["properties"]["desired"]
        merge_patch(target, {k: v for k, v in desired.items() if k != "$version"})
        target["$version"] = target.get("$version", 0) + 1
    twin["version"] += 1
    twin["etag"] = etag(twin["deviceId"], twin["version"])


def call_method(device, method_name):
    """How a device answers a direct method: ("ok"|"failed"|"offline", status, payload)."""
    behaviour = device["method"]
    if behaviour.get("offline") or device["twin"].get("connectionState") == "Disconnected":
        return "offline", None, None
    status = behaviour.get("status", 200)
    payload = behaviour.get("payload", {"ok": True, "method": method_name})
    return ("ok" if 200 <= status < 300 else "failed"), status, copy.deepcopy(payload)
