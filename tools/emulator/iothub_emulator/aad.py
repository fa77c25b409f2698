"""Azure AD (Entra ID) and managed identity token endpoints, and the store of
the bearer tokens they issue (which the ARM routes accept).

- ``POST /{tenant}/oauth2/v2.0/token``: OAuth2 client credentials, as
  login.microsoftonline.com answers them (AADSTS error codes and bodies).
- ``GET /metadata/identity/oauth2/token``: the VM instance metadata service
  (IMDS), header ``Metadata: true``.
- ``GET /msi/token``: App Service / Functions, header ``X-IDENTITY-HEADER``.

Tokens are opaque random strings. Each remembers its audience and when it
expires on the emulated clock (clock.py), so a test expires a cached token by
advancing the clock. ``revoke`` forgets every token issued so far. Secrets
are never logged or echoed.
"""

import datetime
import hmac
import re
import secrets
import threading
import uuid
from urllib.parse import parse_qs

from . import identity
from .clock import MICROS
from .routing import HttpError, json_response

DEFAULT_TOKEN_LIFETIME = 3599
MAX_TOKEN_LIFETIME = 366 * 86400
GRANT_TYPE = "client_credentials"

# What a token may be asked for, and the audience it then carries.
ARM_AUDIENCE = "https://management.azure.com/"
IOTHUB_AUDIENCE = "https://iothubs.azure.net"
SCOPES = {
    "https://management.azure.com/.default": ARM_AUDIENCE,
    "https://management.azure.com//.default": ARM_AUDIENCE,  # as some SDKs build it
    "https://management.core.windows.net/.default": ARM_AUDIENCE,
    "https://management.core.windows.net//.default": ARM_AUDIENCE,
    "https://iothubs.azure.net/.default": IOTHUB_AUDIENCE,
}
RESOURCES = {  # managed identity ``resource`` parameter
    "https://management.azure.com/": ARM_AUDIENCE,
    "https://management.azure.com": ARM_AUDIENCE,
    "https://management.core.windows.net/": ARM_AUDIENCE,
    "https://management.core.windows.net": ARM_AUDIENCE,
    "https://iothubs.azure.net": IOTHUB_AUDIENCE,
    "https://iothubs.azure.net/": IOTHUB_AUDIENCE,
}
IMDS_MIN_API_VERSION = "2018-02-01"
APP_SERVICE_API_VERSION = "2019-08-01"
_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_NO_CACHE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


class Token:
    __slots__ = ("audience", "subject", "issued", "expires")

    def __init__(self, audience, subject, issued, expires):
        self.audience, self.subject, self.issued, self.expires = \
            audience, subject, issued, expires


class TokenStore:
    """Issued bearer tokens, the token lifetime and the counters. Thread-safe."""

    def __init__(self, clock):
        self.clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self._tokens = {}
            self.lifetime = DEFAULT_TOKEN_LIFETIME
            self._issued = 0
            self._requests = 0

    def count_request(self):
        with self._lock:
            self._requests += 1

    def issue(self, audience, subject):
        """A new token: (token text, issued at, expires at), times in microseconds."""
        now = self.clock.now()
        text = "eyJ" + secrets.token_urlsafe(96)
        with self._lock:
            token = Token(audience, subject, now, now + self.lifetime * MICROS)
            self._tokens[text] = token
            self._issued += 1
            return text, token

    def lookup(self, text):
        """The Token for ``text``, expired or not; None if unknown or revoked."""
        with self._lock:
            return self._tokens.get(text)

    def revoke(self):
        with self._lock:
            count = len(self._tokens)
            self._tokens = {}
            return count

    def set_lifetime(self, seconds):
        with self._lock:
            self.lifetime = seconds

    def counts(self):
        now = self.clock.now()
        with self._lock:
            return {"tokens_issued": self._issued, "token_requests": self._requests,
                    "tokens_valid": sum(1 for t in self._tokens.values() if t.expires > now),
                    "token_lifetime": self.lifetime}


# -- Azure AD: POST /{tenant}/oauth2/v2.0/token --------------------------------------
def _timestamp():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def _correlation_id(request):
    given = request.headers.get("client-request-id", "")
    try:
        return str(uuid.UUID(given))
    except ValueError:
        return str(uuid.uuid4())


def aad_error(request, status, error, code, text):
    """An Azure AD error response (the body login.microsoftonline.com sends)."""
    trace, correlation, stamp = str(uuid.uuid4()), _correlation_id(request), _timestamp()
    description = "AADSTS{}: {}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}".format(
        code, text, trace, correlation, stamp)
    body = {"error": error, "error_description": description, "error_codes": [code],
            "timestamp": stamp, "trace_id": trace, "correlation_id": correlation,
            "error_uri": "https://login.microsoftonline.com/error?code={}".format(code)}
    response = json_response(body, status, {**_NO_CACHE, "client-request-id": correlation})
    response.log_note = "AADSTS{} {}".format(code, error)
    return HttpError(response)


def _form(request):
    """The form fields (percent-decoded, ``+`` as space); a list when repeated."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return {}
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    parsed = parse_qs(text, keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}


def _missing(request, name):
    return aad_error(request, 400, "invalid_request", 900144,
                     "The request body must contain the following parameter: '{}'.".format(name))


def _same_guid(given, expected):
    return isinstance(given, str) and given.strip().lower() == expected


def client_credentials(store, request, tenant):
    """The token endpoint; a Response, or raises HttpError."""
    store.count_request()
    if not _same_guid(tenant, identity.TENANT_ID):
        raise aad_error(request, 400, "invalid_request", 90002,
                        "Tenant '{}' not found. Check to make sure you have the correct tenant ID "
                        "and are signing into the correct cloud. Check with your subscription "
                        "administrator, this may happen if there are no active subscriptions "
                        "for the tenant.".format(tenant))
    form = _form(request)
    for name, value in form.items():
        if isinstance(value, list):
            raise aad_error(request, 400, "invalid_request", 9000411,
                            "The request is not properly formatted. The parameter '{}' is "
                            "duplicated.".format(name))
    grant = form.get("grant_type")
    if not grant:
        raise _missing(request, "grant_type")
    if grant != GRANT_TYPE:
        raise aad_error(request, 400, "unsupported_grant_type", 70003,
                        "The app requested an unsupported grant type '{}'.".format(grant))
    client_id = form.get("client_id")
    if not client_id:
        raise _missing(request, "client_id")
    if not _same_guid(client_id, identity.CLIENT_ID):
        raise aad_error(request, 400, "unauthorized_client", 700016,
                        "Application with identifier '{}' was not found in the directory '{}'. "
                        "This can happen if the application has not been installed by the "
                        "administrator of the tenant or consented to by any user in the tenant. "
                        "You may have sent your authentication request to the wrong tenant."
                        .format(client_id, tenant))
    scope = form.get("scope")
    if not scope:
        raise aad_error(request, 400, "invalid_scope", 70011,
                        "The provided request must include a 'scope' input parameter.")
    audience = SCOPES.get(scope.strip())
    if audience is None:
        raise aad_error(request, 400, "invalid_scope", 70011,
                        "The provided value for the input parameter 'scope' is not valid. "
                        "The scope {} is not valid.".format(scope))
    secret = form.get("client_secret")
    if not secret:
        raise _missing(request, "client_secret")
    if not hmac.compare_digest(secret.encode("utf-8"), identity.CLIENT_SECRET.encode("utf-8")):
        raise aad_error(request, 401, "invalid_client", 7000215,
                        "Invalid client secret provided. Ensure the secret being sent in the "
                        "request is the client secret value, not the client secret ID, for a "
                        "secret added to app '{}'.".format(identity.CLIENT_ID))
    text, token = store.issue(audience, identity.CLIENT_ID)
    lifetime = (token.expires - token.issued) // MICROS
    return json_response({"token_type": "Bearer", "expires_in": lifetime,
                          "ext_expires_in": lifetime, "access_token": text},
                         headers={**_NO_CACHE, "client-request-id": _correlation_id(request)})


# -- managed identity ----------------------------------------------------------------
def _single(request, name):
    value = request.query.get(name)
    return value if isinstance(value, str) else (None if value is None else value[0])


def _mi_token(store, request, resource, client_id):
    audience = RESOURCES[resource]
    text, token = store.issue(audience, client_id)
    return text, token, str((token.expires - token.issued) // MICROS)


def _imds_error(error, description, status=400):
    response = json_response({"error": error, "error_description": description}, status)
    response.log_note = description
    return HttpError(response)


def imds(store, request):
    """GET /metadata/identity/oauth2/token (IMDS, api-version 2018-02-01 and later)."""
    store.count_request()
    if request.headers.get("metadata", "").strip().lower() != "true":
        raise _imds_error("invalid_request", "Required metadata header not specified")
    version = _single(request, "api-version")
    if not version:
        raise _imds_error("invalid_request", "Required query variable 'api-version' is missing")
    if not _DATE.fullmatch(version) or version < IMDS_MIN_API_VERSION:
        raise _imds_error("invalid_request", "Invalid api-version '{}'".format(version))
    resource = _single(request, "resource")
    if not resource:
        raise _imds_error("invalid_resource", "Required query variable 'resource' is missing")
    if resource not in RESOURCES:
        raise _imds_error("invalid_resource",
                          "AADSTS500011: The resource principal named {} was not found in the "
                          "tenant named {}.".format(resource, identity.TENANT_ID))
    client_id = _single(request, "client_id")
    if client_id is not None and not _same_guid(client_id, identity.MANAGED_IDENTITY_CLIENT_ID):
        raise _imds_error("invalid_request", "Identity not found")
    if _single(request, "object_id") or _single(request, "msi_res_id") \
            or _single(request, "mi_res_id"):
        raise _imds_error("invalid_request", "Identity not found")
    text, token, lifetime = _mi_token(store, request, resource,
                                      identity.MANAGED_IDENTITY_CLIENT_ID)
    return json_response({
        "access_token": text, "client_id": identity.MANAGED_IDENTITY_CLIENT_ID,
        "expires_in": lifetime, "expires_on": str(token.expires // MICROS),
        "ext_expires_in": lifetime, "not_before": str(token.issued // MICROS),
        "resource": resource, "token_type": "Bearer"})


def _app_service_error(status, message):
    response = json_response({"statusCode": status, "message": message,
                              "correlationId": str(uuid.uuid4())}, status)
    response.log_note = message
    return HttpError(response)


def app_service(store, request):
    """GET /msi/token (App Service and Functions, api-version 2019-08-01)."""
    store.count_request()
    given = request.headers.get("x-identity-header", "")
    if not given or not hmac.compare_digest(given.encode("utf-8"),
                                            identity.IDENTITY_HEADER.encode("utf-8")):
        raise _app_service_error(401, "The X-IDENTITY-HEADER header is missing or does not "
                                      "match the IDENTITY_HEADER of this app.")
    version = _single(request, "api-version")
    if version != APP_SERVICE_API_VERSION:
        raise _app_service_error(400, "The api-version '{}' is not supported; use {}."
                                      .format(version or "", APP_SERVICE_API_VERSION))
    resource = _single(request, "resource")
    if not resource:
        raise _app_service_error(400, "The resource parameter is required.")
    if resource not in RESOURCES:
        raise _app_service_error(400, "AADSTS500011: The resource principal named {} was not "
                                      "found in the tenant named {}."
                                      .format(resource, identity.TENANT_ID))
    client_id = _single(request, "client_id")
    if client_id is not None and not _same_guid(client_id, identity.MANAGED_IDENTITY_CLIENT_ID):
        raise _app_service_error(400, "Unable to load the proper Managed Identity.")
    text, token, _ = _mi_token(store, request, resource, identity.MANAGED_IDENTITY_CLIENT_ID)
    return json_response({"access_token": text, "expires_on": str(token.expires // MICROS),
                          "resource": resource, "token_type": "Bearer",
                          "client_id": identity.MANAGED_IDENTITY_CLIENT_ID})


def register(router, state):
    store = state.tokens
    router.add("POST", r"/([^/]+)/oauth2/v2\.0/token",
               lambda request, tenant: client_credentials(store, request, tenant))
    router.add("GET", r"/metadata/identity/oauth2/token", lambda request: imds(store, request))
    router.add("GET", r"/msi/token", lambda request: app_service(store, request))
