"""Job execution on the emulated clock, driven directly through the Hub."""

import unittest

import support  # noqa: F401  (import path)
from iothub_emulator import clock, query, scheduled
from iothub_emulator.hub import Conflict, Hub

STAT_KEYS = ("failedCount", "succeededCount", "runningCount", "pendingCount")


def method_job(condition, **extra):
    return {"type": "scheduleDeviceMethod", "queryCondition": condition,
            "cloudToDeviceMethod": {"methodName": "reboot", "payload": {"delay": 0}}, **extra}


def twin_job(condition, patch, **extra):
    return {"type": "scheduleUpdateTwin", "queryCondition": condition,
            "updateTwin": {"etag": "*", **patch}, **extra}


class HubTest(unittest.TestCase):
    def setUp(self):
        self.hub = Hub()
        self.hub.configure_clock(speed=0)  # frozen: only advance() moves it

    def advance(self, seconds):
        self.hub.configure_clock(advance=seconds)

    def create(self, job_id, body):
        start, tree = scheduled.validate(job_id, body)
        return self.hub.create_job(job_id, body, tree, start)

    def rows(self, job_id, status=None):
        text = "devices.jobs.jobId = '{}'".format(job_id)
        if status:
            text += " AND devices.jobs.status = '{}'".format(status)
        return self.hub.device_job_rows(query.parse_condition(text))

    def assertConsistent(self, job):
        stats = job["deviceJobStatistics"]
        self.assertEqual(stats["deviceCount"], sum(stats[k] for k in STAT_KEYS), stats)

    def test_method_job_runs_device_by_device_and_completes(self):
        condition = "deviceId IN ['device-001','device-011','device-012','device-037','device-002']"
        created = self.create("m1", method_job(condition))
        self.assertEqual(created["status"], "queued")
        self.assertEqual(created["deviceJobStatistics"],
                         {"deviceCount": 5, "failedCount": 0, "succeededCount": 0,
                          "runningCount": 0, "pendingCount": 0})
        self.assertNotIn("endTime", created)

        self.advance(0.6)  # two devices done, the third in progress
        job = self.hub.job("m1")
        self.assertEqual((job["status"], job["endTime"]), ("running", clock.FAR_FUTURE))
        self.assertEqual(job["deviceJobStatistics"],
                         {"deviceCount": 5, "failedCount": 0, "succeededCount": 2,
                          "runningCount": 1, "pendingCount": 2})
        self.assertEqual([r["status"] for r in self.rows("m1")],
                         ["completed", "completed", "running", "pending", "pending"])

        self.advance(1)
        job = self.hub.job("m1")
        self.assertEqual(job["status"], "completed")  # completed even though devices failed
        self.assertEqual(job["deviceJobStatistics"],
                         {"deviceCount": 5, "failedCount": 3, "succeededCount": 2,
                          "runningCount": 0, "pendingCount": 0})
        self.assertEqual(clock.parse_iso(job["endTime"]) - clock.parse_iso(job["createdTime"]),
                         5 * 250_000)
        rows = {r["deviceId"]: r for r in self.rows("m1")}
        self.assertEqual(rows["device-001"]["outcome"],
                         {"deviceMethodResponse": {"status": 200,
                                                   "payload": {"ok": True, "method": "reboot"}}})
        self.assertEqual(rows["device-011"]["status"], "failed")
        self.assertEqual(rows["device-011"]["outcome"]["deviceMethodResponse"],
                         {"status": 500, "payload": {"error": "boom"}})
        self.assertEqual(rows["device-011"]["error"]["code"], "DeviceMethodFailed")
        self.assertEqual(rows["device-037"]["error"],
                         {"code": "DeviceNotOnline",
                          "description": "Timed out waiting for device to connect."})
        self.assertNotIn("outcome", rows["device-037"])
        self.assertEqual(len(self.rows("m1", "failed")), 3)

    def test_method_job_outcomes_follow_connection_state_when_the_device_is_reached(self):
        # Created while device-001 is online and device-050 offline; they
        # swap before the job reaches them, and the outcomes follow the swap.
        self.hub.put_device("device-050", {"twin": {"connectionState": "Disconnected"}})
        self.create("m2", method_job("deviceId IN ['device-001', 'device-050']"))
        self.hub.put_device("device-001", {"twin": {"connectionState": "Disconnected"}})
        self.hub.put_device("device-050", {"twin": {"connectionState": "Connected"}})
        self.advance(1)
        rows = {r["deviceId"]: r for r in self.rows("m2")}
        self.assertEqual((rows["device-001"]["status"], rows["device-001"]["error"]["code"]),
                         ("failed", "DeviceNotOnline"))
        self.assertNotIn("outcome", rows["device-001"])
        self.assertEqual(rows["device-050"]["status"], "completed")
        self.assertEqual(rows["device-050"]["outcome"]["deviceMethodResponse"]["status"], 200)
        stats = self.hub.job("m2")["deviceJobStatistics"]
        self.assertEqual((stats["failedCount"], stats["succeededCount"]), (1, 1))

    def test_twin_job_patches_twins_even_offline_ones(self):
        before = self.hub.twin("device-040")
        self.create("t1", twin_job("deviceId IN ['device-001', 'device-040']", {
            "tags": {"site": "oslo", "floor": None, "model": {"rev": 2}},
            "properties": {"desired": {"telemetryInterval": 30, "fw": {"version": "2.0.0"}}}}))
        self.advance(0.5)
        job = self.hub.job("t1")
        self.assertEqual((job["status"], job["deviceJobStatistics"]["succeededCount"]),
                         ("completed", 2))
        twin = self.hub.twin("device-040")
        self.assertEqual(twin["tags"], {"site": "oslo", "model": {"name": "tx-2", "rev": 2}})
        desired = twin["properties"]["desired"]
        self.assertEqual({k: v for k, v in desired.items() if k != "$metadata"},
                         {"telemetryInterval": 30, "fw": {"version": "2.0.0"}, "$version": 2})
        self.assertEqual(desired["$metadata"]["fw"]["version"]["$lastUpdatedVersion"], 2)
        self.assertEqual(desired["$metadata"]["telemetryInterval"]["$lastUpdatedVersion"], 2)
        self.assertEqual(twin["version"], before["version"] + 1)
        self.assertNotEqual(twin["etag"], before["etag"])
        self.assertEqual(twin["properties"]["reported"], before["properties"]["reported"])
        self.assertEqual(self.hub.twin("device-002")["tags"]["site"], "lyon")

    def test_connected_devices_report_desired_values_after_the_report_delay(self):
        self.hub.configure_clock(report_seconds=2)
        self.create("t1", twin_job("deviceId IN ['device-001', 'device-040']", {
            "properties": {"desired": {"fw": {"version": "2.0.0"}, "telemetryInterval": None}}}))
        self.advance(0.5)   # both devices patched (0.25 s each), neither reported yet
        self.assertEqual(self.hub.twin("device-001")["properties"]["desired"]["fw"],
                         {"version": "2.0.0"})
        self.assertEqual(self.hub.twin("device-001")["properties"]["reported"]["fw"],
                         {"version": "1.0.0"})
        self.advance(1.8)   # 2 s after device-001's patch (at 0.25 s)
        reported = self.hub.twin("device-001")["properties"]["reported"]
        self.assertEqual((reported["fw"], reported["$version"]), ({"version": "2.0.0"}, 2))
        self.assertNotIn("telemetryInterval", reported)
        self.advance(10)    # device-040 is offline: it never reports
        self.assertEqual(self.hub.twin("device-040")["properties"]["reported"]["fw"],
                         {"version": "1.0.0"})
        self.assertEqual(self.hub.describe_clock()["report_seconds"], 2.0)

    def test_scheduled_job_waits_for_its_start_time_and_fixes_targets_then(self):
        start = clock.iso(self.hub.clock.now() + 10_000_000)
        created = self.create("s1", method_job("tags.site = 'oslo'", startTime=start))
        self.assertEqual((created["status"], created["startTime"]), ("scheduled", start))
        self.assertEqual(created["deviceJobStatistics"]["deviceCount"], 0)
        self.hub.put_device("new-1", {"twin": {"tags": {"site": "oslo"}}})
        self.assertEqual([r["status"] for r in self.rows("s1")], ["scheduled"])
        self.advance(10)  # at the start time exactly: not started yet
        self.assertEqual(self.hub.job("s1")["status"], "scheduled")
        self.advance(0.1)
        job = self.hub.job("s1")
        self.assertEqual(job["status"], "running")
        self.assertEqual(job["deviceJobStatistics"]["runningCount"], 1)
        self.hub.put_device("new-2", {"twin": {"tags": {"site": "oslo"}}})  # too late
        self.advance(1)
        job = self.hub.job("s1")
        self.assertEqual(job["status"], "completed")
        self.assertEqual(job["deviceJobStatistics"]["deviceCount"], 1)

    def test_jobs_see_each_others_twin_updates_in_time_order(self):
        self.create("t1", twin_job("deviceId = 'device-001'", {"tags": {"site": "oslo"}}))
        start = clock.iso(self.hub.clock.now() + 1_000_000)
        self.create("m1", method_job("tags.site = 'oslo'", startTime=start))
        self.advance(5)  # both happen during one catch-up
        self.assertEqual(self.hub.job("m1")["deviceJobStatistics"]["succeededCount"], 1)

    def test_cancel_mid_run(self):
        self.create("m1", method_job("tags.site = 'paris'"))  # 14 devices
        self.advance(1.1)  # 4 done, the 5th in progress
        job = self.hub.cancel_job("m1")
        self.assertEqual(job["status"], "cancelled")
        self.assertEqual(job["endTime"], clock.iso(self.hub.clock.now()))
        self.assertEqual(job["deviceJobStatistics"],
                         {"deviceCount": 14, "failedCount": 0, "succeededCount": 4,
                          "runningCount": 0, "pendingCount": 10})
        self.advance(60)
        self.assertEqual(self.hub.job("m1"), job)  # nothing moves any more
        statuses = [r["status"] for r in self.rows("m1")]
        self.assertEqual(statuses, ["completed"] * 4 + ["canceled"] * 10)
        self.assertEqual(self.hub.cancel_job("m1"), job)  # terminal: unchanged

    def test_cancel_before_start(self):
        start = clock.iso(self.hub.clock.now() + 60_000_000)
        self.create("s1", method_job("tags.site = 'lyon'", startTime=start))
        job = self.hub.cancel_job("s1")
        self.assertEqual((job["status"], job["deviceJobStatistics"]["pendingCount"]),
                         ("cancelled", 13))
        self.assertEqual({r["status"] for r in self.rows("s1")}, {"canceled"})
        self.assertIsNone(self.hub.cancel_job("nope"))

    def test_max_execution_time(self):
        self.hub.configure_clock(device_seconds=1)
        self.create("m1", method_job("tags.site = 'paris'", maxExecutionTimeInSeconds=3))
        self.advance(10)
        job = self.hub.job("m1")
        self.assertEqual((job["status"], job["failureReason"]),
                         ("failed", "Job exceeded its maximum execution time"))
        self.assertEqual(job["deviceJobStatistics"],
                         {"deviceCount": 14, "failedCount": 11, "succeededCount": 3,
                          "runningCount": 0, "pendingCount": 0})
        self.assertEqual(clock.parse_iso(job["endTime"]) - clock.parse_iso(job["createdTime"]),
                         3_000_000)

    def test_no_matching_device_completes_at_once(self):
        self.create("m1", method_job("tags.site = 'nowhere'"))
        self.advance(0.001)
        job = self.hub.job("m1")
        self.assertEqual((job["status"], job["deviceJobStatistics"]["deviceCount"]),
                         ("completed", 0))

    def test_statistics_stay_consistent_at_every_step(self):
        self.create("m1", method_job("tags.floor IN [1, 2]"))
        for _ in range(45):  # 16 devices, 4 s
            self.advance(0.1)
            job = self.hub.job("m1")
            self.assertConsistent(job)
        self.assertEqual(job["status"], "completed")

    def test_ids_are_unique_and_filters_use_live_status(self):
        self.create("m1", method_job("deviceId = 'device-001'"))
        with self.assertRaises(Conflict):
            self.create("m1", method_job("deviceId = 'device-001'"))
        self.assertEqual([j["jobId"] for j in self.hub.jobs({"status": "queued"})], ["m1"])
        self.advance(1)
        self.assertEqual(self.hub.jobs({"status": "queued"}), [])
        self.assertEqual(len(self.hub.jobs({"status": "completed",
                                            "type": "scheduleDeviceMethod"})), 1)

    def test_reset_restores_fleet_and_clock(self):
        self.hub.delete_device("device-001")
        self.hub.put_device("extra", {})
        self.create("m1", method_job("deviceId = 'x'"))
        self.hub.reset()
        self.assertIsNotNone(self.hub.twin("device-001"))
        self.assertIsNone(self.hub.twin("extra"))
        self.assertIsNone(self.hub.job("m1"))
        self.assertEqual(self.hub.describe_clock()["speed"], 1.0)


class ValidationTest(unittest.TestCase):
    def check(self, body, message, job_id="j"):
        with self.assertRaises(scheduled.InvalidJob) as caught:
            scheduled.validate(job_id, body)
        self.assertIn(message, str(caught.exception))

    def test_rejections(self):
        good = method_job("deviceId = 'a'")
        self.check({**good, "type": "export"}, "type must be")
        self.check({k: v for k, v in good.items() if k != "type"}, "type must be")
        self.check({**good, "queryCondition": " "}, "queryCondition is required")
        self.check({**good, "queryCondition": "deviceId = "}, "position 12")
        self.check({**good, "startTime": None}, "startTime must be left out")
        self.check({**good, "cloudToDeviceMethod": None}, "cloudToDeviceMethod is required")
        self.check({**good, "jobId": "other"}, "differs")
        self.check({**good, "startTime": "2026-11-23 12:00:00"}, "startTime is invalid")
        self.check({**good, "startTime": "2026-11-23T12:00:00+01:00"}, "startTime is invalid")
        self.check({**good, "cloudToDeviceMethod": {"payload": 1}}, "methodName is required")
        self.check({**good, "maxExecutionTimeInSeconds": 0}, "maxExecutionTimeInSeconds")
        self.check({"type": "scheduleUpdateTwin", "queryCondition": "deviceId = 'a'"},
                   "updateTwin is required")
        self.check(twin_job("deviceId = 'a'", {"etag": "\"abc\""}), scheduled.FORCE_UPDATE)
        self.check({**twin_job("deviceId = 'a'", {}), "updateTwin": {"tags": {}}},
                   scheduled.FORCE_UPDATE)

    def test_acceptances(self):
        scheduled.validate("j", {**method_job("deviceId = 'a'"), "jobId": "j",
                                 "startTime": "2026-11-23T12:00:00.000Z"})
        for payload in (0, False, "", None):
            body = method_job("deviceId = 'a'")
            body["cloudToDeviceMethod"]["payload"] = payload
            scheduled.validate("j", body)
        scheduled.validate("j", twin_job("deviceId = 'a'", {"tags": {"x": None}}))

    def test_null_fields_of_the_other_job_kind_are_left_out(self):
        # The .NET SDK sends the other kind's object as null.
        twin = {**twin_job("deviceId = 'a'", {"tags": {"x": 1}}), "cloudToDeviceMethod": None}
        scheduled.validate("j", twin)
        self.assertNotIn("cloudToDeviceMethod", twin)
        method = {**method_job("deviceId = 'a'"), "updateTwin": None, "jobId": None}
        scheduled.validate("j", method)
        self.assertNotIn("updateTwin", method)
        self.assertNotIn("jobId", method)


if __name__ == "__main__":
    unittest.main()
