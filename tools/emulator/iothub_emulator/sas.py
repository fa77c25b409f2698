"""Shared access signature (SAS) tokens: signing, parsing and validation.

A token looks like
``SharedAccessSignature sr=<host>&sig=<base64>&se=<unix seconds>&skn=<policy>``
with the fields in any order and percent-encoded values. The signature is
base64(HMAC-SHA256(base64decode(key), sr_as_sent + "\\n" + se)). Some SDKs
lowercase the host before signing, so both spellings of ``sr`` are accepted.
"""

import base64
import binascii
import hashlib
import hmac
import time
from urllib.parse import unquote

SCHEME = "SharedAccessSignature"


class InvalidToken(Exception):
    """The token is refused. The reason is for logs; it never holds a secret."""


def sign(key_b64, sr, se):
    """Return the base64 signature of ``sr`` and ``se`` with a base64 key."""
    digest = hmac.new(base64.b64decode(key_b64),
                      "{}\n{}".format(sr, se).encode("utf-8"),
                      hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def parse(header):
    """Split an Authorization header into its raw (still encoded) fields."""
    scheme, _, rest = (header or "").strip().partition(" ")
    if scheme != SCHEME:
        raise InvalidToken("not a SharedAccessSignature")
    fields = {}
    for pair in rest.strip().split("&"):
        name, sep, value = pair.partition("=")
        if not sep or name in fields:
            raise InvalidToken("malformed or repeated field")
        fields[name] = value
    missing = {"sr", "sig", "se", "skn"} - fields.keys()
    if missing:
        raise InvalidToken("missing fields: " + ", ".join(sorted(missing)))
    return fields


def summary(header):
    """A signature-free view of an Authorization header, safe to show."""
    scheme = (header or "").strip().partition(" ")[0]
    try:
        fields = parse(header)
    except InvalidToken:
        return {"scheme": scheme}
    return {"scheme": scheme, "skn": unquote(fields["skn"]),
            "sr": unquote(fields["sr"]), "se": fields["se"]}


def _names_host(sr, host):
    sr, host = sr.lower(), host.lower()
    return sr == host or sr.startswith(host + "/")


def validate(header, host, policy_keys, now=None):
    """Return the policy name of a valid token; raise InvalidToken otherwise."""
    fields = parse(header)
    policy = unquote(fields["skn"])
    if policy not in policy_keys:
        raise InvalidToken("unknown policy")
    if not _names_host(unquote(fields["sr"]), host):
        raise InvalidToken("sr does not name this hub")
    se = fields["se"]
    if not se.isdigit():
        raise InvalidToken("se is not an integer")
    if int(se) < (time.time() if now is None else now):
        raise InvalidToken("token expired")
    try:
        given = base64.b64decode(unquote(fields["sig"]), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidToken("sig is not base64") from None
    key = policy_keys[policy]
    for sr in {fields["sr"], fields["sr"].lower()}:
        expected = base64.b64decode(sign(key, sr, se))
        if hmac.compare_digest(given, expected):
            return policy
    raise InvalidToken("signature mismatch")
