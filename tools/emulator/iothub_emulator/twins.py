"""Twin documents: etags, versions, ``$metadata``, and the rules of PATCH and
PUT on /twins/{id} and /twins/{id}/modules/{mid}.

A twin holds ``tags`` and ``properties.desired`` (written by the back end)
and ``properties.reported`` (written by the device). Each properties section
carries ``$version`` (+1 on every change of that section) and ``$metadata``,
which mirrors the section: every key gets ``$lastUpdated`` (and, in desired,
``$lastUpdatedVersion``). The twin's ``version`` counts back-end writes
(tags and desired) and its ``etag`` follows it, written as the service does
(base64 of the version, unquoted in the JSON; clients quote it in If-Match).
"""

import base64
import copy

from .errors import ServiceError

WRITABLE = ("tags", "properties")


def etag(version):
    return base64.b64encode(int(version).to_bytes(8, "big")).decode("ascii")


def _metadata(value, when, version):
    meta = {"$lastUpdated": when}
    if version is not None:
        meta["$lastUpdatedVersion"] = version
    if isinstance(value, dict):
        for key, item in value.items():
            if not key.startswith("$"):
                meta[key] = _metadata(item, when, version)
    return meta


def section(values, when, desired):
    """A properties section (desired or reported) holding ``values``, version 1."""
    plain = {k: copy.deepcopy(v) for k, v in (values or {}).items() if not k.startswith("$")}
    plain["$metadata"] = _metadata(plain, when, 1 if desired else None)
    plain["$version"] = 1
    return plain


def _merge(target, meta, patch, when, version):
    """Deep-merge ``patch`` into ``target`` and its metadata; null deletes a key."""
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            target.pop(key, None)
            meta.pop(key, None)
        elif isinstance(value, dict):
            if not isinstance(target.get(key), dict):
                target[key] = {}
                meta[key] = {}
            child = meta.setdefault(key, {})
            _merge(target[key], child, value, when, version)
            child["$lastUpdated"] = when
            if version is not None:
                child["$lastUpdatedVersion"] = version
        else:
            target[key] = copy.deepcopy(value)
            meta[key] = _metadata(value, when, version)
    meta["$lastUpdated"] = when
    if version is not None:
        meta["$lastUpdatedVersion"] = version


def patch_section(props, patch, when, desired):
    """Merge ``patch`` into a properties section; its $version goes up by one."""
    props["$version"] = props.get("$version", 0) + 1
    meta = props.setdefault("$metadata", {})
    values = {k: v for k, v in props.items() if not k.startswith("$")}
    _merge(values, meta, patch, when, props["$version"] if desired else None)
    for key in [k for k in props if not k.startswith("$")]:
        del props[key]
    props.update(values)


def _without_nulls(values):
    """A PUT body's object with its null members left out, at every depth."""
    return {k: _without_nulls(v) if isinstance(v, dict) else copy.deepcopy(v)
            for k, v in (values or {}).items() if v is not None}


def _replace_section(props, values, when, desired):
    version = props.get("$version", 0) + 1
    props.clear()
    props.update(section(values, when, desired))
    props["$version"] = version
    if desired:
        _stamp(props["$metadata"], version)


def _stamp(meta, version):
    meta["$lastUpdatedVersion"] = version
    for key, child in meta.items():
        if not key.startswith("$"):
            _stamp(child, version)


def new_twin(device_id, when, tags=None, desired=None, reported=None, module_id=None,
             connection_state="Connected", version=1):
    twin = {"deviceId": device_id}
    if module_id is not None:
        twin["moduleId"] = module_id
    twin.update({
        "etag": etag(version), "version": version, "status": "enabled",
        "statusUpdateTime": "0001-01-01T00:00:00Z",
        "connectionState": connection_state, "lastActivityTime": when,
        "cloudToDeviceMessageCount": 0, "authenticationType": "sas",
        "x509Thumbprint": {"primaryThumbprint": None, "secondaryThumbprint": None},
        "tags": copy.deepcopy(tags or {}),
        "properties": {"desired": section(desired, when, True),
                       "reported": section(reported, when, False)},
    })
    if module_id is None:
        twin["capabilities"] = {"iotEdge": False}
    return twin


def _bump(twin):
    twin["version"] += 1
    twin["etag"] = etag(twin["version"])


def check_etag(twin, if_match):
    """Raise 412 unless If-Match is absent, ``*`` or the twin's etag (quoted or not)."""
    if if_match is None:
        return
    wanted = if_match.strip()
    if wanted == "*":
        return
    if len(wanted) >= 2 and wanted[0] == wanted[-1] == '"':
        wanted = wanted[1:-1]
    if wanted != twin["etag"]:
        raise ServiceError("PreconditionFailed",
                           "Precondition failed: etag '{}' does not match the twin's etag"
                           .format(wanted))


def _check_body(body, replace):
    """The tags and desired properties of a PATCH or PUT body; 400 for others."""
    if not isinstance(body, dict):
        raise ServiceError("ArgumentInvalid", "The twin must be a JSON object")
    tags = body.get("tags")
    props = body.get("properties")
    if tags is not None and not isinstance(tags, dict):
        raise ServiceError("ArgumentInvalid", "tags must be a JSON object")
    if props is not None and not isinstance(props, dict):
        raise ServiceError("ArgumentInvalid", "properties must be a JSON object")
    # properties.reported (the device's) and the read-only fields of a twin
    # read before (etag, version, $metadata...) are ignored, so a twin read,
    # changed and sent back whole replaces what the back end owns.
    props = props or {}
    desired = props.get("desired")
    if desired is not None and not isinstance(desired, dict):
        raise ServiceError("ArgumentInvalid", "properties.desired must be a JSON object")
    if not replace and tags is None and desired is None:
        raise ServiceError("ArgumentInvalid", "A twin patch must hold tags or properties.desired")
    return tags, desired


def apply_patch(twin, body, when):
    """PATCH: tags and desired deep-merged (null deletes)."""
    tags, desired = _check_body(body, False)
    if tags is not None:
        _merge(twin.setdefault("tags", {}), {}, tags, when, None)
    if desired is not None:
        patch_section(twin["properties"]["desired"], desired, when, True)
    _bump(twin)


def apply_replace(twin, body, when):
    """PUT: tags and desired replaced by the body's (absent: emptied)."""
    tags, desired = _check_body(body, True)
    twin["tags"] = _without_nulls(tags)
    _replace_section(twin["properties"]["desired"], _without_nulls(desired), when, True)
    _bump(twin)


def report(twin, values, when):
    """The device reports ``values`` (a patch of its reported properties)."""
    patch_section(twin["properties"]["reported"], values, when, False)
