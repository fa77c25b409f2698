import json
import time
import unittest
import urllib.parse

import support
from iothub_emulator import fixtures

API = "?api-version=2020-05-31-preview"


def job_path(job_id):
    return "/jobs/v2/" + urllib.parse.quote(job_id, safe="") + API


class ServerTest(support.EmulatorTestCase):
    def setUp(self):
        self.emulator.state.reset()
        self.auth = {"Authorization": support.token()}

    def get(self, path, **headers):
        return self.emulator.request("GET", path, {**self.auth, **headers})

    def test_gets_a_fixture(self):
        status, headers, body = self.get(job_path("fixture-twin-1"))
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/json; charset=utf-8")
        self.assertTrue(headers["x-ms-request-id"])
        self.assertEqual(body, fixtures.TWIN_1)

    def test_gets_jobs_with_odd_ids(self):
        for job_id in fixtures.ODD_IDS:
            with self.subTest(job_id=job_id):
                status, _, body = self.get(job_path(job_id))
                self.assertEqual((status, body["jobId"]), (200, job_id))

    def test_unknown_job_is_job_not_found(self):
        status, headers, body = self.get(job_path("no such job"))
        self.assertEqual((status, headers["iothub-errorcode"]), (404, "JobNotFound"))
        self.assertEqual(body["Message"],
                         "ErrorCode:JobNotFound;Job with id 'no such job' was not found")

    def test_bad_token_is_unauthorized_and_not_echoed(self):
        token = support.token(ttl=-10)
        status, headers, body = self.emulator.request(
            "GET", job_path("fixture-twin-1"), {"Authorization": token})
        self.assertEqual((status, headers["iothub-errorcode"]), (401, "IotHubUnauthorizedAccess"))
        self.assertEqual(body["Message"], "ErrorCode:IotHubUnauthorizedAccess;Unauthorized")
        sig = urllib.parse.parse_qs(token.split(" ", 1)[1])["sig"][0]
        self.assertNotIn(sig, json.dumps(body))

    def test_every_policy_is_accepted(self):
        for policy in ("iothubowner", "service", "registryRead"):
            with self.subTest(policy=policy):
                status, _, _ = self.emulator.request(
                    "GET", job_path("fixture-twin-1"), {"Authorization": support.token(policy)})
                self.assertEqual(status, 200)

    def test_missing_api_version_is_argument_invalid(self):
        status, headers, _ = self.get("/jobs/v2/fixture-twin-1")
        self.assertEqual((status, headers["iothub-errorcode"]), (400, "ArgumentInvalid"))

    def test_unknown_route_has_a_flat_error(self):
        status, _, body = self.get("/nowhere" + API)
        self.assertEqual((status, body["errorCode"]), (404, 404103))

    def test_query_pages_through_headers(self):
        conn = self.emulator.connect()
        self.addCleanup(conn.close)
        path = "/jobs/v2/query" + API + "&jobType=scheduleDeviceMethod"
        seen, token = [], None
        while True:
            headers = {**self.auth, "x-ms-max-item-count": "13"}
            if token:
                headers["x-ms-continuation"] = token
            status, response_headers, body = self.emulator.request("GET", path, headers, conn=conn)
            self.assertEqual((status, response_headers["x-ms-item-type"]), (200, "jobResponse"))
            seen += body
            token = response_headers.get("x-ms-continuation")
            if token is None:
                break
        expected = self.emulator.state.jobs.query({"type": "scheduleDeviceMethod"})[0]
        self.assertEqual(seen, expected)
        self.assertEqual(self.emulator.state.stats()["connections"], 1)

    def test_request_log_and_stats_show_keep_alive(self):
        conn = self.emulator.connect()
        self.addCleanup(conn.close)
        for job_id in ("fixture-twin-1", "fixture-method-1", "fixture-failed-1"):
            self.emulator.request("GET", job_path(job_id), self.auth, conn=conn)
        _, _, stats = self.emulator.request("GET", "/_emulator/stats")
        self.assertEqual((stats["requests"], stats["connections"]), (3, 1))
        _, _, log = self.emulator.request("GET", "/_emulator/requests")
        self.assertEqual(len({entry["connection"] for entry in log}), 1)
        self.assertEqual(log[1]["path"], "/jobs/v2/fixture-method-1")
        self.assertEqual(log[1]["query"], {"api-version": "2020-05-31-preview"})
        self.assertEqual(set(log[1]["headers"]["authorization"]), {"scheme", "skn", "sr", "se"})

    def test_control_api_plants_and_removes_jobs(self):
        job = {"type": "scheduleDeviceMethod", "status": "queued"}
        status, _, body = self.emulator.request(
            "PUT", "/_emulator/jobs/planted%2F1", body=json.dumps(job))
        self.assertEqual((status, body["jobId"]), (200, "planted/1"))
        self.assertEqual(self.get(job_path("planted/1"))[2], {**job, "jobId": "planted/1"})
        self.assertEqual(self.emulator.request("DELETE", "/_emulator/jobs/planted%2F1")[:3:2],
                         (200, {"deleted": "planted/1"}))
        self.assertEqual(self.get(job_path("planted/1"))[0], 404)

    def test_delay(self):
        self.emulator.request("POST", "/_emulator/delay",
                              body=json.dumps({"seconds": 0.3, "path_prefix": "/jobs/v2/fix"}))
        started = time.monotonic()
        self.get(job_path("fixture-twin-1"))
        self.assertGreaterEqual(time.monotonic() - started, 0.3)


if __name__ == "__main__":
    unittest.main()
