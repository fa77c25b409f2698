"""The hub routes over HTTPS: twins, device queries, job creation and cancel,
import/export jobs and the clock and device control API."""

import json
import unittest

import support
from iothub_emulator import fixtures

API = "?api-version=2021-04-12"


class LiveTest(support.EmulatorTestCase):
    def setUp(self):
        self.control("POST", "reset")
        self.control("POST", "clock", {"speed": 0})
        self.auth = {"Authorization": support.token()}

    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body)
        return self.emulator.request(method, "/_emulator/" + path, body=data)[2]

    def call(self, method, path, body=None, **headers):
        data = body if body is None or isinstance(body, str) else json.dumps(body)
        sep = "&" if "?" in path else "?"
        return self.emulator.request(method, path + sep + API[1:], {**self.auth, **headers}, data)

    def error_code(self, response):
        status, headers, body = response
        return status, headers["iothub-errorcode"]

    def query_all(self, text, size):
        items, token, pages = [], None, 0
        while True:
            headers = {"x-ms-max-item-count": str(size)}
            if token:
                headers["x-ms-continuation"] = token
            status, response_headers, body = self.call("POST", "/devices/query",
                                                       {"query": text}, **headers)
            self.assertEqual(status, 200, body)
            items += body
            pages += 1
            token = response_headers.get("x-ms-continuation")
            if token is None:
                return items, pages, response_headers["x-ms-item-type"]

    # -- registry and queries -------------------------------------------------------
    def test_twins(self):
        status, _, twin = self.call("GET", "/twins/device-037")
        self.assertEqual(status, 200)
        self.assertEqual((twin["deviceId"], twin["connectionState"], twin["status"]),
                         ("device-037", "Disconnected", "enabled"))
        self.assertEqual(twin["etag"], "AAAAAAAAAAI=")  # unquoted in the JSON, as the service
        self.assertEqual(set(twin["properties"]), {"desired", "reported"})
        self.assertEqual(self.error_code(self.call("GET", "/twins/nobody")),
                         (404, "DeviceNotFound"))
        self.assertEqual(self.emulator.request("GET", "/twins/device-001" + API)[0], 401)

    def test_device_query_pages(self):
        items, pages, item_type = self.query_all("SELECT * FROM devices", 7)
        self.assertEqual((len(items), pages, item_type), (40, 6, "twin"))
        self.assertEqual([t["deviceId"] for t in items],
                         ["device-{:03d}".format(n) for n in range(1, 41)])
        items, _, _ = self.query_all("select * from devices where tags.site = 'berlin' "
                                     "and NOT connectionState = 'Disconnected'", 100)
        self.assertEqual(len(items), 12)

    def test_device_query_errors(self):
        status, headers, body = self.call("POST", "/devices/query",
                                          {"query": "SELECT * FROM devices WHERE tags.x ="})
        self.assertEqual((status, headers["iothub-errorcode"]), (400, "ArgumentInvalid"))
        self.assertIn("position 37", body["Message"])
        self.assertEqual(self.call("POST", "/devices/query", {"q": 1})[0], 400)
        self.assertEqual(self.call("POST", "/devices/query", "nope")[0], 400)
        _, headers, _ = self.call("POST", "/devices/query", {"query": "SELECT * FROM devices"},
                                  **{"x-ms-max-item-count": "5"})
        status, _, _ = self.call("POST", "/devices/query",
                                 {"query": "SELECT * FROM devices WHERE tags.floor = 1"},
                                 **{"x-ms-continuation": headers["x-ms-continuation"]})
        self.assertEqual(status, 400)  # a token only continues its own query

    def test_device_control(self):
        spec = {"twin": {"tags": {"site": "oslo"}, "properties": {"reported": {"temp": 3}}},
                "method": {"status": 404, "payload": {"why": "no such method"}}}
        device = self.control("PUT", "devices/probe%2F1", spec)
        self.assertEqual(device["twin"]["deviceId"], "probe/1")
        self.assertEqual(device["method"], {"status": 404, "payload": {"why": "no such method"},
                                            "offline": False})
        _, _, twin = self.call("GET", "/twins/probe%2F1")
        self.assertEqual((twin["tags"], twin["properties"]["reported"]["temp"]),
                         ({"site": "oslo"}, 3))
        self.assertEqual(self.control("GET", "devices/probe%2F1"), device)
        self.assertEqual(self.control("DELETE", "devices/probe%2F1"), {"deleted": "probe/1"})
        self.assertEqual(self.call("GET", "/twins/probe%2F1")[0], 404)
        reset = self.control("POST", "reset")
        self.assertEqual(reset, {"reset": True, "jobs": 228, "devices": 40})

    # -- scheduled jobs ---------------------------------------------------------------
    def test_create_run_and_read_a_job(self):
        body = {"jobId": "w1", "type": "scheduleUpdateTwin", "queryCondition": "*",
                "updateTwin": {"etag": "*", "tags": {"ring": 1}}, "maxExecutionTimeInSeconds": 60}
        status, _, job = self.call("PUT", "/jobs/v2/w1", body)
        self.assertEqual((status, job["status"], job["deviceJobStatistics"]["deviceCount"]),
                         (200, "queued", 40))
        self.assertEqual(job["updateTwin"], body["updateTwin"])
        log = self.control("GET", "requests")
        self.assertEqual(json.loads(log[-1]["body"]), body)
        self.assertEqual(self.error_code(self.call("PUT", "/jobs/v2/w1", body)),
                         (409, "JobAlreadyExists"))
        self.assertEqual(self.error_code(self.call("PUT", "/jobs/v2/fixture-twin-1",
                                                   {**body, "jobId": "fixture-twin-1"})),
                         (409, "JobAlreadyExists"))
        clock = self.control("POST", "clock", {"advance": 30})
        self.assertEqual(set(clock), {"now", "speed", "device_seconds", "report_seconds"})
        _, _, job = self.call("GET", "/jobs/v2/w1")
        self.assertEqual((job["status"], job["deviceJobStatistics"]["succeededCount"]),
                         ("completed", 40))
        self.assertEqual(self.call("GET", "/twins/device-040")[2]["tags"]["ring"], 1)
        _, headers, queried = self.call("GET", "/jobs/v2/query?jobStatus=completed"
                                        "&jobType=scheduleUpdateTwin")
        self.assertIn("w1", [j["jobId"] for j in queried])
        rows, _, item_type = self.query_all(
            "SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'w1'", 9)
        self.assertEqual((len(rows), item_type), (40, "deviceJob"))
        self.assertEqual({r["status"] for r in rows}, {"completed"})

    def test_job_validation_errors(self):
        for body, text in [
            ({"type": "scheduleDeviceMethod", "queryCondition": "*",
              "cloudToDeviceMethod": {"methodName": "m"}, "startTime": None}, "startTime"),
            ({"type": "scheduleUpdateTwin", "queryCondition": "*",
              "updateTwin": {"etag": "\"x\""}}, "only accepts '*' as the Etag"),
            ({"type": "nope", "queryCondition": "*"}, "type must be"),
            ({"type": "scheduleDeviceMethod", "queryCondition": "deviceId = = 'x'",
              "cloudToDeviceMethod": {"methodName": "m"}}, "position 12"),
        ]:
            with self.subTest(text=text):
                status, headers, error = self.call("PUT", "/jobs/v2/bad", body)
                self.assertEqual((status, headers["iothub-errorcode"]), (400, "ArgumentInvalid"))
                self.assertIn(text, error["Message"])
        self.assertEqual(self.call("GET", "/jobs/v2/bad")[0], 404)

    def test_cancel(self):
        body = {"type": "scheduleDeviceMethod", "queryCondition": "*",
                "cloudToDeviceMethod": {"methodName": "reboot"}}
        self.call("PUT", "/jobs/v2/c1", body)
        self.control("POST", "clock", {"advance": 1.1})
        status, _, job = self.call("POST", "/jobs/v2/c1/cancel", "{}")
        self.assertEqual((status, job["status"]), (200, "cancelled"))
        self.assertEqual(job["deviceJobStatistics"]["pendingCount"], 36)
        rows, _, _ = self.query_all("SELECT * FROM devices.jobs WHERE jobId = 'c1' "
                                    "AND status = 'canceled'", 100)
        self.assertEqual(len(rows), 36)
        self.assertEqual(self.call("POST", "/jobs/v2/c1/cancel")[2], job)
        self.assertEqual(self.error_code(self.call("POST", "/jobs/v2/nope/cancel")),
                         (404, "JobNotFound"))
        _, _, done = self.call("POST", "/jobs/v2/fixture-twin-1/cancel")
        self.assertEqual(done, fixtures.TWIN_1)
        _, _, running = self.call("POST", "/jobs/v2/fixture-method-1/cancel")
        self.assertEqual(running["status"], "cancelled")
        self.control("POST", "reset")
        self.assertEqual(self.call("GET", "/jobs/v2/fixture-method-1")[2], fixtures.METHOD_1)

    def test_speed(self):
        self.control("POST", "clock", {"speed": 1000})
        self.call("PUT", "/jobs/v2/fast", {"type": "scheduleDeviceMethod", "queryCondition": "*",
                                           "cloudToDeviceMethod": {"methodName": "m"}})
        for _ in range(200):
            if self.call("GET", "/jobs/v2/fast")[2]["status"] == "completed":
                break
        self.assertEqual(self.call("GET", "/jobs/v2/fast")[2]["status"], "completed")
        self.assertEqual(self.control("GET", "clock")["speed"], 1000)
        self.assertEqual(self.emulator.request("POST", "/_emulator/clock",
                                               body='{"speed": -1}')[0], 400)

    # -- import/export ---------------------------------------------------------------
    def test_export_runs_to_completion(self):
        status, _, job = self.call("POST", "/jobs/create", {
            "type": "export", "outputBlobContainerUri": "https://acct.blob/c?sig=x",
            "excludeKeysInExport": True})
        self.assertEqual((status, job["status"], job["progress"], job["excludeKeysInExport"]),
                         (200, "enqueued", 0, True))
        self.assertNotIn("inputBlobContainerUri", job)
        job_id = job["jobId"]
        self.assertEqual(self.error_code(self.call("POST", "/jobs/create", {
            "type": "export", "outputBlobContainerUri": "https://a/b"})),
            (409, "JobRunPreconditionFailed"))
        self.control("POST", "clock", {"advance": 3})
        _, _, job = self.call("GET", "/jobs/" + job_id)
        self.assertEqual((job["status"], job["progress"]), ("running", 50))
        self.assertNotIn("endTimeUtc", job)
        self.control("POST", "clock", {"advance": 3})
        _, _, job = self.call("GET", "/jobs/" + job_id)
        self.assertEqual((job["status"], job["progress"]), ("completed", 100))
        self.assertTrue(job["endTimeUtc"].endswith("Z"))
        self.assertEqual(self.call("GET", "/jobs")[2], [job])
        _, _, v2 = self.call("GET", "/jobs/v2/" + job_id)
        self.assertEqual((v2["status"], v2["type"]), ("unknown", "export"))
        self.assertNotIn(job_id, [j["jobId"] for j in self.call("GET", "/jobs/v2/query")[2]])
        status, _, again = self.call("DELETE", "/jobs/" + job_id)
        self.assertEqual((status, again), (200, job))  # terminal: unchanged

    def test_import_failure_and_cancel(self):
        status, _, job = self.call("POST", "/jobs/create", {
            "type": "import", "inputBlobContainerUri": "https://a/fail-here",
            "outputBlobContainerUri": "https://a/out"})
        self.assertEqual((status, job["inputBlobContainerUri"]), (200, "https://a/fail-here"))
        self.control("POST", "clock", {"advance": 10})
        _, _, job = self.call("GET", "/jobs/" + job["jobId"])
        self.assertEqual(job["status"], "failed")
        self.assertTrue(job["failureReason"])
        _, _, job = self.call("POST", "/jobs/create", {
            "type": "import", "inputBlobContainerUri": "https://a/in",
            "outputBlobContainerUri": "https://a/out"})
        self.control("POST", "clock", {"advance": 2})
        status, headers, body = self.call("DELETE", "/jobs/" + job["jobId"])
        self.assertEqual((status, body), (204, None))
        _, _, job = self.call("GET", "/jobs/" + job["jobId"])
        self.assertEqual((job["status"], job["progress"]), ("cancelled", 25))
        self.assertEqual(self.error_code(self.call("GET", "/jobs/nope")), (404, "JobNotFound"))
        self.assertEqual(self.error_code(self.call("DELETE", "/jobs/nope")), (404, "JobNotFound"))

    def test_import_export_validation(self):
        for body in ({"type": "backup", "outputBlobContainerUri": "https://a/b"},
                     {"type": "export"},
                     {"type": "export", "outputBlobContainerUri": "http://a/b"},
                     {"type": "import", "outputBlobContainerUri": "https://a/b"},
                     {"type": "export", "outputBlobContainerUri": "https://a/b",
                      "excludeKeysInExport": "yes"}, [1]):
            with self.subTest(body=body):
                self.assertEqual(self.error_code(self.call("POST", "/jobs/create", body)),
                                 (400, "ArgumentInvalid"))
        self.assertEqual(self.call("GET", "/jobs")[2], [])


if __name__ == "__main__":
    unittest.main()
