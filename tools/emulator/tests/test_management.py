"""The management plane: Azure AD and managed identity tokens, ARM job routes."""

import json
import unittest
import urllib.parse

import support
from iothub_emulator import aad, arm, identity, seed

API = "?api-version=2023-06-30"
HUB_PATH = ("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Devices/IotHubs/{}"
            .format(identity.SUBSCRIPTION_ID, identity.RESOURCE_GROUP, identity.HUB_NAME))
JOBS_PATH = HUB_PATH + "/jobs"
TOKEN_PATH = "/{}/oauth2/v2.0/token".format(identity.TENANT_ID)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
IMDS = "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" + \
    urllib.parse.quote("https://management.azure.com/", safe="")
MSI = "/msi/token?api-version=2019-08-01&resource=" + \
    urllib.parse.quote("https://management.azure.com/", safe="")


def job_path(job_id):
    return JOBS_PATH + "/" + urllib.parse.quote(job_id, safe="") + API


def form(**fields):
    defaults = {"grant_type": "client_credentials", "client_id": identity.CLIENT_ID,
                "client_secret": identity.CLIENT_SECRET,
                "scope": "https://management.azure.com/.default"}
    merged = {k: v for k, v in {**defaults, **fields}.items() if v is not None}
    return urllib.parse.urlencode(merged)


class ManagementTest(support.EmulatorTestCase):
    def setUp(self):
        self.emulator.state.reset()

    # -- helpers -------------------------------------------------------------------
    def post_token(self, body, tenant=identity.TENANT_ID, headers=FORM):
        return self.emulator.request("POST", "/{}/oauth2/v2.0/token".format(tenant),
                                     headers, body)

    def token(self, **fields):
        status, _, body = self.post_token(form(**fields))
        self.assertEqual(status, 200, body)
        return body["access_token"]

    def arm(self, path, token=None, headers=None):
        auth = {"Authorization": "Bearer " + (token or self.token())}
        return self.emulator.request("GET", path, {**auth, **(headers or {})})

    def control(self, method, path, data=None):
        body = json.dumps(data) if data is not None else None
        return self.emulator.request(method, "/_emulator/" + path, {}, body)[2]

    def assert_aad_error(self, response, status, error, code, text):
        got_status, headers, body = response
        self.assertEqual((got_status, body["error"], body["error_codes"]), (status, error, [code]))
        self.assertEqual(headers["Content-Type"], "application/json; charset=utf-8")
        first, trace, correlation, stamp = body["error_description"].split("\r\n")
        self.assertEqual(first, "AADSTS{}: {}".format(code, text))
        self.assertEqual(trace, "Trace ID: " + body["trace_id"])
        self.assertEqual(correlation, "Correlation ID: " + body["correlation_id"])
        self.assertEqual(stamp, "Timestamp: " + body["timestamp"])
        self.assertRegex(body["timestamp"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$")
        self.assertEqual(body["error_uri"],
                         "https://login.microsoftonline.com/error?code={}".format(code))
        self.assertNotIn(identity.CLIENT_SECRET, json.dumps(body))

    def assert_arm_error(self, response, status, code, message=None):
        got_status, headers, body = response
        self.assertEqual((got_status, body["error"]["code"]), (status, code), body)
        if message is not None:
            self.assertEqual(body["error"]["message"], message)
        self.assertTrue(headers["x-ms-correlation-request-id"])
        return headers, body

    # -- Azure AD ------------------------------------------------------------------
    def test_client_credentials_token(self):
        status, headers, body = self.post_token(form())
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/json; charset=utf-8")
        self.assertEqual(set(body), {"token_type", "expires_in", "ext_expires_in",
                                     "access_token"})
        self.assertEqual((body["token_type"], body["expires_in"], body["ext_expires_in"]),
                         ("Bearer", 3599, 3599))
        self.assertTrue(body["access_token"].startswith("eyJ"))
        self.assertEqual(len(headers.get_all("x-ms-request-id")), 1)

    def test_accepts_iothub_scope_plus_and_charset(self):
        body = form(scope="https://iothubs.azure.net/.default").replace("%3A", ":")
        status, _, _ = self.post_token(
            body, headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        self.assertEqual(status, 200)

    def test_wrong_secret_is_invalid_client(self):
        response = self.post_token(form(client_secret="not-the-secret"))
        self.assert_aad_error(
            response, 401, "invalid_client", 7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the "
            "client secret value, not the client secret ID, for a secret added to app '{}'."
            .format(identity.CLIENT_ID))

    def test_unknown_client_tenant_scope_and_grant(self):
        other = "00000000-1111-2222-3333-444444444444"
        response = self.post_token(form(client_id=other))
        self.assert_aad_error(
            response, 400, "unauthorized_client", 700016,
            "Application with identifier '{}' was not found in the directory '{}'. This can "
            "happen if the application has not been installed by the administrator of the "
            "tenant or consented to by any user in the tenant. You may have sent your "
            "authentication request to the wrong tenant.".format(other, identity.TENANT_ID))
        response = self.post_token(form(), tenant=other)
        self.assertEqual(response[2]["error"], "invalid_request")
        self.assertEqual(response[2]["error_codes"], [90002])
        self.assertTrue(response[2]["error_description"].startswith(
            "AADSTS90002: Tenant '{}' not found.".format(other)))
        self.assert_aad_error(self.post_token(form(scope=None)), 400, "invalid_scope", 70011,
                              "The provided request must include a 'scope' input parameter.")
        response = self.post_token(form(scope="https://x.example/.default offline_access"))
        self.assert_aad_error(
            response, 400, "invalid_scope", 70011,
            "The provided value for the input parameter 'scope' is not valid. The scope "
            "https://x.example/.default offline_access is not valid.")
        self.assert_aad_error(self.post_token(form(grant_type="password")), 400,
                              "unsupported_grant_type", 70003,
                              "The app requested an unsupported grant type 'password'.")

    def test_plus_decodes_as_space(self):
        response = self.post_token(form().replace("client_credentials", "client+credentials"))
        self.assert_aad_error(response, 400, "unsupported_grant_type", 70003,
                              "The app requested an unsupported grant type 'client credentials'.")

    def test_missing_fields(self):
        for name in ("grant_type", "client_id", "client_secret"):
            with self.subTest(name=name):
                self.assert_aad_error(
                    self.post_token(form(**{name: None})), 400, "invalid_request", 900144,
                    "The request body must contain the following parameter: '{}'.".format(name))
        self.assert_aad_error(self.post_token(form(), headers={}), 400, "invalid_request",
                              900144, "The request body must contain the following parameter: "
                              "'grant_type'.")

    def test_secret_is_redacted_in_the_request_log(self):
        self.post_token(form())
        self.post_token(form(client_secret="wrong-secret"))
        self.arm(job_path("fixture-twin-1"))
        log = self.control("GET", "requests")
        text = json.dumps(log)
        self.assertNotIn(identity.CLIENT_SECRET, text)
        self.assertNotIn("wrong-secret", text)
        self.assertIn("client_secret=***", log[0]["body"])
        self.assertTrue(log[0]["body"].startswith("grant_type=client_credentials&client_id="))
        self.assertEqual(log[-1]["headers"]["authorization"]["scheme"], "Bearer")
        self.assertGreater(log[-1]["headers"]["authorization"]["length"], 40)

    def test_counts_token_requests(self):
        self.token()
        self.post_token(form(client_secret="nope"))
        self.emulator.request("GET", IMDS, {"Metadata": "true"})
        counts = self.control("GET", "aad")
        self.assertEqual((counts["tokens_issued"], counts["token_requests"]), (2, 3))
        self.assertEqual((counts["token_lifetime"], counts["arm_page_size"]), (3599, 50))

    # -- managed identity ---------------------------------------------------------
    def test_imds(self):
        status, _, body = self.emulator.request("GET", IMDS, {"Metadata": "True"})
        self.assertEqual(status, 200)
        self.assertEqual(body["client_id"], identity.MANAGED_IDENTITY_CLIENT_ID)
        self.assertEqual(body["resource"], "https://management.azure.com/")
        self.assertEqual((body["expires_in"], body["ext_expires_in"], body["token_type"]),
                         ("3599", "3599", "Bearer"))
        self.assertEqual(int(body["expires_on"]) - int(body["not_before"]), 3599)
        self.assertIsInstance(body["expires_on"], str)
        self.assertEqual(self.arm(job_path("fixture-twin-1"), body["access_token"])[0], 200)
        with_id = IMDS + "&client_id=" + identity.MANAGED_IDENTITY_CLIENT_ID.upper()
        self.assertEqual(self.emulator.request("GET", with_id, {"Metadata": "true"})[0], 200)

    def test_imds_errors(self):
        self.assertEqual(self.emulator.request("GET", IMDS)[2],
                         {"error": "invalid_request",
                          "error_description": "Required metadata header not specified"})
        status, _, body = self.emulator.request(
            "GET", IMDS + "&client_id=00000000-0000-0000-0000-000000000000", {"Metadata": "true"})
        self.assertEqual((status, body), (400, {"error": "invalid_request",
                                                "error_description": "Identity not found"}))
        status, _, body = self.emulator.request(
            "GET", "/metadata/identity/oauth2/token?api-version=2018-02-01", {"Metadata": "true"})
        self.assertEqual((status, body["error"]), (400, "invalid_resource"))

    def test_app_service(self):
        status, _, body = self.emulator.request("GET", MSI,
                                                {"X-IDENTITY-HEADER": identity.IDENTITY_HEADER})
        self.assertEqual(status, 200)
        self.assertEqual(set(body), {"access_token", "expires_on", "resource", "token_type",
                                     "client_id"})
        self.assertIsInstance(body["expires_on"], str)
        self.assertEqual(self.arm(job_path("fixture-twin-1"), body["access_token"])[0], 200)
        for headers in ({}, {"X-IDENTITY-HEADER": "wrong"}):
            status, _, body = self.emulator.request("GET", MSI, headers)
            self.assertEqual((status, body["statusCode"]), (401, 401))
        self.assertEqual(self.control("GET", "requests")[-1]["headers"]["x-identity-header"],
                         "***")

    # -- bearer tokens on ARM ----------------------------------------------------------
    def test_missing_and_garbage_tokens(self):
        response = self.emulator.request("GET", job_path("fixture-twin-1"))
        headers, _ = self.assert_arm_error(
            response, 401, "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.")
        self.assertTrue(headers["WWW-Authenticate"].startswith(
            'Bearer authorization_uri="https://login.microsoftonline.com/{}", '
            'error="invalid_token"'.format(identity.TENANT_ID)))
        self.assert_arm_error(self.arm(job_path("fixture-twin-1"), "eyJgarbage"), 401,
                              "InvalidAuthenticationToken", "The access token is invalid.")

    def test_token_expires_on_the_emulated_clock(self):
        token = self.token()
        self.assertEqual(self.arm(job_path("fixture-twin-1"), token)[0], 200)
        self.control("POST", "clock", {"advance": 3590})
        self.assertEqual(self.arm(job_path("fixture-twin-1"), token)[0], 200)
        self.control("POST", "clock", {"advance": 10})
        _, body = self.assert_arm_error(self.arm(job_path("fixture-twin-1"), token), 401,
                                        "ExpiredAuthenticationToken")
        self.assertRegex(body["error"]["message"],
                         r"^The access token expiry UTC time '\d+/\d+/\d{4} \d+:\d\d:\d\d [AP]M' "
                         r"is earlier than current UTC time '\d+/\d+/\d{4} \d+:\d\d:\d\d [AP]M'\.$")
        self.assertEqual(self.arm(job_path("fixture-twin-1"))[0], 200)  # a fresh token

    def test_token_lifetime_and_revoke(self):
        self.assertEqual(self.control("POST", "aad", {"token_lifetime": 60})["token_lifetime"],
                         60)
        status, _, body = self.post_token(form())
        self.assertEqual(body["expires_in"], 60)
        token = body["access_token"]
        self.assertEqual(self.control("POST", "aad/revoke")["revoked"], 1)
        self.assert_arm_error(self.arm(job_path("fixture-twin-1"), token), 401,
                              "InvalidAuthenticationToken")
        self.control("POST", "reset")
        self.assertEqual(self.control("GET", "aad"),
                         {"tokens_issued": 0, "token_requests": 0, "tokens_valid": 0,
                          "token_lifetime": 3599, "arm_page_size": 50})
        self.assertEqual(self.control("POST", "aad", {"token_lifetime": "x"})["errorCode"],
                         400004)

    def test_iothub_audience_is_refused_by_arm(self):
        token = self.token(scope="https://iothubs.azure.net/.default")
        self.assert_arm_error(self.arm(job_path("fixture-twin-1"), token), 401,
                              "InvalidAuthenticationTokenAudience")

    # -- ARM routes ------------------------------------------------------------------------
    def test_api_version(self):
        token = self.token()
        self.assert_arm_error(
            self.arm(JOBS_PATH + "/fixture-twin-1", token), 400, "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.")
        _, body = self.assert_arm_error(
            self.arm(JOBS_PATH + "/fixture-twin-1?api-version=2020-01-01", token), 400,
            "InvalidApiVersionParameter")
        self.assertTrue(body["error"]["message"].startswith(
            "The api-version '2020-01-01' is invalid. The supported versions are '"))
        for version in arm.API_VERSIONS:
            self.assertEqual(self.arm(JOBS_PATH + "/fixture-twin-1?api-version=" + version,
                                      token)[0], 200)

    def test_unknown_resources(self):
        token = self.token()
        other = HUB_PATH.replace(identity.SUBSCRIPTION_ID, "00000000-0000-0000-0000-000000000000")
        self.assert_arm_error(self.arm(other + "/jobs" + API, token), 404, "SubscriptionNotFound")
        self.assert_arm_error(
            self.arm(HUB_PATH.replace(identity.RESOURCE_GROUP, "other-rg") + "/jobs" + API,
                     token), 404, "ResourceGroupNotFound")
        self.assert_arm_error(
            self.arm(HUB_PATH.replace("IotHubs/" + identity.HUB_NAME, "IotHubs/other-hub")
                     + "/jobs" + API, token), 404, "ResourceNotFound")
        self.assert_arm_error(self.arm(HUB_PATH + API, token), 404, "RouteNotFound")

    def test_segments_match_case_insensitively(self):
        path = ("/SUBSCRIPTIONS/{}/resourcegroups/{}/Providers/microsoft.devices/iothubs/{}"
                "/Jobs/fixture-twin-1" + API).format(identity.SUBSCRIPTION_ID.upper(),
                                                     identity.RESOURCE_GROUP.upper(),
                                                     identity.HUB_NAME.upper())
        self.assertEqual(self.arm(path)[2]["jobId"], "fixture-twin-1")

    def test_get_job_views(self):
        token = self.token()
        status, headers, body = self.arm(job_path("fixture-failed-1"), token)
        self.assertEqual(status, 200)
        self.assertTrue(headers["x-ms-correlation-request-id"])
        self.assertEqual(len(headers.get_all("x-ms-request-id")), 1)
        self.assertEqual(body, {"jobId": "fixture-failed-1",
                                "startTimeUtc": "Mon, 23 Nov 2026 13:00:00 GMT",
                                "endTimeUtc": "Mon, 23 Nov 2026 13:01:00 GMT",
                                "type": "unknown", "status": "failed",
                                "failureReason": "Device method timed out",
                                "statusMessage": "1 of 3 devices failed"})
        body = self.arm(job_path("fixture-method-1"), token)[2]
        self.assertEqual(body, {"jobId": "fixture-method-1",
                                "startTimeUtc": "Mon, 23 Nov 2026 11:00:00 GMT",
                                "type": "unknown", "status": "running"})
        body = self.arm(job_path("fixture-twin-1"), token)[2]
        self.assertEqual((body["type"], body["status"]), ("writeDeviceProperties", "completed"))
        self.assertNotIn("statusMessage", body)
        self.assertEqual(self.arm(job_path("method-0002"), token)[2]["parentJobId"],
                         "method-0001")

    def test_odd_ids_decode_per_segment(self):
        token = self.token()
        for job_id in ("job with space", "a/b", "q?x=1", "h#1", "pct%20lit", "ünïcødé-日本",
                       "plus+sign"):
            with self.subTest(job_id=job_id):
                status, _, body = self.arm(job_path(job_id), token)
                self.assertEqual((status, body["jobId"]), (200, job_id))

    def test_unknown_job(self):
        status, _, body = self.arm(job_path("no/such job"))
        self.assertEqual((status, body["code"], body["httpStatusCode"], body["details"]),
                         (404, "JobNotFound", "NotFound", ""))
        self.assertRegex(body["message"], r"^Job not found\. If you contact a support "
                         r"representative please include this correlation identifier: [0-9a-f-]{36}"
                         r", timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ, errorcode: IH404002\.$")

    def list_all(self, token, host=None):
        pages, path = [], JOBS_PATH + API
        headers = {"Host": host} if host else {}
        while path:
            status, _, body = self.arm(path, token, headers)
            self.assertEqual(status, 200, body)
            pages.append(body["value"])
            link = body.get("nextLink")
            if link is None:
                break
            parsed = urllib.parse.urlsplit(link)
            self.assertEqual((parsed.scheme, parsed.netloc),
                             ("https", host or "127.0.0.1:{}".format(self.emulator.port)))
            self.assertIn("api-version=2023-06-30", parsed.query)
            path = parsed.path + "?" + parsed.query
        return pages

    def service_order(self):
        ids, headers = [], {"Authorization": support.token()}
        while True:
            _, got, body = self.emulator.request("GET", "/jobs/v2/query?api-version=2021-04-12",
                                                 headers)
            ids += [job["jobId"] for job in body]
            if not got["x-ms-continuation"]:
                return ids
            headers["x-ms-continuation"] = got["x-ms-continuation"]

    def test_list_pages_with_next_link(self):
        token = self.token()
        pages = self.list_all(token)
        self.assertEqual([len(p) for p in pages], [50, 50, 50, 50, 28])
        ids = [job["jobId"] for page in pages for job in page]
        self.assertEqual(ids, self.service_order())
        for job in (j for page in pages for j in page):
            self.assertIn(job["type"], arm.ARM_TYPES)
            self.assertIn(job["status"], arm.ARM_STATUSES)
            self.assertNotIn(None, job.values())
        self.control("POST", "aad", {"arm_page_size": 100})
        self.assertEqual([len(p) for p in self.list_all(token, host="example.test:8443")],
                         [100, 100, 28])

    def test_bad_skiptoken(self):
        status, _, body = self.arm(JOBS_PATH + API + "&$skiptoken=bogus")
        self.assertEqual((status, body["code"], body["httpStatusCode"]),
                         (400, "InvalidSkipToken", "BadRequest"))

    def test_created_and_bulk_jobs_are_listed(self):
        sas = {"Authorization": support.token()}
        self.control("POST", "clock", {"speed": 0})
        status, _, _ = self.emulator.request(
            "PUT", "/jobs/v2/new%2Fjob?api-version=2021-04-12", sas,
            json.dumps({"jobId": "new/job", "type": "scheduleUpdateTwin",
                        "queryCondition": "tags.site = 'paris'",
                        "startTime": "2099-01-01T00:00:00Z",
                        "updateTwin": {"etag": "*", "tags": {"x": 1}}}))
        self.assertEqual(status, 200)
        _, _, bulk = self.emulator.request(
            "POST", "/jobs/create?api-version=2021-04-12", sas,
            json.dumps({"type": "export", "outputBlobContainerUri": "https://b.example/c"}))
        token = self.token()
        created = self.arm(job_path("new/job"), token)[2]
        self.assertEqual(created, {"jobId": "new/job", "startTimeUtc": "Thu, 01 Jan 2099 "
                                   "00:00:00 GMT", "type": "writeDeviceProperties",
                                   "status": "enqueued"})
        view = self.arm(job_path(bulk["jobId"]), token)[2]
        self.assertEqual((view["type"], view["status"]), ("export", "enqueued"))
        self.control("POST", "clock", {"advance": 10})
        view = self.arm(job_path(bulk["jobId"]), self.token())[2]
        self.assertEqual(view["status"], "completed")
        self.assertIn("endTimeUtc", view)
        ids = [j["jobId"] for p in self.list_all(self.token()) for j in p]
        self.assertEqual(len(ids), 230)
        self.assertIn(bulk["jobId"], ids)
        self.assertIn("new/job", ids)


class MappingTest(unittest.TestCase):
    def test_types(self):
        self.assertEqual(arm.arm_type("scheduleUpdateTwin"), "writeDeviceProperties")
        self.assertEqual(arm.arm_type("scheduleDeviceMethod"), "unknown")
        for same in ("export", "import", "backup", "rebootDevice", "unknown"):
            self.assertEqual(arm.arm_type(same), same)
        for other in ("failoverDataCopy", "restoreFromBackup", None, "x"):
            self.assertEqual(arm.arm_type(other), "unknown")

    def test_statuses(self):
        for status, expected in (("queued", "enqueued"), ("scheduled", "enqueued"),
                                 ("enqueued", "enqueued"), ("running", "running"),
                                 ("completed", "completed"), ("failed", "failed"),
                                 ("cancelled", "cancelled"), ("canceled", "unknown"),
                                 ("unknown", "unknown"), (None, "unknown")):
            self.assertEqual(arm.arm_status(status), expected)

    def test_times(self):
        self.assertEqual(arm.rfc1123("2017-06-15T19:20:58.9999999Z"),
                         "Thu, 15 Jun 2017 19:20:58 GMT")
        self.assertEqual(arm.rfc1123("2026-01-05T08:00:00Z"), "Mon, 05 Jan 2026 08:00:00 GMT")
        for absent in ("0001-01-01T00:00:00Z", "9999-12-30T23:59:59.9999999Z", None, "soon"):
            self.assertIsNone(arm.rfc1123(absent))

    def test_view_omits_absent_fields(self):
        view = arm.from_service({"jobId": "x", "type": "scheduleUpdateTwin", "status": "queued",
                                 "startTime": "2026-01-05T08:00:00Z",
                                 "endTime": "0001-01-01T00:00:00Z", "statusMessage": None})
        self.assertEqual(view, {"jobId": "x", "startTimeUtc": "Mon, 05 Jan 2026 08:00:00 GMT",
                                "type": "writeDeviceProperties", "status": "enqueued"})

    def test_parent_jobs_are_seeded_jobs(self):
        ids = {job["jobId"] for job in seed.seeded_jobs()}
        self.assertEqual(len(arm.PARENT_JOBS), 3)
        for child, parent in arm.PARENT_JOBS.items():
            self.assertIn(child, ids)
            self.assertIn(parent, ids)
            self.assertFalse(child.startswith("fixture-"))

    def test_scopes(self):
        self.assertEqual(aad.SCOPES["https://management.azure.com/.default"], aad.ARM_AUDIENCE)


if __name__ == "__main__":
    unittest.main()


class PlainIdentityListenerTest(unittest.TestCase):
    """The plain-HTTP listener (App Service's IDENTITY_ENDPOINT) serves
    managed identity and nothing else."""

    def test_app_service_token_over_plain_http_only(self):
        import http.client
        import socket
        import threading
        from iothub_emulator.app import build_app, plain_http_app
        from iothub_emulator.server import EmulatorServer
        from iothub_emulator.state import EmulatorState
        state = EmulatorState()
        server = EmulatorServer(("127.0.0.1", 0), socket.AF_INET, None, state,
                                plain_http_app(build_app(state)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            def get(path, headers):
                conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1])
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = json.loads(response.read())
                conn.close()
                return response.status, body
            status, body = get("/msi/token?api-version=2019-08-01&resource="
                               + urllib.parse.quote("https://management.azure.com/", safe=""),
                               {"X-IDENTITY-HEADER": identity.IDENTITY_HEADER})
            self.assertEqual(200, status, body)
            self.assertTrue(body["access_token"])
            status, _ = get("/jobs/v2/x?api-version=2020-05-31-preview", {})
            self.assertEqual(404, status)
        finally:
            server.shutdown()
            server.server_close()
