"""The service API's authentication and request checks: Azure AD bearer tokens
for the IoT Hub scope, read-only policies, malformed request targets, job
filters without regard to case and null fields in job bodies."""

import json
import socket
import unittest
import urllib.parse

import support
from iothub_emulator import identity

API = "?api-version=2020-05-31-preview"
IOTHUB_SCOPE = "https://iothubs.azure.net/.default"
ARM_SCOPE = "https://management.azure.com/.default"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def job_path(job_id):
    return "/jobs/v2/" + urllib.parse.quote(job_id, safe="") + API


def method_job(condition="deviceId = 'device-001'"):
    return {"type": "scheduleDeviceMethod", "queryCondition": condition,
            "cloudToDeviceMethod": {"methodName": "reboot", "payload": None}}


class ServiceAuthTest(support.EmulatorTestCase):
    def setUp(self):
        self.emulator.state.reset()

    def bearer(self, scope=IOTHUB_SCOPE):
        body = urllib.parse.urlencode({
            "grant_type": "client_credentials", "client_id": identity.CLIENT_ID,
            "client_secret": identity.CLIENT_SECRET, "scope": scope})
        status, _, answer = self.emulator.request(
            "POST", "/{}/oauth2/v2.0/token".format(identity.TENANT_ID), FORM, body)
        self.assertEqual(status, 200, answer)
        return "Bearer " + answer["access_token"]

    def call(self, method, path, auth, body=None):
        data = json.dumps(body) if body is not None else None
        return self.emulator.request(method, path, {"Authorization": auth}, data)

    def assert_unauthorized(self, response, secret=None):
        status, headers, body = response
        self.assertEqual((status, headers["iothub-errorcode"]), (401, "IotHubUnauthorizedAccess"))
        self.assertEqual(body["Message"], "ErrorCode:IotHubUnauthorizedAccess;Unauthorized")
        if secret:
            self.assertNotIn(secret.split(" ", 1)[1], json.dumps(body))

    # -- Azure AD ----------------------------------------------------------------
    def test_iothub_scope_token_reads_jobs_twins_and_queries(self):
        auth = self.bearer()
        self.assertEqual(self.call("GET", job_path("fixture-twin-1"), auth)[0], 200)
        status, _, twin = self.call("GET", "/twins/device-001" + API, auth)
        self.assertEqual((status, twin["deviceId"]), (200, "device-001"))
        status, headers, rows = self.call("POST", "/devices/query" + API, auth,
                                          {"query": "SELECT COUNT() AS n FROM devices"})
        self.assertEqual((status, headers["x-ms-item-type"]), (200, "raw"))
        self.assertGreater(rows[0]["n"], 0)

    def test_iothub_scope_token_creates_and_cancels_jobs(self):
        auth = self.bearer()
        self.assertEqual(self.call("PUT", job_path("aad-job"), auth, method_job())[0], 200)
        self.assertEqual(self.call("POST", "/jobs/v2/aad-job/cancel" + API, auth)[0], 200)

    def test_management_scope_token_is_refused(self):
        auth = self.bearer(ARM_SCOPE)
        self.assert_unauthorized(self.call("GET", job_path("fixture-twin-1"), auth), auth)

    def test_unknown_revoked_and_expired_tokens_are_refused(self):
        self.assert_unauthorized(self.call("GET", job_path("fixture-twin-1"), "Bearer eyJnope"))
        self.assert_unauthorized(self.call("GET", job_path("fixture-twin-1"), "Bearer "))
        auth = self.bearer()
        self.emulator.state.tokens.revoke()
        self.assert_unauthorized(self.call("GET", job_path("fixture-twin-1"), auth), auth)
        self.emulator.state.tokens.set_lifetime(0)
        auth = self.bearer()
        self.assert_unauthorized(self.call("GET", job_path("fixture-twin-1"), auth), auth)

    # -- read-only policy --------------------------------------------------------
    def test_registry_read_reads_but_cannot_create_or_cancel(self):
        read = support.token("registryRead")
        self.assertEqual(self.call("GET", job_path("fixture-twin-1"), read)[0], 200)
        self.assert_unauthorized(self.call("PUT", job_path("ro-job"), read, method_job()))
        self.assertEqual(self.call("GET", job_path("ro-job"), read)[0], 404)
        owner = support.token()
        self.assertEqual(self.call("PUT", job_path("ro-job"), owner, method_job())[0], 200)
        self.assert_unauthorized(self.call("POST", "/jobs/v2/ro-job/cancel" + API, read))
        status, _, job = self.call("GET", job_path("ro-job"), read)
        self.assertNotEqual(job["status"], "cancelled")
        self.assertEqual(self.call("POST", "/jobs/v2/ro-job/cancel" + API, owner)[0], 200)

    # -- job bodies and filters --------------------------------------------------
    def test_null_object_of_the_other_job_kind_is_accepted(self):
        body = {"type": "scheduleUpdateTwin", "queryCondition": "deviceId = 'device-001'",
                "updateTwin": {"etag": "*", "tags": {"x": 1}}, "cloudToDeviceMethod": None}
        status, _, job = self.call("PUT", job_path("dotnet-twin"), support.token(), body)
        self.assertEqual(status, 200, job)
        self.assertNotIn("cloudToDeviceMethod", job)
        body = {**method_job(), "startTime": None}
        status, _, err = self.call("PUT", job_path("null-start"), support.token(), body)
        self.assertEqual(status, 400)
        self.assertIn("startTime", err["Message"])

    def test_job_filters_ignore_case(self):
        auth = support.token()
        exact = self.call("GET", "/jobs/v2/query" + API + "&jobType=scheduleUpdateTwin"
                          "&jobStatus=completed", auth)[2]
        self.assertTrue(exact)
        for params in ("&jobType=SCHEDULEUPDATETWIN&jobStatus=Completed",
                       "&jobType=scheduleupdatetwin&jobStatus=COMPLETED"):
            with self.subTest(params=params):
                status, _, found = self.call("GET", "/jobs/v2/query" + API + params, auth)
                self.assertEqual(status, 200)
                self.assertEqual([j["jobId"] for j in found], [j["jobId"] for j in exact])

    # -- request targets ---------------------------------------------------------
    def raw(self, target):
        """Send a request line with raw bytes in its target; (status, body)."""
        with socket.create_connection(("127.0.0.1", self.emulator.port)) as sock:
            with self.emulator.client_context.wrap_socket(sock, server_hostname="localhost") as tls:
                tls.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\n"
                            b"Authorization: " + support.token().encode() + b"\r\n"
                            b"Connection: close\r\n\r\n")
                data = b""
                while True:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        return int(head.split(b" ")[1]), json.loads(body) if body else None

    def test_malformed_targets_are_bad_requests(self):
        self.assertEqual(self.raw(b"/jobs/v2/fixture-twin-1" + API.encode())[0], 200)
        for target in (b"/jobs/v2/a#b" + API.encode(), b"/jobs/v2/caf\xc3\xa9" + API.encode(),
                       b"/jobs/v2/a%2" + API.encode(), b"/jobs/v2/a%zz" + API.encode(),
                       b"/jobs/v2/a" + API.encode() + b"&x=%"):
            with self.subTest(target=target):
                status, body = self.raw(target)
                self.assertEqual((status, body["errorCode"]), (400, 400004))


if __name__ == "__main__":
    unittest.main()
